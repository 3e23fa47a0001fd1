#!/usr/bin/env python3
"""Generate brine's golden pickle corpus with CPython's C pickler.

Usage:  python3 crates/brine/tests/data/gen_golden.py [--allow-other-python]

Writes ``golden/<case>.p<N>.pickle`` (exactly ``pickle.dumps(value, N)`` from
the C ``_pickle`` module, or the stated custom Pickler / hand-written bytes)
and ``golden/manifest.json`` next to this script.  Pure standard library.

Determinism: the script re-executes itself with ``PYTHONHASHSEED=0`` (set
iteration order of str/bytes depends on hash randomisation), uses no clocks
and no unseeded randomness, keeps None out of sets (hash(None) is
address-based in 3.11), and removes stale ``*.pickle`` files first.
The bytes depend on the CPython version; the committed corpus was made with
CPython 3.11 (the script refuses other versions unless --allow-other-python).

Manifest: a JSON list, one object per file, with keys
  name, protocol, file, builtin, group, kind, sha256, len
  repr                  (builtin cases) repr(value), truncated to 200 chars
  cpython_reencode      (builtin cases) True if pickle.dumps(pickle.loads(this
                        file), M) == golden pM for every protocol M, i.e.
                        CPython itself round-trips this file to every protocol
  expected_repr         (non-builtin) repr of the value CPython loads (object
                        addresses scrubbed); for multi-pickle streams, the repr
                        of the list of loaded values.  Cut at 1000 chars, then
                        expected_repr_truncated is true
  encoding              Unpickler encoding used to load (py2 cases: 'latin1')
  expected_repr_bytes   py2 cases: repr when loaded with encoding='bytes'
  streams               number of pickles concatenated in the file (>1 only)
  persistent            True: needs persistent_load; the loader used here
                        returns ('persistent', pid)
  persistent_ids        repr of each pid in the order persistent_id produced them
  ext                   {code: [module, name]} extension registry used
  oob_buffers           hex of each out-of-band buffer, in NEXT_BUFFER order
  oob_readonly          per out-of-band buffer: was the view read-only
  note                  free text for quirks
  pickletools_dis_error py2 cases that pickletools.dis itself rejects
See README.md for the list of cases.
"""

import os
import sys


def _reexec_with_fixed_hash_seed():
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        script = os.path.abspath(__file__)
        os.execve(sys.executable, [sys.executable, script] + sys.argv[1:], env)


if __name__ == "__main__":
    _reexec_with_fixed_hash_seed()

import collections  # noqa: E402
import copyreg  # noqa: E402
import datetime  # noqa: E402
import decimal  # noqa: E402
import fractions  # noqa: E402
import functools  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pickle  # noqa: E402
import pickletools  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import struct  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "golden")
sys.path.insert(0, HERE)
import hclasses  # noqa: E402

ALL = tuple(range(6))
BUILTIN_TYPES = (type(None), bool, int, float, str, bytes, bytearray,
                 tuple, list, dict, set, frozenset)

# --------------------------------------------------------------------------
# case registry
# --------------------------------------------------------------------------

CASES = []  # list of dicts


def builtin_case(name, value, note=None):
    check_builtin_graph(name, value)
    CASES.append(dict(name=name, kind="builtin", value=value, builtin=True,
                      protocols=ALL, note=note))


def object_case(name, value, protocols=ALL, kind="object", note=None, **meta):
    CASES.append(dict(name=name, kind=kind, value=value, builtin=False,
                      protocols=protocols, note=note, meta=meta))


def custom_case(name, producer, protocols, kind, note=None, **meta):
    """producer(proto) -> (bytes, manifest_extras, loader(bytes) -> value)."""
    CASES.append(dict(name=name, kind=kind, producer=producer, builtin=False,
                      protocols=protocols, note=note, meta=meta))


def check_builtin_graph(name, value):
    seen = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) not in BUILTIN_TYPES:
            raise TypeError("%s: non-builtin %r" % (name, type(v)))
        if id(v) in seen:
            continue
        seen.add(id(v))
        if type(v) in (tuple, list, set, frozenset):
            stack.extend(v)
        elif type(v) is dict:
            for k, x in v.items():
                stack.append(k)
                stack.append(x)


# --------------------------------------------------------------------------
# builtin cases
# --------------------------------------------------------------------------

