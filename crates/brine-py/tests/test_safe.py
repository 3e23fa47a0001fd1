"""Safe mode: hostile pickles are refused before anything runs; benign ones load as
pickle.loads loads them.

The malicious corpus is the scanner's (crates/brine-scan/tests/corpus/malicious, made by its
committed generator); its payloads are harmless, and the canary payloads built here would
create a file in a temporary directory if anything ran.
"""

import io
import json
import os
import pathlib
import pickle
import sys
import tempfile
import unittest

import brine

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "brine-scan" / "tests" / "corpus"
PLAIN = (".pkl", ".pickle", ".bin")

# Audit events that mean code ran which a pickle must never reach in safe mode.
DANGEROUS = ("os.system", "subprocess.Popen", "exec", "compile", "os.exec", "os.posix_spawn",
             "os.spawn", "socket.connect", "urllib.Request", "ctypes.dlopen", "os.remove",
             "shutil.rmtree", "webbrowser.open", "os.fork", "pty.spawn", "code.__new__",
             "marshal.loads", "function.__new__", "os.mkdir", "os.rename")
_events = []
_recording = [False]


def _hook(event, args):
    if _recording[0] and event.startswith(DANGEROUS):
        _events.append((event, repr(args)[:200]))


sys.addaudithook(_hook)


def malicious_files():
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    out = []
    for name, meta in sorted(manifest.items()):
        if meta.get("label") == "malicious" and name.endswith(PLAIN):
            out.append(CORPUS / name)
    return out


class Canary(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="brine-canary-")
        self.canary = os.path.join(self.dir, "ran")
        _events.clear()
        _recording[0] = True

    def tearDown(self):
        _recording[0] = False
        self.assertFalse(os.path.exists(self.canary), "a payload ran")
        self.assertEqual(_events, [], "dangerous audit events while loading")
        os.rmdir(self.dir)

    def payloads(self):
        touch = "open(%r, 'w').close()" % self.canary

        class System:
            def __reduce__(s):
                return (os.system, ("touch " + self.canary,))

        class Exec:
            def __reduce__(s):
                return (exec, (touch,))

        class Eval:
            def __reduce__(s):
                return (eval, (touch,))

        out = []
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            for cls in (System, Exec, Eval):
                # Wrapped in allowed containers, so the payload is not the first opcode.
                out.append(pickle.dumps({"a": [1, 2, cls()]}, proto))
        # Hand-made protocol 0 with INST and OBJ.
        out.append(b"(S'touch " + self.canary.encode() + b"'\nios\nsystem\n.")
        out.append(b"(cos\nsystem\nS'touch " + self.canary.encode() + b"'\no.")
        return out

    def test_canary_payloads_refused(self):
        for data in self.payloads():
            with self.subTest(data=data[:60]):
                with self.assertRaises(brine.UnsafePickleError) as cm:
                    brine.loads(data)
                self.assertIsNotNone(cm.exception.global_name)
                self.assertIsInstance(cm.exception.offset, int)
                self.assertIn(cm.exception.global_name, str(cm.exception))
                self.assertIn("offset %d" % cm.exception.offset, str(cm.exception))

    def test_canary_refused_by_load(self):
        for data in self.payloads():
            with self.assertRaises(brine.UnsafePickleError):
                brine.load(io.BytesIO(data))

    def test_policy_check_without_prescan_reach(self):
        # The error names the global and its offset: os.system in the GLOBAL opcode at 0.
        with self.assertRaises(brine.UnsafePickleError) as cm:
            brine.loads(b"cos\nsystem\n(S'true'\ntR.")
        self.assertEqual(cm.exception.global_name, "os.system")
        self.assertEqual(cm.exception.offset, 0)

    def test_malicious_corpus(self):
        files = malicious_files()
        self.assertGreater(len(files), 100)
        for path in files:
            with self.subTest(path=path.name):
                with self.assertRaises(brine.UnsafePickleError):
                    brine.loads(path.read_bytes())

    def test_allow_callable_refusal_propagates(self):
        def deny(module, name):
            raise brine.UnsafePickleError("no %s.%s" % (module, name))

        data = pickle.dumps(os.system)
        with self.assertRaises(brine.UnsafePickleError):
            brine.loads(data, allow=deny)


class Benign(unittest.TestCase):
    def same(self, data, **kw):
        try:
            want = pickle.loads(data, **kw)
        except ImportError as e:
            print("skipped (%s): %r" % (e, data[:40]), file=sys.stderr)
            return False
        except Exception as e:
            # Not loadable by pickle either (e.g. out-of-band buffers missing): same error.
            with self.assertRaises(type(e)):
                brine.loads(data, **kw)
            return True
        got = brine.loads(data, **kw)
        self.assertIs(type(got), type(want))
        # Re-pickling compares values, sharing and cycles at once.
        self.assertEqual(pickle.dumps(got, 4), pickle.dumps(want, 4))
        return True

    def test_benign_corpus(self):
        manifest = json.loads((CORPUS / "manifest.json").read_text())
        tried = 0
        for name, meta in sorted(manifest.items()):
            if meta.get("label") != "benign" or not name.endswith(PLAIN):
                continue
            data = (CORPUS / name).read_bytes()
            with self.subTest(name=name):
                tried += self.same(data, encoding="latin1")
        self.assertGreater(tried, 30)

    def test_stdlib_types(self):
        import collections
        import datetime
        import decimal
        import fractions
        import uuid

        obj = {
            "od": collections.OrderedDict(a=1, b=[1, 2]),
            "dd": collections.defaultdict(list, {"x": [1]}),
            "c": collections.Counter("hello"),
            "dq": collections.deque([1, 2, 3]),
            "dt": datetime.datetime(2020, 1, 2, 3, 4, 5, 6),
            "d": datetime.date(2021, 5, 6),
            "td": datetime.timedelta(days=3, seconds=5),
            "dec": decimal.Decimal("1.25"),
            "fr": fractions.Fraction(3, 7),
            "u": uuid.UUID(int=12345),
            "set": {1, 2, 3},
            "fs": frozenset({"a"}),
            "ba": bytearray(b"xyz"),
            "cx": 1 + 2j,
            "big": 1 << 200,
            "neg": -(1 << 70),
            "r": range(1, 10, 2),
            "sl": slice(1, 2, 3),
        }
        shared = [1, 2]
        obj["shared"] = (shared, shared)
        rec = []
        rec.append(rec)
        obj["rec"] = rec
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            with self.subTest(proto=proto):
                self.same(pickle.dumps(obj, proto))

    def test_allow_names(self):
        data = pickle.dumps(pathlib.PurePosixPath("/x"))
        self.same(data)
        data = pickle.dumps(unittest.TestCase)
        with self.assertRaises(brine.UnsafePickleError):
            brine.loads(data)
        self.assertIs(brine.loads(data, allow=["unittest.case.TestCase"]), unittest.TestCase)
        self.assertIs(brine.loads(data, allow=["unittest.*"]), unittest.TestCase)

    def test_allow_callable(self):
        seen = []

        def allow(module, name):
            seen.append((module, name))
            return getattr(sys.modules[module], name)

        data = pickle.dumps(unittest.TestCase)
        self.assertIs(brine.loads(data, allow=allow), unittest.TestCase)
        self.assertEqual(seen, [("unittest.case", "TestCase")])


if __name__ == "__main__":
    unittest.main()
