#!/usr/bin/env python3
"""brine.loads (safe and trusted) against pickle.loads and a find_class-restricted
pickle.Unpickler, measured in one run.

Usage (from the repo root, after `pip install ./crates/brine-py`):
    python3 bench/py_compare.py [--batches N]

Workloads: pyperformance's bm_pickle data (the DICT/TUPLE/DICT_GROUP/LIST/MICRO_DICT unit each
loaded separately, as bm_pickle's unpickle benchmark does, and a ~1 MB mix of deep copies),
all at protocol 4; and a torch-state_dict-like OrderedDict of 200 float32 numpy arrays
(64 x 64 each) as numpy pickles them (skipped without numpy). Times are medians over N batches
(default 15) with gc disabled, per loads call; ratios are pickle.loads time / other time.
"""
import argparse
import collections
import copy
import gc
import io
import os
import pickle
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import DICT, DICT_GROUP, LIST, MICRO_DICT, TUPLE  # noqa: E402

import brine  # noqa: E402

# What the restricted Unpickler lets through: the globals these workloads use.
ALLOWED = {
    ("datetime", "date"), ("collections", "OrderedDict"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
}


class Restricted(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError("global %s.%s is forbidden" % (module, name))


def restricted_loads(data):
    return Restricted(io.BytesIO(data)).load()


def workloads():
    out = []
    unit = [DICT, TUPLE, DICT_GROUP, LIST, MICRO_DICT]
    out.append(("pyperformance unit (5 pickles)", [pickle.dumps(x, 4) for x in unit]))
    size = sum(len(pickle.dumps(x, 4)) for x in unit)
    mix = [copy.deepcopy(x) for _ in range(1024 * 1024 // size + 1) for x in unit]
    out.append(("pyperformance ~1 MB mix", [pickle.dumps(mix, 4)]))
    try:
        import numpy as np
    except ImportError:
        print("numpy not installed: the state_dict workload is skipped", file=sys.stderr)
    else:
        rng = np.random.default_rng(0)
        sd = collections.OrderedDict(
            ("layer%d.weight" % i, rng.standard_normal((64, 64), dtype=np.float32))
            for i in range(200))
        out.append(("state_dict (200 x 64x64 f32, numpy)", [pickle.dumps(sd, 4)]))
    return out


def timeit(fn, datas, batches):
    # Enough calls per batch for ~20 ms.
    t0 = time.perf_counter()
    for d in datas:
        fn(d)
    one = max(time.perf_counter() - t0, 1e-7)
    n = max(1, int(0.02 / one))
    times = []
    gc.disable()
    try:
        for _ in range(batches):
            t0 = time.perf_counter()
            for _ in range(n):
                for d in datas:
                    fn(d)
            times.append((time.perf_counter() - t0) / n)
    finally:
        gc.enable()
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=15)
    args = ap.parse_args()
    loaders = [
        ("pickle.loads", pickle.loads),
        ("restricted Unpickler", restricted_loads),
        ("brine.loads (safe)", brine.loads),
        ("brine.loads (trusted)", lambda d: brine.loads(d, trusted=True)),
    ]
    print("| workload | bytes | " + " | ".join(n for n, _ in loaders) + " |")
    print("|---|---:|" + "---:|" * len(loaders))
    for name, datas in workloads():
        for d in datas:
            want = pickle.dumps(pickle.loads(d), 4)
            for lname, fn in loaders:
                assert pickle.dumps(fn(d), 4) == want, (name, lname)
        base = None
        cells = []
        for lname, fn in loaders:
            t = timeit(fn, datas, args.batches)
            base = base or t
            cells.append("%.1f us (x%.2f)" % (t * 1e6, base / t))
        print("| %s | %d | %s |" % (name, sum(map(len, datas)), " | ".join(cells)))
    print("\npython %s, numbers are median per call; (xR) = pickle.loads time / this time"
          % sys.version.split()[0])


if __name__ == "__main__":
    main()
