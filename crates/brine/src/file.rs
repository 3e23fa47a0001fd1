//! Pickle files: reading a path, and writing one atomically (temporary file, then rename).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use brine_core::Result;

use crate::options::{DumpOptions, LoadOptions};
use crate::value::Graph;

/// Reads the first pickle of the file at `path`.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brine-doc-load-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("one.pickle");
/// std::fs::write(&path, b"\x80\x04K\x2a.")?;
/// let g = brine::load_file(&path, brine::LoadOptions::new())?;
/// assert_eq!(g.get(g.root().unwrap()), &brine::value::Node::Int(42));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_file(path: impl AsRef<Path>, opts: LoadOptions) -> Result<Graph> {
    let data = fs::read(path)?;
    crate::loads_with(&data, opts)
}

/// Reads the first pickle of the file at `path` through a memory map: large `bytes` / `str`
/// payloads stay in the mapped file instead of being copied (see [`loads_shared`](crate::loads_shared)),
/// so a pickle of one 256 MB array decodes in microseconds and memory grows only with the
/// pages actually read.
///
/// The file must not be modified while the graph (or any clone of its payloads) is alive:
/// like every memory map, a concurrent writer changes the bytes under the graph.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brine-doc-mmap-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("big.pickle");
/// let mut data = b"\x80\x04B\x00\x00\x01\x00".to_vec();
/// data.extend(std::iter::repeat(1u8).take(65536));
/// data.push(b'.');
/// std::fs::write(&path, &data)?;
/// let g = brine::load_file_mapped(&path, brine::LoadOptions::new())?;
/// let brine::value::Node::Bytes(b) = g.get(g.root().unwrap()) else { unreachable!() };
/// assert!(b.is_shared());
/// # drop(g);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_file_mapped(path: impl AsRef<Path>, opts: LoadOptions) -> Result<Graph> {
    let file = File::open(path)?;
    if file.metadata()?.len() == 0 {
        // An empty file cannot be mapped; the error is the one an empty slice gives.
        return crate::loads_with(&[], opts);
    }
    // SAFETY: the map is read-only and private to this process. Its one hazard is another
    // process truncating or rewriting the file while it is mapped, which the documentation
    // above rules out (as every mmap-based reader must); nothing here writes through it.
    // A measured need: decoding a 256 MB pickle copies 256 MB without it (see BENCHMARKS.md).
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file)? };
    crate::loads_shared(std::sync::Arc::new(map), opts)
}

/// Writes the graph's root as a pickle to `path`, atomically: a failure at any point leaves
/// whatever was at `path` before untouched (see [`write_atomic`]).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brine-doc-dump-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let mut g = brine::value::Graph::new();
/// let root = g.str("hello");
/// g.set_root(root);
/// let path = dir.join("hello.pickle");
/// brine::dump_file(&g, &path, brine::DumpOptions::new().protocol(2))?;
/// assert_eq!(std::fs::read(&path)?, b"\x80\x02X\x05\x00\x00\x00helloq\x00.");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn dump_file(graph: &Graph, path: impl AsRef<Path>, opts: DumpOptions) -> Result<()> {
    let data = crate::dumps_with(graph, opts)?;
    write_atomic(path.as_ref(), |f| f.write_all(&data))?;
    Ok(())
}

/// Runs `write` against a new temporary file next to `path`, flushes it to disk and renames it
/// over `path`. If `write` (or anything after it) fails, the temporary file is removed and
/// `path` keeps its old content: a crash or error midway never leaves a torn file.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brine-doc-atomic-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("data.bin");
/// std::fs::write(&path, b"old")?;
/// let failed = brine::write_atomic(&path, |f| {
///     use std::io::Write;
///     f.write_all(b"half of the new")?;
///     Err(std::io::Error::other("disk full"))
/// });
/// assert!(failed.is_err());
/// assert_eq!(std::fs::read(&path)?, b"old");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_atomic(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let path = path.as_ref();
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `dir/.name.brine-tmp-PID-N`: same directory (so the rename is atomic), unique per process
/// and call.
fn temp_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.brine-tmp-{}-{n}", std::process::id()))
}
