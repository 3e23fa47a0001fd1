#!/usr/bin/env python3
"""Makes the ML fixtures of brine-formats' tests (numpy pickles, .npy/.npz, torch, safetensors,
joblib) and their expected values (`ml/expected.json`).

Run from anywhere: python3 gen_fixtures.py [SECTION ...]  (needs numpy, torch, safetensors,
joblib; SECTIONs: numpy npy safetensors torch torch_extra joblib joblib_legacy show
stringdtype, default all; `show` needs pandas and scikit-learn). A run of some
sections keeps the other sections' entries of `expected.json`.

`joblib_legacy` installs old joblib releases into throwaway virtual environments (pip, network)
that share this interpreter's numpy: joblib 0.9.4 (the last one writing the pre-0.10 formats: the
'ZF' zlib container and arrays in companion `.npy` / zlib `.npy.z` files) and joblib 1.1.1
(`NumpyArrayWrapper` without the alignment padding that joblib 1.2 added). Both run unchanged on
Python 3.11 with numpy 2. Every file written is loaded back with the current joblib and compared
with the source arrays before its description is kept. joblib <= 0.8.4 under Python 2 wrote the
'ZF' header one space wider; no such joblib runs here, so `zf_wide_header.pkl` is `zf.pkl` with
that space inserted (the layout joblib's `read_zfile` still accepts).
Expected arrays are described by dtype, shape and `hex`: the bytes of the C-order array in
the dtype's own byte order (`np.ascontiguousarray(a).tobytes()`), so the tests can compare
every byte. Torch tensors: torch dtype name, shape, stride, storage offset and the bytes of
`t.resolve_conj().resolve_neg().contiguous()`.
"""
import io
import json
import os
import pickle
import struct
import sys

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ml")
os.makedirs(HERE, exist_ok=True)
EXPECTED = {"env": f"python {sys.version.split()[0]}, numpy {np.__version__}"}


def path(*parts):
    p = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def describe(a):
    """Expected value of one numpy array or scalar."""
    if isinstance(a, np.generic):
        a = np.asarray(a)
        scalar = True
    else:
        scalar = False
    d = {"dtype": a.dtype.str, "shape": list(a.shape), "scalar": scalar}
    if a.dtype.names:
        d["fields"] = [[n, a.dtype.fields[n][0].str, a.dtype.fields[n][1]] for n in a.dtype.names]
    if a.dtype.hasobject:
        d["objects"] = [x if x is None or isinstance(x, (int, str, float)) else repr(x)
                        for x in a.ravel(order="C").tolist()]
    else:
        d["hex"] = np.ascontiguousarray(a).tobytes().hex()
    if isinstance(a, np.ma.MaskedArray):
        d["mask_hex"] = np.ascontiguousarray(np.ma.getmaskarray(a)).tobytes().hex()
        d["hex"] = np.ascontiguousarray(a.data).tobytes().hex()
    if type(a) is not np.ndarray and not isinstance(a, np.ma.MaskedArray):
        d["subclass"] = type(a).__name__
    return d


