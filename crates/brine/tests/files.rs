//! Files: `load_file`, `dump_file`, and atomic writing under injected failures.

use std::io::Write;
use std::path::PathBuf;

use brine::value::Graph;
use brine::DumpOptions;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brine-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sample() -> Graph {
    let mut g = Graph::new();
    let items = (0..10_000).map(|i| g.int(i)).collect();
    let root = g.list(items);
    g.set_root(root);
    g
}

#[test]
fn dump_and_load_a_file() {
    let dir = temp_dir("roundtrip");
    let path = dir.join("x.pickle");
    let g = sample();
    for p in 0..=5 {
        brine::dump_file(&g, &path, DumpOptions::new().protocol(p)).unwrap();
        let again = brine::load_file(&path, brine::LoadOptions::new()).unwrap();
        assert!(again == g, "protocol {p}");
    }
    // Only the file itself is left: no temporaries.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_write_killed_midway_leaves_the_old_file_intact() {
    let dir = temp_dir("killed");
    let path = dir.join("x.pickle");
    let g = sample();
    brine::dump_file(&g, &path, DumpOptions::new()).unwrap();
    let before = std::fs::read(&path).unwrap();
    let new = brine::dumps_with(&g, DumpOptions::new().protocol(0)).unwrap();
    // Fail after every possible amount of data written so far (in 997-byte steps).
    for cut in (0..new.len()).step_by(997) {
        let err = brine::write_atomic(&path, |f| {
            f.write_all(&new[..cut])?;
            Err(std::io::Error::other("injected failure"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "injected failure");
        assert_eq!(std::fs::read(&path).unwrap(), before, "cut at {cut}");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "temporary left at {cut}"
        );
    }
    // A panic midway (the process dying) leaves the old file too; only a stray temporary
    // can remain, never a torn target.
    let r = std::panic::catch_unwind(|| {
        let _ = brine::write_atomic(&path, |f| {
            f.write_all(&new[..new.len() / 2])?;
            panic!("killed");
        });
    });
    assert!(r.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let again = brine::load_file(&path, brine::LoadOptions::new()).unwrap();
    assert!(again == g);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn writing_into_a_missing_directory_fails_cleanly() {
    let dir = temp_dir("missing");
    let path = dir.join("no/such/dir/x.pickle");
    let e = brine::dump_file(&sample(), &path, DumpOptions::new()).unwrap_err();
    assert_eq!(e.classify(), brine::Category::Io);
    std::fs::remove_dir_all(&dir).unwrap();
}
