//! N-d selections as numpy writes them (`1:3,::2,-1`): parsing, resolving against a shape, and
//! slicing arrays held in memory.

use std::str::FromStr;

use crate::array::{Array, Data};
use crate::error::{Error, Result};

/// One dimension of a [`Selection`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// One index (negative counts from the end); the dimension is dropped from the result.
    Index(i64),
    /// `start:stop:step`, Python's rules; `step` must be positive (as in h5py).
    Slice {
        /// First index (default 0; negative counts from the end).
        start: Option<i64>,
        /// One past the last index (default the extent).
        stop: Option<i64>,
        /// Stride (default 1).
        step: Option<i64>,
    },
}

/// An n-d selection: one [`Dim`] per leading dimension; missing trailing ones select everything.
///
/// ```
/// use brine_hdf5::Selection;
/// let sel: Selection = "1:3, ::2".parse()?;
/// let r = sel.resolve(&[5, 6])?;
/// assert_eq!(r.shape(), vec![2, 3]);
/// # Ok::<(), brine_hdf5::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection(pub Vec<Dim>);

impl Selection {
    /// Everything.
    pub fn all() -> Selection {
        Selection(Vec::new())
    }

    /// Fixes each dimension against `shape`: clamps slices, checks indices.
    pub fn resolve(&self, shape: &[usize]) -> Result<Resolved> {
        if self.0.len() > shape.len() {
            return Err(Error::data(format!(
                "{} indices for {} dimensions",
                self.0.len(),
                shape.len()
            )));
        }
        let mut dims = Vec::with_capacity(shape.len());
        for (i, &extent) in shape.iter().enumerate() {
            let n = i64::try_from(extent).map_err(|_| Error::limit("extent too large"))?;
            let dim = self.0.get(i).copied().unwrap_or(Dim::Slice {
                start: None,
                stop: None,
                step: None,
            });
            dims.push(match dim {
                Dim::Index(ix) => {
                    let at = if ix < 0 { ix + n } else { ix };
                    if at < 0 || at >= n {
                        return Err(Error::data(format!(
                            "index {ix} out of range for dimension {i} of extent {extent}"
                        )));
                    }
                    ResolvedDim {
                        start: at as usize,
                        step: 1,
                        count: 1,
                        keep: false,
                    }
                }
                Dim::Slice { start, stop, step } => {
                    let step = step.unwrap_or(1);
                    if step <= 0 {
                        return Err(Error::data(format!("step {step} must be positive")));
                    }
                    let clamp = |v: i64| {
                        let v = if v < 0 { v.saturating_add(n) } else { v };
                        v.clamp(0, n)
                    };
                    let lo = start.map_or(0, clamp);
                    let hi = stop.map_or(n, clamp);
                    let count = if hi > lo { (hi - lo - 1) / step + 1 } else { 0 };
                    ResolvedDim {
                        start: lo as usize,
                        step: step as usize,
                        count: count as usize,
                        keep: true,
                    }
                }
            });
        }
        Ok(Resolved { dims })
    }
}

impl FromStr for Selection {
    type Err = Error;

    /// Parses `1:3,::2,-1` (blanks ignored; an empty string selects everything).
    fn from_str(s: &str) -> Result<Selection> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if s.is_empty() {
            return Ok(Selection::all());
        }
        let num = |t: &str| -> Result<Option<i64>> {
            if t.is_empty() {
                Ok(None)
            } else {
                t.parse::<i64>()
                    .map(Some)
                    .map_err(|_| Error::data(format!("bad number {t:?} in selection")))
            }
        };
        let mut dims = Vec::new();
        for part in s.split(',') {
            let fields: Vec<&str> = part.split(':').collect();
            dims.push(match fields.as_slice() {
                [one] => {
                    Dim::Index(num(one)?.ok_or_else(|| Error::data("empty index in selection"))?)
                }
                [a, b] => Dim::Slice {
                    start: num(a)?,
                    stop: num(b)?,
                    step: None,
                },
                [a, b, c] => Dim::Slice {
                    start: num(a)?,
                    stop: num(b)?,
                    step: num(c)?,
                },
                _ => return Err(Error::data(format!("bad selection part {part:?}"))),
            });
        }
        Ok(Selection(dims))
    }
}

