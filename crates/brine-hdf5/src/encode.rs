//! The HDF5 writer: lays out a [`Tree`] as a file that libhdf5 1.8 and later, h5py and brine
//! read back.
//!
//! The subset written is the one h5py's `libver='earliest'` writer would pick, with the
//! version-2 (checksummed) headers of HDF5 1.8: superblock 2, object header 2 with compact link
//! storage, contiguous layout or chunked layout 3 indexed by a version-1 B-tree, deflate and
//! shuffle filters, version-3 attribute messages, and a global heap for variable-length strings.
//! See the HDF5 File Format Specification, version 3.0, for each structure named here.

use std::borrow::Cow;
use std::io::{Seek, SeekFrom, Write};

use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::array::{element_count, Array, DType, Data, Encoding};
use crate::checksum::lookup3;
use crate::error::{Error, Result};
use crate::tree::{DatasetOptions, Kind, Tree};

const UNDEF: u64 = u64::MAX;
const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// libhdf5's default `K` for chunk B-trees; it reads nodes as if sized for `2K` entries.
const CHUNK_BTREE_K: usize = 32;
/// A global heap collection's index field is 16 bits wide.
const MAX_HEAP_OBJECTS: usize = 60_000;
/// libhdf5 reads at least this much of a global heap collection up front.
const MIN_HEAP_SIZE: usize = 4096;
/// h5py aims at chunks of a few hundred KiB when it picks the shape itself.
const AUTO_CHUNK_BYTES: usize = 256 * 1024;

/// A writer that knows where it is.
struct Out<W> {
    w: W,
    pos: u64,
}

impl<W: Write> Out<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<u64> {
        let at = self.pos;
        self.w
            .write_all(bytes)
            .map_err(|e| Error::io("write failed", e))?;
        self.pos += bytes.len() as u64;
        Ok(at)
    }
}

/// Writes `tree` to `w` (which must start empty at position 0).
pub(crate) fn encode<W: Write + Seek>(tree: &Tree, w: W) -> Result<W> {
    let mut out = Out { w, pos: 0 };
    out.put(&[0u8; 48])?; // the superblock, filled in last
    let mut addr = vec![UNDEF; tree.nodes.len()];
    // Post-order without recursion: children get addresses before their parent's links.
    let mut stack: Vec<(usize, bool)> = vec![(0, false)];
    while let Some((id, expanded)) = stack.pop() {
        let node = &tree.nodes[id];
        if !expanded {
            stack.push((id, true));
            if let Kind::Group { children } = &node.kind {
                for &c in children.iter().rev() {
                    stack.push((c, false));
                }
            }
            continue;
        }
        let mut msgs: Vec<(u8, Vec<u8>)> = Vec::new();
        match &node.kind {
            Kind::Group { children } => {
                // Link info with no dense storage: the links are the header's own messages.
                let mut link_info = vec![0u8, 0];
                link_info.extend_from_slice(&UNDEF.to_le_bytes());
                link_info.extend_from_slice(&UNDEF.to_le_bytes());
                msgs.push((0x02, link_info));
                msgs.push((0x0A, vec![0, 0]));
                for &c in children {
                    msgs.push((0x06, link_message(&tree.nodes[c].name, addr[c])?));
                }
            }
            Kind::Dataset { array, options } => {
                dataset_messages(&mut out, array, options, &mut msgs)?;
            }
        }
        for (name, value) in &node.attrs {
            msgs.push((0x0C, attribute_message(&mut out, name, value)?));
        }
        addr[id] = write_header(&mut out, &msgs)?;
    }
    let eof = out.pos;
    let mut sb = Vec::with_capacity(48);
    sb.extend_from_slice(SIGNATURE);
    sb.extend_from_slice(&[2, 8, 8, 0]);
    sb.extend_from_slice(&0u64.to_le_bytes());
    sb.extend_from_slice(&UNDEF.to_le_bytes());
    sb.extend_from_slice(&eof.to_le_bytes());
    sb.extend_from_slice(&addr[0].to_le_bytes());
    let sum = lookup3(&sb);
    sb.extend_from_slice(&sum.to_le_bytes());
    let io = |e| Error::io("write failed", e);
    out.w.seek(SeekFrom::Start(0)).map_err(io)?;
    out.w.write_all(&sb).map_err(io)?;
    out.w.seek(SeekFrom::Start(eof)).map_err(io)?;
    out.w.flush().map_err(io)?;
    Ok(out.w)
}

