"""Type stubs for brine."""

import os
import pickle
from typing import IO, Any, Callable, Dict, Iterable, List, Optional, Union

import numpy

DEFAULT_PROTOCOL: int
HIGHEST_PROTOCOL: int

_Allow = Union[None, str, Iterable[str], Callable[[str, str], Any]]
_Buffer = Union[bytes, bytearray, memoryview]

class UnsafePickleError(pickle.UnpicklingError):
    global_name: Optional[str]
    offset: Optional[int]
    reason: Optional[str]

def loads(
    data: _Buffer,
    *,
    allow: _Allow = ...,
    trusted: bool = ...,
    buffers: Optional[Iterable[Any]] = ...,
    encoding: str = ...,
    errors: str = ...,
    fix_imports: bool = ...,
    persistent_load: Optional[Callable[[Any], Any]] = ...,
) -> Any: ...
def load(
    file: IO[bytes],
    *,
    allow: _Allow = ...,
    trusted: bool = ...,
    buffers: Optional[Iterable[Any]] = ...,
    encoding: str = ...,
    errors: str = ...,
    fix_imports: bool = ...,
    persistent_load: Optional[Callable[[Any], Any]] = ...,
) -> Any: ...
def dumps(
    obj: Any,
    protocol: Optional[int] = ...,
    *,
    fix_imports: bool = ...,
    buffer_callback: Optional[Callable[[pickle.PickleBuffer], Any]] = ...,
) -> bytes: ...
def dump(
    obj: Any,
    file: IO[bytes],
    protocol: Optional[int] = ...,
    *,
    fix_imports: bool = ...,
    buffer_callback: Optional[Callable[[pickle.PickleBuffer], Any]] = ...,
) -> None: ...
def scan(path_or_bytes: Union[str, os.PathLike[str], bytes, bytearray, memoryview]) -> Dict[str, Any]: ...
def tensors(path: Union[str, os.PathLike[str]]) -> Dict[str, numpy.ndarray]: ...
def convert(
    src: Union[str, os.PathLike[str]], dst: Union[str, os.PathLike[str]], protocol: int = ...
) -> None: ...