def numpy_arrays():
    rng = np.random.default_rng(7)
    base3 = np.arange(24, dtype="<i2").reshape(2, 3, 4)
    arrays = {
        "b1": np.array([True, False, True, True]),
        "i1": np.array([-128, 0, 127], dtype="i1"),
        "i2": np.array([-2, 300], dtype="<i2"),
        "i4_2x3": np.arange(6, dtype="<i4").reshape(2, 3),
        "i8": np.array([-(2**62), 5], dtype="<i8"),
        "u1": np.arange(5, dtype="u1"),
        "u2": np.array([1, 65535], dtype="<u2"),
        "u4": np.array([7, 2**32 - 1], dtype="<u4"),
        "u8": np.array([2**64 - 1], dtype="<u8"),
        "f2": np.array([1.5, -2.0, 65504.0], dtype="<f2"),
        "f4": rng.standard_normal(5).astype("<f4"),
        "f8": np.array([0.1, float("inf"), -0.0]),
        "f4_big": np.array([1.0, 2.5, -3.25], dtype=">f4"),
        "i8_big": np.array([1, -2], dtype=">i8"),
        "c8": np.array([1 + 2j, -3.5j], dtype="<c8"),
        "c16": np.array([1 - 1j], dtype="<c16"),
        "S3": np.array([b"ab", b"xyz"], dtype="S3"),
        "U3": np.array(["é", "abc"], dtype="<U3"),
        "M8ns": np.array(["2024-01-02T03:04:05.123456789", "NaT"], dtype="M8[ns]"),
        "M8D": np.array(["2020-02-29"], dtype="M8[D]"),
        "m8s": np.array([1, -5], dtype="m8[s]"),
        "struct": np.array([(1, 2.5), (3, -4.0)], dtype=[("x", "<i4"), ("y", "<f8")]),
        "nested": np.array([((1, 2), (3, 4.5))], dtype=[("a", "<i2", (2,)), ("b", [("c", "u1"), ("d", ">f4")])]),
        "object": np.array([1, "a", None, 2.5], dtype=object),
        "zero_d": np.array(42, dtype="<i8"),
        "empty": np.zeros((0, 3), dtype="<f4"),
        "fortran": np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)),
        "korder": base3.transpose(1, 0, 2),
        "noncontig": np.arange(10, dtype="<f8")[::3],
        "masked": np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False]),
        "recarray": np.rec.fromrecords([(1, 2.0), (3, 4.0)], names="a,b"),
        "scalar_f8": np.float64(1.5),
        "scalar_i4": np.int32(-7),
    }
    return arrays


def write_numpy():
    arrays = numpy_arrays()
    EXPECTED["numpy"] = {k: describe(v) for k, v in arrays.items()}
    for p in (0, 2, 4, 5):
        with open(path("numpy", f"all_p{p}.pkl"), "wb") as f:
            pickle.dump(arrays, f, protocol=p)
    # numpy 1 spelled the modules numpy.core.*: protocol 2 writes them as text lines.
    data = pickle.dumps(arrays, protocol=2).replace(b"numpy._core.", b"numpy.core.")
    open(path("numpy", "all_p2_numpy1.pkl"), "wb").write(data)
    # Out-of-band buffers: `all_p5_oob.bufs` is u64 count, then per buffer u64 length + bytes.
    bufs = []
    data = pickle.dumps(arrays, protocol=5, buffer_callback=bufs.append)
    open(path("numpy", "all_p5_oob.pkl"), "wb").write(data)
    with open(path("numpy", "all_p5_oob.bufs"), "wb") as f:
        f.write(struct.pack("<Q", len(bufs)))
        for b in bufs:
            raw = b.raw().tobytes()
            f.write(struct.pack("<Q", len(raw)) + raw)


NPY = ["b1", "i4_2x3", "f2", "f4_big", "c16", "S3", "U3", "M8ns", "struct", "nested", "object",
       "zero_d", "empty", "fortran"]


def write_npy():
    arrays = numpy_arrays()
    exp = {}
    for name in NPY:
        a = arrays[name]
        for v in ((1, 0), (2, 0), (3, 0)):
            fn = f"{name}_v{v[0]}.npy"
            with open(path("npy", fn), "wb") as f:
                np.lib.format.write_array(f, a, version=v, allow_pickle=True)
            exp[fn] = describe(a)
    sub = {k: arrays[k] for k in ["b1", "i4_2x3", "f4_big", "struct", "zero_d", "empty", "fortran"]}
    np.savez(path("npy", "stored.npz"), *[arrays["f2"]], **sub)
    np.savez_compressed(path("npy", "deflated.npz"), *[arrays["f2"]], **sub)
    z = {"arr_0": describe(arrays["f2"]), **{k: describe(v) for k, v in sub.items()}}
    exp["stored.npz"] = z
    exp["deflated.npz"] = z
    EXPECTED["npy"] = exp


def tensor_bytes(t):
    import torch
    t = t.detach().resolve_conj().resolve_neg().contiguous()
    return t.reshape(-1).view(torch.uint8).numpy().tobytes().hex()