fn write_header<W: Write>(out: &mut Out<W>, msgs: &[(u8, Vec<u8>)]) -> Result<u64> {
    let mut body = Vec::new();
    for (kind, data) in msgs {
        let len = u16::try_from(data.len()).map_err(|_| {
            Error::unsupported(format!(
                "a header message of {} bytes (over 64 KiB; dense attribute storage is not written)",
                data.len()
            ))
        })?;
        body.push(*kind);
        body.extend_from_slice(&len.to_le_bytes());
        // Datatype messages are marked constant, as libhdf5 marks them.
        body.push(u8::from(*kind == 0x03));
        body.extend_from_slice(data);
    }
    let size = u32::try_from(body.len()).map_err(|_| Error::limit("object header too large"))?;
    let mut h = Vec::with_capacity(body.len() + 16);
    h.extend_from_slice(b"OHDR");
    h.push(2);
    h.push(0x02); // the chunk-0 size field is 4 bytes
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&body);
    let sum = lookup3(&h);
    h.extend_from_slice(&sum.to_le_bytes());
    out.put(&h)
}

fn link_message(name: &str, target: u64) -> Result<Vec<u8>> {
    let bytes = name.as_bytes();
    let len = u16::try_from(bytes.len()).map_err(|_| Error::data("link name too long"))?;
    let mut m = vec![1u8];
    let ascii = bytes.is_ascii();
    // Flags: a 2-byte name length, and the charset only when it is not ASCII.
    m.push(0x01 | if ascii { 0 } else { 0x10 });
    if !ascii {
        m.push(1);
    }
    m.extend_from_slice(&len.to_le_bytes());
    m.extend_from_slice(bytes);
    m.extend_from_slice(&target.to_le_bytes());
    Ok(m)
}

fn dataspace(shape: &[usize]) -> Result<Vec<u8>> {
    let rank = u8::try_from(shape.len()).map_err(|_| Error::data("more than 255 dimensions"))?;
    let mut m = vec![2, rank, 0, if shape.is_empty() { 0 } else { 1 }];
    for &d in shape {
        m.extend_from_slice(&(d as u64).to_le_bytes());
    }
    Ok(m)
}

fn fixed_point(m: &mut Vec<u8>, size: u32, signed: bool) {
    m.extend_from_slice(&[0x10, if signed { 0x08 } else { 0 }, 0, 0]);
    m.extend_from_slice(&size.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&((size * 8) as u16).to_le_bytes());
}

fn floating_point(m: &mut Vec<u8>, size: u32) {
    // (sign bit, exponent location, exponent size, mantissa size, bias) of IEEE 754.
    let (sign, exp_loc, exp_size, mant_size, bias): (u8, u8, u8, u8, u32) = match size {
        2 => (15, 10, 5, 10, 15),
        4 => (31, 23, 8, 23, 127),
        _ => (63, 52, 11, 52, 1023),
    };
    m.extend_from_slice(&[0x11, 0x20, sign, 0]);
    m.extend_from_slice(&size.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&((size * 8) as u16).to_le_bytes());
    m.extend_from_slice(&[exp_loc, exp_size, 0, mant_size]);
    m.extend_from_slice(&bias.to_le_bytes());
}

fn charset(e: Encoding) -> u8 {
    match e {
        Encoding::Ascii => 0,
        Encoding::Utf8 => 1,
    }
}

