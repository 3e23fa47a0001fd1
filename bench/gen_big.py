#!/usr/bin/env python3
"""Makes the scan benchmark inputs (not committed: they are large).

  big.pkl      ~50 MB benign pickle with ~15 M opcodes (ints, floats, short strings, dicts)
  big_dicts.pkl / big_dicts_nomemo.pkl  ~50 MB with 400 k small dicts, memoized / not
  big_torch.pt 1 GiB torch-style zip: small data.pkl + one 1 GiB storage (sparse file)

Usage: bench/gen_big.py OUTDIR
"""
import os, pickle, random, struct, sys, zlib

out = sys.argv[1] if len(sys.argv) > 1 else '/tmp/brine-bench'
os.makedirs(out, exist_ok=True)
random.seed(1)
data = {
    'ints': [random.randrange(0, 70000) for _ in range(9_000_000)],
    'floats': [random.random() for _ in range(1_500_000)],
    'rows': [{'id': i, 'name': f'n{i % 5000}', 'ok': bool(i & 1)} for i in range(150_000)],
    'words': [f'w{i}' for i in range(1_000_000)],
}
with open(os.path.join(out, 'big.pkl'), 'wb') as f:
    pickle.dump(data, f, protocol=4)

# Memory is bounded by the memo and the stack, not the file: the same 400 k dicts memoized
# (every dict and name string gets a memo entry) and unmemoized (Pickler.fast: no memo).
rows = {'ints': data['ints'], 'floats': data['floats'],
        'rows': [{'id': i, 'name': f'n{i % 5000}', 'ok': bool(i & 1)} for i in range(400_000)]}
with open(os.path.join(out, 'big_dicts.pkl'), 'wb') as f:
    pickle.dump(rows, f, protocol=4)
with open(os.path.join(out, 'big_dicts_nomemo.pkl'), 'wb') as f:
    p = pickle.Pickler(f, protocol=4)
    p.fast = True
    p.dump(rows)

# 1 GiB torch zip, written by hand so the storage is a hole in a sparse file.
P = b'archive/'
def lh(name, size, crc):
    return struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 0, 0, 0, crc, size, size, len(name), 0) + name
def ch(name, size, crc, off):
    return struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 0, 0, 0, crc, size, size, len(name), 0, 0, 0, 0, 0, off) + name
numel = (1 << 30) // 4
pkl = (b'\x80\x02ccollections\nOrderedDict\n)R\x8c\x01wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuJ'
       + struct.pack('<i', numel) + b'tQK\x00J' + struct.pack('<i', numel) + b'\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRs.')
path = os.path.join(out, 'big_torch.pt')
crc0 = 0
chunk = b'\0' * (1 << 24)
for _ in range((1 << 30) // len(chunk)):
    crc0 = zlib.crc32(chunk, crc0)
with open(path, 'wb') as f:
    entries = []
    for name, body, size, crc in ((P + b'data.pkl', pkl, len(pkl), zlib.crc32(pkl)), (P + b'version', b'3\n', 2, zlib.crc32(b'3\n')),
                                  (P + b'data/0', None, 1 << 30, crc0)):
        off = f.tell()
        f.write(lh(name, size, crc))
        if body is None:
            f.seek(size, 1)
        else:
            f.write(body)
        entries.append((name, size, crc, off))
    cd = f.tell()
    for e in entries:
        f.write(ch(*e))
    cdsize = f.tell() - cd
    f.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(entries), len(entries), cdsize, cd, 0))
print(out)