def describe_tensor(t):
    return {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
            "stride": list(t.stride()), "storage_offset": t.storage_offset(),
            "hex": tensor_bytes(t)}


def torch_state_dict():
    import torch
    g = torch.Generator().manual_seed(3)
    base = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    alone = torch.randn(4, 3, generator=g)
    long_ = torch.arange(10, dtype=torch.float64)
    sd = {
        "f32": torch.randn(2, 3, generator=g),
        "f64": torch.randn(3, dtype=torch.float64, generator=g),
        "f16": torch.randn(4, generator=g).half(),
        "bf16": torch.randn(2, 2, generator=g).bfloat16(),
        "i64_scalar": torch.tensor(12345678901),
        "i32": torch.tensor([1, -2, 3], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-1, 2], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "c64": torch.tensor([1 + 2j, 3 - 4j], dtype=torch.complex64),
        "f8_e4m3": torch.tensor([0.5, -1.0, 2.0]).to(torch.float8_e4m3fn),
        "f8_e5m2": torch.tensor([0.25, 3.0]).to(torch.float8_e5m2),
        "u16": torch.tensor([1, 65535], dtype=torch.uint16),
        "u32": torch.tensor([7, 2**32 - 1], dtype=torch.uint32),
        "base": base,
        "view_T": base.t(),
        "slice": base[1:3],
        "noncontig_alone": alone.t(),
        "offset_alone": long_[2:6],
        "conj": torch.tensor([1 + 1j, 2 - 3j], dtype=torch.complex64).conj(),
        "neg": torch._neg_view(torch.tensor([1.5, -2.0])),
        "param": torch.nn.Parameter(torch.ones(2, 2)),
        "empty": torch.zeros(0, 3),
    }
    return sd


def remove_duplicate_names(sd):
    """convert.py's `_remove_duplicate_names`: tensors sharing a storage are grouped, groups
    split where their byte ranges do not overlap (`_filter_shared_not_shared`, whose
    `_end_ptr` only works for contiguous views: here the end is one past the highest byte
    any element uses), one-member groups kept (convert.py clones them), and of each group the
    first name (sorted) of a tensor covering its whole storage kept."""
    import torch
    groups = {}
    for k, v in sd.items():
        st = v.untyped_storage()
        if st.nbytes() != 0:
            groups.setdefault((st.data_ptr(), st.nbytes()), set()).add(k)
    def end(t):
        if t.nelement() == 0:
            return t.data_ptr()
        hi = sum((n - 1) * s for n, s in zip(t.shape, t.stride()))
        return t.data_ptr() + (hi + 1) * t.element_size()
    shareds = []
    for shared in sorted(groups.values()):
        if len(shared) < 2:
            shareds.append(shared)
            continue
        areas = sorted((sd[n].data_ptr(), end(sd[n]), n) for n in shared)
        _, last_stop, last_name = areas[0]
        shareds.append({last_name})
        for start, stop, name in areas[1:]:
            if start >= last_stop:
                shareds.append({name})
            else:
                shareds[-1].add(name)
            last_stop = stop
    to_remove = {}
    for shared in shareds:
        if len(shared) == 1:
            continue
        complete = sorted(n for n in shared
                          if sd[n].data_ptr() == sd[n].untyped_storage().data_ptr()
                          and sd[n].nelement() * sd[n].element_size() == sd[n].untyped_storage().nbytes())
        if not complete:
            raise RuntimeError(f"no tensor covers the storage of {shared}")
        to_remove[complete[0]] = [n for n in sorted(shared) if n != complete[0]]
    return to_remove


