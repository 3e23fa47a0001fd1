//! Containers by content, never by extension: pickle streams, zip (torch, npz, nested),
//! legacy torch stacked pickles, .npy, joblib raw buffers, compressed streams.

use std::collections::HashMap;
use std::io::Read as _;

use brine_core::{Decoder, Opcode, Read as _};

use crate::report::{Member, Severity, Verdict};
use crate::source::Src;
use crate::vm::{Ctx, Machine, Payload, Raise, Step};

/// File windows for large plain pickles: big enough that refills are rare.
const WINDOW: usize = 4 << 20;
/// Nested containers followed (zip in zip, gzip in zip…).
const NEST_CAP: u32 = 4;

const LEGACY_TORCH_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";

/// What a torch zip says about its storages: record sizes by key.
#[derive(Debug, Default)]
pub(crate) struct TorchInfo {
    sizes: HashMap<String, u64>,
}

impl TorchInfo {
    pub fn storage_size(&self, key: &str) -> Option<u64> {
        self.sizes.get(key).copied()
    }
}

fn member_name(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

fn anomaly(ctx: &mut Ctx, rule: &'static str, member: &str, message: String) {
    let saved = std::mem::replace(&mut ctx.member, member.to_string());
    ctx.finding(
        rule,
        Severity::Medium,
        Verdict::Inconclusive,
        None,
        None,
        None,
        None,
        message,
    );
    ctx.member = saved;
}

/// Scans any input by sniffing its content; returns the format name.
pub(crate) fn scan_member(src: &Src, ctx: &mut Ctx, depth: u32) -> String {
    let len = src.len();
    let head = src.get(0, 512).map(|c| c.into_owned()).unwrap_or_default();
    if head.is_empty() && len > 0 {
        ctx.finding(
            "read-error",
            Severity::Medium,
            Verdict::Inconclusive,
            None,
            None,
            None,
            None,
            "the input could not be read".into(),
        );
        return "unreadable".into();
    }
    if len == 0 {
        ctx.finding(
            "empty-input",
            Severity::Low,
            Verdict::Inconclusive,
            None,
            None,
            None,
            None,
            "empty input: not a pickle".into(),
        );
        return "empty".into();
    }
    if depth > NEST_CAP {
        ctx.finding(
            "nesting-limit",
            Severity::Medium,
            Verdict::Inconclusive,
            None,
            None,
            None,
            None,
            "containers nested deeper than the scan follows".into(),
        );
        return "nested".into();
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        // No polyglot pass: as a pickle a zip starts with a PERSID line, which plain
        // pickle.load refuses, and loaders with persistent_load (torch) open zips as zips.
        scan_zip(src, ctx, depth);
        return "zip".into();
    }
    if head.starts_with(b"\x93NUMPY") {
        scan_npy(src, ctx);
        return "npy".into();
    }
    if head.starts_with(LEGACY_TORCH_MAGIC) {
        scan_legacy_torch(src, ctx);
        return "torch-legacy".into();
    }
    if head.starts_with(b"7z\xbc\xaf\x27\x1c") {
        scan_7z(src, ctx, depth);
        return "7z".into();
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        if len > ctx.limits.max_decompressed {
            ctx.finding(
                "decompression-limit",
                Severity::Medium,
                Verdict::Inconclusive,
                Some(0),
                None,
                None,
                None,
                "tar archive larger than the decompression limit: not opened".into(),
            );
        } else {
            scan_tar(src, ctx, depth);
        }
        return "tar".into();
    }
    if head.starts_with(b"ZF") && head.len() > 21 {
        // joblib < 0.9.3: b'ZF' + hex length padded to 19 + zlib stream.
        if let Some(all) = src.get(0, len) {
            let start = (2..all.len().min(40))
                .find(|&i| all[i] == 0x78)
                .unwrap_or(21);
            return decompressed(
                &all[start..],
                Some(brine_formats::Codec::Zlib),
                "[zf-zlib]",
                ctx,
                depth,
            );
        }
    }
    if let Some(codec) = brine_formats::Codec::detect(&head) {
        let is_pickle_start =
            head[0] == b']' && head.get(1).is_some_and(|b| Opcode::from_byte(*b).is_some());
        if !is_pickle_start {
            if let Some(all) = src.get(0, len) {
                let name = format!("[{}]", codec.name());
                return decompressed(&all, Some(codec), &name, ctx, depth);
            }
        }
    }
    if head.len() >= 9 {
        let n = u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8]));
        if head[8] == b'{'
            && (2..=100_000_000).contains(&n)
            && n.checked_add(8).is_some_and(|e| e <= len)
            && is_safetensors(src, n)
        {
            // safetensors: a JSON header and raw tensor bytes; nothing is unpickled.
            polyglot(src, ctx);
            return "safetensors".into();
        }
    }
    if Opcode::from_byte(head[0]).is_none() && is_text(&head) {
        // README, JSON configs, tokenizers: pickle.load fails on the first byte, and text
        // hides no container; reported so, without making a directory scan INCONCLUSIVE.
        return "text".into();
    }
    if Opcode::from_byte(head[0]).is_none() {
        ctx.finding(
            "unknown-format",
            Severity::Low,
            Verdict::Inconclusive,
            Some(0),
            None,
            None,
            None,
            format!(
                "not a pickle or a known container (starts with {:?})",
                String::from_utf8_lossy(&head[..head.len().min(8)])
            ),
        );
        return "unknown".into();
    }
    scan_pickles(src, 0, ctx, false);
    "pickle".into()
}

