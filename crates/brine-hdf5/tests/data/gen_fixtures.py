#!/usr/bin/env python3
"""Writes the HDF5 fixtures of brine-hdf5's tests, and the values they must hold as JSON.

Run once from this directory (needs h5py and numpy; keras with the torch backend for
keras_model.h5):

    pip install h5py numpy keras torch
    KERAS_BACKEND=torch python3 gen_fixtures.py

Outputs (committed): h5py_default.h5, h5py_latest.h5, keras_model.h5 (real Keras 3),
keras2_layout.h5 (tf.keras 2's layout, written by hand with h5py), userblock.h5, arrays.npz
(numpy, for conversion) and one
`<name>.json` per file. `check_h5.py` reads the same JSON to check files brine writes.
"""

import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check_h5 import describe, value_json  # noqa: E402  (JSON shared with the checker)


def fill(f):
    """The same tree in every h5py fixture: each dtype, layout, filter and attribute kind."""
    f.attrs["title"] = "brine fixture"  # vlen str
    f.attrs["version"] = np.int64(3)
    f.attrs["ratio"] = np.float64(0.25)
    f.attrs["flags"] = np.array([True, False, True])
    f.attrs["fixed_ascii"] = np.bytes_(b"abc")  # fixed-length ascii
    f.attrs["names"] = np.array(["α", "beta"], dtype=h5py.string_dtype())  # vlen utf-8 array
    f.attrs["fixed_array"] = np.array([b"x", b"yz"], dtype="S2")
    f.attrs["matrix_f16"] = np.arange(6, dtype=np.float16).reshape(2, 3) / 4
    f.attrs["complex"] = np.complex64(1.5 - 2j)
    f.attrs["empty_str"] = ""

    num = f.create_group("numeric")
    for i, dt in enumerate(
        ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
         "float16", "float32", "float64"]
    ):
        a = (np.arange(12) - 5 + i).astype(dt).reshape(3, 4)
        if dt == "uint64":
            a = a.astype(np.uint64)
            a[0, 0] = np.uint64(2**64 - 1)
        num.create_dataset(dt, data=a)
    num.create_dataset("bool", data=np.array([[True, False], [False, True]]))
    num.create_dataset("complex64", data=np.array([1 + 2j, -3.5j, 4], dtype=np.complex64))
    num.create_dataset("complex128", data=np.array([[1e-300 + 1j], [2 - 1e300j]]))
    num.create_dataset("big_endian", data=np.arange(5, dtype=">i4"))
    num.create_dataset("big_endian_f8", data=np.linspace(0, 1, 4).astype(">f8"))
    num.create_dataset("scalar", data=np.float32(2.5))
    num.create_dataset("empty", data=np.zeros((0, 3), dtype=np.int16))

    st = f.create_group("strings")
    st.create_dataset("fixed_ascii", data=np.array([b"one", b"three", b""], dtype="S5"))
    st.create_dataset(
        "fixed_utf8",
        data=np.array(["é".encode(), "日本".encode()], dtype=h5py.string_dtype("utf-8", 8)),
    )
    st.create_dataset(
        "vlen_utf8", data=np.array([["a", "βγ"], ["", "long " * 20]], dtype=h5py.string_dtype())
    )
    st.create_dataset(
        "vlen_ascii", data=np.array([b"x", b"yy"], dtype=h5py.string_dtype("ascii"))
    )
    st.create_dataset("scalar_vlen", data="just one", dtype=h5py.string_dtype())

    lay = f.create_group("layouts")
    grid = np.arange(20 * 30, dtype=np.float64).reshape(20, 30) / 7
    lay.create_dataset("contiguous", data=grid)
    lay.create_dataset("chunked", data=grid, chunks=(7, 8))
    lay.create_dataset("gzip", data=grid, chunks=(5, 30), compression="gzip", compression_opts=6)
    lay.create_dataset("shuffle_gzip", data=grid.astype(np.int32), chunks=(4, 4),
                       shuffle=True, compression="gzip")
    ds = lay.create_dataset("resizable", data=np.arange(10, dtype=np.int16), maxshape=(None,),
                            chunks=(3,))
    ds.attrs["note"] = "unlimited first axis"
    cube = np.arange(4 * 5 * 6, dtype=np.uint16).reshape(4, 5, 6)
    lay.create_dataset("cube", data=cube, chunks=(2, 3, 4), compression="gzip")
    many = np.arange(100 * 10, dtype=np.int8).reshape(100, 10)  # >64 chunks: a deeper B-tree
    lay.create_dataset("many_chunks", data=many, chunks=(1, 10))

    deep = f.create_group("a/b/c")
    deep.attrs["depth"] = np.int32(3)
    deep.create_dataset("leaf", data=[1, 2, 3])
    f["a"].attrs["kind"] = np.array([1.0, 2.0])