def write_torch():
    import torch
    from safetensors.torch import save_file

    EXPECTED["env"] += f", torch {torch.__version__}"
    sd = torch_state_dict()
    exp = {k: describe_tensor(v) for k, v in sd.items()}
    shared = {}
    for k, v in sd.items():
        shared.setdefault(v.untyped_storage().data_ptr(), []).append(k)
    for group in shared.values():
        for k in group:
            exp[k]["shares_with"] = sorted(set(group) - {k})
    EXPECTED["torch"] = exp
    torch.save(sd, path("torch", "sd_p2.pt"))
    torch.save(sd, path("torch", "sd_p4.pt"), pickle_protocol=4)
    buf = io.BytesIO()
    torch.save({"w": sd["f32"], "nested": {"b": sd["i32"]}}, buf)
    open(path("torch", "bytesio.pt"), "wb").write(buf.getvalue())
    EXPECTED["torch_bytesio"] = {"w": describe_tensor(sd["f32"]), "nested.b": describe_tensor(sd["i32"])}
    torch.save({"c128": torch.tensor([1j], dtype=torch.complex128)}, path("torch", "c128.pt"))
    legacy = {k: sd[k] for k in ["f32", "i64_scalar", "base", "view_T", "bf16"]}
    torch.save(legacy, path("torch", "legacy.pt"), _use_new_zipfile_serialization=False)
    EXPECTED["torch_legacy"] = {k: describe_tensor(v) for k, v in legacy.items()}

    # What safetensors' convert.py makes of sd_p2.pt: one name per shared storage (the others
    # recorded in the metadata), every tensor contiguous. torch.load already applied the
    # conj/neg bits' meaning only lazily, so resolve them the way brine does.
    loaded = torch.load(path("torch", "sd_p2.pt"), weights_only=True)
    to_removes = remove_duplicate_names(loaded)
    metadata = {"format": "pt"}
    for kept, removed in to_removes.items():
        for name in removed:
            metadata[name] = kept
            del loaded[name]
    loaded = {k: v.detach().resolve_conj().resolve_neg().contiguous() for k, v in loaded.items()}
    save_file(loaded, path("torch", "sd_p2.safetensors"), metadata=metadata)


def write_safetensors_numpy():
    from safetensors.numpy import save_file
    arrays = numpy_arrays()
    sub = {k: np.ascontiguousarray(arrays[k]).astype(arrays[k].dtype.newbyteorder("<"))
           for k in ["b1", "i4_2x3", "f2", "f4_big", "c8", "zero_d", "empty", "fortran", "u8"]}
    save_file(sub, path("safetensors", "np.safetensors"), metadata={"source": "numpy"})
    EXPECTED["safetensors_np"] = {k: describe(v) for k, v in sub.items()}


LEGACY_JOBLIB = r"""
import sys, joblib, numpy as np, pickle
d = pickle.load(open(sys.argv[1], "rb"))
out = sys.argv[2]
if joblib.__version__ == "0.9.4":
    names = joblib.dump(d, out + "/ndarray.pkl")
    names += joblib.dump(d, out + "/zf.pkl", compress=3)
    names += joblib.dump(d, out + "/zf_cache.pkl", compress=3, cache_size=0)
else:
    names = joblib.dump(d, out + "/jl111.joblib")
    names += joblib.dump(d, out + "/jl111_zlib.joblib", compress=("zlib", 3))
print("\n".join(names))
"""


def joblib_legacy_arrays():
    arrays = numpy_arrays()
    d = {k: arrays[k] for k in ["i4_2x3", "fortran", "f4_big", "object", "zero_d", "struct",
                                "empty", "U3", "M8ns"]}
    d["big"] = np.arange(100, dtype="<f8")
    d["matrix"] = np.matrix([[1, 2], [3, 4]], dtype="<i2")
    d["meta"] = {"name": "x", "n": 3}
    return d


