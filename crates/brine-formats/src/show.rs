//! Readable `repr()`s of ML objects: numpy arrays as summaries, pandas DataFrames and Series
//! as their columns, everything else (scikit-learn estimators included) in brine's call form
//! with the arrays inside summarised.
//!
//! A [`hook`] for [`brine::show::repr_with`]: an array prints as
//! `array(shape=(2, 3), dtype=float64, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])` (its first items in C
//! order), a numpy scalar as `float64(1.5)`, a dtype as `dtype('<M8[ns]')`, a DataFrame as
//! `pandas.DataFrame({'a': array(...), ...}, index=...)`, a Series as
//! `pandas.Series(array(...), index=..., name=...)`, a pandas index as
//! `pandas.RangeIndex(start=0, stop=3, step=1)` and a pandas extension array as
//! `pandas.arrays.StringArray(array(...), dtype=...)`. Whatever does not decode cleanly
//! prints in the generic form. Nothing is run; text from the file is escaped by the printer.

use brine::show::{Piece, ShowOptions};
use brine::value::{Graph, Node, NodeId};
use brine_core::text;

use crate::array::{ByteOrder, DType, Data, NdArray, TimeUnit};
use crate::numpy::{self, global_of, object, tuple};

/// Items of an array shown when the options set no `max_items`.
const DEFAULT_ITEMS: usize = 6;

/// [`brine::show::repr`] with the [`hook`] of this module.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// let bytes: Vec<u8> = (0..6i32).flat_map(|v| v.to_le_bytes()).collect();
/// let a = NdArray::from_bytes(DType::Int(4, ByteOrder::Little), vec![2, 3], bytes)?;
/// let g = brine::loads(&brine_formats::numpy::dumps(&a, 4)?)?;
/// let opts = brine::show::ShowOptions::default();
/// let s = brine_formats::show::repr(&g, g.root().unwrap(), &opts);
/// assert_eq!(s, "array(shape=(2, 3), dtype=int32, [0, 1, 2, 3, 4, 5])");
/// # Ok::<(), brine::Error>(())
/// ```
pub fn repr(g: &Graph, root: NodeId, opts: &ShowOptions) -> String {
    let items = opts.max_items.unwrap_or(DEFAULT_ITEMS);
    brine::show::repr_with(g, root, opts, &|g, id| hook(g, id, items))
}

/// The hook: the pieces that print the object `id` readably, or `None` for the generic form.
/// Arrays show at most `items` elements.
pub fn hook(g: &Graph, id: NodeId, items: usize) -> Option<Vec<Piece>> {
    let o = object(g, id)?;
    let (module, name) = global_of(g, o.callable)?;
    if module == "numpy" && name == "dtype" {
        let d = numpy::dtype_at(g, id).ok()?;
        return Some(vec![Piece::Text(format!("dtype({})", py_str(&d.str())))]);
    }
    if let Ok(Some(a)) = numpy::array_at(g, id) {
        if name == "scalar" {
            let mut out = Pieces::default();
            out.text(format!("{}(", dtype_name(&a.dtype)));
            element(&a, 0, &mut out)?;
            out.text(")");
            return Some(out.0);
        }
        return Some(array_summary(&a, items));
    }
    if module.starts_with("pandas") {
        return pandas(g, id, module, name, items);
    }
    None
}

/// Text and values, with adjacent texts merged.
#[derive(Default)]
struct Pieces(Vec<Piece>);

impl Pieces {
    fn text(&mut self, s: impl AsRef<str>) {
        if let Some(Piece::Text(t)) = self.0.last_mut() {
            t.push_str(s.as_ref());
        } else {
            self.0.push(Piece::Text(s.as_ref().to_owned()));
        }
    }
    fn value(&mut self, id: NodeId) {
        self.0.push(Piece::Value(id));
    }
}

fn py_str(s: &str) -> String {
    text::repr_str(s.as_bytes())
}

