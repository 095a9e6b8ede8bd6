//! CSV feed records and the rejection log's redaction: `CsvHeader::parse`,
//! `CsvHeader::row` (RFC 4180 quoting), `mask_numbers` and `kept_input`.
//!
//! The input is a header line, a line break, and one record (which may span lines inside
//! quotes). Checked besides "no panic": a record that reads, written back as CSV in the
//! header's columns (every cell quoted), reads to the same JSON object; masking leaves no
//! run of six or more digits; redaction of a row that is not JSON keeps none either.
#![no_main]

use healthcode_service::fuzzing::{kept_input, mask_numbers};
use healthcode_service::CsvHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let masked = mask_numbers(text);
    assert!(longest_digit_run(&masked) < 6, "{masked:?}");
    if serde_json::from_str::<serde_json::Value>(text).is_err() && !text.contains('\0') {
        assert_eq!(kept_input(text), masked);
    }

    let (header_line, record) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(header) = CsvHeader::parse(header_line) else { return };
    let names: Vec<String> = split_header(header_line);
    let Ok(value) = header.row(record) else { return };
    let object = value.as_object().expect("a row is an object");
    let written: Vec<String> = names
        .iter()
        .map(|name| match object.get(name.as_str()) {
            None => String::new(),
            Some(serde_json::Value::String(s)) => format!("\"{}\"", s.replace('"', "\"\"")),
            Some(other) => other.to_string(),
        })
        .collect();
    let again = header.row(&written.join(",")).expect("a written record reads");
    assert_eq!(again, value);
});

/// The header's column names in order (the fuzzer's headers are read by the crate; this
/// only needs the names of one that read, which are unquoted or simply quoted).
fn split_header(line: &str) -> Vec<String> {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    let mut names = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => names.push(std::mem::take(&mut field).trim().to_string()),
            c => field.push(c),
        }
    }
    names.push(field.trim().to_string());
    names
}

fn longest_digit_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}
