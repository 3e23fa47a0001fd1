//! `brine memo ls|show|stats|clear` on a cache written by the brine-memo library.

use std::path::Path;
use std::process::{Command, Output};

fn brine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brine"))
        .args(args)
        .output()
        .expect("run brine")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("brine-cli-memo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn fill(dir: &Path) -> brine_memo::Result<brine_memo::Cache> {
    let cache = brine_memo::Cache::builder(dir).version(2).open()?;
    cache.insert("fib", &30u32, &832040u64)?;
    cache.insert("fib", &31u32, &1346269u64)?;
    cache.insert("words", &("to be", 1), &vec!["to", "be"])?;
    Ok(cache)
}

#[test]
fn ls_show_stats_clear() -> brine_memo::Result<()> {
    let dir = scratch("all");
    let cache = fill(&dir)?;
    let d = dir.to_str().expect("utf-8 temp dir");

    let ls = stdout(&brine(&["memo", "ls", d]));
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 3, "{ls}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("fib ") && l.ends_with("u64 v2 30")),
        "{ls}"
    );
    assert!(ls.contains("v2 ('to be', 1)"), "{ls}");
    let ls_words = stdout(&brine(&["memo", "ls", d, "--namespace", "words"]));
    assert_eq!(ls_words.lines().count(), 1, "{ls_words}");

    let path = cache.path_of("fib", &30u32)?;
    let hash = path.file_stem().and_then(|s| s.to_str()).expect("hash");
    let show = stdout(&brine(&["memo", "show", d, &hash[..10]]));
    assert_eq!(
        show,
        format!(
            "fib/{hash}\n  type: u64\n  version: 2\n  size: {} bytes (compression: none)\n  key: 30\n  value: 832040\n",
            std::fs::metadata(&path)?.len()
        )
    );
    // The entry is a plain pickle: `brine show` prints the whole dict.
    let whole = stdout(&brine(&["show", path.to_str().expect("path")]));
    assert!(
        whole.starts_with("{'brine_memo': 1, 'namespace': 'fib', 'key': b'"),
        "{whole}"
    );
    assert!(
        whole.ends_with("'type': 'u64', 'version': 2, 'value': 832040}\n"),
        "{whole}"
    );

    let stats = stdout(&brine(&["memo", "stats", d]));
    assert!(stats.starts_with("entries: 3\n"), "{stats}");
    assert!(stats.contains("namespace fib: 2 entries"), "{stats}");

    assert_eq!(
        stdout(&brine(&["memo", "clear", d, "--namespace", "fib"])),
        "removed 2 entries\n"
    );
    assert_eq!(stdout(&brine(&["memo", "clear", d])), "removed 1 entries\n");
    assert!(stdout(&brine(&["memo", "stats", d])).starts_with("entries: 0\n"));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn errors_exit_2() -> brine_memo::Result<()> {
    let dir = scratch("errors");
    std::fs::create_dir_all(&dir)?;
    let d = dir.to_str().expect("utf-8 temp dir");
    // Not a cache: refused, nothing removed.
    std::fs::write(dir.join("precious.txt"), "keep")?;
    let out = brine(&["memo", "clear", d]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("brine: cannot open cache "), "{err}");
    assert!(err.contains("not a brine-memo cache"), "{err}");
    assert!(dir.join("precious.txt").exists());

    fill(&dir)?;
    let out = brine(&["memo", "show", d, "ffffffffffff"]);
    assert_eq!(out.status.code(), Some(2));
    // A corrupt entry: ls reports it, show fails with a message, neither panics.
    let cache = brine_memo::Cache::open(&dir)?;
    std::fs::write(cache.path_of("fib", &30u32)?, b"\x80\x04garbage")?;
    let ls = stdout(&brine(&["memo", "ls", d]));
    assert!(ls.contains("<unreadable: "), "{ls}");
    let out = brine(&["memo", "show", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("brine: cannot read entry "));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
