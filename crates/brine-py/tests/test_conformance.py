"""CPython's own pickle conformance suites run against brine.

`AbstractUnpickleTests` against `brine.loads(trusted=True)`, with the exception classes
CPython's test_pickle expects from the C unpickler; `AbstractPickleTests` against
`brine.dumps` (pickling) with `brine.loads(trusted=True)` (unpickling); and the same
unpickling suite in safe mode with the test module's own classes allowed by a callable.
"""

import importlib
import io
import pickle
import unittest

from test import pickletester

import brine

# Tests that cannot pass, with the reason.  Keep empty unless a reason is written here.
KNOWN_FAILURES = {}


def _skip_known(cls):
    for name, why in KNOWN_FAILURES.items():
        if hasattr(cls, name):
            setattr(cls, name, unittest.skip(why)(getattr(cls, name)))
    return cls


@_skip_known
class BrineUnpickleTests(pickletester.AbstractUnpickleTests, unittest.TestCase):
    bad_stack_errors = (pickle.UnpicklingError,)
    truncated_errors = (pickle.UnpicklingError,)

    def loads(self, buf, **kwds):
        return brine.loads(buf, trusted=True, **kwds)


@_skip_known
class BrineLoadTests(pickletester.AbstractUnpickleTests, unittest.TestCase):
    """The same through brine.load on a file object."""

    bad_stack_errors = (pickle.UnpicklingError,)
    truncated_errors = (pickle.UnpicklingError,)

    def loads(self, buf, **kwds):
        return brine.load(io.BytesIO(buf), trusted=True, **kwds)


def _find_class(module, name):
    # Everything (names arrive already mapped from Python 2): the machine must then behave
    # exactly as in trusted mode.
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


@_skip_known
class BrineSafeCallableUnpickleTests(pickletester.AbstractUnpickleTests, unittest.TestCase):
    """Safe mode, with everything the built-in policy refuses handed to a find_class-like
    callable: the machine must behave the same."""

    bad_stack_errors = (pickle.UnpicklingError,)
    truncated_errors = (pickle.UnpicklingError,)

    def loads(self, buf, **kwds):
        return brine.loads(buf, allow=_find_class, **kwds)


class BrinePickleTests(pickletester.AbstractPickleTests, unittest.TestCase):
    # brine has no Pickler class: brine.dump(s) is CPython's C pickler, so the two tests that
    # drive a Pickler object directly (chunked frame writes) use it; brine.loads reads back.
    pickler = pickle.Pickler

    def dumps(self, arg, proto=None, **kwargs):
        return brine.dumps(arg, proto, **kwargs)

    def loads(self, buf, **kwds):
        return brine.loads(buf, trusted=True, **kwds)


class DumpsIdentical(unittest.TestCase):
    def test_identical_bytes(self):
        data = pickletester.create_data()
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            self.assertEqual(brine.dumps(data, proto), pickle.dumps(data, proto))

    def test_dump_file(self):
        f = io.BytesIO()
        brine.dump([1, "a", b"b"], f, 2)
        self.assertEqual(f.getvalue(), pickle.dumps([1, "a", b"b"], 2))


if __name__ == "__main__":
    unittest.main()