/// One dimension of a [`Resolved`] selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedDim {
    /// First index.
    pub start: usize,
    /// Stride (at least 1).
    pub step: usize,
    /// Number of indices selected.
    pub count: usize,
    /// Whether the dimension stays in the result (slices) or is dropped (single indices).
    pub keep: bool,
}

/// A selection fixed against a shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// One entry per dimension of the dataset.
    pub dims: Vec<ResolvedDim>,
}

impl Resolved {
    /// The shape of the result (dimensions selected by one index are dropped).
    pub fn shape(&self) -> Vec<usize> {
        self.dims
            .iter()
            .filter(|d| d.keep)
            .map(|d| d.count)
            .collect()
    }

    /// The number of selected elements (saturating: a file may claim absurd extents).
    pub fn count(&self) -> usize {
        if self.dims.iter().any(|d| d.count == 0) {
            return 0;
        }
        self.dims
            .iter()
            .fold(1usize, |acc, d| acc.saturating_mul(d.count))
    }

    /// Calls `f` with the flat C-order index (in an array of `shape`) of each selected element,
    /// in C order of the result. An odometer, not recursion.
    pub(crate) fn for_each_index(&self, shape: &[usize], mut f: impl FnMut(usize)) {
        if self.count() == 0 {
            return;
        }
        let n = self.dims.len();
        let mut strides = vec![1usize; n];
        for i in (0..n.saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * shape[i + 1];
        }
        let mut pos = vec![0usize; n];
        loop {
            let flat: usize = (0..n)
                .map(|i| (self.dims[i].start + pos[i] * self.dims[i].step) * strides[i])
                .sum();
            f(flat);
            let mut d = n;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                pos[d] += 1;
                if pos[d] < self.dims[d].count {
                    break;
                }
                pos[d] = 0;
            }
        }
    }
}

/// Applies a selection to an array held in memory.
pub(crate) fn slice_array(array: &Array, sel: &Selection) -> Result<Array> {
    let r = sel.resolve(array.shape())?;
    let shape = array.shape().to_vec();
    let data = match array.data() {
        Data::Bytes(bytes) => {
            let size = array.dtype().size().unwrap_or(1);
            let mut out = Vec::with_capacity(r.count().saturating_mul(size).min(1 << 26));
            r.for_each_index(&shape, |i| {
                out.extend_from_slice(&bytes[i * size..(i + 1) * size]);
            });
            Data::Bytes(out)
        }
        Data::Strings(strings) => {
            let mut out = Vec::with_capacity(r.count().min(1 << 20));
            r.for_each_index(&shape, |i| out.push(strings[i].clone()));
            Data::Strings(out)
        }
    };
    Array::new(array.dtype(), r.shape(), data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves_like_numpy() {
        let sel: Selection = "1:-1:2, -1".parse().unwrap();
        let r = sel.resolve(&[7, 3]).unwrap();
        assert_eq!(r.dims[0].start, 1);
        assert_eq!(r.dims[0].count, 3); // 1, 3, 5
        assert_eq!(r.dims[1].start, 2);
        assert_eq!(r.shape(), vec![3]);
        assert!("1:2:0".parse::<Selection>().unwrap().resolve(&[4]).is_err());
        assert!("5".parse::<Selection>().unwrap().resolve(&[4]).is_err());
        assert!("a:b".parse::<Selection>().is_err());
        let big = "0:99999999999999".parse::<Selection>().unwrap();
        assert_eq!(big.resolve(&[4]).unwrap().count(), 4);
    }

    #[test]
    fn huge_extents_do_not_overflow() {
        let huge = 1usize << 40;
        let r = Selection::all().resolve(&[huge, huge, 0]).unwrap();
        assert_eq!(r.count(), 0);
        let r = Selection::all().resolve(&[huge, huge, huge]).unwrap();
        assert_eq!(r.count(), usize::MAX);
    }

    #[test]
    fn slices_in_memory() {
        let a = Array::from_i32(&(0..12).collect::<Vec<_>>())
            .reshape(&[3, 4])
            .unwrap();
        let s = slice_array(&a, &"1:,::2".parse().unwrap()).unwrap();
        assert_eq!(s.shape(), &[2, 2]);
        assert_eq!(s.to_i64().unwrap(), vec![4, 6, 8, 10]);
    }
}