def write_joblib_legacy():
    import subprocess
    import tempfile
    import joblib

    d = joblib_legacy_arrays()
    out = os.path.join(HERE, "joblib_legacy")
    if os.path.isdir(out):
        for f in os.listdir(out):
            os.remove(os.path.join(out, f))
    os.makedirs(out, exist_ok=True)
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "d.pkl")
        with open(src, "wb") as f:
            # Protocol 5 (`_frombuffer`) keeps '>f4' big-endian; at protocols <= 4 numpy's
            # __setstate__ would swap it to native order on the way in.
            pickle.dump(d, f, protocol=5)
        for version in ("0.9.4", "1.1.1"):
            venv = os.path.join(tmp, "venv" + version)
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
            py = os.path.join(venv, "bin", "python")
            subprocess.run([py, "-m", "pip", "install", "-q", f"joblib=={version}"], check=True)
            made = subprocess.run([py, "-W", "ignore", "-c", LEGACY_JOBLIB, src, out], check=True,
                                  capture_output=True, text=True).stdout.split()
            mains = [m for m in made if not m.endswith((".npy", ".npy.z"))]
            for m in mains:
                companions = sorted(os.path.basename(c) for c in made
                                    if c != m and os.path.basename(c).startswith(os.path.basename(m) + "_"))
                files[os.path.basename(m)] = {"joblib": version, "companions": companions}
    zf = open(os.path.join(out, "zf.pkl"), "rb").read()
    assert zf[:2] == b"ZF" and zf[21:22] != b" "
    open(os.path.join(out, "zf_wide_header.pkl"), "wb").write(zf[:21] + b" " + zf[21:])
    files["zf_wide_header.pkl"] = {"joblib": "0.9.4, header widened by hand", "companions": []}
    for name in files:
        # joblib.load swaps arrays to native order: byte order is compared below, in the
        # describe() of `d` that the Rust tests check against the files.
        back = joblib.load(os.path.join(out, name))
        for k, v in d.items():
            if isinstance(v, np.ndarray):
                assert back[k].dtype.newbyteorder("=") == v.dtype.newbyteorder("="), (name, k)
                assert back[k].shape == v.shape, (name, k)
                if v.dtype.hasobject:
                    assert back[k].tolist() == v.tolist(), (name, k)
                else:  # bytes, so that NaT equals NaT
                    assert (np.ascontiguousarray(back[k]).astype(v.dtype).tobytes()
                            == np.ascontiguousarray(v).tobytes()), (name, k)
            else:
                assert back[k] == v, (name, k)
    EXPECTED["joblib_legacy"] = {
        "arrays": {k: describe(v) for k, v in d.items() if isinstance(v, np.ndarray)},
        "files": files,
    }


def write_joblib():
    import joblib
    arrays = numpy_arrays()
    d = {k: arrays[k] for k in ["i4_2x3", "fortran", "f4_big", "object", "zero_d", "struct", "empty"]}
    d["big"] = np.arange(100, dtype="<f8")
    d["meta"] = {"name": "x", "n": 3}
    EXPECTED["joblib"] = {k: describe(v) for k, v in d.items() if isinstance(v, np.ndarray)}
    joblib.dump(d, path("joblib", "plain.joblib"))
    joblib.dump(d, path("joblib", "p2.joblib"), protocol=2)
    for method in ("zlib", "gzip", "bz2", "lzma", "xz"):
        joblib.dump(d, path("joblib", f"c_{method}.joblib"), compress=(method, 3))
    with open(path("joblib", "notell.joblib"), "wb") as raw:
        class NoTell(io.RawIOBase):
            def writable(self):
                return True
            def write(self, b):
                return raw.write(b)
            def tell(self):
                raise io.UnsupportedOperation("tell")
        joblib.dump(d, NoTell())


def summary(a, items=6):
    """What `brine_formats::show` prints for a numpy array or scalar, computed from numpy's
    own values: `array(shape=(2, 3), dtype=int32, [0, 1, ...])`, `float64(1.5)`."""
    def one(x):
        if isinstance(x, np.datetime64):
            return repr(str(np.datetime_as_string(x)))
        if isinstance(x, np.timedelta64):
            return "'NaT'" if np.isnat(x) else repr(int(x.astype("i8")))
        if isinstance(x, (np.float32, np.float16)):
            return str(x)
        if isinstance(x, np.void):
            return "(" + ", ".join(one(v) for v in x) + ")"
        if isinstance(x, np.generic):
            return repr(x.item())
        return repr(x)
    if isinstance(a, np.generic):
        return f"{a.dtype}({one(a)})"
    flat = [a[np.unravel_index(i, a.shape)] if a.ndim else a[()] for i in range(min(a.size, items))]
    if a.dtype.hasobject:
        flat = [a.ravel()[i] for i in range(min(a.size, items))]
    vals = ", ".join(one(x) for x in flat) + (", ..." if a.size > items else "")
    cls = "masked_array" if isinstance(a, np.ma.MaskedArray) else (
        "array" if type(a) is np.ndarray else type(a).__name__)
    return f"{cls}(shape={tuple(a.shape)}, dtype={a.dtype}, [{vals}])"