/// The datatype message of `dtype`, as h5py builds each numpy dtype.
fn datatype(dtype: DType) -> Result<Vec<u8>> {
    let mut m = Vec::new();
    match dtype {
        DType::Bool => {
            // h5py: an enum over int8 with members FALSE = 0 and TRUE = 1 (version 3 encoding).
            m.extend_from_slice(&[0x38, 2, 0, 0]);
            m.extend_from_slice(&1u32.to_le_bytes());
            fixed_point(&mut m, 1, true);
            m.extend_from_slice(b"FALSE\0TRUE\0");
            m.extend_from_slice(&[0, 1]);
        }
        DType::I8 => fixed_point(&mut m, 1, true),
        DType::I16 => fixed_point(&mut m, 2, true),
        DType::I32 => fixed_point(&mut m, 4, true),
        DType::I64 => fixed_point(&mut m, 8, true),
        DType::U8 => fixed_point(&mut m, 1, false),
        DType::U16 => fixed_point(&mut m, 2, false),
        DType::U32 => fixed_point(&mut m, 4, false),
        DType::U64 => fixed_point(&mut m, 8, false),
        DType::F16 => floating_point(&mut m, 2),
        DType::F32 => floating_point(&mut m, 4),
        DType::F64 => floating_point(&mut m, 8),
        DType::C64 | DType::C128 => {
            // h5py: a compound of fields `r` and `i` (version 3: packed names, 1-byte offsets).
            let half: u32 = if dtype == DType::C64 { 4 } else { 8 };
            m.extend_from_slice(&[0x36, 2, 0, 0]);
            m.extend_from_slice(&(2 * half).to_le_bytes());
            m.extend_from_slice(b"r\0");
            m.push(0);
            floating_point(&mut m, half);
            m.extend_from_slice(b"i\0");
            m.push(half as u8);
            floating_point(&mut m, half);
        }
        DType::FixedString { len, encoding } => {
            let size = u32::try_from(len)
                .ok()
                .filter(|&s| s > 0)
                .ok_or_else(|| Error::data(format!("bad string length {len}")))?;
            // Null-padded, as numpy `S` strings are.
            m.extend_from_slice(&[0x13, 0x01 | (charset(encoding) << 4), 0, 0]);
            m.extend_from_slice(&size.to_le_bytes());
        }
        DType::VarString { encoding } => {
            // Kind string, null-terminated, over a 1-byte unsigned base as libhdf5 makes it.
            m.extend_from_slice(&[0x19, 0x01, charset(encoding), 0]);
            m.extend_from_slice(&16u32.to_le_bytes());
            fixed_point(&mut m, 1, false);
        }
    }
    Ok(m)
}

/// The stored bytes of an array: fixed-size data as is (borrowed: a dataset's data is not
/// copied again to be written), strings as global heap references.
fn element_bytes<'a, W: Write>(out: &mut Out<W>, array: &'a Array) -> Result<Cow<'a, [u8]>> {
    match array.data() {
        Data::Bytes(b) => Ok(Cow::Borrowed(b)),
        Data::Strings(strings) => {
            let mut refs = Vec::with_capacity(strings.len() * 16);
            for group in strings.chunks(MAX_HEAP_OBJECTS) {
                refs.extend(write_heap(out, group)?);
            }
            Ok(Cow::Owned(refs))
        }
    }
}

