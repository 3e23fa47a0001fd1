//! Text forms for terminals: the tree listing (`h5ls -r -v` in spirit) and arrays as nested
//! lists, with names from the file escaped.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::array::{f16_to_f64, Array, DType, Data};
use crate::file::{File, ObjectKind};
use crate::read::Filter;

/// Names and strings from a file may hold terminal escapes or bidi overrides: they are shown
/// escaped (one line each), by brine-core's sanitizer.
fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    brine_core::sanitize::line(s)
}

/// Element `i` (flat C-order index) of `a` as text, strings quoted.
fn element(a: &Array, i: usize) -> String {
    let dtype = a.dtype();
    let b = match a.data() {
        Data::Strings(s) => return format!("\"{}\"", sanitize(&s[i])),
        Data::Bytes(b) => b,
    };
    let size = dtype.size().unwrap_or(1).max(1);
    let e = &b[i * size..(i + 1) * size];
    let f4 = |x: &[u8]| f32::from_le_bytes([x[0], x[1], x[2], x[3]]);
    let w8 = |x: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&x[..8]);
        w
    };
    let f8 = |x: &[u8]| f64::from_le_bytes(w8(x));
    match dtype {
        DType::Bool => if e[0] != 0 { "true" } else { "false" }.into(),
        DType::I8 => (e[0] as i8).to_string(),
        DType::U8 => e[0].to_string(),
        DType::I16 => i16::from_le_bytes([e[0], e[1]]).to_string(),
        DType::U16 => u16::from_le_bytes([e[0], e[1]]).to_string(),
        DType::I32 => i32::from_le_bytes([e[0], e[1], e[2], e[3]]).to_string(),
        DType::U32 => u32::from_le_bytes([e[0], e[1], e[2], e[3]]).to_string(),
        DType::I64 => i64::from_le_bytes(w8(e)).to_string(),
        DType::U64 => u64::from_le_bytes(w8(e)).to_string(),
        DType::F16 => f16_to_f64(u16::from_le_bytes([e[0], e[1]])).to_string(),
        DType::F32 => f4(e).to_string(),
        DType::F64 => f8(e).to_string(),
        DType::C64 => format!("({}{:+}j)", f4(e), f4(&e[4..])),
        DType::C128 => format!("({}{:+}j)", f8(e), f8(&e[8..])),
        DType::FixedString { .. } => {
            let end = e.iter().position(|&x| x == 0).unwrap_or(e.len());
            format!("b\"{}\"", sanitize(&String::from_utf8_lossy(&e[..end])))
        }
        DType::VarString { .. } => String::new(),
    }
}

/// Writes `a` as nested lists (`[[1, 2], [3, 4]]`), at most `limit` elements then `...` and
/// the closing brackets;
/// a scalar as its one element. No recursion: brackets come from the flat index.
///
/// ```
/// use brine_hdf5::{display, Array};
/// let a = Array::from_i32(&[1, 2, 3, 4]).reshape(&[2, 2])?;
/// let mut out = Vec::new();
/// display::write_array(&a, &mut out, usize::MAX)?;
/// assert_eq!(String::from_utf8_lossy(&out), "[[1, 2],\n [3, 4]]");
/// out.clear();
/// display::write_array(&Array::from_u8(&[7, 8, 9]), &mut out, 2)?;
/// assert_eq!(String::from_utf8_lossy(&out), "[7, 8, ...]");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_array(a: &Array, out: &mut dyn Write, limit: usize) -> io::Result<()> {
    let shape = a.shape();
    if shape.is_empty() {
        return write!(out, "{}", element(a, 0));
    }
    let n = a.len();
    if n == 0 {
        return write!(
            out,
            "{}",
            "[".repeat(shape.len()) + &"]".repeat(shape.len())
        );
    }
    // block[k]: elements inside one bracket of nesting level k (the product of shape[k..]).
    let mut block = vec![1usize; shape.len()];
    let mut acc = 1usize;
    for k in (0..shape.len()).rev() {
        acc = acc.saturating_mul(shape[k]);
        block[k] = acc;
    }
    let mut open = 0usize;
    for i in 0..n {
        if i >= limit {
            let sep = if i > 0 { ", " } else { "" };
            write!(out, "{sep}...{}", "]".repeat(open))?;
            break;
        }
        let opens = block.iter().filter(|&&b| i % b == 0).count();
        if i > 0 {
            let closed = shape.len() - opens;
            if opens > 0 {
                write!(out, ",\n{}", " ".repeat(closed))?;
            } else {
                write!(out, ", ")?;
            }
        }
        write!(out, "{}{}", "[".repeat(opens), element(a, i))?;
        let closes = block.iter().filter(|&&b| (i + 1) % b == 0).count();
        write!(out, "{}", "]".repeat(closes))?;
        open = open + opens - closes;
    }
    Ok(())
}