fn decompressed(
    data: &[u8],
    codec: Option<brine_formats::Codec>,
    name: &str,
    ctx: &mut Ctx,
    depth: u32,
) -> String {
    let limits = brine_core::Limits {
        max_decompressed: ctx.limits.max_decompressed,
        max_ratio: ctx.limits.max_ratio,
        ..brine_core::Limits::default()
    };
    let res = match codec {
        Some(c) => brine_formats::compress::decompress_as(data, c, &limits),
        None => brine_formats::decompress(data, &limits).map(|c| c.into_owned()),
    };
    match res {
        Ok(out) => {
            let member = member_name(&ctx.member, name);
            let saved = std::mem::replace(&mut ctx.member, member.clone());
            let from = ctx.sink.findings.len();
            let inner = scan_member(&Src::Slice(&out), ctx, depth + 1);
            let verdict = ctx.sink.verdict_of(&member, from);
            ctx.sink.members.push(Member {
                name: member,
                kind: inner.clone(),
                verdict,
            });
            ctx.member = saved;
            format!("{}+{inner}", name.trim_matches(['[', ']']))
        }
        Err(e) => {
            let rule = if e.classify() == brine_core::Category::Limit {
                "decompression-limit"
            } else {
                "decompression-error"
            };
            ctx.finding(
                rule,
                Severity::Medium,
                Verdict::Inconclusive,
                Some(0),
                None,
                None,
                None,
                format!("{name} stream could not be decompressed: {e}"),
            );
            name.trim_matches(['[', ']']).to_string()
        }
    }
}

/// Every pickle from `start` on: after a STOP, bytes that remain are read as the next pickle
/// (`pickle.load` in a loop), so a payload appended after a benign pickle is seen.
pub(crate) fn scan_pickles(src: &Src, start: u64, ctx: &mut Ctx, single: bool) -> u64 {
    let mut pos = start;
    let mut first = true;
    while pos < src.len() {
        let (end, ok, ops) = scan_one(src, pos, ctx, first, true);
        if !ok || single || end <= pos {
            return end;
        }
        let _ = ops;
        pos = end;
        first = false;
    }
    pos
}

