#!/usr/bin/env bash
# Peak memory of reading a 1 MiB slice of a 1 GiB chunked dataset (issue 9's acceptance).
#
#   bash crates/brine-hdf5/bench/slice_memory.sh [FILE]
#
# Makes FILE (default /tmp/brine-1gib.h5; never committed) with h5py if it is missing: one
# float32 dataset of 16384 x 16384 (1 GiB) in 256 x 256 chunks (256 KiB each), gzip'ed or not
# (COMPRESS=1). Then runs examples/slice.rs under /usr/bin/time -v on a 512 x 512 slice
# (1 MiB) and prints the peak RSS. A whole-file read would need over 1 GiB.
#
# Measured on the 2-core dev VM (debug build): 9.8 MB peak RSS for the 1 MiB slice, against
# 5.5 MB for a one-element read (process, buffers and one 256 KiB chunk) and 45 MB for h5py
# reading the same slice. The touched chunks stay in a cache bounded by
# OpenOptions::chunk_cache_bytes (16 MiB): a strided slice over every chunk peaks at 25 MB.
# Measured again 2026-11-25 (debug build, same VM): 9.7 MB for the 1 MiB slice against 5.4 MB
# for one element; the same 1 GiB as one contiguous dataset (h5py's default layout): 6.9 MB for
# the slice against 4.9 MB for one element.
set -euo pipefail
cd "$(dirname "$0")/../../.."
FILE=${1:-/tmp/brine-1gib.h5}
if [ ! -s "$FILE" ]; then
  python3 - "$FILE" "${COMPRESS:-0}" <<'PY'
import sys
import h5py
import numpy as np
path, compress = sys.argv[1], sys.argv[2] == "1"
n, c = 16384, 256
with h5py.File(path, "w") as f:
    d = f.create_dataset("x", (n, n), dtype="f4", chunks=(c, c),
                         compression="gzip" if compress else None)
    row = np.arange(n, dtype="f4")
    for i in range(0, n, c):
        d[i:i + c] = row[None, :] + np.arange(i, i + c, dtype="f4")[:, None] * n
PY
fi
ls -l "$FILE"
cargo build -q -p brine-hdf5 --example slice
/usr/bin/time -v target/debug/examples/slice "$FILE" x '1000:1512,3000:3512' 2> /tmp/brine-slice-time.txt
grep -E "Maximum resident|Elapsed" /tmp/brine-slice-time.txt
