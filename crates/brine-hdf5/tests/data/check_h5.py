#!/usr/bin/env python3
"""The JSON form of an HDF5 file's contents, shared by gen_fixtures.py and the tests.

`python3 check_h5.py FILE EXPECTED.json` exits 0 when h5py reads FILE with exactly the
objects, dtypes, shapes, values and attributes EXPECTED.json lists (storage details such as
chunks and filters are compared only when both sides have them), and 1 with a diff otherwise.
"""

import json
import sys

import h5py
import numpy as np


def dtype_json(dt):
    """brine's dtype name (numpy's, `|S<n>` for fixed strings, `object` for vlen) + encoding."""
    info = h5py.check_string_dtype(dt)
    if info is not None:
        name = "object" if info.length is None else "|S%d" % info.length
        return {"dtype": name, "encoding": info.encoding}
    return {"dtype": dt.name}


def scalar_json(x):
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    if isinstance(x, complex):
        return [x.real, x.imag]
    return x


def value_json(arr):
    """The elements in C order, flattened; strings as str, complex as [re, im]."""
    arr = np.asarray(arr)
    return [scalar_json(x) for x in arr.ravel().tolist()]


def describe(f):
    objects = {}

    def attrs(obj):
        out = {}
        for name in obj.attrs:
            aid = obj.attrs.get_id(name)
            value = obj.attrs[name]
            entry = dtype_json(aid.dtype)
            entry["shape"] = list(aid.shape) if aid.shape is not None else []
            entry["value"] = value_json(value)
            out[name] = entry
        return out

    def visit(name, obj):
        path = "/" + name if name else "/"
        if isinstance(obj, h5py.Group):
            objects[path] = {"kind": "group", "attrs": attrs(obj)}
            return
        entry = {"kind": "dataset", "shape": list(obj.shape), "attrs": attrs(obj)}
        entry.update(dtype_json(obj.dtype))
        if h5py.check_string_dtype(obj.dtype) is not None:
            data = obj[()]
        else:
            data = obj[()]
        entry["value"] = value_json(data)
        entry["chunks"] = list(obj.chunks) if obj.chunks else None
        filters = []
        if obj.shuffle:
            filters.append("shuffle")
        if obj.compression == "gzip":
            filters.append("gzip:%d" % obj.compression_opts)
        entry["filters"] = filters
        objects[path] = entry

    visit("", f)
    f.visititems(visit)
    return {"objects": objects}


def main():
    path, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path) as fh:
        expected = json.load(fh)["objects"]
    with h5py.File(path, "r") as f:
        got = describe(f)["objects"]
    bad = []
    for p in sorted(set(expected) | set(got)):
        e, g = expected.get(p), got.get(p)
        if e is None or g is None:
            bad.append("%s: expected %s, got %s" % (p, e is not None, g is not None))
            continue
        for key in sorted(set(e) | set(g)):
            if key in ("chunks", "filters") and (e.get(key) is None or g.get(key) is None):
                continue
            if e.get(key) != g.get(key):
                bad.append("%s %s: expected %r, got %r" % (p, key, e.get(key), g.get(key)))
    if bad:
        print("\n".join(bad[:50]))
        sys.exit(1)
    print("ok: %d objects" % len(got))


if __name__ == "__main__":
    main()