/// One pickle with a fresh machine. Returns (end offset, ended with STOP, opcodes).
pub(crate) fn scan_one(
    src: &Src,
    start: u64,
    ctx: &mut Ctx,
    first: bool,
    joblib: bool,
) -> (u64, bool, u64) {
    let mut m = Machine::new();
    let mut pos = start;
    let mut frame_end: Option<u64> = None;
    let mut ops: u64 = 0;
    let mut buf = Vec::new();
    let mut want: usize = 64 << 10;
    let len = src.len();
    let dec_limits = brine_core::Limits {
        max_line: 1 << 20,
        ..brine_core::Limits::default()
    };
    loop {
        // Windows start small (most streams that fail, fail early) and grow to WINDOW.
        let window = src.window(pos, want, &mut buf);
        want = (want * 4).min(WINDOW);
        let wbase = pos;
        let wlen = window.len();
        let mut retry = false;
        let whole = wbase + window.len() as u64 >= len;
        let mut dec = Decoder::with_read(brine_core::SliceRead::new(window), dec_limits.clone());
        let restart: Option<u64>;
        loop {
            if let Some((data, p0)) = dec.get_ref().slice_view() {
                // A tight loop over the commonest opcodes; anything else goes to the decoder.
                let mut p = p0;
                loop {
                    // Inside a frame the fast path sees only up to the frame's end, so an
                    // opcode that would straddle it falls to the general path, which reports it.
                    let stop = match frame_end {
                        Some(fe) if fe <= wbase + p as u64 => {
                            frame_end = None;
                            data.len()
                        }
                        Some(fe) => data.len().min((fe - wbase) as usize),
                        None => data.len(),
                    };
                    let view = &data[..stop];
                    let before = p;
                    while let Some(n) = m.fast(view, p, wbase, ctx, &mut ops) {
                        p += n;
                    }
                    if p == before || frame_end.is_none() || stop == data.len() {
                        break;
                    }
                }
                if p != p0 {
                    dec.get_mut().set_offset(p);
                }
            }
            let ins_start = wbase + dec.offset();
            let (op, at, frame_len, step) = match dec.next_instruction() {
                Ok(Some(ins)) => {
                    let at = wbase + ins.offset;
                    m.check_reduce(ins.op, at, ctx, src);
                    let step = m.step(&ins, wbase, ctx, src);
                    (ins.op, at, ins.arg.int(), step)
                }
                Ok(None) => {
                    if whole {
                        ctx.sink.opcodes += ops;
                        ctx.sink.bytes += len - start;
                        if !(first && ops == 0) {
                            parse_error(
                                ctx,
                                len,
                                None,
                                "pickle data was truncated (no STOP)",
                                ops == 0 && !first,
                            );
                        }
                        return (len, false, ops);
                    }
                    restart = Some(ins_start);
                    break;
                }
                Err(e) => {
                    if e.is_eof() && !whole {
                        // Re-read from this instruction, with a larger window if it alone
                        // did not fit.
                        if ins_start > wbase || (wlen > 0 && wlen < WINDOW) {
                            retry = ins_start == wbase;
                            restart = Some(ins_start);
                            break;
                        }
                        // One argument larger than the window: step over it without reading it.
                        match big_arg(src, ins_start, &mut m, ctx) {
                            Some(next) => {
                                ops += 1;
                                restart = Some(next);
                                break;
                            }
                            None => {
                                ctx.sink.opcodes += ops;
                                ctx.sink.bytes += ins_start - start;
                                parse_error(ctx, ins_start, e.opcode(), &e.to_string(), false);
                                return (ins_start, false, ops);
                            }
                        }
                    }
                    ctx.sink.opcodes += ops;
                    ctx.sink.bytes += ins_start - start;
                    let at = e.offset().map(|o| o + wbase).unwrap_or(ins_start);
                    let msg = strip_offset(&e.to_string());
                    parse_error(ctx, at, e.opcode(), &msg, ops == 0 && !first);
                    return (at, false, ops);
                }
            };
            ops += 1;
            let end = wbase + dec.offset();
            // FRAME: CPython's C reader ignores frame boundaries when reading bytes, its file
            // reader and pickle.py do not; a pickler never lets an opcode straddle a frame.
            if let Some(fe) = frame_end {
                if op == Opcode::FRAME && fe > at {
                    ctx.finding("frame-overlap", Severity::High, Verdict::Unsafe, Some(at), Some(op), None, None,
                        "a FRAME starts before the previous frame ends: CPython's readers disagree on this stream".into());
                } else if at < fe && end > fe {
                    ctx.finding("frame-straddle", Severity::High, Verdict::Unsafe, Some(at), Some(op), None, None,
                        "an opcode straddles its FRAME's end: CPython's file and bytes readers parse this stream differently (gh-154848)".into());
                }
                if end >= fe {
                    frame_end = None;
                }
            }
            if op == Opcode::FRAME {
                frame_end = Some(end.saturating_add(frame_len as u64));
            }
            match step {
                Ok(Step::Go) => m.maybe_gc(),
                Ok(Step::Stop) => {
                    ctx.sink.opcodes += ops;
                    ctx.sink.bytes += end - start;
                    return (end, true, ops);
                }
                Ok(Step::RawPayload(p)) if joblib => match payload_end(src, end, p, ctx) {
                    Some(next) => {
                        frame_end = None;
                        restart = Some(next);
                        break;
                    }
                    None => {
                        ctx.sink.opcodes += ops;
                        ctx.sink.bytes += end - start;
                        return (end, false, ops);
                    }
                },
                Ok(Step::RawPayload(_)) => m.maybe_gc(),
                Err(Raise(msg)) => {
                    ctx.sink.opcodes += ops;
                    ctx.sink.bytes += end - start;
                    if let Some(kind) = msg.strip_prefix("limit: ") {
                        ctx.finding("limit-exceeded", Severity::Medium, Verdict::Inconclusive, Some(at), Some(op), None, None,
                            format!("scan limit reached ({kind}): the rest of the stream was not examined"));
                    } else {
                        parse_error(ctx, at, Some(op), &msg, false);
                    }
                    return (end, false, ops);
                }
            }
        }
        match restart {
            Some(p) if p > pos || (p == pos && retry) => pos = p,
            Some(p) if p == pos => {
                // No progress possible: treat as truncated.
                parse_error(ctx, p, None, "pickle data was truncated", false);
                return (p, false, ops);
            }
            Some(p) => pos = p,
            None => return (pos, false, ops),
        }
    }
}