fn dims(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "scalar".into();
    }
    let d: Vec<String> = shape.iter().map(|x| x.to_string()).collect();
    format!("{{{}}}", d.join(", "))
}

/// Lists every group and dataset of `file` with shapes, dtypes, storage and attributes, one
/// object per line and its details indented below (like `h5ls -r -v`).
///
/// ```
/// use brine_hdf5::{display, File};
/// # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keras2_layout.h5");
/// let file = File::open(&path)?;
/// let mut out = Vec::new();
/// display::write_tree(&file, &mut out)?;
/// let text = String::from_utf8_lossy(&out);
/// assert!(text.contains("/model_weights/d1/d1/kernel:0  Dataset {2, 2} float32"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_tree(file: &File, out: &mut dyn Write) -> crate::Result<()> {
    let w = |e: io::Error| crate::Error::io("cannot write listing", e);
    for entry in file.walk()? {
        let path = sanitize(&entry.path);
        match entry.kind {
            ObjectKind::Group => writeln!(out, "{path}  Group").map_err(w)?,
            ObjectKind::Dataset => match file.dataset(&entry.path) {
                Ok(info) => {
                    writeln!(
                        out,
                        "{path}  Dataset {} {}",
                        dims(&info.shape),
                        info.type_name
                    )
                    .map_err(w)?;
                    if let Some(c) = &info.chunks {
                        writeln!(out, "    Chunks: {}", dims(c)).map_err(w)?;
                    }
                    if !info.filters.is_empty() {
                        let f: Vec<String> = info
                            .filters
                            .iter()
                            .map(|f| match f {
                                Filter::Gzip(l) => format!("gzip({l})"),
                                Filter::Shuffle => "shuffle".into(),
                                Filter::Fletcher32 => "fletcher32".into(),
                                Filter::Other(id) => format!("filter {id}"),
                            })
                            .collect();
                        writeln!(out, "    Filters: {}", f.join(", ")).map_err(w)?;
                    }
                }
                Err(e) => {
                    writeln!(out, "{path}  Dataset <{}>", sanitize(&e.to_string())).map_err(w)?
                }
            },
        }
        let names = match file.attr_names(&entry.path) {
            Ok(n) => n,
            Err(e) => {
                writeln!(out, "    Attributes: <{}>", sanitize(&e.to_string())).map_err(w)?;
                continue;
            }
        };
        for name in names {
            let mut line = format!("    Attribute: {}", sanitize(&name));
            match file.attr(&entry.path, &name) {
                Ok(a) => {
                    let mut v = Vec::new();
                    write_array(&a, &mut v, 8).map_err(w)?;
                    let mut text = String::from_utf8_lossy(&v).replace('\n', "");
                    if text.len() > 200 {
                        let cut = (0..=200)
                            .rev()
                            .find(|&i| text.is_char_boundary(i))
                            .unwrap_or(0);
                        text.truncate(cut);
                        text.push_str("...");
                    }
                    let _ = write!(line, " {} {} = {}", dims(a.shape()), a.dtype(), text);
                }
                Err(e) => {
                    let _ = write!(line, " <{}>", sanitize(&e.to_string()));
                }
            }
            writeln!(out, "{line}").map_err(w)?;
        }
    }
    Ok(())
}
