//! `brine_formats::compress`: round trips for every codec, streams made by Python's stdlib
//! (skipped, with a note on stderr, when there is no `python3`), decompression bombs ending
//! in a limit error with bounded memory, and no golden pickle mistaken for a compressed one.

use std::io::Write;
use std::process::{Command, Stdio};

use brine_core::{ErrorCode, LimitKind, Limits};
use brine_formats::compress::{compress, decompress, Codec};

const PICKLE: &[u8] =
    b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02\x8c\x03abc\x94e.";

#[test]
fn round_trip_every_codec() {
    let mut x = 1u32;
    let big: Vec<u8> = (0..400_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            b"()KJ.q]"[(x >> 16) as usize % 7]
        })
        .collect();
    for codec in Codec::ALL {
        for data in [PICKLE, &big[..]] {
            let z = compress(data, codec, None).unwrap();
            assert_eq!(Codec::detect(&z), Some(codec), "{codec}");
            let back = decompress(&z, &Limits::default()).unwrap();
            assert_eq!(&back[..], data, "{codec}");
        }
        assert_eq!(Codec::from_name(codec.name()), Some(codec));
    }
    assert!(compress(PICKLE, Codec::Gzip, Some(10)).is_err());
    assert!(compress(PICKLE, Codec::Zstd, Some(19)).is_ok());
    assert_eq!(Codec::from_extension("a/x.pkl.GZ"), Some(Codec::Gzip));
    assert_eq!(Codec::from_extension("x.pkl.lzma"), Some(Codec::LzmaAlone));
    assert_eq!(Codec::from_extension("x.pkl"), None);
}

fn python(code: &str, stdin: &[u8]) -> Option<Vec<u8>> {
    let mut child = match Command::new("python3")
        .args(["-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(_) => {
            eprintln!("SKIPPED: python3 not found");
            return None;
        }
    };
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    Some(out.stdout)
}

#[test]
fn python_made_streams_decompress_to_the_pickle() {
    let Some(pickle) = python(
        "import pickle,sys; sys.stdout.buffer.write(pickle.dumps({'a': [1, 2.5, 'x' * 300]}, 2))",
        b"",
    ) else {
        return;
    };
    for (codec, expr) in [
        (Codec::Gzip, "gzip.compress(d)"),
        (Codec::Gzip, "gzip.compress(d[:10]) + gzip.compress(d[10:])"),
        (Codec::Bz2, "bz2.compress(d)"),
        (Codec::Xz, "lzma.compress(d)"),
        (
            Codec::LzmaAlone,
            "lzma.compress(d, format=lzma.FORMAT_ALONE)",
        ),
        (Codec::Zlib, "zlib.compress(d)"),
        (Codec::Zlib, "zlib.compress(d, 9)"),
        (Codec::Zlib, "zlib.compress(d, 1)"),
    ] {
        let code = format!(
            "import sys,gzip,bz2,lzma,zlib; d = sys.stdin.buffer.read(); \
             sys.stdout.buffer.write({expr})"
        );
        let z = python(&code, &pickle).unwrap();
        assert_eq!(Codec::detect(&z), Some(codec), "{expr}");
        assert_eq!(
            &decompress(&z, &Limits::default()).unwrap()[..],
            &pickle[..],
            "{expr}"
        );
        // And Python reads what we write.
        let ours = compress(&pickle, codec, None).unwrap();
        let back = python(
            "import sys,gzip,bz2,lzma,zlib; d = sys.stdin.buffer.read(); \
             f = {0x1f: gzip.decompress, 0x42: bz2.decompress, 0xfd: lzma.decompress, \
             0x5d: lzma.decompress, 0x78: zlib.decompress}[d[0]]; sys.stdout.buffer.write(f(d))",
            &ours,
        )
        .unwrap();
        assert_eq!(back, pickle, "{codec}");
    }
}

/// `n` zeros gzip-compressed, generated streaming so memory stays small.
fn gzip_zeros(n: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..n / chunk.len() {
        e.write_all(&chunk).unwrap();
    }
    e.finish().unwrap()
}

fn limit_kind(r: brine_core::Result<std::borrow::Cow<'_, [u8]>>) -> LimitKind {
    match r.map(|_| ()).unwrap_err().code() {
        ErrorCode::Limit(k) => *k,
        other => panic!("not a limit error: {other:?}"),
    }
}

#[test]
fn decompression_bombs_stop_at_the_limits() {
    let bomb = gzip_zeros(256 << 20);
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let t = std::time::Instant::now();
    let small = Limits {
        max_decompressed: 4 << 20,
        ..Limits::default()
    };
    assert_eq!(
        limit_kind(decompress(&bomb, &small)),
        LimitKind::Decompressed
    );
    let ratio = Limits {
        max_ratio: 10,
        ..Limits::default()
    };
    assert_eq!(limit_kind(decompress(&bomb, &ratio)), LimitKind::Ratio);
    assert!(t.elapsed().as_secs() < 10);
    // bzip2 compresses zeros far beyond the default ratio of 1000.
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    e.write_all(&vec![0u8; 8 << 20]).unwrap();
    let bz = e.finish().unwrap();
    assert_eq!(
        limit_kind(decompress(&bz, &Limits::default())),
        LimitKind::Ratio
    );
    // Trusted limits let it through.
    assert_eq!(decompress(&bz, &Limits::trusted()).unwrap().len(), 8 << 20);
}

#[test]
fn no_golden_pickle_is_detected_as_compressed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../brine/tests/data/golden");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        assert_eq!(Codec::detect(&data), None, "{}", path.display());
        assert!(matches!(
            decompress(&data, &Limits::default()).unwrap(),
            std::borrow::Cow::Borrowed(_)
        ));
        n += 1;
    }
    assert!(n > 100, "only {n} golden files");
    // EMPTY_LIST followed by anything that is no LZMA header stays a pickle.
    for p in [&b"]."[..], b"]\x00\x00\x00\x00\x00", b"]q\x00(K\x01e."] {
        assert_eq!(Codec::detect(p), None);
    }
}