fn strip_offset(msg: &str) -> String {
    match msg.find(" at offset ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn parse_error(ctx: &mut Ctx, at: u64, op: Option<Opcode>, msg: &str, trailing: bool) {
    if trailing {
        ctx.finding(
            "trailing-data",
            Severity::Low,
            Verdict::Inconclusive,
            Some(at),
            op,
            None,
            None,
            format!("bytes after the last pickle are not a pickle ({msg})"),
        );
    } else {
        ctx.finding(
            "parse-error",
            Severity::Medium,
            Verdict::Inconclusive,
            Some(at),
            op,
            None,
            None,
            format!("loading stops here with an error ({msg}); whatever ran before it still ran"),
        );
    }
}

/// A bytes/str opcode whose data exceeds the file window: account for it by its header only.
fn big_arg(src: &Src, at: u64, m: &mut Machine, ctx: &mut Ctx) -> Option<u64> {
    let head = src.get(at, 9)?;
    let op = Opcode::from_byte(*head.first()?)?;
    let (prefix, n) = match op {
        Opcode::BINBYTES | Opcode::BINUNICODE => (
            4,
            u32::from_le_bytes(head.get(1..5)?.try_into().ok()?) as u64,
        ),
        Opcode::BINSTRING => (
            4,
            u32::from_le_bytes(head.get(1..5)?.try_into().ok()?) as u64,
        ),
        Opcode::BINBYTES8 | Opcode::BINUNICODE8 | Opcode::BYTEARRAY8 => {
            (8, u64::from_le_bytes(head.get(1..9)?.try_into().ok()?))
        }
        _ => return None,
    };
    let data = at + 1 + prefix;
    let end = data.checked_add(n)?;
    if end > src.len() {
        return None;
    }
    m.push_external(op, data, n, ctx);
    Some(end)
}

/// Where the outer joblib stream resumes after a wrapper's raw array bytes.
fn payload_end(src: &Src, end: u64, p: Payload, ctx: &mut Ctx) -> Option<u64> {
    match p {
        Payload::Raw { bytes, aligned } => {
            let mut at = end;
            if aligned {
                let pad = *src.get(at, 1)?.first()? as u64;
                if pad == 0 || pad > 16 {
                    ctx.finding(
                        "joblib-payload",
                        Severity::Medium,
                        Verdict::Inconclusive,
                        Some(at),
                        None,
                        None,
                        None,
                        format!("joblib array padding byte {pad} is not in 1..16"),
                    );
                    return None;
                }
                at += 1 + pad;
            }
            let next = at.checked_add(bytes)?;
            if next > src.len() {
                ctx.finding(
                    "joblib-payload",
                    Severity::Medium,
                    Verdict::Inconclusive,
                    Some(at),
                    None,
                    None,
                    None,
                    format!("joblib array of {bytes} bytes runs past the end of the data"),
                );
                return None;
            }
            Some(next)
        }
        Payload::Pickle => {
            let (next, ok, _) = scan_one(src, end, ctx, false, false);
            ok.then_some(next)
        }
        Payload::Unknown => {
            ctx.finding("joblib-payload", Severity::Medium, Verdict::Inconclusive, Some(end), None, None, None,
                "joblib array wrapper whose payload size cannot be worked out: the rest of the stream was not examined".into());
            None
        }
    }
}

/// Legacy torch (< 1.6): magic, protocol, sys_info, the object, storage keys, then raw storages.
fn scan_legacy_torch(src: &Src, ctx: &mut Ctx) {
    let torch = TorchInfo::default();
    let mut pos = 0;
    for i in 0..5 {
        let (end, ok, _) = if i == 3 {
            let mut sub = Ctx {
                policy: ctx.policy,
                sink: &mut *ctx.sink,
                member: ctx.member.clone(),
                limits: ctx.limits,
                nested: ctx.nested,
                torch: Some(&torch),
                torchscript: false,
            };
            scan_one(src, pos, &mut sub, false, false)
        } else {
            scan_one(src, pos, ctx, false, false)
        };
        if !ok {
            return;
        }
        pos = end;
    }
    // What follows is raw storage bytes: torch never unpickles them.
}

/// `.npy`: only object arrays carry a pickle, right after the header.
fn scan_npy(src: &Src, ctx: &mut Ctx) {
    let Some(h) = src.get(0, 12) else { return };
    let (hlen, hstart) = match h.get(6) {
        Some(1) if h.len() >= 10 => (u16::from_le_bytes([h[8], h[9]]) as u64, 10u64),
        Some(2) | Some(3) if h.len() >= 12 => {
            (u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as u64, 12u64)
        }
        _ => {
            ctx.finding(
                "npy-header",
                Severity::Medium,
                Verdict::Inconclusive,
                Some(6),
                None,
                None,
                None,
                "unknown .npy version".into(),
            );
            return;
        }
    };
    let Some(header) = src.get(hstart, hlen.min(1 << 20)) else {
        return;
    };
    let text = String::from_utf8_lossy(&header);
    if !(text.contains("descr") && text.contains("shape")) {
        ctx.finding(
            "npy-header",
            Severity::Medium,
            Verdict::Inconclusive,
            Some(hstart),
            None,
            None,
            None,
            "malformed .npy header".into(),
        );
        return;
    }
    let descr = text.split("'descr':").nth(1).unwrap_or("");
    let descr = descr.split("'fortran_order'").next().unwrap_or(descr);
    let descr = descr.split("'shape'").next().unwrap_or(descr);
    let object = descr.contains("'O") || descr.contains("'|O");
    if object {
        scan_pickles(src, hstart + hlen, ctx, false);
    }
}

struct Entry {
    name: String,
    method: u16,
    flags: u16,
    crc: u32,
    csize: u64,
    usize: u64,
    lho: u64,
}

fn le16(b: &[u8], i: usize) -> u16 {
    b.get(i..i + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .unwrap_or(0)
}
fn le32(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .unwrap_or(0)
}
fn le64(b: &[u8], i: usize) -> u64 {
    b.get(i..i + 8)
        .map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
        .unwrap_or(0)
}

/// Reads the central directory leniently, like torch's miniz reader.
fn central_directory(src: &Src, ctx: &mut Ctx) -> Option<Vec<Entry>> {
    let len = src.len();
    let tail_len = len.min(65_557);
    let tail = src.get(len - tail_len, tail_len)?;
    let Some(e) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        anomaly(
            ctx,
            "zip-no-directory",
            &ctx.member.clone(),
            "zip without an end-of-central-directory record".into(),
        );
        return None;
    };
    let eocd_pos = len - tail_len + e as u64;
    let eocd = &tail[e..];
    let mut count = le16(eocd, 10) as u64;
    let mut cd_size = le32(eocd, 12) as u64;
    let mut cd_off = le32(eocd, 16) as u64;
    let mut zip64 = 0;
    if eocd_pos >= 20 {
        let loc = src.get(eocd_pos - 20, 20)?;
        if loc.starts_with(b"PK\x06\x07") {
            zip64 = 76;
            let z = le64(&loc, 8);
            if let Some(rec) = src.get(z, 56) {
                if rec.starts_with(b"PK\x06\x06") {
                    if count == 0xFFFF {
                        count = le64(&rec, 32);
                    }
                    if cd_size == 0xFFFF_FFFF {
                        cd_size = le64(&rec, 40);
                    }
                    if cd_off == 0xFFFF_FFFF {
                        cd_off = le64(&rec, 48);
                    }
                }
            }
        }
    }
    // Data prepended to the archive shifts every offset (Python's zipfile "concat").
    let concat = eocd_pos
        .saturating_sub(zip64)
        .saturating_sub(cd_size)
        .saturating_sub(cd_off);
    if count as usize > ctx.limits.max_members {
        ctx.finding(
            "limit-exceeded",
            Severity::Medium,
            Verdict::Inconclusive,
            None,
            None,
            None,
            None,
            format!("zip declares {count} members, more than the scan limit"),
        );
        return None;
    }
    let cd = src.get(cd_off + concat, cd_size.min(1 << 28))?;
    let mut out = Vec::new();
    let mut i = 0usize;
    while i + 46 <= cd.len() && &cd[i..i + 4] == b"PK\x01\x02" {
        let flags = le16(&cd, i + 8);
        let method = le16(&cd, i + 10);
        let crc = le32(&cd, i + 16);
        let mut csize = le32(&cd, i + 20) as u64;
        let mut usize_ = le32(&cd, i + 24) as u64;
        let nlen = le16(&cd, i + 28) as usize;
        let elen = le16(&cd, i + 30) as usize;
        let clen = le16(&cd, i + 32) as usize;
        let mut lho = le32(&cd, i + 42) as u64;
        let name_end = (i + 46 + nlen).min(cd.len());
        let name = String::from_utf8_lossy(&cd[i + 46..name_end]).into_owned();
        let extra = &cd[name_end..(name_end + elen).min(cd.len())];
        let mut j = 0;
        while j + 4 <= extra.len() {
            let id = le16(extra, j);
            let sz = le16(extra, j + 2) as usize;
            if id == 1 {
                let mut k = j + 4;
                if usize_ == 0xFFFF_FFFF {
                    usize_ = le64(extra, k);
                    k += 8;
                }
                if csize == 0xFFFF_FFFF {
                    csize = le64(extra, k);
                    k += 8;
                }
                if lho == 0xFFFF_FFFF {
                    lho = le64(extra, k);
                }
            }
            j += 4 + sz;
        }
        out.push(Entry {
            name,
            method,
            flags,
            crc,
            csize,
            usize: usize_,
            lho: lho + concat,
        });
        i = name_end + elen + clen;
        if out.len() > ctx.limits.max_members {
            break;
        }
    }
    if (out.len() as u64) < count.min(ctx.limits.max_members as u64) {
        anomaly(
            ctx,
            "zip-directory-truncated",
            &ctx.member.clone(),
            format!("central directory lists {} of {count} members", out.len()),
        );
    }
    Some(out)
}

fn scan_zip(src: &Src, ctx: &mut Ctx, depth: u32) {
    let parent = ctx.member.clone();
    let Some(entries) = central_directory(src, ctx) else {
        return;
    };
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for e in &entries {
        *seen.entry(e.name.as_str()).or_default() += 1;
    }
    for (name, n) in &seen {
        if *n > 1 {
            anomaly(
                ctx,
                "zip-duplicate-name",
                &member_name(&parent, name),
                format!("{n} members share this name: loaders disagree on which one they read"),
            );
        }
    }
    // torch: `<prefix>/data.pkl`, storages under `<prefix>/data/`.
    let pkl = entries
        .iter()
        .find(|e| e.name == "data.pkl" || e.name.ends_with("/data.pkl"));
    let prefix = pkl.map(|e| e.name[..e.name.len() - "data.pkl".len()].to_string());
    let mut torch = TorchInfo::default();
    let mut torchscript = false;
    if let Some(p) = &prefix {
        for e in &entries {
            if let Some(key) = e
                .name
                .strip_prefix(p.as_str())
                .and_then(|r| r.strip_prefix("data/"))
            {
                torch.sizes.insert(key.to_string(), e.usize);
            }
            let rest = e.name.strip_prefix(p.as_str()).unwrap_or("");
            if rest == "constants.pkl" || rest.starts_with("code/") {
                torchscript = true;
            }
        }
    }
    if torchscript {
        ctx.finding("torchscript", Severity::Medium, Verdict::Inconclusive, None, None, None, None,
            "TorchScript archive: torch.load hands it to torch.jit.load, which runs the archive's code (CVE-2025-32434); it cannot be loaded with weights_only".into());
    }
    for e in &entries {
        let mname = member_name(&parent, &e.name);
        let is_storage = prefix
            .as_ref()
            .is_some_and(|p| e.name.starts_with(&format!("{p}data/")));
        if is_storage {
            continue;
        }
        if e.name.ends_with('/') {
            continue;
        }
        // Local header: torch reads data at the central directory's offset and ignores flags,
        // CRCs and the local name; anything unusual is reported, then read the same way.
        let Some(lh) = src.get(e.lho, 30) else {
            anomaly(
                ctx,
                "zip-bad-local-header",
                &mname,
                "local header is outside the file".into(),
            );
            continue;
        };
        if !lh.starts_with(b"PK\x03\x04") || lh.len() < 30 {
            anomaly(
                ctx,
                "zip-bad-local-header",
                &mname,
                "local header signature is wrong".into(),
            );
            continue;
        }
        let lnlen = le16(&lh, 26) as u64;
        let lelen = le16(&lh, 28) as u64;
        let lname = src
            .get(e.lho + 30, lnlen)
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .unwrap_or_default();
        if lname != e.name {
            anomaly(ctx, "zip-name-mismatch", &mname,
                format!("local header names it {lname:?}: Python's zipfile refuses it, torch loads it (CVE-2025-1944)"));
        }
        let lflags = le16(&lh, 6);
        if (e.flags | lflags) & 0x0061 != 0 {
            anomaly(ctx, "zip-flags", &mname,
                format!("general-purpose flags {:#06x} claim encryption or patching: torch ignores them (CVE-2025-1945)", e.flags | lflags));
        }
        let data_off = e.lho + 30 + lnlen + lelen;
        let interesting_name = INTERESTING_NAMES.iter().any(|x| e.name.ends_with(x));
        let data: Vec<u8> = match e.method {
            0 => {
                if !interesting_name {
                    let head = src
                        .get(data_off, 8)
                        .map(|c| c.into_owned())
                        .unwrap_or_default();
                    if !looks_interesting(&head) {
                        ctx.sink.members.push(Member {
                            name: mname,
                            kind: "skipped".into(),
                            verdict: Verdict::Safe,
                        });
                        continue;
                    }
                }
                match src.get(data_off, e.csize) {
                    Some(d) if d.len() as u64 == e.csize => d.into_owned(),
                    _ => {
                        anomaly(
                            ctx,
                            "zip-truncated",
                            &mname,
                            "member data runs past the end of the file".into(),
                        );
                        continue;
                    }
                }
            }
            8 => {
                let Some(raw) = src.get(data_off, e.csize) else {
                    continue;
                };
                if !interesting_name {
                    let mut head = [0u8; 8];
                    let n = flate2::read::DeflateDecoder::new(&raw[..])
                        .read(&mut head)
                        .unwrap_or(0);
                    if !looks_interesting(&head[..n]) {
                        ctx.sink.members.push(Member {
                            name: mname,
                            kind: "skipped".into(),
                            verdict: Verdict::Safe,
                        });
                        continue;
                    }
                }
                let mut out = Vec::new();
                let cap = ctx.limits.max_decompressed;
                let res = flate2::read::DeflateDecoder::new(&raw[..])
                    .take(cap + 1)
                    .read_to_end(&mut out);
                if res.is_err() {
                    anomaly(
                        ctx,
                        "zip-bad-data",
                        &mname,
                        "deflate data is corrupt".into(),
                    );
                    continue;
                }
                if out.len() as u64 > cap {
                    anomaly(
                        ctx,
                        "decompression-limit",
                        &mname,
                        "member inflates past the decompression limit".into(),
                    );
                    continue;
                }
                out
            }
            m => {
                anomaly(
                    ctx,
                    "zip-unsupported-method",
                    &mname,
                    format!("compression method {m} is not read by torch or this scanner"),
                );
                continue;
            }
        };
        if crc32fast::hash(&data) != e.crc && e.crc != 0 {
            anomaly(ctx, "zip-crc-mismatch", &mname, "CRC-32 does not match: Python's zipfile refuses it, torch loads it (CVE-2025-10156)".into());
        }
        let from = ctx.sink.findings.len();
        let saved = std::mem::replace(&mut ctx.member, mname.clone());
        let saved_ts = ctx.torchscript;
        let is_main = prefix
            .as_ref()
            .is_some_and(|p| e.name == format!("{p}data.pkl"));
        let kind = {
            let mut sub = Ctx {
                policy: ctx.policy,
                sink: &mut *ctx.sink,
                member: mname.clone(),
                limits: ctx.limits,
                nested: ctx.nested,
                torch: if is_main { Some(&torch) } else { None },
                torchscript: torchscript || saved_ts,
            };
            scan_member(&Src::Slice(&data), &mut sub, depth + 1)
        };
        ctx.member = saved;
        let verdict = ctx.sink.verdict_of(&mname, from);
        ctx.sink.members.push(Member {
            name: mname,
            kind,
            verdict,
        });
    }
}

/// Member names that are scanned whatever their first bytes (as torch and numpy name them).
const INTERESTING_NAMES: [&str; 12] = [
    ".pkl", ".pickle", ".npy", ".joblib", ".pt", ".pth", ".bin", ".zip", ".npz", ".ckpt", ".7z",
    ".tar",
];

/// A 7z archive: torch and numpy do not load 7z, but archives repacked as 7z hide pickles from
/// scanners that stop at the container (nullifAI). Every member is decompressed (within the
/// decompression limit, in total) and scanned by content, like a nested zip's.
fn scan_7z(src: &Src, ctx: &mut Ctx, depth: u32) {
    let len = src.len();
    let fail = |ctx: &mut Ctx, rule: &'static str, msg: String| {
        ctx.finding(
            rule,
            Severity::Medium,
            Verdict::Inconclusive,
            Some(0),
            None,
            None,
            None,
            msg,
        );
    };
    if len > ctx.limits.max_decompressed {
        fail(
            ctx,
            "decompression-limit",
            "7z archive larger than the decompression limit: not opened".into(),
        );
        return;
    }
    let Some(all) = src.get(0, len) else {
        fail(ctx, "read-error", "the 7z archive could not be read".into());
        return;
    };
    // The archive's members, decompressed first (the reader is a third-party parser of
    // hostile input: a panic in it is contained and reported, never propagated).
    let cap = ctx.limits.max_decompressed;
    let max_members = ctx.limits.max_members;
    let read = std::panic::catch_unwind(|| {
        let mut members: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
        let mut total = 0u64;
        let mut reader = sevenz_rust2::ArchiveReader::new(
            std::io::Cursor::new(&all[..]),
            sevenz_rust2::Password::empty(),
        )
        .map_err(|e| e.to_string())?;
        reader.set_thread_count(1);
        let walk = reader.for_each_entries(|entry, r| {
            if entry.is_directory {
                return Ok(true);
            }
            if members.len() >= max_members {
                members.push((entry.name.clone(), Err("member-limit".into())));
                return Ok(false);
            }
            let mut out = Vec::new();
            let room = cap.saturating_sub(total);
            let res = r.take(room + 1).read_to_end(&mut out);
            total += out.len() as u64;
            let data = match res {
                Err(e) => Err(format!("member data is corrupt: {e}")),
                Ok(_) if out.len() as u64 > room => Err("decompression-limit".into()),
                Ok(_) => Ok(out),
            };
            let stop = matches!(&data, Err(e) if e == "decompression-limit");
            members.push((entry.name.clone(), data));
            Ok(!stop)
        });
        if let Err(e) = walk {
            members.push((
                String::new(),
                Err(format!("7z data could not be decoded: {e}")),
            ));
        }
        Ok::<_, String>(members)
    });
    let members = match read {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => {
            fail(
                ctx,
                "7z-error",
                format!("7z archive could not be read: {e}"),
            );
            return;
        }
        Err(_) => {
            fail(ctx, "7z-error", "7z reader failed on this archive".into());
            return;
        }
    };
    scan_archive_members(ctx, depth, members, "7z");
}

