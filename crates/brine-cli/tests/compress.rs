//! Compressed pickles through the `brine` binary: `convert` between codecs chosen by file
//! extension or `--compress`, and `dis` of a bzip2 pickle matching `python3 -m pickletools`
//! on the uncompressed file (skipped, with a note on stderr, when there is no `python3`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use brine_core::Limits;
use brine_formats::{compress, decompress, Codec};

fn brine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brine"))
        .args(args)
        .output()
        .expect("run brine")
}

fn sample() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample.pickle"))
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brine-compress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn convert_gz_to_xz_at_protocol_2() {
    let original = sample();
    let gz = tmp("x.pkl.gz");
    std::fs::write(&gz, compress(&original, Codec::Gzip, None).unwrap()).unwrap();
    let xz = tmp("y.pkl.xz");
    let out = brine(&["convert", s(&gz), s(&xz), "-p", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read(&xz).unwrap();
    assert_eq!(Codec::detect(&written), Some(Codec::Xz));
    let plain = decompress(&written, &Limits::default()).unwrap();
    assert_eq!(&plain[..2], b"\x80\x02");
    // The same as converting the plain file.
    let plain_in = tmp("x.pkl");
    std::fs::write(&plain_in, &original).unwrap();
    let out = brine(&["convert", s(&plain_in), "-", "-p", "2"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, &plain[..]);
    // Standard output is compressed only with --compress.
    let out = brine(&["convert", s(&gz), "-", "-p", "2", "--compress", "zstd:19"]);
    assert!(out.status.success());
    assert_eq!(Codec::detect(&out.stdout), Some(Codec::Zstd));
    assert_eq!(
        &decompress(&out.stdout, &Limits::default()).unwrap()[..],
        &plain[..]
    );
    for bad in ["nope", "gzip:10", "lz4:1", "xz:x"] {
        let out = brine(&["convert", s(&gz), "-", "--compress", bad]);
        assert!(!out.status.success(), "{bad}");
    }
}

#[test]
fn dis_of_bz2_matches_pickletools_on_the_plain_file() {
    let original = sample();
    let plain = tmp("d.pkl");
    std::fs::write(&plain, &original).unwrap();
    let bz = tmp("d.pkl.bz2");
    std::fs::write(&bz, compress(&original, Codec::Bz2, None).unwrap()).unwrap();
    let ours = brine(&["dis", s(&bz)]);
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let Ok(py) = Command::new("python3")
        .args(["-m", "pickletools", s(&plain)])
        .output()
    else {
        eprintln!("SKIPPED: python3 not found");
        return;
    };
    assert!(py.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&py.stdout)
    );
}

#[test]
fn a_10_gib_bomb_stops_at_the_limit_at_once() {
    // 7.5 KB of bzip2 that would expand to 10 GiB of zeros (see tests/data/gen_bomb.py).
    let bomb = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zeros-10g.bz2");
    assert!(std::fs::metadata(&bomb).unwrap().len() < 8 * 1024);
    for cmd in ["show", "dis", "convert"] {
        let out_path = tmp("bomb-out.pickle");
        let mut args = vec![cmd, s(&bomb)];
        if cmd == "convert" {
            args.push(s(&out_path));
        }
        let t = std::time::Instant::now();
        let out = brine(&args);
        let took = t.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.starts_with("brine: "), "{cmd}: {err}");
        assert!(err.contains("max_ratio"), "{cmd}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
        assert!(!out_path.exists(), "{cmd} left an output");
        // Measured at 0.01 s; the bound only guards against decompressing everything.
        assert!(took.as_secs() < 5, "{cmd} took {took:?}");
    }
}