def write_show():
    """pandas and scikit-learn objects and a zoo of numpy dtypes for `brine show`; the
    expected summaries come from numpy's values (see `summary`)."""
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier
    import sklearn

    exp = {"env": f"pandas {pd.__version__}, scikit-learn {sklearn.__version__}"}
    arrays = numpy_arrays()
    zoo = {k: arrays[k] for k in ["b1", "i1", "i8", "u8", "f4", "f8", "f4_big", "i8_big", "c8",
                                  "c16", "S3", "U3", "M8ns", "M8D", "m8s", "struct", "object",
                                  "zero_d", "empty", "fortran", "korder", "noncontig",
                                  "scalar_f8", "scalar_i4"]}
    zoo["long"] = np.arange(20, dtype="<i4").reshape(4, 5)
    zoo["dt_s"] = np.array(["1969-12-31T23:59:59", "2000-02-29T12:00:00"], dtype="M8[s]")
    for p in (2, 4, 5):
        with open(path("show", f"zoo_p{p}.pkl"), "wb") as f:
            pickle.dump(zoo, f, protocol=p)
    exp["zoo"] = {k: summary(v) for k, v in zoo.items()}

    df = pd.DataFrame({"i": [1, 2, 3], "f": [0.5, 1.5, float("nan")], "s": ["a", "b", "c"],
                       "t": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]),
                       "b": [True, False, True], "j": np.array([7, 8, 9], dtype="i4")})
    for p in (2, 4, 5):
        df.to_pickle(path("show", f"df_p{p}.pkl"), protocol=p)
    cols = {}
    for c in df.columns:
        v = df[c].to_numpy()
        if c in ("s", "t"):
            cols[c] = None
        else:
            cols[c] = summary(v)
    exp["df"] = {"columns": list(df.columns), "numpy_columns": cols,
                 "index": [df.index.start, df.index.stop, df.index.step]}
    ser = pd.Series([1.0, 2.0, 3.0], index=[10, 20, 30], name="ser")
    ser.to_pickle(path("show", "series_p4.pkl"), protocol=4)
    exp["series"] = {"values": summary(ser.to_numpy()), "index": summary(ser.index.to_numpy()),
                     "name": "ser"}

    X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 2.5], [3.0, 1.0], [0.5, 0.0], [2.5, 3.0]])
    y = np.array([0, 0, 1, 1, 0, 1])
    est = {"logreg": LogisticRegression().fit(X, y),
           "tree": DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y),
           "pipeline": Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)}
    sk = {}
    for name, e in est.items():
        with open(path("show", f"{name}_p4.pkl"), "wb") as f:
            pickle.dump(e, f, protocol=4)
        joblib.dump(e, path("show", f"{name}.joblib"))
        objs = [e] + [s for _, s in getattr(e, "steps", [])]
        fields = {}
        for o in objs:
            for k, v in vars(o).items():
                if isinstance(v, (np.ndarray, np.generic)):
                    fields[f"{type(o).__name__}.{k}"] = f"{k}={summary(v)}"
                elif isinstance(v, (int, float, str)) or v is None:
                    fields[f"{type(o).__name__}.{k}"] = f"{k}={v!r}"
        if name == "tree":
            st = e.tree_.__getstate__()
            fields["Tree.values"] = f"'values': {summary(st['values'])}"
            fields["Tree.nodes"] = f"'nodes': {summary(st['nodes'])}"
        sk[name] = {"class": f"{type(e).__module__}.{type(e).__name__}", "fields": fields}
    exp["sklearn"] = sk
    EXPECTED["show"] = exp


