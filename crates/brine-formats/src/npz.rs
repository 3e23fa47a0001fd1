//! `.npz` archives: zip files of `.npy` members, stored (`numpy.savez`) or deflated
//! (`numpy.savez_compressed`), with zip64 records as numpy writes them.

use std::io::{Read, Seek, Write};

use brine::core::LimitKind;
use brine::value::Graph;
use brine::{Error, Limits, Result};

use crate::array::NdArray;
use crate::npy;

/// One array of an `.npz` archive.
#[derive(Clone, Debug)]
pub struct Member {
    /// The key (member name without `.npy`).
    pub name: String,
    /// The array, owning its bytes.
    pub array: NdArray<'static>,
    /// For object arrays: the graph of their elements.
    pub objects: Option<Graph>,
}

pub(crate) fn zip_err(e: zip::result::ZipError) -> Error {
    match e {
        zip::result::ZipError::Io(e) => npy::io_err(e),
        other => Error::data(format!("zip: {other}")),
    }
}

/// Reads every array of an `.npz` archive, in archive order. Member sizes are claims: each is
/// read under `limits.max_decompressed` and the member count under `limits.max_members`.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// use brine_formats::npz;
/// let a = NdArray::from_bytes(DType::Float(4, ByteOrder::Little), vec![1], vec![0, 0, 128, 63])?;
/// let mut file = std::io::Cursor::new(Vec::new());
/// npz::write(&mut file, &[("w", &a)], true)?;
/// let back = npz::read(std::io::Cursor::new(file.into_inner()), &brine::Limits::default())?;
/// assert_eq!(back[0].name, "w");
/// assert_eq!(back[0].array, a);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn read(reader: impl Read + Seek, limits: &Limits) -> Result<Vec<Member>> {
    let mut zip = zip::ZipArchive::new(reader).map_err(zip_err)?;
    if zip.len() > limits.max_members {
        return Err(Error::limit(LimitKind::Members));
    }
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(zip_err)?;
        let name = f.name().to_owned();
        let mut data = Vec::with_capacity((f.size() as usize).min(1 << 16));
        (&mut f)
            .take(limits.max_decompressed.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(npy::io_err)?;
        if data.len() as u64 > limits.max_decompressed {
            return Err(Error::limit(LimitKind::Decompressed));
        }
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_owned();
        let parsed = npy::read(&data)
            .map_err(|e| Error::msg(e.classify(), format!("member {name:?}: {e}")))?;
        out.push(Member {
            name: key,
            array: parsed.array.into_owned(),
            objects: parsed.objects,
        });
    }
    Ok(out)
}

/// The headers of every member of an `.npz` archive, reading only their first bytes (for
/// listings of archives too large to load).
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// use brine_formats::npz;
/// let a = NdArray::from_bytes(DType::UInt(1, ByteOrder::NotApplicable), vec![3], vec![1, 2, 3])?;
/// let mut file = std::io::Cursor::new(Vec::new());
/// npz::write(&mut file, &[("x", &a)], false)?;
/// let heads = npz::headers(std::io::Cursor::new(file.into_inner()), &brine::Limits::default())?;
/// assert_eq!((heads[0].0.as_str(), heads[0].1.shape.as_slice()), ("x", &[3][..]));
/// # Ok::<(), brine::Error>(())
/// ```
pub fn headers(reader: impl Read + Seek, limits: &Limits) -> Result<Vec<(String, npy::Header)>> {
    let mut zip = zip::ZipArchive::new(reader).map_err(zip_err)?;
    if zip.len() > limits.max_members {
        return Err(Error::limit(LimitKind::Members));
    }
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let f = zip.by_index(i).map_err(zip_err)?;
        let name = f.name().to_owned();
        let mut head = Vec::new();
        // Magic, version, length field and at most MAX_HEADER bytes of header.
        f.take(12 + npy::MAX_HEADER as u64)
            .read_to_end(&mut head)
            .map_err(npy::io_err)?;
        let h = npy::read_header(&head)
            .map_err(|e| Error::msg(e.classify(), format!("member {name:?}: {e}")))?;
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_owned();
        out.push((key, h));
    }
    Ok(out)
}

/// Writes arrays as an `.npz` archive (`<name>.npy` members), deflated when `compressed`,
/// every member with zip64 sizes as numpy forces them.
pub fn write(
    out: impl Write + Seek,
    arrays: &[(&str, &NdArray<'_>)],
    compressed: bool,
) -> Result<()> {
    let mut zip = zip::ZipWriter::new(out);
    let method = if compressed {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(true);
    for (name, a) in arrays {
        zip.start_file(format!("{name}.npy"), opts)
            .map_err(zip_err)?;
        npy::write(&mut zip, a, None)?;
    }
    zip.finish().map_err(zip_err)?;
    Ok(())
}