def build_builtin_cases():
    # ---- top-level scalars and empties (also shows "no FRAME when < 4 bytes")
    builtin_case("scalar_none", None)
    builtin_case("scalar_true", True)
    builtin_case("scalar_false", False)
    builtin_case("scalar_int_0", 0)
    builtin_case("scalar_int_256", 256)
    builtin_case("scalar_int_neg1", -1)
    builtin_case("scalar_int_big", 2 ** 70)
    builtin_case("scalar_float", 1.5)
    builtin_case("scalar_str", "hello")
    builtin_case("scalar_str_empty", "")
    builtin_case("scalar_bytes", b"hello")
    builtin_case("scalar_bytes_empty", b"")
    builtin_case("scalar_bytearray", bytearray(b"hello"))
    builtin_case("scalar_bytearray_empty", bytearray())
    builtin_case("empty_tuple", ())
    builtin_case("empty_list", [])
    builtin_case("empty_dict", {})
    builtin_case("empty_set", set())
    builtin_case("empty_frozenset", frozenset())

    # ---- ints
    builtin_case("int_edges", [
        0, 1, 127, 128, 255, 256, 32767, 32768, 65535, 65536, -1, -128, -129,
        -255, -256, -257, -65535, -65536, 2 ** 31 - 1, 2 ** 31, -2 ** 31,
        -2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 63 - 1, 2 ** 63, -2 ** 63,
        -2 ** 63 - 1, 2 ** 64 - 1, 2 ** 64, 2 ** 70, -(2 ** 70),
        # LONG1 holds <= 255 bytes of two's complement, LONG4 beyond
        2 ** (8 * 255 - 1) - 1,      # 255 bytes (largest LONG1 positive)
        2 ** (8 * 255 - 1),          # 256 bytes -> LONG4
        -(2 ** (8 * 255 - 1)),       # 255 bytes (most negative LONG1)
        -(2 ** (8 * 255 - 1)) - 1,   # 256 bytes -> LONG4
        2 ** 2048, -(2 ** 2100),
    ])
    builtin_case("int_2048", 2 ** 2048)
    builtin_case("bool_values", [True, False, True, None, 0, 1])

    # ---- floats
    builtin_case("float_edges", [
        0.0, -0.0, 1.5, -1.5, 1e300, -1e300, 1e-7, 1e16, 1e15,
        123456789012345678.0, float("inf"), float("-inf"), float("nan"),
        5e-324, -5e-324, 0.1, 0.3, 1 / 3, 2.5, 1e-5, 1e-4, 1e21, 1e22,
        123456789.0, 2.0 ** 53, 2.0 ** 53 + 2, 1.7976931348623157e308,
        2.2250738585072014e-308, 100.0, 1.0,
    ])

    # ---- strings (no 1-byte bytes anywhere near: see quirk_latin1_singletons)
    builtin_case("str_edges", [
        "", "a", "é", "€", "😀", "\\ \n \r \x00 \x1a", "ÿ", "\u0100",
        "\ud800", "a\udfffb", "\ud83d\ude00", "\udbff\udfff", "\U0010ffff",
        "\uffff", "\ufeff", "\u2028", "\x7f", "\x80", "\t tab",
        "\\u0041 not an escape", "\\U0001f600", "mixed é€😀 text",
        "quote ' and \" both", "line1\nline2\r\n",
    ])
    builtin_case("str_lengths", [
        "x" * 255, "y" * 256, "z" * 300,
        "é" * 127,  # 254 UTF-8 bytes
        "é" * 128,  # 256 UTF-8 bytes -> BINUNICODE at p4
        "€" * 85,   # 255 UTF-8 bytes -> SHORT_BINUNICODE at p4
        "€" * 86,   # 258 UTF-8 bytes
    ])
    builtin_case("str_300", "s" * 299 + "!")
    builtin_case("str_255", "".join(chr(0x61 + i % 26) for i in range(255)))
    builtin_case("str_256", "".join(chr(0x61 + i % 26) for i in range(256)))
    rng = random.Random(70000)
    big = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 .,-")
                  for _ in range(69998))
    builtin_case("str_70000", "é" + big + "😀")

    # ---- bytes / bytearray (1-byte values only where no 1-char str exists)
    bytes_list = [b"", b"\x00", b"\xff", b"ab", bytes(range(256)),
                  b"x" * 255, b"y" * 256, b"\\\n\r\x1a\x00 specials",
                  b"\x80\x81\xfe high"]
    builtin_case("bytes_values", bytes_list)
    builtin_case("bytes_single", b"\x80")
    rng = random.Random(70001)
    payload = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 .,-")
                    for _ in range(70000))
    builtin_case("bytes_70000", payload)
    builtin_case("bytearray_values", [bytearray(b) for b in bytes_list])
    builtin_case("bytearray_single", bytearray(b"\x01"))
    builtin_case("bytearray_70000", bytearray(payload))

    # ---- tuples
    for n in range(6):
        builtin_case("tuple_len%d" % n, tuple(range(1, n + 1)))
    builtin_case("tuple_nested", ((), (1,), ((2,), (3, (4, 5))), ("a", [1]),
                                  ((), ())))

    # ---- batching edges for list / dict / set / frozenset
    for n in (0, 1, 2, 999, 1000, 1001, 2000, 2001):
        builtin_case("list_%d" % n, list(range(n)))
        builtin_case("dict_%d" % n, {i: None for i in range(n)})
        builtin_case("set_%d" % n, set(range(n)))
        builtin_case("frozenset_%d" % n, frozenset(range(n)))

    # ---- sets / dict keys with hashable non-int members.  The hash seed is
    #      fixed, but CPython 3.11 hashes None by address (ASLR), so None must
    #      not be a set/frozenset member (or inside one) or the order varies.
    builtin_case("set_mixed", {True, 2, 3.5, "str", b"by", (1, 2),
                               frozenset({4, 5}), (), -7, 2 ** 80, -0.0})
    builtin_case("frozenset_mixed", frozenset({1, "x", (2, "y"), 4.25,
                                               b"b", frozenset()}))
    builtin_case("dict_keys", {
        (1, 2): "tuple", 7: "int", 2.5: "float", frozenset({1, 2}): "fs",
        None: "none", "s": "str", b"b": "bytes", True: "bool",
        -(2 ** 70): "bigint", (): "empty tuple", ("n", (1,)): "nested",
    })
    builtin_case("dict_order", {"b": 1, "a": 2, "c": 3, 10: 4, 1: 5})

    # ---- shared references
    x = [1, 2]
    builtin_case("shared_list", [x, x])
    t = (1, "tuple item")
    builtin_case("shared_tuple", [t, t, (t,)])
    d = {"k": 1}
    builtin_case("shared_dict", [d, d])
    s = "".join(["shared", "-", "string"])
    s2 = "".join(["shared", "-", "string"])  # equal but distinct object
    builtin_case("shared_str", [s, s, s2, s])
    b = b"shared bytes"
    builtin_case("shared_bytes", [b, b])
    ba = bytearray(b"shared bytearray")
    builtin_case("shared_bytearray", [ba, ba])
    st = {1, 2, 3}
    builtin_case("shared_set", [st, st])
    fs = frozenset({1, 2, 3})
    builtin_case("shared_frozenset", [fs, fs, (fs,)])
    a = [1]
    builtin_case("shared_tuple_pairs", ((a, a), (a, a)))
    at = (1, 2)
    builtin_case("shared_tuple_pairs_t", ((at, at), (at, at)))
    x = [1]
    y = [x, x]
    builtin_case("shared_dag", [y, y])
    u = (at, at)
    builtin_case("shared_tuple_deep", [u, u, at, {"k": u}])
    e = ()
    builtin_case("shared_empty", [e, e, [], [], {}, {}])

    # ---- cycles
    lst = []
    lst.append(lst)
    builtin_case("cycle_list", lst)
    lst = [1]
    lst.append(lst)
    lst.append([lst])
    builtin_case("cycle_list2", lst)
    dd = {}
    dd["self"] = dd
    builtin_case("cycle_dict", dd)
    dd = {}
    dd["l"] = [dd]
    builtin_case("cycle_dict_list", dd)
    for n in (1, 2, 3, 4, 5):
        lst = []
        tup = tuple([lst] + list(range(2, n + 1)))
        lst.append(tup)
        builtin_case("cycle_tuple%d" % n, tup)
    lst = []
    tup = (lst, "x", lst)
    lst.append(tup)
    builtin_case("cycle_tuple_in_list", [lst, tup])
    lst = []
    inner = (lst,)
    outer = (inner, inner)
    lst.append(outer)
    builtin_case("cycle_tuple_nested", outer)
    la = []
    db = {"a": la}
    la.append(db)
    tc = (la, db)
    la.append(tc)
    builtin_case("cycle_mixed", [tc, la, db])

    # ---- nesting
    deep = []
    cur = deep
    for _ in range(100):
        nxt = []
        cur.append(nxt)
        cur = nxt
    builtin_case("nested_deep_list", deep)
    deep_t = ()
    for i in range(60):
        deep_t = (deep_t, i)
    builtin_case("nested_deep_tuple", deep_t)
    builtin_case("nested_mixed", {
        "list": [1, [2, [3, [4]]], (5, {"six": 6})],
        "dict": {"a": {"b": {"c": {}}}},
        "tuple": (1, (2.5, ("three", (b"four", None)))),
        "set": {1, 2}, "frozenset": frozenset({(1, 2), (3, 4)}),
        "bytearray": bytearray(b"mut"),
    })
    builtin_case("all_kinds", [
        None, True, False, 0, -1, 300, 2 ** 40, 2 ** 100, -(2 ** 100), 3.25,
        float("-inf"), "text", "ünïcödé", "😀", b"by", bytearray(b"ba"),
        (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [1], {}, {"k": "v"},
        set(), {1}, frozenset(), frozenset({2}),
    ])

    # ---- memo indices above 256 (LONG_BINPUT / LONG_BINGET)
    strs = ["m%03d" % i for i in range(300)]
    builtin_case("memo_300", strs + strs[::-1] + [strs[255], strs[256]])

    # ---- several frames at p4/p5 (and >= 64 KiB items outside frames)
    # Layout at p4/p5: 25 small strs + a str of 65535 UTF-8 bytes (< 64 KiB,
    # so it stays inside the frame, which crosses 64 KiB and is committed at
    # the next opcode boundary), 60 small strs (a small frame that is
    # committed early because the next str, exactly 65536 UTF-8 bytes, is
    # written outside any frame), then 25 small strs (tail frame).
    # The big strs are mostly 'é' so that the p0 (raw latin-1) copy is small.
    smalls = iter("%04d:frame-filler-%s" % (i, "abcdefghij"[i % 10] * 16)
                  for i in range(10000))
    frames = [next(smalls) for _ in range(25)]
    frames.append("é" * 32767 + "A")          # 65535 UTF-8 bytes
    frames.extend(next(smalls) for _ in range(60))
    frames.append("é" * 32768)                # 65536 UTF-8 bytes
    frames.extend(next(smalls) for _ in range(25))
    builtin_case("frames_multi", frames)

    # ---- CPython identity quirk: runtime-made 1-char latin-1 strs are
    #      cached singletons, and at p0-2 bytes are written as
    #      _codecs.encode(<latin-1 str>, 'latin1'); for a 1-byte bytes value
    #      that hidden str *is* the singleton, so it is shared (BINGET) with
    #      the str values below.  bytearray at p0-4 pickles a fresh bytes copy.
    c = chr(97)
    cc = chr(233)
    builtin_case("quirk_latin1_singletons", [
        bytes([97]), c, bytearray([97]), bytearray([97]), bytes([233]), cc,
        [c, cc], bytearray([233]),
    ], note="1-char latin-1 strs here are CPython's cached singletons and "
            "are shared with the hidden str argument of _codecs.encode for "
            "1-byte bytes at p0-2 (see README)")


# --------------------------------------------------------------------------
# non-builtin object cases
# --------------------------------------------------------------------------

class PidPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if type(obj) is hclasses.Marker:
            PID_LOG.append(obj.pid)
            return obj.pid
        return None


PID_LOG = []


class VerifyUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        return ("persistent", pid)


def build_object_cases():
    H = hclasses
    object_case("obj_plain", [H.Plain(), H.Plain(a=[1, 2], b={"k": "v"})])
    object_case("obj_slots", H.Slotted(1, [1, 2]), protocols=(2, 3, 4, 5),
                note="p0/p1 raise TypeError (__slots__ without __getstate__)")
    object_case("obj_getstate", H.WithState(42))
    r = H.ReduceAll("r")
    r.append(1)
    r.append("two")
    r["k"] = "v"
    r["k2"] = 2
    object_case("obj_reduce_full", r)
    object_case("obj_reduce_state_setter", H.ReduceSetter(3))
    object_case("obj_kwonly_newargs_ex", H.KwOnly(1, k=3))
    ls = H.ListSub([1, 2, 3])
    ls.attr = "x"
    object_case("obj_list_subclass", ls)
    ls = H.ListSub(range(1001))
    object_case("obj_list_subclass_1001", ls,
                note="non-exact list: trailing single item uses APPEND")
    ds = H.DictSub(a=1, b=2)
    ds.attr = "y"
    object_case("obj_dict_subclass", ds)
    object_case("obj_nested_qualname", [H.Outer.Inner(5), H.Outer.Inner])
    object_case("obj_namedtuple", [H.Point(1, 2), H.Point("x", None)])
    object_case("obj_enum", [H.Color.RED, H.Color.GREEN, H.Color.BLUE,
                             H.Color.RED])
    p = H.Plain()
    p.me = p
    object_case("obj_shared_cyclic", [p, p])

    utc = datetime.timezone.utc
    object_case("std_datetime", [
        datetime.date(1980, 5, 7),
        datetime.datetime(2024, 2, 29, 13, 45, 30, 123456),
        datetime.time(23, 59, 59, 999999),
        datetime.timedelta(days=-1, seconds=5, microseconds=7),
        datetime.datetime(2020, 1, 1, 0, 0, tzinfo=utc),
        datetime.time(12, 0, tzinfo=utc),
        datetime.datetime(2021, 11, 7, 1, 30, fold=1),
        datetime.timezone(datetime.timedelta(hours=5, minutes=30), "IST"),
    ])
    D = decimal.Decimal
    object_case("std_decimal", [D("3.14"), D("-0"), D("NaN"), D("-Infinity"),
                                D("1E+1000"), D("0.000001")])
    F = fractions.Fraction
    object_case("std_fraction", [F(1, 3), F(-7, 2), F(0)])
    object_case("std_ordereddict",
                collections.OrderedDict([("b", 1), ("a", 2), ("c", [3])]))
    object_case("std_ordereddict_1000",
                collections.OrderedDict((i, i) for i in range(1000)),
                note="non-exact dict: no empty trailing MARK SETITEMS")
    object_case("std_defaultdict",
                collections.defaultdict(list, {"a": [1], "b": []}))
    object_case("std_counter", collections.Counter("abracadabra"))
    object_case("std_deque", [collections.deque([1, 2, 3], maxlen=5),
                              collections.deque()])
    object_case("std_complex", [complex(1, 2), complex(-0.0, float("inf")),
                                1j])
    object_case("std_range", [range(10), range(1, 10, 3), range(-5),
                              range(2 ** 70)])
    object_case("std_slice", [slice(1, 10, 2), slice(None),
                              slice(None, -1, None)])
    object_case("std_singleton_types", [type(None), type(Ellipsis),
                                        type(NotImplemented), Ellipsis,
                                        NotImplemented])
    object_case("std_globals", [
        len, int, str, float, bool, bytes, bytearray, list, dict, set,
        frozenset, tuple, object, type, range, complex,
        collections.OrderedDict, os.path.join, functools.reduce, ValueError,
        hclasses.Plain,
    ], note="p0-2 apply fix_imports reverse mapping (__builtin__ long, ...)")
    object_case("std_exception", [ValueError("bad", 1), KeyError("k")])

    # ---- persistent ids
    m1 = H.Marker("id1")
    m2 = H.Marker("id2")
    custom_case("persistent_ids",
                persistent_producer(["@x", m1, 1, m2, m1, (m2, "t")]),
                ALL, "persistent", persistent=True)
    st1 = H.Marker(("storage", "FloatStorage", "0", "cpu", 4))
    st2 = H.Marker(("storage", "FloatStorage", "1", "cpu", 2))
    custom_case("persistent_tuple",
                persistent_producer(collections.OrderedDict(
                    [("weight", st1), ("bias", st2), ("weight_again", st1)])),
                (1, 2, 3, 4, 5), "persistent", persistent=True,
                note="p0 cannot write non-str persistent ids")

    # ---- extension codes
    custom_case("ext_codes", ext_producer, ALL, "ext",
                ext={"240": ["collections", "OrderedDict"],
                     str(0x1234): ["hclasses", "ExtTarget"],
                     str(0x123456): ["hclasses", "Plain"]},
                note="EXT1/EXT2/EXT4 at p>=2; GLOBAL at p0/p1; EXT results "
                     "are not memoized")

    # ---- PickleBuffer (protocol 5)
    custom_case("pickle_buffer_inband", buffer_inband_producer, (5,), "buffer")
    custom_case("pickle_buffer_oob", buffer_oob_producer(False), (5,),
                "buffer")
    custom_case("pickle_buffer_mixed", buffer_oob_producer(True), (5,),
                "buffer", note="callback returns True (in-band) for the "
                               "writable buffer, False for the others")

    # ---- streams with several pickles
    custom_case("multi_stream", multi_stream_producer, ALL, "stream")
    custom_case("many_pickles", many_pickles_producer, ALL, "stream")


def persistent_producer(value):
    def produce(proto):
        PID_LOG.clear()
        f = io.BytesIO()
        PidPickler(f, proto).dump(value)
        extra = {"persistent_ids": [repr(p) for p in PID_LOG]}
        return f.getvalue(), extra, None
    return produce


EXT_CODES = [("collections", "OrderedDict", 240),
             ("hclasses", "ExtTarget", 0x1234),
             ("hclasses", "Plain", 0x123456)]


def ext_producer(proto):
    value = [collections.OrderedDict, hclasses.ExtTarget, hclasses.Plain,
             collections.OrderedDict, hclasses.Plain(),
             collections.OrderedDict([("a", 1)])]
    for mod, name, code in EXT_CODES:
        copyreg.add_extension(mod, name, code)
    try:
        data = pickle.dumps(value, proto)
        loaded = pickle.loads(data)
        copyreg.clear_extension_cache()
    finally:
        for mod, name, code in EXT_CODES:
            copyreg.remove_extension(mod, name, code)
    return data, {}, lambda _data: loaded


def buffer_inband_producer(proto):
    pb = pickle.PickleBuffer(b"abc")
    value = [pb, pickle.PickleBuffer(bytearray(b"xyz")), pb,
             pickle.PickleBuffer(b"")]
    return pickle.dumps(value, proto), {}, None


def buffer_oob_producer(mixed):
    def produce(proto):
        ro = pickle.PickleBuffer(b"abc")
        rw = pickle.PickleBuffer(bytearray(b"xyz"))
        big = pickle.PickleBuffer(bytes(range(256)) * 4)
        value = [ro, rw, ro, big, "tail"]
        oob = []

        def callback(buf):
            if mixed and not buf.raw().readonly:
                return True  # keep in-band
            oob.append(buf)
            return False

        data = pickle.dumps(value, proto, buffer_callback=callback)
        raws = [b.raw() for b in oob]
        extra = {"oob_buffers": [bytes(r).hex() for r in raws],
                 "oob_readonly": [bool(r.readonly) for r in raws]}
        buffers = [bytes(r) if r.readonly else bytearray(r) for r in raws]

        def loader(d):
            return VerifyUnpickler(io.BytesIO(d), buffers=buffers).load()
        return data, extra, loader
    return produce


def multi_stream_producer(proto):
    x = ["shared", 1, (2, 3)]
    f = io.BytesIO()
    pk = pickle.Pickler(f, proto)
    pk.dump(x)
    pk.dump([x, "tail", x[0]])
    pk.dump({"again": x})
    data = f.getvalue()

    def loader(d):
        up = pickle.Unpickler(io.BytesIO(d))
        out = [up.load(), up.load(), up.load()]
        assert out[1][0] is out[0] and out[2]["again"] is out[0]
        return out
    return data, {"streams": 3,
                  "note": "one Pickler, three dump() calls: memo shared "
                          "across the pickles; load with one Unpickler"}, \
        loader


def many_pickles_producer(proto):
    values = [None, 1, "a string", [1, 2], {"k": (1, 2)}, b"bytes", 2 ** 70]
    data = b"".join(pickle.dumps(v, proto) for v in values)

    def loader(d):
        f = io.BytesIO(d)
        out = []
        while f.tell() < len(d):
            out.append(pickle.load(f))
        return out
    return data, {"streams": len(values)}, loader


# --------------------------------------------------------------------------
# hand-written Python 2 style pickles
# --------------------------------------------------------------------------

PY2 = [
    # name, declared protocol, bytes, note
    ("py2_string_escapes", 0, b"S'a\\'b\\n\\x00'\n.",
     "STRING with escapes"),
    ("py2_string_quotes", 0,
     b"(lp0\nS'plain'\np1\naS\"dq 'single' inside\"\np2\n"
     b"aS'tab\\there \\\\ backslash \\xe9'\np3\naS''\np4\na.",
     "STRING: double quotes, \\t, \\\\, \\xe9, empty"),
    ("py2_binstring", 1,
     b"]q\x00(T\x05\x00\x00\x00helloq\x01T\x02\x00\x00\x00\xe9\xffq\x02e.",
     "BINSTRING incl. non-ASCII bytes"),
    ("py2_short_binstring", 1,
     b"(U\x03abcq\x00U\x00U\x01\xe9h\x00t.",
     "SHORT_BINSTRING + BINGET inside MARK/TUPLE"),
    ("py2_inst", 0,
     b"(ihclasses\nOldStyle\np0\n(dp1\nS'attr'\np2\nI42\nsS'name'\np3\n"
     b"S'old'\np4\nsb.",
     "INST without args (old-style class) + BUILD with dict state"),
    ("py2_inst_args", 0, b"(I1\nS'two'\nihclasses\nPair\np0\n.",
     "INST with constructor args"),
    ("py2_obj", 1,
     b"(chclasses\nPair\nq\x00K\x01U\x03twoq\x01o}q\x02U\x05extraq\x03K\x03sb.",
     "OBJ with args + BUILD"),
    ("py2_obj_noargs", 1,
     b"(chclasses\nOldStyle\nq\x00o}q\x01U\x01xK\x01sb.",
     "OBJ without args"),
    ("py2_fix_imports", 0,
     b"(lp0\nc__builtin__\nunicode\np1\nac__builtin__\nlong\np2\n"
     b"ac__builtin__\nxrange\np3\nacUserDict\nUserDict\np4\n"
     b"ac__builtin__\nreduce\np5\nacexceptions\nStandardError\np6\na.",
     "GLOBAL names remapped by fix_imports (_compat_pickle)"),
    ("py2_copy_reg_reconstructor", 0,
     b"ccopy_reg\n_reconstructor\np0\n(chclasses\nPlain\np1\n"
     b"c__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nS'a'\np6\nI1\nsS'b'\np7\n"
     b"S'two'\np8\nsb.",
     "copy_reg._reconstructor (Python 2 protocol 0 new-style instance)"),
    ("py2_set_reduce", 0,
     b"c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n.",
     "__builtin__.set REDUCE"),
    ("py2_reduce_function", 0,
     b"chclasses\nmake_pair\np0\n(I1\nS'b'\np1\ntp2\nRp3\n.",
     "REDUCE with a module-level function"),
    ("py2_long", 0,
     b"(lp0\nL12345678901234567890L\naL-9223372036854775809L\naL0L\n"
     b"aL255\naL-1L\na.",
     "LONG with and without trailing L"),
    ("py2_long_p1", 1, b"]q\x00(L2147483648L\nL-2147483649L\ne.",
     "LONG text opcode inside a protocol-1 pickle"),
    ("py2_int_bool", 0,
     b"(lp0\nI00\naI01\naI42\naI-7\naI0\naI1\naI9223372036854775807\n"
     b"aI-9223372036854775808\na.",
     "INT: 00/01 are False/True, 0/1 are ints, 64-bit values"),
    ("py2_float_text", 0,
     b"(lp0\nF1.5\naF-0.0\naF1e+300\naF0.1\naF1.0000000000000001e-07\n"
     b"aFinf\naF-inf\naFnan\naF3\naF0.10000000000000001\na.",
     "FLOAT text forms (Python 2 repr)"),
    ("py2_put_get", 0, b"(lp0\nS'x'\np1\nag1\nag0\na.",
     "PUT/GET text; g0 makes a self-reference"),
    ("py2_dict_list_tuple_mark", 0,
     b"(dp0\nS'k'\np1\n(lp2\n(I1\nI2\ntp3\naS'v'\np4\nas"
     b"(I7\nI8\nS'nine'\ntp5\n(S'a'\nI1\nS'b'\nI2\nds"
     b"S'items'\n(I1\nI2\nI3\nls.",
     "DICT/LIST/TUPLE with items inside MARK"),
    ("py2_unicode", 0,
     b"(lp0\nVcaf\\u00e9\np1\naV\\U0001f600 \\u20ac\np2\n"
     b"aV\xe9\xff raw latin1\np3\naVback\\u005cslash\\u000anl\np4\n"
     b"aV\\ud800 lone\np5\naV\np6\na.",
     "UNICODE raw-unicode-escape: \\u, \\U, raw latin-1, escaped \\ and \\n"),
    ("py2_persid", 0, b"(lp0\nPid1\naPid2\naI3\na.", "PERSID text"),
    ("py2_binpersid", 1, b"]q\x00(U\x03id1QU\x03id2QK\x03e.",
     "BINPERSID with SHORT_BINSTRING ids"),
    ("py2_proto2_set", 2,
     b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.",
     "Python 2 protocol 2 set"),
    ("py2_datetime", 2,
     b"\x80\x02cdatetime\ndatetime\nq\x00U\n\x07\xdf\x01\x02\x03\x04\x05"
     b"\x00\x00\x00\x85q\x01Rq\x02.",
     "datetime state as SHORT_BINSTRING (needs encoding latin1/bytes)"),
    ("py2_proto2_instance", 2,
     b"\x80\x02chclasses\nPlain\nq\x00)\x81q\x01}q\x02(U\x01aq\x03K\x01"
     b"U\x01bq\x04U\x03twoq\x05ub.",
     "Python 2 protocol 2 new-style instance (NEWOBJ + BUILD)"),
]

REPR_LIMIT = 1000
ADDR_RE = re.compile(r" at 0x[0-9a-fA-F]+")


def scrub(text):
    return ADDR_RE.sub("", text)


def load_py2(data, encoding):
    f = io.BytesIO(data)
    v = VerifyUnpickler(f, encoding=encoding).load()
    if f.tell() != len(data):
        raise ValueError("trailing data")
    return v


# --------------------------------------------------------------------------
# verification helpers
# --------------------------------------------------------------------------

def float_bits(x):
    return struct.pack(">d", x)


def graph_equal(a, b):
    """Structural equality + identical sharing for two builtin value graphs."""
    fwd, bwd = {}, {}
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        t = type(x)
        if t is not type(y):
            return False
        if t in (type(None), bool, int):
            if x != y:
                return False
            continue
        if t is float:
            if not ((math.isnan(x) and math.isnan(y))
                    or float_bits(x) == float_bits(y)):
                return False
            continue
        if t is tuple and not x:
            if y:
                return False
            continue
        if id(x) in fwd or id(y) in bwd:
            if fwd.get(id(x)) != id(y) or bwd.get(id(y)) != id(x):
                return False
            continue
        fwd[id(x)] = id(y)
        bwd[id(y)] = id(x)
        if t in (str, bytes, bytearray):
            if x != y:
                return False
        elif t in (list, tuple):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif t is dict:
            if len(x) != len(y):
                return False
            for (k1, v1), (k2, v2) in zip(x.items(), y.items()):
                stack.append((k1, k2))
                stack.append((v1, v2))
        elif t in (set, frozenset):
            if len(x) != len(y):
                return False
            ymap = {e: e for e in y}
            for e in x:
                if e not in ymap:
                    return False
                stack.append((e, ymap[e]))
        else:
            return False
    return True


def dis_check(data, streams=1, shared_memo=False):
    """pickletools.dis must accept the data (validates memo use etc.)."""
    f = io.BytesIO(data)
    memo = {}
    sink = io.StringIO()
    for _ in range(streams):
        pickletools.dis(f, out=sink, memo=memo if shared_memo else {})
    if f.tell() != len(data):
        raise ValueError("trailing bytes after %d pickles" % streams)


def max_opcode_proto(data):
    return max(op.proto for op, _arg, _pos in pickletools.genops(data))


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

def main():
    if sys.version_info[:2] != (3, 11) and \
            "--allow-other-python" not in sys.argv:
        sys.exit("gen_golden.py: the committed corpus is CPython 3.11 output; "
                 "run with python3.11 or pass --allow-other-python")
    import _pickle
    if pickle.Pickler is not _pickle.Pickler or pickle.dumps is not _pickle.dumps:
        sys.exit("gen_golden.py: the C _pickle accelerator is required")

    os.makedirs(OUT, exist_ok=True)
    for fn in os.listdir(OUT):
        if fn.endswith(".pickle") or fn == "manifest.json":
            os.remove(os.path.join(OUT, fn))

    build_builtin_cases()
    build_object_cases()

    names = [c["name"] for c in CASES] + [p[0] for p in PY2]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit("duplicate case names: %s" % sorted(dup))

    manifest = []

    def emit(name, proto, data, builtin, kind, **extra):
        fn = "%s.p%d.pickle" % (name, proto)
        with open(os.path.join(OUT, fn), "wb") as fh:
            fh.write(data)
        entry = {"name": name, "protocol": proto, "file": fn,
                 "builtin": builtin, "group": name, "kind": kind,
                 "sha256": hashlib.sha256(data).hexdigest(),
                 "len": len(data)}
        entry.update({k: v for k, v in extra.items() if v is not None})
        manifest.append(entry)

    for case in CASES:
        name, kind = case["name"], case["kind"]
        if case["builtin"]:
            value = case["value"]
            golden = {p: pickle.dumps(value, p) for p in ALL}
            for p, data in golden.items():
                dis_check(data)
                loaded = pickle.loads(data)
                if not graph_equal(value, loaded):
                    raise AssertionError("%s p%d: load mismatch" % (name, p))
            for p, data in golden.items():
                reenc = all(pickle.dumps(pickle.loads(data), m) == golden[m]
                            for m in ALL)
                emit(name, p, data, True, kind, repr=repr(value)[:200],
                     cpython_reencode=reenc, note=case["note"])
        elif "value" in case:
            value = case["value"]
            for p in case["protocols"]:
                data = pickle.dumps(value, p)
                dis_check(data)
                loaded = VerifyUnpickler(io.BytesIO(data)).load()
                emit(name, p, data, False, kind,
                     expected_repr=scrub(repr(loaded)), note=case["note"],
                     **case["meta"])
        else:
            for p in case["protocols"]:
                data, extra, loader = case["producer"](p)
                streams = extra.get("streams", 1)
                dis_check(data, streams, case["name"] == "multi_stream")
                if loader is None:
                    loaded = VerifyUnpickler(io.BytesIO(data)).load()
                else:
                    loaded = loader(data)
                meta = dict(case["meta"])
                meta.update(extra)
                if case["note"] and "note" not in meta:
                    meta["note"] = case["note"]
                emit(name, p, data, False, kind,
                     expected_repr=scrub(repr(loaded)), **meta)

    for name, proto, data, note in PY2:
        try:
            dis_check(data)
            dis_error = None
        except Exception as exc:  # pickletools' own limitations
            dis_error = "%s: %s" % (type(exc).__name__, exc)
        mp = max_opcode_proto(data) if dis_error is None else 0
        if mp > proto:
            raise AssertionError("%s: opcodes need protocol %d" % (name, mp))
        loaded = load_py2(data, "latin1")
        try:
            as_bytes = scrub(repr(load_py2(data, "bytes")))
        except Exception as exc:  # pragma: no cover - recorded, not fatal
            as_bytes = "ERROR: %s: %s" % (type(exc).__name__, exc)
        emit(name, proto, data, False, "py2",
             encoding="latin1", expected_repr=scrub(repr(loaded)),
             expected_repr_bytes=as_bytes, note=note,
             pickletools_dis_error=dis_error,
             persistent=True if "persid" in name else None)

    for entry in manifest:
        text = entry.get("expected_repr")
        if text is not None and len(text) > REPR_LIMIT:
            entry["expected_repr"] = text[:REPR_LIMIT]
            entry["expected_repr_truncated"] = True
    # one entry per line: compact and diff-friendly
    with open(os.path.join(OUT, "manifest.json"), "w", encoding="ascii") as fh:
        fh.write("[\n")
        fh.write(",\n".join(json.dumps(e, ensure_ascii=True) for e in manifest))
        fh.write("\n]\n")

    total = sum(e["len"] for e in manifest)
    print("wrote %d files (%d cases), %d bytes of pickles, to %s" % (
        len(manifest), len({e["name"] for e in manifest}), total, OUT))


if __name__ == "__main__":
    main()
