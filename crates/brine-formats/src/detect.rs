//! Recognising ML files by their content (never by their extension): `.npy`, `.npz`,
//! safetensors, PyTorch zip and legacy checkpoints, compressed streams and plain pickles.

use std::io::{Read, Seek, SeekFrom};

use brine::Result;

use crate::npy::io_err;

/// What a file holds, judged by its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// An `.npy` array (`\x93NUMPY`).
    Npy,
    /// A zip of `.npy` members.
    Npz,
    /// A PyTorch zip checkpoint (a zip with a `data.pkl` member).
    TorchZip,
    /// A legacy PyTorch checkpoint (pickled magic number first).
    TorchLegacy,
    /// A safetensors file (8-byte header length, then a JSON object).
    Safetensors,
    /// A compressed stream (joblib dumps and compressed pickles).
    Compressed,
    /// Anything else: read as a pickle (possibly a joblib dump).
    Pickle,
}

impl FileKind {
    /// A short lowercase name (`npy`, `torch`, `safetensors`).
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Npy => "npy",
            FileKind::Npz => "npz",
            FileKind::TorchZip => "torch",
            FileKind::TorchLegacy => "torch-legacy",
            FileKind::Safetensors => "safetensors",
            FileKind::Compressed => "compressed",
            FileKind::Pickle => "pickle",
        }
    }
}

/// Looks at a file's first bytes (and, for zips, its member names) to tell its kind.
///
/// ```
/// use brine_formats::detect::{detect, FileKind};
/// let mut f = std::io::Cursor::new(b"\x93NUMPY\x01\x00".to_vec());
/// assert_eq!(detect(&mut f)?, FileKind::Npy);
/// let mut f = std::io::Cursor::new(b"\x80\x04K\x01.".to_vec());
/// assert_eq!(detect(&mut f)?, FileKind::Pickle);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn detect(r: &mut (impl Read + Seek)) -> Result<FileKind> {
    let len = r.seek(SeekFrom::End(0)).map_err(io_err)?;
    r.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let mut head = [0u8; 16];
    let mut n = 0;
    while n < head.len() {
        let got = r.read(&mut head[n..]).map_err(io_err)?;
        if got == 0 {
            break;
        }
        n += got;
    }
    r.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let head = &head[..n];
    if head.starts_with(crate::npy::MAGIC) {
        return Ok(FileKind::Npy);
    }
    if crate::torch::is_legacy(head) {
        return Ok(FileKind::TorchLegacy);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        let kind = match zip::ZipArchive::new(&mut *r) {
            Ok(z) => {
                if z.file_names()
                    .any(|f| f == "data.pkl" || f.ends_with("/data.pkl"))
                {
                    FileKind::TorchZip
                } else {
                    FileKind::Npz
                }
            }
            Err(_) => FileKind::Npz,
        };
        r.seek(SeekFrom::Start(0)).map_err(io_err)?;
        return Ok(kind);
    }
    if n >= 9 && head[8] == b'{' {
        let hlen = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        if hlen <= crate::safetensors::MAX_HEADER && hlen.saturating_add(8) <= len {
            return Ok(FileKind::Safetensors);
        }
    }
    if crate::compress::Codec::detect(head).is_some() {
        return Ok(FileKind::Compressed);
    }
    Ok(FileKind::Pickle)
}
