//! `.npz` archives (numpy's zip of `.npy` files) to and from [`Array`]s, for converting between
//! HDF5 and npz without the `numpy` feature. (The `brine` command converts through
//! brine-formats with that feature instead, and refuses to drop attributes unasked; here they
//! are left out.)
//!
//! Read: stored and deflated members, zip64 sizes, `.npy` versions 1–3, every dtype of
//! [`DType`] in either byte order, C or Fortran order, and `<U` strings (as UTF-8 strings).
//! Object arrays (`O`, pickled) are refused. Written: stored members, `.npy` version 1, fixed
//! strings as `S`, variable-length strings as `<U`.

use std::io::Read;

use flate2::read::DeflateDecoder;

use crate::array::{element_count, Array, DType, Data, Encoding};
use crate::error::{Category, Error, Result};
use crate::file::{File, ObjectKind};
use crate::tree::DatasetOptions;

/// Every dataset of `file` as an `.npz` archive, named by its path without the leading `/`
/// (attributes have no place in npz and are left out).
///
/// ```
/// use brine_hdf5::{npz, Array, DatasetOptions, File};
/// # let path = std::env::temp_dir().join(format!("brine-npz-doc-{}.h5", std::process::id()));
/// let mut f = File::create(&path)?;
/// f.create_dataset("layer/w", Array::from_f32(&[1.0, 2.0]), DatasetOptions::new())?;
/// let zip = npz::hdf5_to_npz(&f)?;
/// let back = npz::read_npz(&zip, 1 << 20)?;
/// assert_eq!(back[0].0, "layer/w");
/// assert_eq!(back[0].1.to_f64()?, vec![1.0, 2.0]);
/// # drop(f); std::fs::remove_file(&path)?;
/// # Ok::<(), brine_hdf5::Error>(())
/// ```
pub fn hdf5_to_npz(file: &File) -> Result<Vec<u8>> {
    let mut arrays = Vec::new();
    for e in file.walk()? {
        if e.kind == ObjectKind::Dataset {
            let a = file.read(&e.path)?;
            arrays.push((e.path.trim_start_matches('/').to_owned(), a));
        }
    }
    write_npz(&arrays)
}

/// Adds every array of an `.npz` archive to `file` as a dataset; names with `/` become
/// nested groups.
pub fn npz_to_hdf5(zip: &[u8], file: &mut File, max_bytes: u64) -> Result<()> {
    for (name, a) in read_npz(zip, max_bytes)? {
        file.create_dataset(&name, a, DatasetOptions::new())?;
    }
    Ok(())
}

fn format_err(msg: impl Into<String>) -> Error {
    Error::new(Category::Format, msg)
}

