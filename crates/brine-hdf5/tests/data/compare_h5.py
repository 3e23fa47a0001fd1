#!/usr/bin/env python3
"""`compare_h5.py A1 B1 [A2 B2 ...]`: h5py must read every dataset of each A exactly as the same
dataset of B, and its attribute `same` as the dataset (tests/roundtrip.rs: chunked, filtered
files written by brine against contiguous copies). Strings are compared as text."""

import sys

import h5py
import numpy as np


def norm(v):
    """h5py gives str for string attributes and bytes for string datasets: compare text."""
    v = np.asarray(v)
    if v.dtype.kind in "OSU":
        text = [e.decode() if isinstance(e, bytes) else e for e in v.ravel()]
        return np.array(text, dtype=object).reshape(v.shape)
    return v


def main():
    bad = 0
    for a_path, b_path in zip(sys.argv[1::2], sys.argv[2::2]):
        with h5py.File(a_path) as a, h5py.File(b_path) as b:
            names = []
            a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
            for n in names:
                x, y = norm(a[n][()]), norm(b[n][()])
                if x.shape != y.shape or not np.array_equal(x, y):
                    print("differs:", a_path, n, x, y)
                    bad += 1
                ax = norm(a[n].attrs["same"])
                if ax.shape != x.shape or not np.array_equal(ax, x):
                    print("attribute differs:", a_path, n, ax, x)
                    bad += 1
    print("files", len(sys.argv[1:]) // 2, "bad", bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