def write_torch_extra():
    """What `torch.save` writes besides state_dicts: a whole module (classes pickled by name,
    tensors under `_parameters` / `_modules`), a tensor subclass (`_rebuild_from_type_v2`),
    and a TorchScript archive (`torch.jit.save`). Expected: `state_dict()` names and tensors."""
    import torch

    # Pickled by name: the class must live at the top of `__main__`.
    Sub = globals()["SubTensor"] = type("SubTensor", (torch.Tensor,), {})

    torch.manual_seed(5)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    torch.save(model, path("torch", "extra_module.pt"))
    torch.jit.save(torch.jit.script(model), path("torch", "extra_script.pt"))
    sub = torch.arange(6, dtype=torch.float32).reshape(2, 3).as_subclass(Sub)
    torch.save({"sub": sub, "plain": torch.ones(2)}, path("torch", "extra_subclass.pt"))
    sd = {k: describe_tensor(v) for k, v in model.state_dict().items()}
    EXPECTED["torch_extra"] = {
        "extra_module.pt": sd,
        "extra_script.pt": sd,
        "extra_subclass.pt": {"sub": describe_tensor(sub.as_subclass(torch.Tensor)),
                              "plain": describe_tensor(torch.ones(2))},
    }


def write_stringdtype():
    """numpy 2 `StringDType` ('T') arrays: numpy pickles them as `_reconstruct` + a list of
    their items (with `_convert_to_stringdtype_kwargs(coerce[, na_object])` for the dtype),
    `.npy` as '|O' + that pickle, joblib as a nested pickle."""
    import joblib
    from numpy.dtypes import StringDType
    arrays = {
        "plain": np.array(["a", "bé", "a string too long to be stored inline"], dtype=StringDType()),
        "na_none": np.array([["x", None], ["", "yz"]], dtype=StringDType(na_object=None)),
        "na_str": np.array(["<NA>", "q"], dtype=StringDType(na_object="<NA>")),
        "no_coerce": np.array(["k"], dtype=StringDType(coerce=False)),
        "na_nan": np.array(["only", "strings"], dtype=StringDType(na_object=np.nan)),
        "empty": np.array([], dtype=StringDType()),
    }
    exp = {}
    for k, a in arrays.items():
        d = describe(a)
        d["objects"] = [None if x is None else x for x in a.ravel(order="C").tolist()]
        na = getattr(a.dtype, "na_object", "absent")
        d["na"] = "absent" if na == "absent" else ("nan" if isinstance(na, float) else na)
        d["coerce"] = a.dtype.coerce
        exp[k] = d
    for p in (2, 4, 5):
        with open(path("stringdtype", f"all_p{p}.pkl"), "wb") as f:
            pickle.dump(arrays, f, protocol=p)
    np.save(path("stringdtype", "plain.npy"), arrays["plain"], allow_pickle=True)
    joblib.dump(arrays, path("stringdtype", "all.joblib"))
    EXPECTED["stringdtype"] = exp


SECTIONS = {"numpy": write_numpy, "npy": write_npy, "safetensors": write_safetensors_numpy,
            "torch": write_torch, "joblib": write_joblib, "joblib_legacy": write_joblib_legacy, "show": write_show,
            "stringdtype": write_stringdtype, "torch_extra": write_torch_extra}
chosen = sys.argv[1:] or list(SECTIONS)
if sys.argv[1:] and os.path.exists(path("expected.json")):
    env = EXPECTED["env"]
    EXPECTED.update(json.load(open(path("expected.json"))))
    EXPECTED["env"] = env if "torch" in chosen else EXPECTED["env"]
for name in chosen:
    SECTIONS[name]()
with open(path("expected.json"), "w") as f:
    json.dump(EXPECTED, f, indent=1, sort_keys=True)
    f.write("\n")