/// One global heap collection holding `strings`; returns their 16-byte references.
fn write_heap<W: Write>(out: &mut Out<W>, strings: &[String]) -> Result<Vec<u8>> {
    let mut objects = Vec::new();
    let mut index = Vec::with_capacity(strings.len());
    let mut next = 1u16;
    for s in strings {
        if s.is_empty() {
            index.push(None); // empty strings are null references: no heap object
            continue;
        }
        let len = s.len() as u64;
        objects.extend_from_slice(&next.to_le_bytes());
        objects.extend_from_slice(&1u16.to_le_bytes()); // reference count
        objects.extend_from_slice(&[0; 4]);
        objects.extend_from_slice(&len.to_le_bytes());
        objects.extend_from_slice(s.as_bytes());
        objects.resize(objects.len().next_multiple_of(8), 0);
        index.push(Some(next));
        next += 1;
    }
    let used = 16 + objects.len();
    let mut total = used.max(MIN_HEAP_SIZE);
    if total > used && total - used < 16 {
        total += 16; // room for the free-space object's header
    }
    let mut heap = Vec::with_capacity(total);
    heap.extend_from_slice(b"GCOL");
    heap.extend_from_slice(&[1, 0, 0, 0]);
    heap.extend_from_slice(&(total as u64).to_le_bytes());
    heap.extend_from_slice(&objects);
    if total > used {
        // Object 0 describes the free space that fills the collection up.
        heap.extend_from_slice(&[0u8; 8]);
        heap.extend_from_slice(&((total - used) as u64).to_le_bytes());
        heap.resize(total, 0);
    }
    let at = if objects.is_empty() {
        0
    } else {
        out.put(&heap)?
    };
    let mut refs = Vec::with_capacity(strings.len() * 16);
    for (s, ix) in strings.iter().zip(index) {
        refs.extend_from_slice(&(s.len() as u32).to_le_bytes());
        match ix {
            Some(i) => {
                refs.extend_from_slice(&at.to_le_bytes());
                refs.extend_from_slice(&u32::from(i).to_le_bytes());
            }
            None => refs.extend_from_slice(&[0u8; 12]),
        }
    }
    Ok(refs)
}

fn attribute_message<W: Write>(out: &mut Out<W>, name: &str, value: &Array) -> Result<Vec<u8>> {
    let dt = datatype(value.dtype())?;
    let ds = dataspace(value.shape())?;
    let data = element_bytes(out, value)?;
    let name_len = u16::try_from(name.len() + 1).map_err(|_| Error::data("name too long"))?;
    let mut m = vec![3u8, 0];
    m.extend_from_slice(&name_len.to_le_bytes());
    m.extend_from_slice(&(dt.len() as u16).to_le_bytes());
    m.extend_from_slice(&(ds.len() as u16).to_le_bytes());
    m.push(u8::from(!name.is_ascii()));
    m.extend_from_slice(name.as_bytes());
    m.push(0);
    m.extend_from_slice(&dt);
    m.extend_from_slice(&ds);
    m.extend_from_slice(&data);
    Ok(m)
}

/// A chunk shape when filters were asked for without one: halve the largest extent until a
/// chunk is small.
fn auto_chunks(shape: &[usize], elem: usize) -> Vec<usize> {
    let mut c: Vec<usize> = shape.iter().map(|&d| d.max(1)).collect();
    loop {
        let bytes = c.iter().fold(elem.max(1), |a, &d| a.saturating_mul(d));
        if bytes <= AUTO_CHUNK_BYTES {
            return c;
        }
        let Some((i, _)) = c.iter().enumerate().max_by_key(|(_, &d)| d) else {
            return c;
        };
        if c[i] == 1 {
            return c;
        }
        c[i] = c[i].div_ceil(2);
    }
}

