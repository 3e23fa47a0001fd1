#!/usr/bin/env python3
"""Writes zeros-10g.bz2: 10 GiB of zero bytes in one bzip2 stream (7.5 KB), the decompression
bomb of `tests/compress.rs`. Takes a few minutes: bzip2 still has to compress 10 GiB."""
import bz2
import os

c = bz2.BZ2Compressor(9)
out = []
chunk = b"\0" * (256 << 20)
for _ in range(40):
    out.append(c.compress(chunk))
out.append(c.flush())
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zeros-10g.bz2")
with open(path, "wb") as f:
    f.write(b"".join(out))
