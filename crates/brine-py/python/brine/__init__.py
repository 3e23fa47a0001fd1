"""brine: pickle, done in Rust.

``brine.loads`` / ``brine.load`` unpickle with a Rust machine that follows CPython's C unpickler
opcode for opcode.  By default they are *safe*: a global (class or function) is resolved only
if brine's allow-list policy — the scanner's — or the caller's ``allow=`` permits it; anything
else raises :class:`UnsafePickleError` naming the global, the byte offset and why, before it is
imported or called.  ``trusted=True`` gives exactly ``pickle.loads`` semantics.

``brine.dumps`` / ``brine.dump`` write bytes identical to ``pickle.dumps``.
``brine.scan`` returns the scanner's report; ``brine.tensors`` reads the arrays of ML files
without running their code; ``brine.convert`` rewrites a pickle at another protocol.
"""

import io as _io
import json as _json
import pickle as _pickle

from . import _brine

__all__ = [
    "UnsafePickleError",
    "loads",
    "load",
    "dumps",
    "dump",
    "scan",
    "tensors",
    "convert",
    "DEFAULT_PROTOCOL",
    "HIGHEST_PROTOCOL",
]

DEFAULT_PROTOCOL = _pickle.DEFAULT_PROTOCOL
HIGHEST_PROTOCOL = _pickle.HIGHEST_PROTOCOL


class UnsafePickleError(_pickle.UnpicklingError):
    """A pickle asked for a global the policy does not allow.

    Attributes: ``global_name`` (``"module.name"`` or None), ``offset`` (byte offset of the
    opcode, or None) and ``reason``.  Raised before the global is imported or called.
    """

    global_name = None
    offset = None
    reason = None


def _as_bytes(data):
    if type(data) is bytes:
        return data
    if isinstance(data, str):
        raise TypeError("a bytes-like object is required, not 'str'")
    return bytes(memoryview(data))


def loads(data, *, allow=None, trusted=False, buffers=None, encoding="ASCII",
          errors="strict", fix_imports=True, persistent_load=None):
    """Rebuild the object pickled in ``data`` (a bytes-like object).

    Safe by default: globals are resolved only if brine's allow-list policy allows them
    (builtins, collections, datetime, decimal, numpy arrays and dtypes, torch tensors, ...).
    ``allow`` extends it: an iterable of ``"module.name"`` strings (``"pkg.*"`` for a whole
    module tree), or a callable ``allow(module, name)`` returning the object to use or raising
    (like ``Unpickler.find_class``).  Anything else raises :class:`UnsafePickleError`.

    ``trusted=True`` is a drop-in ``pickle.loads``: any global is imported.
    ``buffers``, ``encoding``, ``errors`` and ``fix_imports`` are as in ``pickle.loads``;
    ``persistent_load(pid)`` answers persistent ids as ``Unpickler.persistent_load`` does.
    """
    return _brine._loads(_as_bytes(data), allow, trusted, buffers, encoding, errors,
                         fix_imports, persistent_load)[0]


def load(file, *, allow=None, trusted=False, buffers=None, encoding="ASCII",
         errors="strict", fix_imports=True, persistent_load=None):
    """Read one pickle from the binary file object ``file`` (see :func:`loads`).

    The rest of the file is read; a seekable file is left just after the pickle's STOP,
    as ``pickle.load`` leaves it.
    """
    start = None
    if getattr(file, "seekable", None) and file.seekable():
        start = file.tell()
    data = file.read()
    if not isinstance(data, (bytes, bytearray)):
        data = _as_bytes(data)
    obj, used = _brine._loads(bytes(data), allow, trusted, buffers, encoding, errors,
                              fix_imports, persistent_load)
    if start is not None:
        file.seek(start + used)
    return obj


def dumps(obj, protocol=None, *, fix_imports=True, buffer_callback=None):
    """Pickle ``obj`` to bytes identical to ``pickle.dumps`` (CPython's own pickler writes
    them: it is the definition of those bytes)."""
    return _pickle.dumps(obj, protocol, fix_imports=fix_imports,
                         buffer_callback=buffer_callback)


def dump(obj, file, protocol=None, *, fix_imports=True, buffer_callback=None):
    """Write ``dumps(obj, protocol)`` to the binary file object ``file``."""
    file.write(dumps(obj, protocol, fix_imports=fix_imports,
                     buffer_callback=buffer_callback))


def scan(path_or_bytes):
    """The scanner's report on a file path or on bytes, as a dict.

    Keys: ``path``, ``format``, ``verdict`` (``"SAFE"``, ``"INCONCLUSIVE"``, ``"UNSAFE"``),
    ``findings`` (dicts with ``rule``, ``severity``, ``verdict``, ``offset``, ``opcode``,
    ``callable``, ``args``, ``message`` ...), ``imports`` and ``members``.  Nothing in the
    file is imported or run.
    """
    target = path_or_bytes
    if not isinstance(target, bytes):
        if isinstance(target, (bytearray, memoryview)):
            target = bytes(target)
        else:
            target = __import__("os").fspath(target)
    return _json.loads(_brine._scan_json(target))


def tensors(path):
    """The arrays and tensors of an ML file as a ``{name: numpy.ndarray}`` dict.

    The container is recognised by content: PyTorch checkpoints (zip and legacy), safetensors,
    ``.npy``, ``.npz``, joblib dumps, plain pickles of numpy arrays and HDF5 files (each
    dataset named by its path, ``layer/kernel``).  Nothing in the file is
    imported or run, and torch is not imported.  Arrays stored raw in the file (safetensors,
    ``.npy``, contiguous tensors of the uncompressed storages ``torch.save`` writes) are
    read-only memory maps; the others are copies.  dtypes numpy lacks
    (bfloat16, float8) come back as raw ``uint16`` / ``uint8`` values.  Needs numpy.
    """
    import numpy as np

    path = __import__("os").fspath(path)
    _, rows = _brine._tensors(path)
    out = {}
    for name, dtype, torch_dtype, shape, fortran, offset, data in rows:
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = None
        if dt is None or (dt.kind == "V" and torch_dtype):
            # bfloat16 / float8: the raw bits.
            dt = np.dtype("<u2" if dtype.endswith("2") else "u1")
        shape = tuple(shape)
        order = "F" if fortran else "C"
        if offset is not None:
            count = 1
            for n in shape:
                count *= n
            if count == 0:
                arr = np.empty(shape, dt, order=order)
            else:
                arr = np.memmap(path, dtype=dt, mode="r", offset=offset, shape=shape,
                                order=order)
        else:
            arr = np.frombuffer(data, dtype=dt).reshape(shape)
        out[name] = arr
    return out


def convert(src, dst, protocol=DEFAULT_PROTOCOL):
    """Rewrite every pickle of the file ``src`` (plain or compressed) into ``dst`` at
    ``protocol``, through brine's value graph as ``brine convert`` does: nothing in the file
    is imported or run, and the output is what CPython's pickler writes for that data."""
    import os

    _brine._convert(os.fspath(src), os.fspath(dst), protocol)
