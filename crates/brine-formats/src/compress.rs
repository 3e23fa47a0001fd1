//! Compressed pickles: detection by magic bytes, bounded decompression, compression.
//!
//! [`decompress`] never trusts a size declared by the stream: output is read through
//! [`Read::take`] with one byte beyond the limit, so a decompression bomb stops with a
//! [`LimitKind::Decompressed`] or [`LimitKind::Ratio`] error after at most that many bytes.
//! Concatenated gzip members, bzip2 streams and xz streams are decoded in full, as Python's
//! `gzip`, `bz2` and `lzma` modules do.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;

use brine_core::{Error, LimitKind, Limits, Result};

/// A compression format a pickle may be wrapped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// gzip (RFC 1952), Python's `gzip` module; `.gz`.
    Gzip,
    /// zlib (RFC 1950), Python's `zlib.compress`; `.zz` / `.zlib`.
    Zlib,
    /// bzip2, Python's `bz2` module; `.bz2`.
    Bz2,
    /// xz, Python's `lzma` module default format; `.xz`.
    Xz,
    /// Legacy LZMA "alone" format, `lzma.FORMAT_ALONE`; `.lzma`.
    LzmaAlone,
    /// Zstandard; `.zst`.
    Zstd,
    /// LZ4 frame format; `.lz4`.
    Lz4Frame,
}

impl Codec {
    /// Every codec, in detection order.
    pub const ALL: [Codec; 7] = [
        Codec::Gzip,
        Codec::Zlib,
        Codec::Bz2,
        Codec::Xz,
        Codec::LzmaAlone,
        Codec::Zstd,
        Codec::Lz4Frame,
    ];

    /// The codec whose magic bytes start `data`, or `None` for anything else (a plain
    /// pickle among it: no pickle opcode starts like one of these headers; `]` EMPTY_LIST,
    /// which shares its byte with the LZMA properties byte, is told apart by requiring a
    /// plausible 13-byte LZMA header).
    pub fn detect(data: &[u8]) -> Option<Codec> {
        match data {
            [0x1f, 0x8b, ..] => Some(Codec::Gzip),
            [0x78, flg, ..] if (0x78u16 * 256 + u16::from(*flg)) % 31 == 0 && flg & 0x20 == 0 => {
                Some(Codec::Zlib)
            }
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some(Codec::Bz2),
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some(Codec::Xz),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Codec::Zstd),
            [0x04, 0x22, 0x4d, 0x18, ..] => Some(Codec::Lz4Frame),
            [0x5d, 0x00, 0x00, ..] if plausible_lzma_header(data) => Some(Codec::LzmaAlone),
            _ => None,
        }
    }

    /// The codec for a file name's extension (`.gz`, `.zz`, `.zlib`, `.bz2`, `.xz`,
    /// `.lzma`, `.zst`, `.lz4`; any case), or `None`.
    pub fn from_extension(path: impl AsRef<Path>) -> Option<Codec> {
        let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "gz" => Codec::Gzip,
            "zz" | "zlib" => Codec::Zlib,
            "bz2" => Codec::Bz2,
            "xz" => Codec::Xz,
            "lzma" => Codec::LzmaAlone,
            "zst" | "zstd" => Codec::Zstd,
            "lz4" => Codec::Lz4Frame,
            _ => return None,
        })
    }

    /// The codec for a name: `gzip`, `zlib`, `bz2`, `xz`, `lzma` (the alone format),
    /// `zstd`, `lz4` (also `gz`, `bzip2`, `zst`; any case), or `None`.
    pub fn from_name(name: &str) -> Option<Codec> {
        Some(match name.to_ascii_lowercase().as_str() {
            "gzip" | "gz" => Codec::Gzip,
            "zlib" => Codec::Zlib,
            "bz2" | "bzip2" => Codec::Bz2,
            "xz" => Codec::Xz,
            "lzma" => Codec::LzmaAlone,
            "zstd" | "zst" => Codec::Zstd,
            "lz4" => Codec::Lz4Frame,
            _ => return None,
        })
    }

    /// The canonical name, as [`from_name`](Self::from_name) accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zlib => "zlib",
            Codec::Bz2 => "bz2",
            Codec::Xz => "xz",
            Codec::LzmaAlone => "lzma",
            Codec::Zstd => "zstd",
            Codec::Lz4Frame => "lz4",
        }
    }

    /// The valid compression levels and the default, or `None` when the codec has no
    /// levels (LZ4).
    pub fn levels(self) -> Option<(u32, u32, u32)> {
        match self {
            Codec::Gzip | Codec::Zlib => Some((0, 9, 6)),
            Codec::Bz2 => Some((1, 9, 9)),
            Codec::Xz | Codec::LzmaAlone => Some((0, 9, 6)),
            Codec::Zstd => Some((1, 22, 3)),
            Codec::Lz4Frame => None,
        }
    }
}