/// numpy's name of a dtype: `float64`, `int32`, `object`, `<U3`, `datetime64[ns]`.
fn dtype_name(d: &DType) -> String {
    match d {
        DType::Object => "object".into(),
        DType::DateTime(u, o) | DType::TimeDelta(u, o) if *o != ByteOrder::Big => {
            let kind = if matches!(d, DType::DateTime(..)) {
                "datetime64"
            } else {
                "timedelta64"
            };
            match (u.unit.as_str(), u.count) {
                ("generic", _) => kind.into(),
                (unit, 1) => format!("{kind}[{unit}]"),
                (unit, n) => format!("{kind}[{n}{unit}]"),
            }
        }
        // numpy's str() of a flat structured dtype: `[('x', '<i4'), ('y', 'u1')]` when packed,
        // else `{'names': [...], 'formats': [...], 'offsets': [...], 'itemsize': n}`.
        DType::Struct {
            fields, itemsize, ..
        } if fields
            .iter()
            .all(|f| !matches!(f.dtype, DType::Struct { .. } | DType::SubArray(..))) =>
        {
            let fmt = |f: &crate::array::Field| {
                let s = f.dtype.str();
                py_str(s.strip_prefix('|').unwrap_or(&s))
            };
            let mut end = 0usize;
            let packed = fields.iter().all(|f| {
                let ok = f.offset == end;
                end = f.offset.saturating_add(f.dtype.itemsize());
                ok
            }) && end == *itemsize;
            if packed {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|f| format!("({}, {})", py_str(&f.name), fmt(f)))
                    .collect();
                format!("[{}]", parts.join(", "))
            } else {
                let list = |v: Vec<String>| v.join(", ");
                format!(
                    "{{'names': [{}], 'formats': [{}], 'offsets': [{}], 'itemsize': {itemsize}}}",
                    list(fields.iter().map(|f| py_str(&f.name)).collect()),
                    list(fields.iter().map(fmt).collect()),
                    list(fields.iter().map(|f| f.offset.to_string()).collect()),
                )
            }
        }
        _ => d.name(),
    }
}

