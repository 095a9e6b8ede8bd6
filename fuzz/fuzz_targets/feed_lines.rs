//! A bulk feed's body as the network delivers it: `LineSplitter` (lines, wherever the
//! chunks break), then, for CSV, `CsvRecords` (records whose quoted fields span lines),
//! the header (`CsvHeader::parse`), each record (`CsvHeader::row`) and `parse_event`; for
//! NDJSON, each line as JSON and `parse_event`. Refused rows go through the rejection
//! log's redaction (`kept_input`).
//!
//! Checked besides "no panic": the lines do not depend on where the chunks break; there is
//! one line per line break (and one for an unterminated last line); kept lines hold no
//! line break and are at most `MAX_LINE_BYTES`; CSV records come out in order, none
//! starts inside another, their lines add up to the body's, and nothing stays open at the
//! end.
#![no_main]

use healthcode_domain::{parse_event, Timestamp};
use healthcode_fuzz::NOW;
use healthcode_service::fuzzing::{kept_input, CsvRecords};
use healthcode_service::{CsvHeader, LineSplitter, RawLine, MAX_LINE_BYTES};
use libfuzzer_sys::fuzz_target;

/// The input: a flags byte (bit 0: CSV; bit 1: a run follows), a count of cuts and that
/// many 16-bit offsets where the network cuts the body (modulo its length), then, if
/// bit 1, a run of one byte to insert (offset u16, byte, length u32, little-endian) —
/// which reaches lines longer than `MAX_LINE_BYTES` without a 64 KiB input — then the
/// body. Laid out by hand rather than with `arbitrary` so that seeds are readable files.
struct Input<'a> {
    csv: bool,
    cuts: Vec<u16>,
    run: Option<(u16, u8, u32)>,
    body: &'a [u8],
}

fn read(data: &[u8]) -> Option<Input<'_>> {
    let (&flags, rest) = data.split_first()?;
    let (&count, mut rest) = rest.split_first()?;
    let mut cuts = Vec::new();
    for _ in 0..count {
        let (cut, after) = rest.split_at_checked(2)?;
        cuts.push(u16::from_le_bytes([cut[0], cut[1]]));
        rest = after;
    }
    let mut run = None;
    if flags & 2 != 0 {
        let (r, after) = rest.split_at_checked(7)?;
        run = Some((u16::from_le_bytes([r[0], r[1]]), r[2], u32::from_le_bytes([r[3], r[4], r[5], r[6]])));
        rest = after;
    }
    Some(Input { csv: flags & 1 != 0, cuts, run, body: rest })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = read(data) else { return };
    let mut body = input.body.to_vec();
    if let Some((at, byte, len)) = input.run {
        let at = usize::from(at) % (body.len() + 1);
        let len = (len % (3 * MAX_LINE_BYTES as u32)) as usize;
        body.splice(at..at, std::iter::repeat_n(byte, len));
    }

    let whole = split(&[&body]);
    let mut cuts: Vec<usize> = input.cuts.iter().map(|c| usize::from(*c) % (body.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain([body.len()]) {
        pieces.push(&body[from..cut]);
        from = cut;
    }
    assert_eq!(split(&pieces), whole);

    let breaks = body.iter().filter(|b| **b == b'\n').count();
    let unterminated = usize::from(!body.is_empty() && body.last() != Some(&b'\n'));
    assert_eq!(whole.len(), breaks + unterminated);
    for line in &whole {
        match line {
            RawLine::Text(text) => assert!(!text.contains('\n') && text.len() <= MAX_LINE_BYTES),
            RawLine::Refused { start, .. } => assert!(start.chars().count() <= 200),
        }
    }

    let default_at = Timestamp::from_millis(NOW * 1000);
    if input.csv {
        let mut records = CsvRecords::default();
        let mut out = Vec::new();
        for (number, line) in (1u64..).zip(whole.iter().cloned()) {
            records.push(number, line, &mut out);
        }
        records.give_up_all(&mut out);
        assert_eq!(records.first_open_line(), None);
        let mut next = 1;
        for (number, line) in &out {
            assert_eq!(*number, next, "records are in order and none starts inside another");
            next += match line {
                RawLine::Text(text) => text.matches('\n').count() as u64 + 1,
                RawLine::Refused { .. } => 1,
            };
        }
        assert_eq!(next - 1, whole.len() as u64);
        let mut rows = out.into_iter();
        let Some((_, RawLine::Text(first))) = rows.next() else { return };
        let Ok(header) = CsvHeader::parse(&first) else { return };
        for (_, line) in rows {
            match line {
                RawLine::Text(text) => match header.row(&text) {
                    Ok(value) => {
                        if parse_event(&value, default_at).is_err() {
                            let _ = kept_input(&value.to_string());
                        }
                    }
                    Err(_) => {
                        let _ = kept_input(&text);
                    }
                },
                RawLine::Refused { start, .. } => {
                    let _ = kept_input(&start);
                }
            }
        }
    } else {
        for line in whole {
            let RawLine::Text(text) = line else { continue };
            let admitted = serde_json::from_str(&text).ok().and_then(|v| parse_event(&v, default_at).ok());
            if admitted.is_none() {
                let _ = kept_input(&text);
            }
        }
    }
});

fn split(pieces: &[&[u8]]) -> Vec<RawLine> {
    let mut splitter = LineSplitter::new();
    let mut out = Vec::new();
    for piece in pieces {
        splitter.push(piece, &mut out);
    }
    splitter.finish(&mut out);
    out
}