/// A tar archive (torch's legacy tar format: `sys_info`, `pickle`, `storages`, `tensors`; or any
/// tar someone packed a model in): every regular member within the decompression limit is
/// scanned by content, like a 7z's.
fn scan_tar(src: &Src, ctx: &mut Ctx, depth: u32) {
    let len = src.len();
    let Some(all) = src.get(0, len.min(ctx.limits.max_decompressed)) else {
        return;
    };
    let cap = ctx.limits.max_decompressed;
    let mut members: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
    let mut archive = tar::Archive::new(&all[..]);
    match archive.entries() {
        Ok(entries) => {
            for entry in entries {
                let mut entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        members.push((String::new(), Err(format!("tar data is corrupt: {e}"))));
                        break;
                    }
                };
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                if members.len() >= ctx.limits.max_members {
                    members.push((String::new(), Err("member-limit".into())));
                    break;
                }
                let name = entry
                    .path_bytes()
                    .iter()
                    .map(|&b| b as char)
                    .collect::<String>();
                let mut out = Vec::new();
                let data = match (&mut entry).take(cap + 1).read_to_end(&mut out) {
                    Err(e) => Err(format!("member data is corrupt: {e}")),
                    Ok(_) if out.len() as u64 > cap => Err("decompression-limit".into()),
                    Ok(_) => Ok(out),
                };
                members.push((name, data));
            }
        }
        Err(e) => members.push((String::new(), Err(format!("tar data is corrupt: {e}")))),
    }
    scan_archive_members(ctx, depth, members, "tar");
}

