"""brine.scan, brine.tensors and brine.convert."""

import os
import json
import pathlib
import pickle
import struct
import sys
import tempfile
import unittest

import brine

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "brine-scan" / "tests" / "corpus"

try:
    import numpy as np
except ImportError:
    np = None
    print("test_api: numpy not installed, brine.tensors tests skipped", file=sys.stderr)


class Scan(unittest.TestCase):
    def test_bytes_unsafe(self):
        r = brine.scan(b"cos\nsystem\n(S'true'\ntR.")
        self.assertEqual(r["verdict"], "UNSAFE")
        f = r["findings"][0]
        self.assertEqual(f["callable"], "os.system")
        self.assertEqual(f["offset"], 0)
        self.assertIn("os.system", [i["name"] for i in r["imports"]])

    def test_path_safe(self):
        r = brine.scan(CORPUS / "benign" / "gen-containers-p4.pkl")
        self.assertEqual(r["verdict"], "SAFE")
        self.assertEqual(r["findings"], [])

    def test_matches_loads(self):
        # What scan calls UNSAFE, safe loads refuses.
        for name in ("malicious0.pkl", "malicious3.pkl", "malicious1_v4.pkl"):
            data = (CORPUS / "malicious" / name).read_bytes()
            self.assertEqual(brine.scan(data)["verdict"], "UNSAFE")
            with self.assertRaises(brine.UnsafePickleError):
                brine.loads(data)


class Convert(unittest.TestCase):
    def test_protocols(self):
        src = CORPUS / "benign" / "gen-shared-p0.pkl"
        want = pickle.loads(src.read_bytes())
        with tempfile.TemporaryDirectory() as d:
            for proto in range(6):
                dst = os.path.join(d, "out%d.pkl" % proto)
                brine.convert(src, dst, proto)
                data = pathlib.Path(dst).read_bytes()
                self.assertEqual(data, pickle.dumps(want, proto))


@unittest.skipIf(np is None, "numpy not installed")
class Tensors(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.d = pathlib.Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def test_npy_memmap(self):
        a = np.arange(12, dtype="<f4").reshape(3, 4)
        p = self.d / "a.npy"
        np.save(p, a)
        t = brine.tensors(p)
        self.assertEqual(list(t), ["arr_0"])
        np.testing.assert_array_equal(t["arr_0"], a)
        self.assertIsInstance(t["arr_0"], np.memmap)
        f = np.asfortranarray(a)
        np.save(p, f)
        np.testing.assert_array_equal(brine.tensors(p)["arr_0"], a)

    def test_npz(self):
        p = self.d / "a.npz"
        arrays = {"x": np.arange(5, dtype=np.int64), "y": np.eye(3, dtype=">f8")}
        np.savez_compressed(p, **arrays)
        t = brine.tensors(p)
        self.assertEqual(sorted(t), ["x", "y"])
        for k, v in arrays.items():
            np.testing.assert_array_equal(t[k], v)

    def test_safetensors(self):
        a = np.arange(6, dtype="<i4").reshape(2, 3)
        b = np.linspace(0, 1, 4, dtype="<f8")
        header = {
            "a": {"dtype": "I32", "shape": [2, 3], "data_offsets": [0, 24]},
            "b": {"dtype": "F64", "shape": [4], "data_offsets": [24, 56]},
        }
        h = json.dumps(header).encode()
        h += b" " * (-len(h) % 8)
        p = self.d / "m.safetensors"
        p.write_bytes(struct.pack("<Q", len(h)) + h + a.tobytes() + b.tobytes())
        t = brine.tensors(p)
        np.testing.assert_array_equal(t["a"], a)
        np.testing.assert_array_equal(t["b"], b)

    def test_pickled_arrays(self):
        a = np.arange(10, dtype=np.int16)
        p = self.d / "a.pkl"
        p.write_bytes(pickle.dumps({"w": a, "meta": "x"}, 4))
        t = brine.tensors(p)
        np.testing.assert_array_equal(t["w"], a)

    def test_hdf5_datasets_match_h5py(self):
        # Fixtures written by h5py, with the values h5py read back (crates/brine-hdf5/tests/data).
        data = pathlib.Path(__file__).resolve().parents[2] / "brine-hdf5" / "tests" / "data"
        for stem in ("h5py_default", "h5py_latest"):
            expected = json.loads((data / (stem + ".json")).read_text())["objects"]
            t = brine.tensors(data / (stem + ".h5"))
            checked = 0
            for path, e in expected.items():
                if "dtype" not in e or e["dtype"][0] not in "bifu" or e["dtype"].startswith("bytes"):
                    continue
                if "value" not in e:
                    continue
                name = path.lstrip("/")
                self.assertIn(name, t, f"{stem}: {name}")
                a = t[name]
                self.assertEqual(a.shape, tuple(e["shape"]), name)
                self.assertEqual(a.dtype, np.dtype(e["dtype"]), name)
                np.testing.assert_array_equal(a.reshape(-1), np.array(e["value"], dtype=a.dtype))
                checked += 1
            self.assertGreater(checked, 20, stem)

    def test_old_joblib_dump_with_companion_files(self):
        # joblib < 0.10 kept each array in a companion .npy file beside the dump.
        data = pathlib.Path(__file__).resolve().parents[2] / "brine-formats" / "tests" / "data" / "ml"
        expected = json.loads((data / "expected.json").read_text())["joblib_legacy"]["arrays"]
        t = brine.tensors(data / "joblib_legacy" / "ndarray.pkl")
        self.assertTrue(t)
        for name, a in t.items():
            e = expected[name]
            self.assertEqual(list(a.shape), e["shape"], name)
            want = np.frombuffer(bytes.fromhex(e["hex"]), dtype=e["dtype"]).reshape(e["shape"])
            np.testing.assert_array_equal(a, want, err_msg=name)

    def test_torch_zip_and_legacy_agree(self):
        z = brine.tensors(CORPUS / "benign" / "gen-state_dict.pt")
        legacy = brine.tensors(CORPUS / "benign" / "gen-state_dict_legacy.pt")
        self.assertEqual(sorted(z), sorted(legacy))
        self.assertTrue(z)
        for k in z:
            self.assertEqual(z[k].dtype, np.float32)
            np.testing.assert_array_equal(z[k], legacy[k])
        # torch.save stores storages uncompressed: contiguous tensors are mapped, not copied.
        self.assertTrue(all(isinstance(z[k], np.memmap) for k in z))
        self.assertNotIn("torch", sys.modules)


if __name__ == "__main__":
    unittest.main()
