//! Byte sources for the decoder: a borrowing slice reader and a copying `io::Read` reader.

use std::io;
use std::ops::Deref;

use crate::error::{Error, Result};
use crate::limits::LimitKind;

/// Bytes handed out by a [`Read`]: borrowed from the input (zero-copy) or copied into scratch.
#[derive(Debug)]
pub enum Ref<'de, 's> {
    /// Borrowed from the input for its whole lifetime `'de`.
    Borrowed(&'de [u8]),
    /// Copied into the reader's scratch buffer; valid until the next read.
    Copied(&'s [u8]),
}

impl Deref for Ref<'_, '_> {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Ref::Borrowed(b) => b,
            Ref::Copied(b) => b,
        }
    }
}

mod private {
    pub trait Sealed {}
}

/// A source of pickle bytes. Sealed: use [`SliceRead`] or [`IoRead`].
///
/// [`IoRead`] does not buffer: wrap files and sockets in `std::io::BufReader`. It reads exactly
/// up to the end of each pickle, so several pickles can be read one after another from a stream.
pub trait Read<'de>: private::Sealed {
    /// Bytes consumed so far.
    fn offset(&self) -> u64;
    /// The next byte, or `None` at end of input.
    fn next_byte(&mut self) -> Result<Option<u8>>;
    /// Exactly `n` bytes; `n` comes from untrusted input, so it never sizes an allocation upfront.
    fn read_exact<'s>(&'s mut self, n: u64) -> Result<Ref<'de, 's>>;
    /// A line without its `\n`; a missing newline is a truncation.
    fn read_line<'s>(&'s mut self, max: usize) -> Result<Ref<'de, 's>>;
    /// Two consecutive lines as one buffer and the index of the `\n` that separates them.
    fn read_line_pair<'s>(&'s mut self, max: usize) -> Result<(Ref<'de, 's>, usize)>;
    /// Bytes left, when the source knows (a slice does, a stream does not).
    fn remaining(&self) -> Option<u64>;
    /// The whole input and the read position, for sources that are a slice: lets a consumer
    /// run its own fast path over the bytes, then [`set_offset`](Self::set_offset).
    fn slice_view(&self) -> Option<(&'de [u8], usize)> {
        None
    }
    /// Moves a slice source to `pos` (ignored by streams).
    fn set_offset(&mut self, pos: usize) {
        let _ = pos;
    }
}

/// Reads from a byte slice and borrows from it.
#[derive(Clone, Debug)]
pub struct SliceRead<'de> {
    data: &'de [u8],
    pos: usize,
}

impl<'de> SliceRead<'de> {
    /// A reader over `data`, starting at its beginning.
    pub fn new(data: &'de [u8]) -> Self {
        SliceRead { data, pos: 0 }
    }

    /// The unread rest of the input.
    pub fn rest(&self) -> &'de [u8] {
        &self.data[self.pos..]
    }

    #[inline]
    fn line_end(&self, from: usize, max: usize) -> Result<usize> {
        let hay = &self.data[from..];
        let lim = hay.len().min(max.saturating_add(1));
        match hay[..lim].iter().position(|&b| b == b'\n') {
            Some(i) => Ok(from + i),
            None if lim < hay.len() || hay.len() > max => Err(Error::limit(LimitKind::Line)),
            None => Err(Error::truncated()),
        }
    }
}

impl private::Sealed for SliceRead<'_> {}

impl<'de> Read<'de> for SliceRead<'de> {
    #[inline]
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    #[inline]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(Some(b))
            }
            None => Ok(None),
        }
    }

    #[inline]
    fn read_exact<'s>(&'s mut self, n: u64) -> Result<Ref<'de, 's>> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            self.pos = self.data.len();
            return Err(Error::truncated());
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(Ref::Borrowed(&self.data[start..self.pos]))
    }

    #[inline]
    fn read_line<'s>(&'s mut self, max: usize) -> Result<Ref<'de, 's>> {
        let start = self.pos;
        let end = self.line_end(start, max)?;
        self.pos = end + 1;
        Ok(Ref::Borrowed(&self.data[start..end]))
    }

    fn read_line_pair<'s>(&'s mut self, max: usize) -> Result<(Ref<'de, 's>, usize)> {
        let start = self.pos;
        let first = self.line_end(start, max)?;
        let second = self.line_end(first + 1, max)?;
        self.pos = second + 1;
        Ok((Ref::Borrowed(&self.data[start..second]), first - start))
    }

    fn remaining(&self) -> Option<u64> {
        Some((self.data.len() - self.pos) as u64)
    }

    #[inline]
    fn slice_view(&self) -> Option<(&'de [u8], usize)> {
        Some((self.data, self.pos))
    }

    #[inline]
    fn set_offset(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
    }
}

/// Reads from any `io::Read`, copying into a scratch buffer.
#[derive(Debug)]
pub struct IoRead<R> {
    inner: R,
    pos: u64,
    scratch: Vec<u8>,
}

/// Declared lengths are claims from untrusted input: grow the buffer as data arrives,
/// at most this much ahead of what was actually read (ciborium / rmpv do the same).
const CHUNK: usize = 64 * 1024;

impl<R: io::Read> IoRead<R> {
    /// A reader over `inner`.
    pub fn new(inner: R) -> Self {
        IoRead {
            inner,
            pos: 0,
            scratch: Vec::new(),
        }
    }

    /// Gives the inner reader back.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn byte(&mut self) -> Result<Option<u8>> {
        let mut b = [0u8; 1];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.pos += 1;
                    return Ok(Some(b[0]));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn append_line(&mut self, max: usize) -> Result<()> {
        let start = self.scratch.len();
        loop {
            match self.byte()? {
                Some(b'\n') => return Ok(()),
                Some(b) => {
                    if self.scratch.len() - start >= max {
                        return Err(Error::limit(LimitKind::Line));
                    }
                    self.scratch.push(b)
                }
                None => return Err(Error::truncated()),
            }
        }
    }
}

impl<R> private::Sealed for IoRead<R> {}

impl<'de, R: io::Read> Read<'de> for IoRead<R> {
    fn offset(&self) -> u64 {
        self.pos
    }

    fn next_byte(&mut self) -> Result<Option<u8>> {
        self.byte()
    }

    fn read_exact<'s>(&'s mut self, n: u64) -> Result<Ref<'de, 's>> {
        self.scratch.clear();
        let mut left = n;
        while left > 0 {
            let step = left.min(CHUNK as u64) as usize;
            let at = self.scratch.len();
            self.scratch.resize(at + step, 0);
            let mut filled = 0;
            while filled < step {
                match self.inner.read(&mut self.scratch[at + filled..at + step]) {
                    Ok(0) => return Err(Error::truncated()),
                    Ok(k) => {
                        filled += k;
                        self.pos += k as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            left -= step as u64;
        }
        Ok(Ref::Copied(&self.scratch))
    }

    fn read_line<'s>(&'s mut self, max: usize) -> Result<Ref<'de, 's>> {
        self.scratch.clear();
        self.append_line(max)?;
        Ok(Ref::Copied(&self.scratch))
    }

    fn read_line_pair<'s>(&'s mut self, max: usize) -> Result<(Ref<'de, 's>, usize)> {
        self.scratch.clear();
        self.append_line(max)?;
        let split = self.scratch.len();
        self.scratch.push(b'\n');
        self.append_line(max)?;
        Ok((Ref::Copied(&self.scratch), split))
    }

    fn remaining(&self) -> Option<u64> {
        None
    }
}