/// Scans the members of a 7z or tar archive by content (names only widen what is scanned).
fn scan_archive_members(
    ctx: &mut Ctx,
    depth: u32,
    members: Vec<(String, Result<Vec<u8>, String>)>,
    kind: &str,
) {
    let rule = if kind == "7z" {
        "7z-error"
    } else {
        "tar-error"
    };
    for (name, data) in members {
        let mname = member_name(&ctx.member, &name);
        let data = match data {
            Ok(d) => d,
            Err(e) if e == "decompression-limit" => {
                anomaly(
                    ctx,
                    "decompression-limit",
                    &mname,
                    format!("{kind} members run past the decompression limit"),
                );
                continue;
            }
            Err(e) if e == "member-limit" => {
                anomaly(
                    ctx,
                    "limit-exceeded",
                    &mname,
                    format!("more {kind} members than the scan follows"),
                );
                continue;
            }
            Err(e) => {
                anomaly(ctx, rule, &mname, e);
                continue;
            }
        };
        let head = &data[..data.len().min(8)];
        let by_content = looks_interesting(head)
            || matches!(head.first(), Some(b'c' | b'(' | b'}' | b']' | b'\x80'));
        if data.is_empty() || !(by_content || INTERESTING_NAMES.iter().any(|x| name.ends_with(x))) {
            ctx.sink.members.push(Member {
                name: mname,
                kind: "skipped".into(),
                verdict: Verdict::Safe,
            });
            continue;
        }
        let from = ctx.sink.findings.len();
        let saved = std::mem::replace(&mut ctx.member, mname.clone());
        let kind = scan_member(&Src::Slice(&data), ctx, depth + 1);
        ctx.member = saved;
        let verdict = ctx.sink.verdict_of(&mname, from);
        ctx.sink.members.push(Member {
            name: mname,
            kind,
            verdict,
        });
    }
}