fn dataset_messages<W: Write>(
    out: &mut Out<W>,
    array: &Array,
    options: &DatasetOptions,
    msgs: &mut Vec<(u8, Vec<u8>)>,
) -> Result<()> {
    let shape = array.shape();
    let elem = array.dtype().size().unwrap_or(16);
    let data = element_bytes(out, array)?;
    msgs.push((0x01, dataspace(shape)?));
    msgs.push((0x03, datatype(array.dtype())?));
    let chunks = match &options.chunks {
        Some(c) => Some(c.clone()),
        None if options.gzip.is_some() || options.shuffle => Some(auto_chunks(shape, elem)),
        None => None,
    };
    let Some(chunks) = chunks else {
        // Fill value: allocation late, written if set, none defined.
        msgs.push((0x05, vec![3, 0x0A]));
        let at = if data.is_empty() {
            UNDEF
        } else {
            out.put(&data)?
        };
        let mut layout = vec![3u8, 1];
        layout.extend_from_slice(&at.to_le_bytes());
        layout.extend_from_slice(&(data.len() as u64).to_le_bytes());
        msgs.push((0x08, layout));
        return Ok(());
    };
    msgs.push((0x05, vec![3, 0x0B])); // allocation incremental, as for every chunked dataset
    let root = write_chunks(out, &data, shape, &chunks, elem, options)?;
    let mut layout = vec![3u8, 2, (shape.len() + 1) as u8];
    layout.extend_from_slice(&root.to_le_bytes());
    for &c in &chunks {
        layout.extend_from_slice(&(c as u32).to_le_bytes());
    }
    layout.extend_from_slice(&(elem as u32).to_le_bytes());
    msgs.push((0x08, layout));
    if options.shuffle || options.gzip.is_some() {
        let mut filters: Vec<(u16, u32)> = Vec::new();
        if options.shuffle {
            filters.push((2, elem as u32));
        }
        if let Some(level) = options.gzip {
            filters.push((1, level));
        }
        let mut p = vec![2u8, filters.len() as u8];
        for (id, cd) in filters {
            p.extend_from_slice(&id.to_le_bytes());
            p.extend_from_slice(&0u16.to_le_bytes()); // mandatory
            p.extend_from_slice(&1u16.to_le_bytes()); // one client value
            p.extend_from_slice(&cd.to_le_bytes());
        }
        msgs.push((0x0B, p));
    }
    Ok(())
}

/// One chunk's B-tree key: stored size, filter mask, element offsets (plus the element axis).
fn chunk_key(size: u32, offsets: &[usize]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + 8 * (offsets.len() + 1));
    k.extend_from_slice(&size.to_le_bytes());
    k.extend_from_slice(&0u32.to_le_bytes());
    for &o in offsets {
        k.extend_from_slice(&(o as u64).to_le_bytes());
    }
    k.extend_from_slice(&0u64.to_le_bytes());
    k
}

/// Writes every chunk (filtered) and the B-tree over them; returns the root node address.
fn write_chunks<W: Write>(
    out: &mut Out<W>,
    data: &[u8],
    shape: &[usize],
    chunks: &[usize],
    elem: usize,
    options: &DatasetOptions,
) -> Result<u64> {
    if element_count(shape)? == 0 {
        return Ok(UNDEF);
    }
    let rank = shape.len();
    let grid: Vec<usize> = shape
        .iter()
        .zip(chunks)
        .map(|(&s, &c)| s.div_ceil(c))
        .collect();
    let chunk_elems = element_count(chunks)?;
    let chunk_bytes = chunk_elems
        .checked_mul(elem)
        .ok_or_else(|| Error::limit("chunk too large"))?;
    let mut strides = vec![1usize; rank];
    for i in (0..rank - 1).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    // (key, address) per chunk, in C order of the chunk grid, which is the B-tree's key order.
    let mut entries: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut at = vec![0usize; rank];
    let mut buf = vec![0u8; chunk_bytes];
    loop {
        let offsets: Vec<usize> = at.iter().zip(chunks).map(|(&g, &c)| g * c).collect();
        buf.iter_mut().for_each(|b| *b = 0);
        // Copy rows along the last axis; edge chunks keep their zero padding.
        let run = chunks[rank - 1].min(shape[rank - 1] - offsets[rank - 1]);
        let mut local = vec![0usize; rank - 1];
        'rows: loop {
            let inside = (0..rank - 1).all(|d| offsets[d] + local[d] < shape[d]);
            if inside {
                let src: usize = (0..rank - 1)
                    .map(|d| (offsets[d] + local[d]) * strides[d])
                    .sum::<usize>()
                    + offsets[rank - 1];
                let dst: usize = (0..rank - 1)
                    .map(|d| local[d] * chunks[d + 1..].iter().product::<usize>())
                    .sum();
                buf[dst * elem..(dst + run) * elem]
                    .copy_from_slice(&data[src * elem..(src + run) * elem]);
            }
            let mut d = rank - 1;
            loop {
                if d == 0 {
                    break 'rows;
                }
                d -= 1;
                local[d] += 1;
                if local[d] < chunks[d] {
                    break;
                }
                local[d] = 0;
            }
        }
        let stored = filter(&buf, elem, options)?;
        let size = u32::try_from(stored.len()).map_err(|_| Error::limit("chunk too large"))?;
        let addr = out.put(&stored)?;
        entries.push((chunk_key(size, &offsets), addr));
        let mut d = rank;
        loop {
            if d == 0 {
                return write_btree(out, entries, shape, chunks);
            }
            d -= 1;
            at[d] += 1;
            if at[d] < grid[d] {
                break;
            }
            at[d] = 0;
        }
    }
}

