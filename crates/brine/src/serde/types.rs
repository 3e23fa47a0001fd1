//! Wrapper types for the Python values JSON has no words for: tuple, set, frozenset,
//! bytearray, globals and ints of any size.
//!
//! Each wrapper serializes as a newtype struct with a private marker name, which brine's
//! serializer and deserializer recognise; other serde formats see a plain newtype (the inner
//! value), so the wrappers stay usable with them.

use std::fmt;

use ::serde::de::{self, Deserialize, Deserializer, Visitor};
use ::serde::ser::{Serialize, Serializer};

/// Marker names: a NUL byte first, so no Rust identifier or `rename` collides by accident.
pub(crate) const TUPLE: &str = "\0brine::Tuple";
pub(crate) const SET: &str = "\0brine::Set";
pub(crate) const FROZENSET: &str = "\0brine::FrozenSet";
pub(crate) const BYTEARRAY: &str = "\0brine::ByteArray";
pub(crate) const GLOBAL: &str = "\0brine::Global";
pub(crate) const BIGINT: &str = "\0brine::BigInt";

macro_rules! container_wrapper {
    ($name:ident, $marker:ident, $py:literal) => {
        #[doc = concat!("A Python `", $py, "` holding `T` (any sequence: `Vec`, a Rust tuple, an array, a set).")]
        ///
        #[doc = concat!("Written as a `", $py, "`; reading requires a `", $py, "`.")]
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name<T>(pub T);

        impl<T: Serialize> Serialize for $name<T> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_newtype_struct($marker, &self.0)
            }
        }

        impl<'de, T: Deserialize<'de>> Deserialize<'de> for $name<T> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<T>(std::marker::PhantomData<T>);
                impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
                    type Value = $name<T>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("a ", $py))
                    }
                    fn visit_newtype_struct<D: Deserializer<'de>>(
                        self,
                        d: D,
                    ) -> Result<Self::Value, D::Error> {
                        T::deserialize(d).map($name)
                    }
                }
                d.deserialize_newtype_struct($marker, V(std::marker::PhantomData))
            }
        }
    };
}

container_wrapper!(Tuple, TUPLE, "tuple");
container_wrapper!(Set, SET, "set");
container_wrapper!(FrozenSet, FROZENSET, "frozenset");

/// A Python `bytearray` (a plain `Vec<u8>` with `serde_bytes` is `bytes`).
///
/// Written as BYTEARRAY8 at protocol 5 and as CPython's `bytearray(...)` call below it;
/// reading requires a `bytearray`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteArray(pub Vec<u8>);

/// Serializes a byte slice as bytes (what `serde_bytes` does), without the dependency.
pub(crate) struct BytesRef<'a>(pub(crate) &'a [u8]);

impl Serialize for BytesRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for ByteArray {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(BYTEARRAY, &BytesRef(&self.0))
    }
}

/// Takes bytes (or a sequence of byte values, what formats without bytes give).
struct BufVisitor;

impl<'de> Visitor<'de> for BufVisitor {
    type Value = Vec<u8>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::new();
        while let Some(b) = a.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}

impl<'de> Deserialize<'de> for ByteArray {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteArray;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bytearray")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<ByteArray, D::Error> {
                d.deserialize_byte_buf(BufVisitor).map(ByteArray)
            }
        }
        d.deserialize_newtype_struct(BYTEARRAY, V)
    }
}

/// A reference to a module attribute (a class, a function): what `pickle` writes for
/// `collections.OrderedDict` itself, as GLOBAL / STACK_GLOBAL. Nothing is ever imported.
///
/// ```
/// use brine::serde::Global;
/// let g = Global::new("collections", "OrderedDict");
/// let bytes = brine::to_vec(&g)?;
/// let back: Global = brine::from_slice(&bytes)?;
/// assert_eq!(back, g);
/// # Ok::<(), brine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Global {
    /// The module, e.g. `collections`.
    pub module: String,
    /// The (qualified) name, e.g. `OrderedDict` or `Outer.Inner`.
    pub name: String,
}

impl Global {
    /// `module.name`.
    pub fn new(module: impl Into<String>, name: impl Into<String>) -> Self {
        Global {
            module: module.into(),
            name: name.into(),
        }
    }
}

impl Serialize for Global {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(GLOBAL, &(&self.module, &self.name))
    }
}

impl<'de> Deserialize<'de> for Global {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Global;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a global (module and name)")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Global, D::Error> {
                let (module, name) = <(String, String)>::deserialize(d)?;
                Ok(Global { module, name })
            }
        }
        d.deserialize_newtype_struct(GLOBAL, V)
    }
}

/// A Python `int` of any size, as a [`num_bigint::BigInt`].
///
/// Values that fit in 64 (or 128) bits travel as ordinary serde integers, so other formats
/// read them too; larger ones as a marked newtype that brine writes as LONG1 / LONG4 (other
/// formats see the decimal string).
///
/// ```
/// use brine::serde::BigInt;
/// let big = BigInt("123456789012345678901234567890123456789012".parse().unwrap());
/// let bytes = brine::to_vec(&big)?;
/// assert_eq!(brine::from_slice::<BigInt>(&bytes)?, big);
/// # Ok::<(), brine::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BigInt(pub num_bigint::BigInt);

impl Serialize for BigInt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use num_traits::ToPrimitive;
        if let Some(v) = self.0.to_i64() {
            s.serialize_i64(v)
        } else if let Some(v) = self.0.to_i128() {
            s.serialize_i128(v)
        } else if let Some(v) = self.0.to_u128() {
            s.serialize_u128(v)
        } else {
            s.serialize_newtype_struct(BIGINT, &self.0.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for BigInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BigInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an int")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<BigInt, E> {
                Ok(BigInt(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<BigInt, E> {
                Ok(BigInt(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<BigInt, E> {
                Ok(BigInt(v.into()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<BigInt, E> {
                Ok(BigInt(v.into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BigInt, E> {
                v.parse()
                    .map(BigInt)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            /// brine hands big ints over as signed little-endian bytes (no decimal detour).
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<BigInt, E> {
                Ok(BigInt(num_bigint::BigInt::from_signed_bytes_le(v)))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<BigInt, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_newtype_struct(BIGINT, V)
    }
}
