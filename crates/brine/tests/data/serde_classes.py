"""Classes for brine's typed (serde) tests, ``tests/serde_python.rs``.

Rust structs renamed ``serde_classes.<Name>`` are written as instances of these classes,
and CPython's pickles of them are read back into Rust structs. Keep names stable: the tests
refer to them by module and name.
"""
import collections
import dataclasses


class Point:
    """A plain class: pickled as NEWOBJ + BUILD of its ``__dict__``."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Outer:
    class Inner:
        """A nested class: ``serde_classes:Outer.Inner`` on the Rust side."""

        def __init__(self, v):
            self.v = v


class Slotted:
    """``__slots__`` only: the state is ``(None, {slots})``."""

    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class SlottedDict:
    """``__slots__`` and a ``__dict__``: the state is ``({dict}, {slots})``."""

    __slots__ = ("x", "__dict__")

    def __init__(self, x, y):
        self.x = x
        self.y = y


@dataclasses.dataclass
class Record:
    name: str
    n: int
    tags: list


@dataclasses.dataclass(slots=True)
class SlotRecord:
    name: str
    n: int


Pair = collections.namedtuple("Pair", "a b")


def attrs(o):
    """Every attribute of an instance: ``__dict__`` and slots."""
    out = dict(getattr(o, "__dict__", {}))
    for cls in type(o).__mro__:
        for s in getattr(cls, "__slots__", ()):
            if s != "__dict__" and hasattr(o, s):
                out[s] = getattr(o, s)
    return out