impl Codec {
    /// The level [`compress`] would use for `level`: the default for `None`, or an
    /// [unsupported](brine_core::Category::Unsupported) error when out of range (any level
    /// for LZ4, which has none).
    pub fn check_level(self, level: Option<u32>) -> Result<u32> {
        match (self.levels(), level) {
            (None, None) => Ok(0),
            (None, Some(_)) => Err(Error::unsupported(format!(
                "{self} takes no compression level"
            ))),
            (Some((_, _, default)), None) => Ok(default),
            (Some((lo, hi, _)), Some(l)) if (lo..=hi).contains(&l) => Ok(l),
            (Some((lo, hi, _)), Some(l)) => Err(Error::unsupported(format!(
                "{self} compression level {l} is not in {lo}..={hi}"
            ))),
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Properties byte, dictionary size and uncompressed size of an LZMA-alone header look like
/// what an encoder writes (xz-utils' own heuristic, narrowed).
fn plausible_lzma_header(data: &[u8]) -> bool {
    if data.len() < 13 || data[0] != 0x5d {
        return false;
    }
    let dict = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
    let size = u64::from_le_bytes(data[5..13].try_into().expect("8 bytes"));
    let dict_ok = (4 << 10..=3 << 29).contains(&dict) && {
        let n = 31 - dict.leading_zeros();
        dict == 1 << n || (n >= 1 && dict == (1 << n) | (1 << (n - 1)))
    };
    dict_ok && (size == u64::MAX || size <= 1 << 40)
}

/// `data` decompressed when its magic bytes name a [`Codec`], else `data` itself.
///
/// Output is bounded by `limits.max_decompressed` ([`LimitKind::Decompressed`]) and by
/// `limits.max_ratio` times the input length ([`LimitKind::Ratio`]). A corrupt stream is a
/// [data error](brine_core::Category::Data), except that input merely looking like an
/// LZMA-alone header is returned unchanged when it does not decompress (`]` is also a
/// pickle's EMPTY_LIST).
pub fn decompress<'a>(data: &'a [u8], limits: &Limits) -> Result<Cow<'a, [u8]>> {
    let Some(codec) = Codec::detect(data) else {
        return Ok(Cow::Borrowed(data));
    };
    match decompress_as(data, codec, limits) {
        Ok(v) => Ok(Cow::Owned(v)),
        Err(e)
            if codec == Codec::LzmaAlone
                && !matches!(e.code(), brine_core::ErrorCode::Limit(_)) =>
        {
            Ok(Cow::Borrowed(data))
        }
        Err(e) => Err(e),
    }
}

/// `data` decompressed as `codec`, under the same bounds as [`decompress`].
pub fn decompress_as(data: &[u8], codec: Codec, limits: &Limits) -> Result<Vec<u8>> {
    let r = data;
    match codec {
        Codec::Gzip => bounded(flate2::read::MultiGzDecoder::new(r), codec, data, limits),
        Codec::Zlib => bounded(flate2::read::ZlibDecoder::new(r), codec, data, limits),
        Codec::Bz2 => bounded(bzip2::read::MultiBzDecoder::new(r), codec, data, limits),
        Codec::Xz => bounded(
            xz2::read::XzDecoder::new_multi_decoder(r),
            codec,
            data,
            limits,
        ),
        Codec::LzmaAlone => {
            let stream = xz2::stream::Stream::new_lzma_decoder(u64::MAX)
                .map_err(|e| io_err(codec)(e.into()))?;
            bounded(
                xz2::read::XzDecoder::new_stream(r, stream),
                codec,
                data,
                limits,
            )
        }
        Codec::Zstd => {
            let d = zstd::stream::read::Decoder::new(r).map_err(io_err(codec))?;
            bounded(d, codec, data, limits)
        }
        Codec::Lz4Frame => bounded(lz4_flex::frame::FrameDecoder::new(r), codec, data, limits),
    }
}

fn io_err(codec: Codec) -> impl Fn(io::Error) -> Error {
    move |e| Error::data(format!("corrupt {codec} stream: {e}"))
}

/// Reads `r` to its end, failing once more than the bound would be produced.
fn bounded(r: impl Read, codec: Codec, input: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let by_ratio = limits
        .max_ratio
        .saturating_mul(u64::try_from(input.len()).unwrap_or(u64::MAX));
    let (cap, kind) = if limits.max_decompressed <= by_ratio {
        (limits.max_decompressed, LimitKind::Decompressed)
    } else {
        (by_ratio, LimitKind::Ratio)
    };
    let mut out = Vec::new();
    r.take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(io_err(codec))?;
    if out.len() as u64 > cap {
        return Err(Error::limit(kind));
    }
    Ok(out)
}

/// `data` compressed as `codec` at `level` (see [`Codec::levels`]; `None` for the default;
/// LZ4 takes no level).
pub fn compress(data: &[u8], codec: Codec, level: Option<u32>) -> Result<Vec<u8>> {
    let level = codec.check_level(level)?;
    let out = Vec::with_capacity(data.len() / 2 + 64);
    let res = match codec {
        Codec::Gzip => {
            let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::new(level));
            e.write_all(data).and_then(|()| e.finish())
        }
        Codec::Zlib => {
            let mut e = flate2::write::ZlibEncoder::new(out, flate2::Compression::new(level));
            e.write_all(data).and_then(|()| e.finish())
        }
        Codec::Bz2 => {
            let mut e = bzip2::write::BzEncoder::new(out, bzip2::Compression::new(level));
            e.write_all(data).and_then(|()| e.finish())
        }
        Codec::Xz => {
            let mut e = xz2::write::XzEncoder::new(out, level);
            e.write_all(data).and_then(|()| e.finish())
        }
        Codec::LzmaAlone => {
            let opts =
                xz2::stream::LzmaOptions::new_preset(level).map_err(|e| io_err(codec)(e.into()))?;
            let stream = xz2::stream::Stream::new_lzma_encoder(&opts)
                .map_err(|e| io_err(codec)(e.into()))?;
            let mut e = xz2::write::XzEncoder::new_stream(out, stream);
            e.write_all(data).and_then(|()| e.finish())
        }
        Codec::Zstd => zstd::stream::encode_all(data, level as i32),
        Codec::Lz4Frame => {
            let mut e = lz4_flex::frame::FrameEncoder::new(out);
            e.write_all(data)
                .and_then(|()| e.finish().map_err(io::Error::other))
        }
    };
    res.map_err(Error::from)
}