/// `array(shape=(2, 3), dtype=float64, [0.0, 1.0, ...])` for `a`, its first `items` elements
/// in C order.
fn array_summary(a: &NdArray<'_>, items: usize) -> Vec<Piece> {
    let mut out = Pieces::default();
    let class = match a.subclass.as_deref() {
        Some(s) if s != "numpy.ndarray" => escape(s.rsplit('.').next().unwrap_or("array")),
        _ if a.mask.is_some() => "masked_array".into(),
        _ => "array".into(),
    };
    let shape = match a.shape.as_slice() {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    out.text(format!(
        "{class}(shape={shape}, dtype={}, [",
        dtype_name(&a.dtype)
    ));
    let n = a.numel();
    for i in 0..n.min(items) {
        if i > 0 {
            out.text(", ");
        }
        if element(a, i, &mut out).is_none() {
            out.text("?");
        }
    }
    if n > items {
        out.text(if items == 0 { "..." } else { ", ..." });
    }
    out.text("])");
    out.0
}

/// The position (in elements of the data) of the `i`-th element in C order.
fn position(a: &NdArray<'_>, mut i: usize) -> Option<usize> {
    let mut pos = a.offset;
    for (&dim, &stride) in a.shape.iter().zip(&a.strides).rev() {
        if dim == 0 {
            return None;
        }
        pos = pos.checked_add((i % dim).checked_mul(stride)?)?;
        i /= dim;
    }
    Some(pos)
}

/// Pushes the `i`-th element (C order) of `a` as Python would print it in a list.
fn element(a: &NdArray<'_>, i: usize, out: &mut Pieces) -> Option<()> {
    let pos = position(a, i)?;
    match &a.data {
        Data::Objects(items) => out.value(*items.get(pos)?),
        Data::Bytes(b) => {
            let size = a.dtype.itemsize();
            let start = pos.checked_mul(size)?;
            let raw = b.get(start..start.checked_add(size)?)?;
            out.text(scalar_text(&a.dtype, raw, 0)?);
        }
    }
    Some(())
}

/// Nesting of structured elements printed (dtypes themselves nest at most 32 deep).
const MAX_ELEMENT_DEPTH: usize = 8;

fn uint(raw: &[u8], order: ByteOrder) -> u128 {
    let mut v = 0u128;
    let mut push = |b: u8| v = (v << 8) | u128::from(b);
    if order == ByteOrder::Big {
        raw.iter().copied().for_each(&mut push);
    } else {
        raw.iter().rev().copied().for_each(&mut push);
    }
    v
}

fn int(raw: &[u8], order: ByteOrder) -> i128 {
    let bits = raw.len() as u32 * 8;
    let v = uint(raw, order);
    if bits == 0 || bits >= 128 {
        return v as i128;
    }
    // Sign-extend from the element's width.
    ((v << (128 - bits)) as i128) >> (128 - bits)
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// A float as numpy prints it: the shortest digits of its own width, Python's style.
fn float_text(raw: &[u8], order: ByteOrder) -> Option<String> {
    let v = uint(raw, order);
    Some(match raw.len() {
        8 => text::float_repr(f64::from_bits(v as u64)),
        4 => {
            // Shortest f32 digits, read back as f64 for Python's formatting.
            let x = f32::from_bits(v as u32);
            let shortest: f64 = format!("{x:e}").parse().ok()?;
            text::float_repr(if x.is_finite() {
                shortest
            } else {
                f64::from(x)
            })
        }
        2 => {
            let x = half_to_f64(v as u16) as f32;
            let shortest: f64 = format!("{x:e}").parse().ok()?;
            text::float_repr(if x.is_finite() {
                shortest
            } else {
                f64::from(x)
            })
        }
        _ => return None,
    })
}

/// Python's `repr` of a complex made of two float texts.
fn complex_text(re: &str, im: &str) -> String {
    let short = |s: &str| s.strip_suffix(".0").unwrap_or(s).to_owned();
    let (re, im) = (short(re), short(im));
    if re == "0" {
        return format!("{im}j");
    }
    if im.starts_with('-') {
        format!("({re}{im}j)")
    } else {
        format!("({re}+{im}j)")
    }
}

/// Days since 1970-01-01 as a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A datetime64 value as numpy prints it (`'2024-01-02T03:04:05'`, `'NaT'`), for units
/// from days to nanoseconds; other units print the raw count with the unit.
fn datetime_text(v: i64, u: &TimeUnit) -> String {
    if v == i64::MIN {
        return "'NaT'".into();
    }
    let per_sec: Option<(i64, usize)> = match u.unit.as_str() {
        "D" => Some((0, 0)),
        "h" | "m" | "s" => Some((1, 0)),
        "ms" => Some((1_000, 3)),
        "us" => Some((1_000_000, 6)),
        "ns" => Some((1_000_000_000, 9)),
        _ => None,
    };
    let (Some((per, digits)), 1) = (per_sec, u.count) else {
        return format!("{v}[{}{}]", u.count, u.unit);
    };
    if u.unit == "D" {
        let (y, m, d) = civil(v);
        return format!("'{y:04}-{m:02}-{d:02}'");
    }
    let (secs, frac) = match u.unit.as_str() {
        "h" => (v.saturating_mul(3600), 0),
        "m" => (v.saturating_mul(60), 0),
        "s" => (v, 0),
        _ => (v.div_euclid(per), v.rem_euclid(per)),
    };
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil(days);
    let mut s = format!("'{y:04}-{mo:02}-{d:02}T{:02}", rest / 3600);
    match u.unit.as_str() {
        "h" => {}
        "m" => s.push_str(&format!(":{:02}", rest / 60 % 60)),
        _ => s.push_str(&format!(":{:02}:{:02}", rest / 60 % 60, rest % 60)),
    }
    if digits > 0 {
        s.push_str(&format!(".{frac:0digits$}"));
    }
    s.push('\'');
    s
}

/// One element's text; structured elements as tuples.
fn scalar_text(d: &DType, raw: &[u8], depth: usize) -> Option<String> {
    Some(match d {
        DType::Bool => if raw.first()? != &0 { "True" } else { "False" }.into(),
        DType::Int(_, o) => int(raw, *o).to_string(),
        DType::UInt(_, o) => uint(raw, *o).to_string(),
        DType::Float(_, o) => float_text(raw, *o)?,
        DType::Complex(n, o) => {
            let half = usize::from(*n) / 2;
            complex_text(
                &float_text(raw.get(..half)?, *o)?,
                &float_text(raw.get(half..)?, *o)?,
            )
        }
        DType::Bytes(_) => {
            let end = raw.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            text::repr_bytes(&raw[..end], "b")
        }
        DType::Unicode(_, o) => {
            let s: String = raw
                .chunks_exact(4)
                .map(|c| uint(c, *o) as u32)
                .map(|c| char::from_u32(c).unwrap_or('\u{fffd}'))
                .collect();
            py_str(s.trim_end_matches('\0'))
        }
        DType::DateTime(u, o) => datetime_text(int(raw, *o) as i64, u),
        DType::TimeDelta(_, o) => match int(raw, *o) as i64 {
            i64::MIN => "'NaT'".into(),
            v => v.to_string(),
        },
        DType::Struct { fields, .. } if depth < MAX_ELEMENT_DEPTH => {
            let mut parts = Vec::with_capacity(fields.len());
            for f in fields {
                let size = f.dtype.itemsize();
                let end = f.offset.checked_add(size)?;
                parts.push(scalar_text(&f.dtype, raw.get(f.offset..end)?, depth + 1)?);
            }
            format!("({})", parts.join(", "))
        }
        _ => return None,
    })
}

/// The values of a pandas index (or any array-like node): its array when it has one.
fn index_data(g: &Graph, id: NodeId) -> Option<NodeId> {
    let o = object(g, id)?;
    let (_, name) = global_of(g, o.callable)?;
    if name != "_new_Index" {
        return None;
    }
    let args = tuple(g, o.args).ok()?;
    let Node::Dict(kv) = g.get(*args.get(1)?) else {
        return None;
    };
    g.pairs(*kv)
        .iter()
        .find(|&(k, _)| matches!(g.get(k), Node::Str(s) if s.to_string_lossy() == "data"))
        .map(|(_, v)| v)
}

/// The ndarray inside a pandas `NDArrayBacked` extension array (its state's array), or the
/// node itself when it is an ndarray.
fn backing_array(g: &Graph, id: NodeId) -> Option<NodeId> {
    if matches!(numpy::array_at(g, id), Ok(Some(_))) {
        return Some(id);
    }
    let o = object(g, id)?;
    let (_, name) = global_of(g, o.callable)?;
    if name != "__pyx_unpickle_NDArrayBacked" {
        return None;
    }
    let st = tuple(g, o.state?).ok()?;
    st.iter()
        .copied()
        .find(|&s| matches!(numpy::array_at(g, s), Ok(Some(_))))
}

/// The field `key` of a str-keyed dict node.
fn dict_field(g: &Graph, dict: NodeId, key: &str) -> Option<NodeId> {
    let Node::Dict(kv) = g.get(dict) else {
        return None;
    };
    g.pairs(*kv)
        .iter()
        .find(|&(k, _)| matches!(g.get(k), Node::Str(s) if s.to_string_lossy() == key))
        .map(|(_, v)| v)
}

/// Column positions of a block placement: `slice(start, stop, step)` or an int array.
fn placement(g: &Graph, id: NodeId, ncols: usize) -> Option<Vec<usize>> {
    if let Ok(Some(a)) = numpy::array_at(g, id) {
        let mut out = Vec::new();
        for i in 0..a.numel() {
            let Data::Bytes(b) = &a.data else {
                return None;
            };
            let size = a.dtype.itemsize();
            let pos = position(&a, i)?.checked_mul(size)?;
            let (DType::Int(_, o) | DType::UInt(_, o)) = a.dtype else {
                return None;
            };
            out.push(usize::try_from(int(b.get(pos..pos.checked_add(size)?)?, o)).ok()?);
        }
        return Some(out);
    }
    let o = object(g, id)?;
    if global_of(g, o.callable)?.1 != "slice" {
        return None;
    }
    let args = tuple(g, o.args).ok()?;
    let num = |i: usize, default: i64| match args.get(i).map(|&a| g.get(a)) {
        Some(Node::Int(v)) => Some(*v),
        Some(Node::None) | None => Some(default),
        _ => None,
    };
    let (start, stop, step) = (num(0, 0)?, num(1, ncols as i64)?, num(2, 1)?);
    if start < 0 || stop < start || step <= 0 || stop as u64 > ncols as u64 {
        return None;
    }
    Some(
        (start..stop)
            .step_by(step as usize)
            .map(|v| v as usize)
            .collect(),
    )
}

/// pandas objects: DataFrame, Series, indexes, extension arrays.
fn pandas(g: &Graph, id: NodeId, module: &str, name: &str, items: usize) -> Option<Vec<Piece>> {
    let o = object(g, id)?;
    let mut out = Pieces::default();
    match name {
        "_new_Index" => {
            // `_new_Index(cls, {'data': ..., 'name': ...})`: `cls(data=..., name=...)`.
            let args = tuple(g, o.args).ok()?;
            let (m, n) = global_of(g, *args.first()?)?;
            let Node::Dict(kv) = g.get(*args.get(1)?) else {
                return None;
            };
            out.text(format!("{}.{}(", escape(m), escape(n)));
            for (i, (k, v)) in g.pairs(*kv).iter().enumerate() {
                let Node::Str(k) = g.get(k) else {
                    return None;
                };
                if i > 0 {
                    out.text(", ");
                }
                out.text(format!("{}=", escape(&k.to_string_lossy())));
                out.value(v);
            }
            out.text(")");
        }
        "__pyx_unpickle_NDArrayBacked" => {
            // `(cls, checksum, None)` + state `(dtype, ndarray[, attrs])`.
            let args = tuple(g, o.args).ok()?;
            let (m, n) = global_of(g, *args.first()?)?;
            let st = tuple(g, o.state?).ok()?;
            let (&dtype, &values) = (st.first()?, st.get(1)?);
            out.text(format!("{}.{}(", escape(m), escape(n)));
            out.value(values);
            out.text(", dtype=");
            out.value(dtype);
            out.text(")");
        }
        "DataFrame" => dataframe(g, o.state?, module, &mut out, items)?,
        "Series" => {
            let state = o.state?;
            let mgr = dict_field(g, state, "_mgr")?;
            let m = object(g, mgr)?;
            // SingleBlockManager state: ([axes], [values], [axes], {...}).
            let st = tuple(g, m.state?).ok()?;
            let values = *tuple(g, *st.get(1)?).ok()?.first()?;
            let index = *tuple(g, *st.first()?).ok()?.first()?;
            out.text(format!("{}.Series(", escape(short_module(module))));
            out.value(values);
            out.text(", index=");
            out.value(index);
            if let Some(n) = dict_field(g, state, "_name") {
                out.text(", name=");
                out.value(n);
            }
            out.text(")");
        }
        _ => return None,
    }
    Some(out.0)
}

/// `pandas` for `pandas.core.frame` (pandas < 3 names classes by their defining module).
fn short_module(module: &str) -> &str {
    module.split('.').next().unwrap_or(module)
}

/// Control characters of a name from the file, escaped (`\x1b`).
fn escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || c == '\\' {
                format!("\\x{:02x}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `pandas.DataFrame({column: values, ...}, index=...)` from the BlockManager: each block's
/// 2-D values hold one row per column, placed by the block's slice or positions.
fn dataframe(g: &Graph, state: NodeId, module: &str, out: &mut Pieces, items: usize) -> Option<()> {
    let mgr = object(g, dict_field(g, state, "_mgr")?)?;
    if global_of(g, mgr.callable)?.1 != "BlockManager" {
        return None;
    }
    // REDUCE(BlockManager, ((block, ...), [columns, index])).
    let args = tuple(g, mgr.args).ok()?;
    let blocks = tuple(g, *args.first()?).ok()?;
    let axes = tuple(g, *args.get(1)?).ok()?;
    let (&columns, &index) = (axes.first()?, axes.get(1)?);
    let labels_node = backing_array(g, index_data(g, columns)?)?;
    let labels = numpy::array_at(g, labels_node).ok()??;
    let ncols = labels.numel();
    // Each column: the block values' row (2-D ndarray) or the whole extension array.
    let mut cols: Vec<Option<Col>> = vec![None; ncols];
    for &b in blocks {
        let bo = object(g, b)?;
        let bargs = tuple(g, bo.args).ok()?;
        let (&values, &place) = (bargs.first()?, bargs.get(1)?);
        let positions = placement(g, place, ncols)?;
        match numpy::array_at(g, values) {
            Ok(Some(a)) if a.shape.len() == 2 && a.shape[0] == positions.len() => {
                for (row, &p) in positions.iter().enumerate() {
                    *cols.get_mut(p)? = Some(Col::Row(values, row));
                }
            }
            _ if positions.len() == 1 => *cols.get_mut(positions[0])? = Some(Col::Whole(values)),
            _ => return None,
        }
    }
    out.text(format!("{}.DataFrame({{", escape(short_module(module))));
    for (i, col) in cols.iter().enumerate() {
        if i > 0 {
            out.text(", ");
        }
        if i >= items {
            out.text("...");
            break;
        }
        element(&labels, i, out)?;
        out.text(": ");
        match col.as_ref()? {
            Col::Whole(v) => out.value(*v),
            Col::Row(v, row) => {
                let a = numpy::array_at(g, *v).ok()??;
                let (&s0, &s1, &n) = (a.strides.first()?, a.strides.get(1)?, a.shape.get(1)?);
                let mut r = a.clone();
                r.offset = a.offset.checked_add(row.checked_mul(s0)?)?;
                r.shape = vec![n];
                r.strides = vec![s1];
                r.mask = None;
                out.0.extend(array_summary(&r, items));
            }
        }
    }
    out.text("}, index=");
    out.value(index);
    out.text(")");
    Some(())
}

/// Where a DataFrame column's values are.
#[derive(Clone, Copy)]
enum Col {
    /// A whole node (an extension array).
    Whole(NodeId),
    /// One row of a 2-D ndarray block.
    Row(NodeId, usize),
}