fn filter(chunk: &[u8], elem: usize, options: &DatasetOptions) -> Result<Vec<u8>> {
    let mut bytes = chunk.to_vec();
    if options.shuffle && elem > 1 {
        let n = chunk.len() / elem;
        for (i, e) in chunk.chunks_exact(elem).enumerate() {
            for (j, &b) in e.iter().enumerate() {
                bytes[j * n + i] = b;
            }
        }
    }
    if let Some(level) = options.gzip {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::new(level));
        z.write_all(&bytes)
            .map_err(|e| Error::io("deflate failed", e))?;
        bytes = z.finish().map_err(|e| Error::io("deflate failed", e))?;
    }
    Ok(bytes)
}

/// Writes a version-1 B-tree (type 1, raw data chunks) over `entries`, leaves first, each node
/// padded to the `2K`-entry size libhdf5 reads.
fn write_btree<W: Write>(
    out: &mut Out<W>,
    mut entries: Vec<(Vec<u8>, u64)>,
    shape: &[usize],
    chunks: &[usize],
) -> Result<u64> {
    let rank = shape.len();
    // The key past the last chunk: every offset one chunk beyond it.
    let last = entries
        .last()
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| chunk_key(0, &vec![0; rank]));
    let mut beyond_offsets = Vec::with_capacity(rank);
    for d in 0..rank {
        let o = u64::from_le_bytes(last[8 + 8 * d..16 + 8 * d].try_into().unwrap_or([0; 8]));
        beyond_offsets.push(o as usize + chunks[d]);
    }
    // Internal nodes end with the same key as the last leaf, so it serves every level.
    let end_key = chunk_key(0, &beyond_offsets);
    let key_size = 8 + 8 * (rank + 1);
    let node_size = 24 + 2 * CHUNK_BTREE_K * 8 + (2 * CHUNK_BTREE_K + 1) * key_size;
    let mut level = 0u8;
    loop {
        let mut parents: Vec<(Vec<u8>, u64)> = Vec::new();
        let groups: Vec<Vec<(Vec<u8>, u64)>> = entries
            .chunks(2 * CHUNK_BTREE_K)
            .map(|g| g.to_vec())
            .collect();
        let count = groups.len();
        for (gi, group) in groups.iter().enumerate() {
            let right_key = if gi + 1 < count {
                groups[gi + 1][0].0.clone()
            } else {
                end_key.clone()
            };
            let mut node = Vec::with_capacity(node_size);
            node.extend_from_slice(b"TREE");
            node.push(1);
            node.push(level);
            node.extend_from_slice(&(group.len() as u16).to_le_bytes());
            node.extend_from_slice(&UNDEF.to_le_bytes());
            node.extend_from_slice(&UNDEF.to_le_bytes());
            for (key, child) in group {
                node.extend_from_slice(key);
                node.extend_from_slice(&child.to_le_bytes());
            }
            node.extend_from_slice(&right_key);
            node.resize(node_size, 0);
            let addr = out.put(&node)?;
            parents.push((group[0].0.clone(), addr));
        }
        if parents.len() == 1 {
            return Ok(parents[0].1);
        }
        entries = parents;
        level = level
            .checked_add(1)
            .ok_or_else(|| Error::limit("chunk B-tree too deep"))?;
    }
}