# (path, selection text, numpy index) checked by the tests, for datasets of every fixture.
SLICES = [
    ("/layouts/chunked", "1:13:3, ::4", np.s_[1:13:3, ::4]),
    ("/layouts/gzip", "-3:, 5", np.s_[-3:, 5]),
    ("/layouts/shuffle_gzip", "::7, 2:29:9", np.s_[::7, 2:29:9]),
    ("/layouts/cube", "1:3, ::2, 5", np.s_[1:3, ::2, 5]),
    ("/layouts/many_chunks", "50:99:13, 9", np.s_[50:99:13, 9]),
    ("/numeric/float16", "::2", np.s_[::2]),
    ("/numeric/complex64", "1:", np.s_[1:]),
    ("/strings/vlen_utf8", "1", np.s_[1]),
    ("/strings/fixed_ascii", "1:", np.s_[1:]),
]


def expected(path):
    with h5py.File(path, "r") as f:
        out = describe(f)
        slices = []
        for p, text, ix in SLICES:
            if p in f:
                slices.append({"path": p, "slice": text, "value": describe_value(f[p][ix])})
        out["slices"] = slices
    return out


def describe_value(v):
    return value_json(np.asarray(v))


def keras_model(path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, activation="relu", name="dense"),
            keras.layers.Dense(2, name="out"),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    model.save(path)


def keras2_layout(path):
    """What tf.keras 2 `model.save('m.h5')` writes, by hand with h5py (no TensorFlow here):
    byte-string attributes and `<layer>/<layer>/kernel:0` weight names."""
    rng = np.random.default_rng(1)
    config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 2]}},
        {"class_name": "Dense", "config": {"name": "d1", "units": 2}},
        {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}},
    ]}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps({"loss": "mse"}).encode()
        w = f.create_group("model_weights")
        w.attrs["keras_version"] = b"2.15.0"
        w.attrs["backend"] = b"tensorflow"
        w.attrs["layer_names"] = np.array([b"d1", b"drop"], dtype="S4")
        d1 = w.create_group("d1")
        d1.attrs["weight_names"] = np.array([b"d1/kernel:0", b"d1/bias:0"], dtype="S11")
        d1.create_dataset("d1/kernel:0", data=rng.standard_normal((2, 2)).astype(np.float32))
        d1.create_dataset("d1/bias:0", data=np.zeros(2, dtype=np.float32))
        drop = w.create_group("drop")
        drop.attrs["weight_names"] = np.array([], dtype="S1")


def userblock(path):
    """A file behind a 512-byte user block: the signature sits at offset 512."""
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset("x", data=np.arange(4, dtype=np.int16), chunks=(2,), compression="gzip")
        f.attrs["where"] = "after the user block"
    with open(path, "r+b") as f:
        f.write(b"user block text, not HDF5")


def npz_arrays(path):
    """An .npz of several dtypes and orders, deflated, with a nested name."""
    arrays = {
        "f4": np.arange(6, dtype=np.float32).reshape(2, 3) / 8,
        "fortran_i2": np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4)),
        "big_u4": np.arange(3, dtype=">u4"),
        "flags": np.array([True, False]),
        "c16": np.array([1 - 1j, 2j]),
        "text": np.array(["a", "日本語"]),
        "raw": np.array([b"ab", b"c"]),
        "scalar": np.float64(7.5),
        "layer/kernel": np.ones((2, 2), dtype=np.float16),
    }
    np.savez_compressed(path, **arrays)
    with np.load(path) as z:
        return {"arrays": {k: {"shape": list(z[k].shape), "value": value_json(z[k]),
                               **npz_dtype(z[k].dtype)} for k in z.files}}


def npz_dtype(dt):
    if dt.kind == "U":
        return {"dtype": "object", "encoding": "utf-8"}
    if dt.kind == "S":
        return {"dtype": "|S%d" % dt.itemsize, "encoding": "ascii"}
    return {"dtype": dt.name}


def main():
    os.chdir(HERE)
    for name, libver in [("h5py_default", "earliest"), ("h5py_latest", "latest")]:
        with h5py.File(name + ".h5", "w", libver=libver, track_order=False) as f:
            fill(f)
    keras_model("keras_model.h5")
    keras2_layout("keras2_layout.h5")
    userblock("userblock.h5")
    with open("arrays.npz.json", "w") as out:
        json.dump(npz_arrays("arrays.npz"), out, sort_keys=True, ensure_ascii=False)
        out.write("\n")
    for name in ["h5py_default", "h5py_latest", "keras_model", "keras2_layout", "userblock"]:
        with open(name + ".json", "w") as out:
            json.dump(expected(name + ".h5"), out, sort_keys=True, ensure_ascii=False)
            out.write("\n")


if __name__ == "__main__":
    main()
