//! Every input a fuzzer (cargo-fuzz in `fuzz/`, or the smoke fuzz in `smoke_fuzz.rs`) found
//! to fail, kept as a named regression test. Each checks the property the fuzzer checked.

use brine::DumpOptions;

/// Decodes, and for every protocol that can write the value: the output decodes, and from the
/// second round on writing is a fixpoint. (The first round may merge what only looked apart:
/// below protocol 3 `__builtin__.bytearray` and `builtins.bytearray` are one line, as in
/// CPython.)
fn recode_is_stable(data: &[u8]) {
    let Ok(g) = brine::loads(data) else { return };
    for p in 0..=5 {
        let Ok(out) = brine::dumps_with(&g, DumpOptions::new().protocol(p)) else {
            continue;
        };
        let again = brine::loads(&out).unwrap_or_else(|e| panic!("p{p}: unreadable: {e}"));
        let twice = brine::dumps_with(&again, DumpOptions::new().protocol(p)).unwrap();
        let third = brine::dumps_with(
            &brine::loads(&twice).unwrap(),
            DumpOptions::new().protocol(p),
        );
        assert_eq!(third.unwrap(), twice, "p{p}: writing is not a fixpoint");
    }
}

/// Smoke fuzz, first run: a protocol-0 GLOBAL with a dotted name (`__builtin__ Ellips.s`) was
/// written as `getattr(parent, 's')` whose parent line kept the whole dotted name, so each
/// round grew the name (`Ellips.s.s`).
#[test]
fn dotted_global_parent_at_protocol_0() {
    let data = b"(lp0\nc__builtin__\ntype\np1\n(Ntp2\nRp3\nag1\n(c__builtin__\nEllips.s\np4\ntp5\nRp6\nag1\n(ce__builtin__\nNotImplemtpented\np7\ntp8\nRp9\nag4\nag7\na.";
    recode_is_stable(data);
    let g = brine::loads(data).unwrap();
    let out = brine::dumps_with(&g, DumpOptions::new().protocol(0)).unwrap();
    // The parent of `Ellips.s` is `Ellips`.
    assert!(out.windows(20).any(|w| w == b"c__builtin__\nEllips\n"));
}

/// cargo-fuzz `recode`, first run: a protocol-3 list holding two `set(...)` REDUCEs.
#[test]
fn recode_two_set_reduces() {
    let data = include_bytes!("data/fuzz-recode-set-reduce.pickle");
    recode_is_stable(data);
}

/// cargo-fuzz `recode`: `GLOBAL 'o' '.F_co'` — a dotted name with an empty component was
/// written below protocol 4 as `getattr` of a global with an empty name, an unreadable line.
/// Such names are refused at protocols < 4 and kept at 4 and 5.
#[test]
fn global_with_empty_name_component() {
    let data = include_bytes!("data/fuzz-recode-dotted-empty.pickle");
    recode_is_stable(data);
    let g = brine::loads(data).unwrap();
    for p in 0..4 {
        let e = brine::dumps_with(&g, DumpOptions::new().protocol(p)).unwrap_err();
        assert_eq!(e.classify(), brine::Category::Data, "{e}");
    }
    assert!(brine::dumps_with(&g, DumpOptions::new().protocol(4)).is_ok());
}

/// cargo-fuzz `decode`: a FRAME that claims more than the input holds. The slice decoder
/// refuses it at once (EOF at the FRAME); a stream decoder only finds out when reading.
#[test]
fn frame_longer_than_the_input() {
    let data = include_bytes!("data/fuzz-decode-long-frame.pickle");
    let mut d = brine::core::Decoder::new(data);
    assert!(d.next_instruction().unwrap().is_some()); // PROTO
    let e = d.next_instruction().unwrap_err();
    assert_eq!(e.classify(), brine::Category::Eof);
    assert_eq!(e.opcode(), Some(brine::core::Opcode::FRAME));
    assert_eq!(
        brine::loads(data).unwrap_err().classify(),
        brine::Category::Eof
    );
}

/// cargo-fuzz `recode`: a protocol-3 pickle naming both `__builtin__.bytearray` (no
/// `fix_imports` at protocol 3) and `builtins.bytearray`. Written below protocol 3 both become
/// `__builtin__ bytearray` lines, one object when read back: stable from the second round.
#[test]
fn python2_and_python3_names_that_collide_below_protocol_3() {
    let data = include_bytes!("data/fuzz-recode-py2-name-collision.pickle");
    recode_is_stable(data);
}

/// cargo-fuzz `recode`, 2026-12-07: a protocol-5 pickle calls `__builtin__.bytes()` (a Python 2
/// name, kept as written at protocol 3 and later) and APPENDs to the result. Written below
/// protocol 3, the global line read back through `fix_imports` as `builtins.bytes`, whose
/// empty call the reader turns into `b''`; the APPENDS then failed ("'bytes' object has no
/// attribute 'append'"). The writer now refuses such a global below protocol 3.
#[test]
fn a_python2_builtin_call_kept_at_protocol_5_is_not_written_below_3() {
    let data = include_bytes!("data/fuzz-recode-py2-builtin-call-with-appends.pickle");
    recode_is_stable(data);
    let g = brine::loads(data).unwrap();
    for p in 0..=2 {
        let e = brine::dumps_with(&g, DumpOptions::new().protocol(p)).unwrap_err();
        assert!(
            e.to_string().contains("read back as 'builtins.bytes'"),
            "p{p}: {e}"
        );
    }
    for p in 3..=5 {
        let out = brine::dumps_with(&g, DumpOptions::new().protocol(p)).unwrap();
        assert!(brine::loads(&out).is_ok(), "p{p}");
    }
}
