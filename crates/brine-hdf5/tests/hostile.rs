//! Truncated and corrupted files: every failure is an error, never a panic, a hang or a huge
//! allocation.

mod common;

use brine_hdf5::{File, Mode, OpenOptions};
use common::{data_dir, scratch};

/// Opens `bytes` as a file and reads everything it claims to hold; returns whether all went
/// well. Errors are fine, panics are not (the test harness catches those as failures).
fn read_everything(path: &std::path::Path) -> bool {
    let opts = OpenOptions {
        max_read_bytes: 64 << 20,
        max_chunk_bytes: 16 << 20,
        chunk_cache_bytes: 1 << 20,
    };
    let Ok(f) = File::open_with(path, Mode::Read, &opts) else {
        return false;
    };
    let Ok(entries) = f.walk() else {
        return false;
    };
    let mut ok = true;
    for e in entries {
        ok &= f.attrs(&e.path).is_ok();
        if e.kind == brine_hdf5::ObjectKind::Dataset {
            ok &= f.dataset(&e.path).is_ok();
            ok &= f.read(&e.path).is_ok();
        }
    }
    ok
}

#[test]
fn truncations_fail_cleanly() {
    for name in [
        "h5py_default",
        "h5py_latest",
        "keras_model",
        "keras2_layout",
        "userblock",
    ] {
        let bytes = std::fs::read(data_dir().join(format!("{name}.h5"))).unwrap();
        let path = scratch(&format!("{name}.trunc.h5"));
        assert!(read_everything(&data_dir().join(format!("{name}.h5"))));
        let mut cut = 0;
        let mut failures = 0;
        while cut < bytes.len() {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            failures += usize::from(!read_everything(&path));
            cut += 1 + cut / 16;
        }
        // Most prefixes lose something the file needs.
        assert!(failures > 10, "{name}: only {failures} truncations failed");
    }
}

#[test]
fn corruptions_fail_cleanly() {
    // A deterministic xorshift: reproducible without a dependency.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in ["h5py_default", "h5py_latest"] {
        let bytes = std::fs::read(data_dir().join(format!("{name}.h5"))).unwrap();
        let path = scratch(&format!("{name}.corrupt.h5"));
        for _ in 0..150 {
            let mut b = bytes.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % b.len() as u64) as usize;
                b[at] = next() as u8;
            }
            std::fs::write(&path, &b).unwrap();
            if std::env::var_os("BRINE_HDF5_KEEP").is_some() {
                std::fs::copy(&path, "/tmp/last-corrupt.h5").unwrap();
            }
            read_everything(&path);
        }
    }
}

#[test]
fn not_hdf5() {
    let path = scratch("garbage.h5");
    std::fs::write(&path, b"\x80\x04\x95 not an hdf5 file at all").unwrap();
    let err = File::open(&path).unwrap_err();
    assert_eq!(err.classify(), brine_hdf5::Category::Format, "{err}");
    std::fs::write(&path, b"\x89HDF\r\n\x1a\n").unwrap();
    assert!(File::open(&path).is_err());
}