fn looks_interesting(head: &[u8]) -> bool {
    (head.len() >= 2 && head[0] == 0x80 && head[1] <= 5)
        || head.starts_with(b"\x93NUMPY")
        || head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"7z\xbc\xaf\x27\x1c")
        || head.starts_with(LEGACY_TORCH_MAGIC)
        || (brine_formats::Codec::detect(head).is_some() && head.first() != Some(&b']'))
}

impl Machine {
    /// Pushes a value whose data is too large for the window (read by header only).
    pub(crate) fn push_external(&mut self, op: Opcode, off: u64, len: u64, ctx: &mut Ctx) {
        let _ = ctx;
        self.push_span(op, off, len);
    }
}

/// A valid safetensors header: a JSON object whose tensors' data ends exactly at the end of
/// the file (anything else is scanned as what it might be instead).
fn is_safetensors(src: &Src, n: u64) -> bool {
    let Some(h) = src.get(8, n) else { return false };
    let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(&h) else {
        return false;
    };
    let mut end = 0u64;
    for (k, v) in &m {
        if k == "__metadata__" {
            continue;
        }
        match v["data_offsets"][1].as_u64() {
            Some(e) => end = end.max(e),
            None => return false,
        }
    }
    8 + n + end == src.len()
}

/// Bytes that are a container for one loader may be a pickle for another (a safetensors
/// header length can start with any opcode): read them as a pickle too, and keep only the
/// imports and calls that would run code if they were.
fn polyglot(src: &Src, ctx: &mut Ctx) {
    let mut scratch = crate::report::Sink::default();
    {
        let mut sub = Ctx {
            policy: ctx.policy,
            sink: &mut scratch,
            member: ctx.member.clone(),
            limits: ctx.limits,
            nested: ctx.nested,
            torch: None,
            torchscript: false,
        };
        scan_one(src, 0, &mut sub, true, false);
    }
    let code = |f: &crate::report::Finding| {
        matches!(
            f.rule,
            "denied-global"
                | "unknown-global"
                | "dangerous-call"
                | "global-mutation"
                | "planted-attribute"
                | "computed-global"
        )
    };
    let calls = scratch.findings.iter().any(code);
    if calls {
        ctx.finding(
            "polyglot",
            Severity::High,
            Verdict::Unsafe,
            Some(0),
            None,
            None,
            None,
            "this container is also a pickle that imports or calls code when read with pickle.load"
                .into(),
        );
        for f in scratch.findings.into_iter().filter(code) {
            ctx.sink.add(f);
        }
    }
}

/// Printable UTF-8 (a truncated last character allowed), no control bytes but tab/newlines.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => head.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return false,
    };
    valid > 0
        && head[..valid]
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
}