fn u16_at(b: &[u8], at: usize) -> Result<u16> {
    b.get(at..at + 2)
        .map(|x| u16::from_le_bytes([x[0], x[1]]))
        .ok_or_else(|| format_err("zip truncated"))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32> {
    b.get(at..at + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
        .ok_or_else(|| format_err("zip truncated"))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64> {
    b.get(at..at + 8)
        .map(|x| u64::from_le_bytes(x.try_into().unwrap_or([0; 8])))
        .ok_or_else(|| format_err("zip truncated"))
}

/// Every array of an `.npz` archive, by name (without `.npy`), in archive order.
/// `max_bytes` bounds each member's decompressed size.
pub fn read_npz(zip: &[u8], max_bytes: u64) -> Result<Vec<(String, Array)>> {
    // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
    let from = zip.len().saturating_sub(65_557);
    let eocd = (from..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| format_err("not a zip archive (no end of central directory)"))?;
    let mut count = u64::from(u16_at(zip, eocd + 10)?);
    let mut cd = u64::from(u32_at(zip, eocd + 16)?);
    if count == 0xffff || cd == 0xffff_ffff {
        // Zip64: the locator just before points at the zip64 end record.
        let loc = eocd
            .checked_sub(20)
            .filter(|&l| zip[l..].starts_with(b"PK\x06\x07"))
            .ok_or_else(|| format_err("zip64 locator missing"))?;
        let rec = usize::try_from(u64_at(zip, loc + 8)?).map_err(|_| format_err("bad zip64"))?;
        if !zip.get(rec..).is_some_and(|r| r.starts_with(b"PK\x06\x06")) {
            return Err(format_err("zip64 end record missing"));
        }
        count = u64_at(zip, rec + 32)?;
        cd = u64_at(zip, rec + 48)?;
    }
    let mut at = usize::try_from(cd).map_err(|_| format_err("bad central directory"))?;
    let mut out = Vec::new();
    for _ in 0..count {
        if !zip.get(at..).is_some_and(|r| r.starts_with(b"PK\x01\x02")) {
            return Err(format_err("bad central directory entry"));
        }
        let method = u16_at(zip, at + 10)?;
        let mut csize = u64::from(u32_at(zip, at + 20)?);
        let mut usize_ = u64::from(u32_at(zip, at + 24)?);
        let nlen = usize::from(u16_at(zip, at + 28)?);
        let elen = usize::from(u16_at(zip, at + 30)?);
        let clen = usize::from(u16_at(zip, at + 32)?);
        let mut local = u64::from(u32_at(zip, at + 42)?);
        let name = zip
            .get(at + 46..at + 46 + nlen)
            .ok_or_else(|| format_err("zip truncated"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        let extra = zip
            .get(at + 46 + nlen..at + 46 + nlen + elen)
            .ok_or_else(|| format_err("zip truncated"))?;
        // Zip64 extra field: the 32-bit fields that are all ones, in order, as 64-bit values.
        let mut e = 0;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e)?;
            let len = usize::from(u16_at(extra, e + 2)?);
            if id == 1 {
                let mut f = e + 4;
                for field in [&mut usize_, &mut csize, &mut local] {
                    if *field == 0xffff_ffff {
                        *field = u64_at(extra, f)?;
                        f += 8;
                    }
                }
            }
            e += 4 + len;
        }
        at += 46 + nlen + elen + clen;
        let lh = usize::try_from(local).map_err(|_| format_err("bad local header offset"))?;
        if !zip.get(lh..).is_some_and(|r| r.starts_with(b"PK\x03\x04")) {
            return Err(format_err(format!("bad local header for {name}")));
        }
        let start =
            lh + 30 + usize::from(u16_at(zip, lh + 26)?) + usize::from(u16_at(zip, lh + 28)?);
        let end = usize::try_from(csize)
            .ok()
            .and_then(|c| start.checked_add(c))
            .filter(|&e| e <= zip.len())
            .ok_or_else(|| format_err(format!("{name} runs past the end of the archive")))?;
        let raw = &zip[start..end];
        if usize_ > max_bytes {
            return Err(Error::limit(format!(
                "{name}: {usize_} bytes is over the limit"
            )));
        }
        let data = match method {
            0 => raw.to_vec(),
            8 => {
                // The declared size is a claim: read at most that much (and the limit).
                let mut v = Vec::with_capacity(usize_.min(1 << 16) as usize);
                DeflateDecoder::new(raw)
                    .take(usize_)
                    .read_to_end(&mut v)
                    .map_err(|e| format_err(format!("{name}: {e}")))?;
                v
            }
            m => return Err(Error::unsupported(format!("{name}: zip method {m}"))),
        };
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_owned();
        let array = read_npy(&data).map_err(|e| Error::new(e.classify(), format!("{key}: {e}")))?;
        out.push((key, array));
    }
    Ok(out)
}

/// The value of `'key': value` in a `.npy` header dict.
fn header_field<'a>(header: &'a str, key: &str) -> Result<&'a str> {
    let pat = format!("'{key}':");
    let at = header
        .find(&pat)
        .ok_or_else(|| format_err(format!("npy header lacks {key}")))?;
    Ok(header[at + pat.len()..].trim_start())
}

/// One `.npy` file as an [`Array`] (C order, little-endian).
pub fn read_npy(b: &[u8]) -> Result<Array> {
    if !b.starts_with(b"\x93NUMPY") || b.len() < 10 {
        return Err(format_err("not an .npy file"));
    }
    let (hlen, hstart) = match b[6] {
        1 => (usize::from(u16_at(b, 8)?), 10usize),
        2 | 3 => (u32_at(b, 8)? as usize, 12),
        v => return Err(Error::unsupported(format!("npy version {v}"))),
    };
    let header = b
        .get(hstart..hstart.saturating_add(hlen))
        .ok_or_else(|| format_err("npy header truncated"))?;
    let header = String::from_utf8_lossy(header);
    let descr = header_field(&header, "descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| Error::unsupported("structured npy dtypes"))?;
    let fortran = header_field(&header, "fortran_order")?.starts_with("True");
    let shape_text = header_field(&header, "shape")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| format_err("bad npy shape"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| format_err("bad npy shape")))
        .collect::<Result<Vec<_>>>()?;
    let count = element_count(&shape)?;
    let (order, code) = descr.split_at(1.min(descr.len()));
    let big = order == ">";
    let dtype = match code {
        "b1" => DType::Bool,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "u1" => DType::U8,
        "u2" => DType::U16,
        "u4" => DType::U32,
        "u8" => DType::U64,
        "f2" => DType::F16,
        "f4" => DType::F32,
        "f8" => DType::F64,
        "c8" => DType::C64,
        "c16" => DType::C128,
        s if s.starts_with('S') => DType::FixedString {
            len: s[1..].parse().map_err(|_| format_err("bad npy dtype"))?,
            encoding: Encoding::Ascii,
        },
        s if s.starts_with('U') => DType::VarString {
            encoding: Encoding::Utf8,
        },
        _ => return Err(Error::unsupported(format!("npy dtype {descr:?}"))),
    };
    let body = b.get(hstart + hlen..).unwrap_or(&[]);
    // `<U{n}` stores n UTF-32 code units per element.
    let size = match dtype {
        DType::VarString { .. } => descr[2..]
            .parse::<usize>()
            .map_err(|_| format_err("bad npy dtype"))?
            .checked_mul(4)
            .ok_or_else(|| Error::limit("npy dtype too large"))?,
        d => d.size().unwrap_or(1),
    };
    let want = count
        .checked_mul(size)
        .ok_or_else(|| Error::limit("npy array too large"))?;
    let mut data = body
        .get(..want)
        .ok_or_else(|| format_err("npy data truncated"))?
        .to_vec();
    if big && dtype.component_size() > 1 {
        for c in data.chunks_exact_mut(dtype.component_size()) {
            c.reverse();
        }
    }
    if fortran && shape.len() > 1 && count > 0 {
        data = fortran_to_c(&data, &shape, size);
    }
    let data = match dtype {
        DType::VarString { .. } => Data::Strings(
            data.chunks(size.max(1))
                .map(|e| {
                    e.chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .take_while(|&u| u != 0)
                        .map(|u| char::from_u32(u).unwrap_or('\u{fffd}'))
                        .collect()
                })
                .take(count)
                .collect(),
        ),
        _ => Data::Bytes(data),
    };
    Array::new(dtype, shape, data)
}

/// Reorders Fortran-order elements to C order (an odometer over C indices).
fn fortran_to_c(data: &[u8], shape: &[usize], size: usize) -> Vec<u8> {
    let n = shape.len();
    let mut fstride = vec![1usize; n];
    for k in 1..n {
        fstride[k] = fstride[k - 1] * shape[k - 1];
    }
    let mut out = Vec::with_capacity(data.len());
    let mut idx = vec![0usize; n];
    let count: usize = shape.iter().product();
    for _ in 0..count {
        let f: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
        out.extend_from_slice(&data[f * size..(f + 1) * size]);
        for k in (0..n).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// One array as a `.npy` file (version 1; variable-length strings as `<U`).
pub fn write_npy(a: &Array) -> Result<Vec<u8>> {
    let (descr, body): (String, Vec<u8>) = match (a.dtype(), a.data()) {
        (DType::VarString { .. }, Data::Strings(s)) => {
            let width = s
                .iter()
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
                .max(1);
            let mut body = Vec::with_capacity(width * 4 * s.len());
            for x in s {
                let mut n = 0;
                for c in x.chars() {
                    body.extend_from_slice(&(c as u32).to_le_bytes());
                    n += 1;
                }
                body.resize(body.len() + (width - n) * 4, 0);
            }
            (format!("<U{width}"), body)
        }
        (d, Data::Bytes(b)) => {
            let code = match d {
                DType::Bool => "|b1".to_string(),
                DType::FixedString { len, .. } => format!("|S{len}"),
                DType::I8 | DType::U8 => format!("|{}", &numpy_code(d)),
                _ => format!("<{}", numpy_code(d)),
            };
            (code, b.clone())
        }
        _ => return Err(Error::data("array data does not match its dtype")),
    };
    let dims: Vec<String> = a.shape().iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // numpy pads the header with blanks so the data starts on a 64-byte boundary.
    let total = (10 + header.len() + 1).next_multiple_of(64);
    header.push_str(&" ".repeat(total - 10 - header.len() - 1));
    header.push('\n');
    let hlen = u16::try_from(header.len()).map_err(|_| Error::limit("npy header too long"))?;
    let mut out = Vec::with_capacity(total + body.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&hlen.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

fn numpy_code(d: DType) -> &'static str {
    match d {
        DType::I8 => "i1",
        DType::I16 => "i2",
        DType::I32 => "i4",
        DType::I64 => "i8",
        DType::U8 => "u1",
        DType::U16 => "u2",
        DType::U32 => "u4",
        DType::U64 => "u8",
        DType::F16 => "f2",
        DType::F32 => "f4",
        DType::F64 => "f8",
        DType::C64 => "c8",
        _ => "c16",
    }
}

/// Named arrays as an `.npz` archive (stored members; each name gets `.npy`).
pub fn write_npz(arrays: &[(String, Array)]) -> Result<Vec<u8>> {
    let mut zip = Vec::new();
    let mut central = Vec::new();
    let too_big = || Error::limit("npz members over 4 GiB are not written (no zip64)");
    for (name, a) in arrays {
        let npy = write_npy(a)?;
        let name = format!("{name}.npy");
        let mut crc = flate2::Crc::new();
        crc.update(&npy);
        let size = u32::try_from(npy.len()).map_err(|_| too_big())?;
        let offset = u32::try_from(zip.len()).map_err(|_| too_big())?;
        let nlen = u16::try_from(name.len()).map_err(|_| Error::data("name too long"))?;
        // Version 2.0, no flags, stored, DOS time 1980-01-01 00:00.
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
            v.extend_from_slice(&0x21u16.to_le_bytes());
            v.extend_from_slice(&crc.sum().to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&nlen.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
        };
        zip.extend_from_slice(b"PK\x03\x04");
        common(&mut zip);
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(&npy);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut central);
        central.extend_from_slice(&[0u8; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let count = u16::try_from(arrays.len()).map_err(|_| too_big())?;
    let cd_at = u32::try_from(zip.len()).map_err(|_| too_big())?;
    let cd_len = u32::try_from(central.len()).map_err(|_| too_big())?;
    zip.extend_from_slice(&central);
    zip.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    zip.extend_from_slice(&count.to_le_bytes());
    zip.extend_from_slice(&count.to_le_bytes());
    zip.extend_from_slice(&cd_len.to_le_bytes());
    zip.extend_from_slice(&cd_at.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    Ok(zip)
}
