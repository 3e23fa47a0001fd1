//! Files brine writes: read back by brine against the committed expected values (every run),
//! and by h5py through `check_h5.py` when h5py is importable (skipped visibly otherwise); the
//! open modes.

mod common;

use std::process::Command;

use brine_hdf5::{Array, Category, DatasetOptions, File, Mode, OpenOptions};
use common::{assert_matches, copy_all, data_dir, expected, have_h5py, scratch};

/// Rewrites fixture `name` with brine, then checks the copy with brine and with h5py.
fn rewrite(name: &str) {
    let src = File::open(data_dir().join(format!("{name}.h5"))).unwrap();
    let out = scratch(&format!("{name}.copy.h5"));
    let mut dst = File::create(&out).unwrap();
    copy_all(&src, &mut dst);
    // Before closing, reads come from the tree in memory.
    assert_matches(&dst, &expected(name), true);
    dst.close().unwrap();

    let back = File::open(&out).unwrap();
    assert_matches(&back, &expected(name), true);

    if !have_h5py() {
        // Straight to stderr: libtest captures print macros, and this line must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: h5py check of {name} (python3 cannot import h5py)"
        );
        return;
    }
    let check = Command::new("python3")
        .arg(data_dir().join("check_h5.py"))
        .arg(&out)
        .arg(data_dir().join(format!("{name}.json")))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "h5py disagrees on {name}:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn rewrite_h5py_default() {
    rewrite("h5py_default");
}

#[test]
fn rewrite_h5py_latest() {
    rewrite("h5py_latest");
}

#[test]
fn rewrite_keras_model() {
    rewrite("keras_model");
}

#[test]
fn modes() {
    let path = scratch("modes.h5");
    let _ = std::fs::remove_file(&path);
    let opts = OpenOptions::default();
    assert_eq!(
        File::open_with(&path, Mode::ReadWrite, &opts)
            .unwrap_err()
            .classify(),
        Category::Io
    );
    let mut f = File::open_with(&path, "a".parse().unwrap(), &opts).unwrap();
    f.create_dataset("x", Array::from_i64(&[1, 2, 3]), DatasetOptions::new())
        .unwrap();
    f.close().unwrap();
    assert!(File::open_with(&path, "w-".parse().unwrap(), &opts).is_err());

    let mut f = File::open_with(&path, Mode::ReadWrite, &opts).unwrap();
    f.set_attr("x", "unit", Array::scalar_str("s")).unwrap();
    f.create_group("g/h").unwrap();
    assert!(f.create_group("g/h").is_err());
    f.close().unwrap();

    let mut f = File::open(&path).unwrap();
    assert!(f.create_group("nope").is_err());
    assert_eq!(f.read("x").unwrap().to_i64().unwrap(), vec![1, 2, 3]);
    assert_eq!(
        f.attr("x", "unit").unwrap().to_strings().unwrap(),
        vec!["s"]
    );
    assert_eq!(f.members("/").unwrap(), vec!["g", "x"]);
    drop(f);

    let mut f = File::open_with(&path, Mode::Append, &opts).unwrap();
    f.delete("x").unwrap();
    f.close().unwrap();
    assert_eq!(File::open(&path).unwrap().members("/").unwrap(), vec!["g"]);

    let f = File::create(&path).unwrap();
    f.close().unwrap();
    assert!(File::open(&path).unwrap().members("/").unwrap().is_empty());
}

#[test]
fn bad_requests_are_errors() {
    let path = scratch("bad.h5");
    let mut f = File::create(&path).unwrap();
    let a = Array::from_u8(&[1, 2, 3, 4]).reshape(&[2, 2]).unwrap();
    assert!(f
        .create_dataset("d", a.clone(), DatasetOptions::new().chunks(&[2]))
        .is_err());
    assert!(f
        .create_dataset(
            "s",
            Array::from_u8(&[1]).reshape(&[]).unwrap(),
            DatasetOptions::new().gzip(1)
        )
        .is_err());
    f.create_dataset("d", a.clone(), DatasetOptions::new())
        .unwrap();
    assert!(f
        .create_dataset("d", a.clone(), DatasetOptions::new())
        .is_err());
    assert!(f.create_dataset("d/e", a, DatasetOptions::new()).is_err());
    assert!(f.set_attr("missing", "x", Array::from_u8(&[1])).is_err());
    // An attribute over 64 KiB needs dense storage, which the writer refuses cleanly.
    f.set_attr("/", "huge", Array::from_u8(&vec![0; 70_000]))
        .unwrap();
    assert_eq!(f.flush().unwrap_err().classify(), Category::Unsupported);
}

#[test]
fn many_chunks_and_auto_chunks() {
    let path = scratch("chunks.h5");
    let mut f = File::create(&path).unwrap();
    let n = 300 * 301;
    let big = Array::from_f32(&(0..n).map(|i| i as f32).collect::<Vec<_>>())
        .reshape(&[300, 301])
        .unwrap();
    // 10 000+ chunks: a B-tree of three levels.
    f.create_dataset("fine", big.clone(), DatasetOptions::new().chunks(&[3, 3]))
        .unwrap();
    f.create_dataset("auto", big, DatasetOptions::new().gzip(1).shuffle(true))
        .unwrap();
    f.close().unwrap();
    let f = File::open(&path).unwrap();
    for name in ["fine", "auto"] {
        let s = f.read_slice(name, &"299, 1::100".parse().unwrap()).unwrap();
        assert_eq!(
            s.to_f64().unwrap(),
            vec![90000.0, 90100.0, 90200.0],
            "{name}"
        );
    }
    assert!(f.dataset("auto").unwrap().chunks.is_some());
}

#[test]
fn rewrite_keras2_layout() {
    rewrite("keras2_layout");
}

#[test]
fn rewrite_userblock() {
    rewrite("userblock");
}

#[test]
fn append_and_read_write_keep_chunking_and_filters() {
    let path = scratch("keep_filters.h5");
    let _ = std::fs::remove_file(&path);
    let opts = OpenOptions::default();
    // `w-` creates a file that does not exist yet.
    let mut f = File::open_with(&path, "w-".parse().unwrap(), &opts).unwrap();
    let values: Vec<i32> = (0..600).collect();
    let a = Array::from_i32(&values).reshape(&[20, 30]).unwrap();
    f.create_dataset(
        "grid",
        a,
        DatasetOptions::new().chunks(&[4, 8]).shuffle(true).gzip(5),
    )
    .unwrap();
    f.close().unwrap();
    for (i, mode) in ["a", "r+"].into_iter().enumerate() {
        let mut f = File::open_with(&path, mode.parse().unwrap(), &opts).unwrap();
        f.create_dataset(
            &format!("more{i}"),
            Array::from_u8(&[i as u8]),
            DatasetOptions::new(),
        )
        .unwrap();
        f.close().unwrap();
        let f = File::open(&path).unwrap();
        let info = f.dataset("grid").unwrap();
        assert_eq!(info.chunks, Some(vec![4, 8]), "{mode}");
        assert_eq!(
            info.filters,
            [brine_hdf5::Filter::Shuffle, brine_hdf5::Filter::Gzip(5)],
            "{mode}"
        );
        let s = f.read_slice("grid", &"19, ::10".parse().unwrap()).unwrap();
        assert_eq!(s.to_i64().unwrap(), vec![570, 580, 590], "{mode}");
        assert_eq!(
            f.read(&format!("more{i}")).unwrap().to_i64().unwrap(),
            [i as i64]
        );
    }
}
