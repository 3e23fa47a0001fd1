//! Random access to the input: a byte slice, or a file read at offsets (never read whole).

use std::borrow::Cow;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// The bytes being scanned. Files are read at offsets on demand, so a 1 GiB checkpoint costs
/// only its headers and pickles, and a large plain pickle is walked in windows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Src<'a> {
    Slice(&'a [u8]),
    File(&'a File, u64),
}

impl Src<'_> {
    pub fn len(&self) -> u64 {
        match self {
            Src::Slice(d) => d.len() as u64,
            Src::File(_, n) => *n,
        }
    }

    /// `len` bytes at `off`, clipped to the end; `None` past the end or on a read error.
    pub fn get(&self, off: u64, len: u64) -> Option<Cow<'_, [u8]>> {
        if off > self.len() {
            return None;
        }
        let len = len.min(self.len() - off);
        match self {
            Src::Slice(d) => Some(Cow::Borrowed(&d[off as usize..(off + len) as usize])),
            Src::File(f, _) => {
                let mut buf = vec![0u8; usize::try_from(len).ok()?];
                f.read_exact_at(&mut buf, off).ok()?;
                Some(Cow::Owned(buf))
            }
        }
    }

    /// Fills `buf` with up to `buf.capacity()`-sized window at `off` (files), returning it.
    pub fn window<'b>(&'b self, off: u64, want: usize, buf: &'b mut Vec<u8>) -> &'b [u8] {
        match self {
            Src::Slice(d) => &d[(off as usize).min(d.len())..],
            Src::File(f, n) => {
                let len = (want as u64).min(n.saturating_sub(off)) as usize;
                // Only growth is zeroed: the read overwrites the rest, so a steady stream of
                // full windows costs no memset.
                if buf.len() < len {
                    buf.resize(len, 0);
                }
                buf.truncate(len);
                if f.read_exact_at(buf, off).is_err() {
                    buf.clear();
                }
                buf
            }
        }
    }
}
