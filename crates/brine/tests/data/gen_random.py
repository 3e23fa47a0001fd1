#!/usr/bin/env python3
"""Random builtin-value pickles for brine's differential tests.

Usage:  python3 gen_random.py --seed S --count N [--max-depth D] [--no-short-bytes]

Writes to stdout, for each of N random values and for each protocol 0..5 in
order, a record ``u32 little-endian length`` + ``pickle.dumps(value, proto)``
(C pickler).  So the stream holds 6*N records; records 6*i .. 6*i+5 are the
same value at protocols 0..5.

Values use builtin types only: None, bool, int (all sizes), float (incl.
+-0.0, +-inf, a canonical nan, subnormals), str (ASCII, escapes, latin-1,
BMP, astral, lone surrogates), bytes, bytearray, tuple, list, dict, set,
frozenset, nested to a bounded depth, with random sharing of earlier objects
and occasional cycles (a list or dict containing itself, a tuple reached
through a list inside it).

Output depends only on --seed/--count/options: the script re-executes itself
with PYTHONHASHSEED=0 (set order of str/bytes members), uses
random.Random(seed), and never puts None inside a set, frozenset or hashed
tuple (CPython 3.11 hashes None by address, so that order would vary between
runs).  It targets CPython 3.11's C pickler.

Identity conventions a byte-exact writer has to know about (see README.md):
every 1-char latin-1 str here is created at run time (chr / join), so it is
CPython's cached singleton; at protocols 0-2 a 1-byte bytes value is written as
_codecs.encode(<that singleton>, 'latin1'), so the hidden str is shared
(BINGET) with equal 1-char str values.  --no-short-bytes avoids 1-byte
bytes/bytearray entirely if a test does not model that.
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

import argparse  # noqa: E402
import pickle  # noqa: E402
import random  # noqa: E402
import struct  # noqa: E402

SPECIAL_FLOATS = [0.0, -0.0, 1.5, -2.25, 1e300, -1e300, 1e-7, 1e16, 1e15,
                  123456789012345678.0, float("inf"), float("-inf"),
                  5e-324, -5e-324, 0.1, 1e22, 2.0 ** 53, 1.7976931348623157e308,
                  2.2250738585072014e-308]
SPECIAL_INTS = [0, 1, -1, 127, 128, 255, 256, -255, -256, -257, 32767, 65535,
                65536, -65536, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1,
                2 ** 32, 2 ** 63 - 1, 2 ** 63, -2 ** 63, -2 ** 63 - 1, 2 ** 64,
                2 ** (8 * 255 - 1) - 1, 2 ** (8 * 255 - 1),
                -(2 ** (8 * 255 - 1)), -(2 ** (8 * 255 - 1)) - 1]

# code point pools for str generation
ASCII = [c for c in range(0x20, 0x7F)]
ESCAPES = [0x5C, 0x0A, 0x0D, 0x00, 0x1A, 0x09, 0x27, 0x22, 0x7F]
LATIN1 = list(range(0x80, 0x100))
BMP = [0x100, 0x3B1, 0x416, 0x20AC, 0x4E2D, 0xFEFF, 0xFFFD, 0xFFFF, 0x2028]
ASTRAL = [0x1F600, 0x1F4A9, 0x10000, 0x10FFFF, 0x1D11E]
SURROGATES = [0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xD83D, 0xDE00]


class Gen:
    def __init__(self, rng, max_depth, short_bytes):
        self.r = rng
        self.max_depth = max_depth
        self.short_bytes = short_bytes
        self.budget = 0
        self.pool = []         # any earlier object (for sharing)
        self.hashable = []     # earlier hashable objects (str, bytes, tuples…)

    # ---------------------------------------------------------------- scalars
    def int_(self):
        r = self.r
        k = r.random()
        if k < 0.35:
            return r.randrange(0, 256)
        if k < 0.5:
            return r.choice(SPECIAL_INTS)
        if k < 0.7:
            return r.randrange(-2 ** 31, 2 ** 31)
        if k < 0.9:
            return r.randrange(-2 ** 70, 2 ** 70)
        bits = r.choice([64, 100, 500, 2040, 2048, 2100, 4000])
        v = r.getrandbits(bits)
        return -v if r.random() < 0.5 else v

    def float_(self):
        r = self.r
        k = r.random()
        if k < 0.3:
            return r.choice(SPECIAL_FLOATS)
        if k < 0.35:
            return float("nan")
        if k < 0.6:
            return r.uniform(-1e6, 1e6)
        if k < 0.7:
            return float(r.randrange(-10 ** 6, 10 ** 6))
        # arbitrary bit pattern, but never a NaN with a payload or sign:
        # p0 writes repr(x) == 'nan' and would lose those bits.
        x = struct.unpack("<d", struct.pack("<Q", r.getrandbits(64)))[0]
        return float("nan") if x != x else x

    def str_(self):
        r = self.r
        k = r.random()
        if k < 0.1:
            n = 0
        elif k < 0.3:
            n = 1
        elif k < 0.95:
            n = r.randrange(2, 20)
        elif k < 0.99:
            n = r.choice([255, 256, 300])
        else:
            n = r.randrange(1000, 3000)
        mode = r.random()
        if mode < 0.4:
            pools = [ASCII]
        elif mode < 0.6:
            pools = [ASCII, ESCAPES]
        elif mode < 0.75:
            pools = [ASCII, LATIN1]
        else:
            pools = [ASCII, ESCAPES, LATIN1, BMP, ASTRAL, SURROGATES]
        chars = []
        for _ in range(n):
            chars.append(chr(r.choice(r.choice(pools))))
        s = "".join(chars)
        return s

    def bytes_(self):
        r = self.r
        k = r.random()
        if k < 0.1:
            n = 0
        elif k < 0.25:
            n = 1
        elif k < 0.95:
            n = r.randrange(2, 24)
        else:
            n = r.choice([255, 256, 300, 1000])
        if n == 1 and not self.short_bytes:
            n = 2
        if r.random() < 0.5:
            return bytes(r.choice(b"abcxyz\x00\n\\\x80\xff") for _ in range(n))
        return r.randbytes(n)

    def scalar(self):
        r = self.r
        k = r.random()
        if k < 0.06:
            return None
        if k < 0.12:
            return r.random() < 0.5
        if k < 0.40:
            return self.int_()
        if k < 0.55:
            return self.float_()
        if k < 0.80:
            return self.remember(self.str_(), True)
        if k < 0.93:
            return self.remember(self.bytes_(), True)
        return self.remember(bytearray(self.bytes_()), False)

    # ------------------------------------------------------------ hashables
    def hashable_value(self, depth, allow_none=False):
        # None is only allowed as a direct dict key: in CPython 3.11
        # hash(None) is address based (ASLR), so sets / frozensets / tuples
        # containing None would not iterate in a reproducible order.
        r = self.r
        if self.hashable and r.random() < 0.12:
            return r.choice(self.hashable)
        k = r.random()
        if k < 0.06:
            return None if allow_none else r.randrange(0, 256)
        if k < 0.1:
            return r.random() < 0.5
        if k < 0.4:
            return self.int_()
        if k < 0.5:
            x = self.float_()
            return 0.5 if x != x else x  # no nan in hashed positions
        if k < 0.75:
            return self.remember(self.str_(), True)
        if k < 0.85:
            return self.remember(self.bytes_(), True)
        if depth >= self.max_depth or self.budget <= 0:
            return self.int_()
        if k < 0.95:
            n = r.choice([0, 1, 2, 3, 4, 5])
            self.budget -= n
            t = tuple(self.hashable_value(depth + 1) for _ in range(n))
            return self.remember(t, True) if t else t
        n = r.choice([0, 1, 2, 3])
        self.budget -= n
        fs = frozenset(self.hashable_value(depth + 1) for _ in range(n))
        return self.remember(fs, True)

    def remember(self, obj, hashable):
        self.pool.append(obj)
        if hashable:
            self.hashable.append(obj)
        return obj

    # ------------------------------------------------------------ containers
    def size(self):
        r = self.r
        k = r.random()
        if k < 0.15:
            return 0
        if k < 0.3:
            return 1
        if k < 0.97:
            return r.randrange(2, 8)
        if k < 0.99:
            return r.randrange(8, 40)
        return r.choice([999, 1000, 1001])  # batch edges

    def value(self, depth=0):
        r = self.r
        if self.pool and r.random() < 0.08:
            return r.choice(self.pool)  # sharing (may close a cycle)
        if depth >= self.max_depth or self.budget <= 0 or r.random() < 0.45:
            return self.scalar()
        self.budget -= 1
        k = r.random()
        n = self.size()
        if n > 100:  # big flat containers hold scalars only
            depth = self.max_depth
        self.budget -= min(n, 50)
        if k < 0.3:
            lst = self.remember([], False)
            for _ in range(n):
                lst.append(self.value(depth + 1))
            if r.random() < 0.05:
                lst.append(lst)
            return lst
        if k < 0.5:
            items = [self.value(depth + 1) for _ in range(n)]
            if n and r.random() < 0.05:
                # tuple reachable from a list inside it (POP/POP_MARK + GET)
                inner = []
                t = tuple([inner] + items)
                inner.append(t)
                return self.remember(t, False)
            t = tuple(items)
            return self.remember(t, False) if t else t
        if k < 0.75:
            d = self.remember({}, False)
            for _ in range(n):
                d[self.hashable_value(depth + 1, True)] = self.value(depth + 1)
            if r.random() < 0.05:
                d[self.remember(self.str_(), True)] = d
            return d
        if k < 0.88:
            s = set(self.hashable_value(depth + 1) for _ in range(n))
            return self.remember(s, False)
        fs = frozenset(self.hashable_value(depth + 1) for _ in range(n))
        return self.remember(fs, True)

    def top(self):
        self.pool = []
        self.hashable = []
        self.budget = self.r.choice([5, 20, 60, 150])
        return self.value()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--max-depth", type=int, default=5)
    ap.add_argument("--no-short-bytes", action="store_true",
                    help="never generate 1-byte bytes/bytearray values")
    args = ap.parse_args(argv)

    gen = Gen(random.Random(args.seed), args.max_depth,
              short_bytes=not args.no_short_bytes)
    out = sys.stdout.buffer
    pack = struct.Struct("<I").pack
    chunks = []
    for _ in range(args.count):
        value = gen.top()
        for proto in range(6):
            data = pickle.dumps(value, proto)
            chunks.append(pack(len(data)))
            chunks.append(data)
        if len(chunks) > 1200:
            out.write(b"".join(chunks))
            chunks.clear()
    out.write(b"".join(chunks))
    out.flush()


if __name__ == "__main__":
    main()
