"""Helper classes for brine's golden pickle corpus.

The golden pickles produced by ``gen_golden.py`` refer to these objects as
``hclasses.<name>`` (module name baked into the bytes), so do not rename this
module or the classes/functions below without regenerating the corpus.

To load a golden pickle that references them from Python, put this directory
on ``sys.path`` first.  Every class has a deterministic ``__repr__`` (no
addresses) so the manifest's ``expected_repr`` strings are stable.
"""

import collections
import enum
import reprlib

__all__ = [
    "Plain", "Slotted", "WithState", "ReduceAll", "ReduceSetter", "set_state",
    "KwOnly", "ListSub", "DictSub", "Outer", "Point", "Color", "Marker",
    "ExtTarget", "OldStyle", "Pair", "make_pair",
]


@reprlib.recursive_repr("<...>")
def _fmt(obj):
    return "%s(%s)" % (
        type(obj).__qualname__,
        ", ".join("%s=%r" % kv
                  for kv in sorted(vars(obj).items(), key=lambda kv: repr(kv[0]))),
    )


class Plain:
    """Ordinary class: default reduce, state is ``__dict__``."""

    def __init__(self, a=1, b="two"):
        self.a = a
        self.b = b

    def __repr__(self):
        return _fmt(self)


class Slotted:
    """``__slots__`` only: p>=2 state is ``(None, {slot: value})``; p0/p1 fail."""

    __slots__ = ("x", "y")

    def __init__(self, x=1, y=None):
        self.x = x
        self.y = y

    def __repr__(self):
        return "Slotted(x=%r, y=%r)" % (self.x, self.y)


class WithState:
    """Custom ``__getstate__``/``__setstate__`` with a non-dict (tuple) state."""

    def __init__(self, v=0):
        self.v = v
        self.cache = "not pickled"

    def __getstate__(self):
        return (self.v, "state-v1")

    def __setstate__(self, state):
        self.v, self.tag = state
        self.cache = None

    def __repr__(self):
        return _fmt(self)


class ReduceAll:
    """``__reduce__`` returning (callable, args, state, listitems, dictitems)."""

    def __init__(self, name):
        self.name = name
        self.items = []
        self.mapping = {}

    def append(self, item):
        self.items.append(item)

    def extend(self, items):
        self.items.extend(items)

    def __setitem__(self, key, value):
        self.mapping[key] = value

    def __reduce__(self):
        state = {"flag": True, "note": "built"}
        return (
            ReduceAll,
            (self.name,),
            state,
            iter(self.items),
            iter(self.mapping.items()),
        )

    def __repr__(self):
        return _fmt(self)


def set_state(obj, state):
    """state_setter used by ``ReduceSetter`` (6-tuple reduce value)."""
    obj.state_via_setter = state


class ReduceSetter:
    """``__reduce__`` returning a 6-tuple with a state_setter."""

    def __init__(self, n=0):
        self.n = n

    def __reduce__(self):
        return (ReduceSetter, (self.n,), {"s": self.n * 2}, None, None, set_state)

    def __repr__(self):
        return _fmt(self)


class KwOnly:
    """``__getnewargs_ex__`` with a keyword-only argument (NEWOBJ_EX at p>=4)."""

    def __new__(cls, a, *, k):
        self = super().__new__(cls)
        self.a = a
        self.k = k
        return self

    def __getnewargs_ex__(self):
        return ((self.a,), {"k": self.k})

    def __repr__(self):
        return _fmt(self)


class ListSub(list):
    """list subclass with an attribute."""

    def __repr__(self):
        return "ListSub(%s, %r)" % (list.__repr__(self), vars(self))


class DictSub(dict):
    """dict subclass with an attribute."""

    def __repr__(self):
        return "DictSub(%s, %r)" % (dict.__repr__(self), vars(self))


class Outer:
    """Container for a nested class (qualname ``Outer.Inner``)."""

    class Inner:
        def __init__(self, value=None):
            self.value = value

        def __repr__(self):
            return _fmt(self)


Point = collections.namedtuple("Point", "x y")


class Color(enum.Enum):
    RED = 1
    GREEN = "g"
    BLUE = (0, 0, 255)


class Marker:
    """Objects replaced by persistent ids (``pid`` attribute) when pickling."""

    def __init__(self, pid):
        self.pid = pid

    def __repr__(self):
        return "Marker(%r)" % (self.pid,)


class ExtTarget:
    """A class registered under an extension code in the EXT cases."""

    def __repr__(self):
        return "ExtTarget()"


class OldStyle:
    """Target for hand-written Python 2 INST/OBJ pickles (``__dict__`` state)."""

    def __repr__(self):
        return _fmt(self)


class Pair:
    """Target for INST/OBJ pickles with constructor arguments."""

    def __init__(self, first, second):
        self.first = first
        self.second = second

    def __repr__(self):
        return _fmt(self)


def make_pair(first, second):
    """A plain function used as a REDUCE callable in hand-written pickles."""
    return Pair(first, second)
