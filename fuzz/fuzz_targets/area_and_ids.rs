//! Area codes and identity numbers as residents and officials type them, and the embedded
//! division list they are looked up in: `AreaCode::parse`, `Divisions::validate` /
//! `check` / `place` / `search` / suggestions, `IdDocument::parse`, `PersonId::parse`,
//! `EventId::parse`, `Timestamp::parse`, `check_name`, `mask_name` and `check_phone`.
//!
//! First byte: 0, the rest is an area code (also read with every byte mapped to a digit,
//! so that most inputs are codes); 1, an identity document `<id_type>\n<number>` (the
//! number also tried as every type); 2, a timestamp, an id, a name or a phone number (and
//! its first 8 bytes an instant); 3, a search query.
//!
//! Checked besides "no panic": an area code's normal form is a prefix of it, covers it and
//! is covered by each covering prefix; a code current now is also valid for evidence dated
//! now, and reads as a place; a search finds at most its limit; an identity number, once read, reads again
//! to the same document (its canonical form is a fixed point); a timestamp written back as
//! RFC 3339 reads to the same instant; a checked name or phone number checks again to
//! itself; a masked name has as many characters as the name (runs of spaces count as one).
#![no_main]

use healthcode_domain::{check_name, mask_name, AreaCode, EventId, IdDocument, IdType, PersonId, Timestamp};
use healthcode_fuzz::{mode, NOW};
use healthcode_places::Divisions;
use healthcode_service::check_phone;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((m, rest)) = mode(data) else { return };
    match m % 4 {
        0 => {
            let digits: String = rest.iter().take(12).map(|b| char::from(b'0' + b % 10)).collect();
            area(&digits);
            if let Ok(text) = std::str::from_utf8(rest) {
                area(text);
            }
        }
        3 => {
            // A picker's search box. Slow (a pass over the 76,000 divisions), so a mode of
            // its own: the other modes run a thousand times faster.
            let Ok(text) = std::str::from_utf8(rest) else { return };
            let found = Divisions::embedded().search(text, 30);
            assert!(found.len() <= 30);
        }
        1 => {
            let Ok(text) = std::str::from_utf8(rest) else { return };
            let (id_type, number) = text.split_once('\n').unwrap_or((text, ""));
            document(id_type, number);
            for t in IdType::ALL {
                document(t.as_str(), text);
            }
        }
        2 => {
            // Any instant (the first 8 bytes), as the service's clock or arithmetic may give.
            if let Some(bytes) = rest.first_chunk::<8>() {
                let at = Timestamp::from_millis(i64::from_le_bytes(*bytes));
                let written = at.to_rfc3339();
                // RFC 3339 has four-digit years: beyond them the text is for people only.
                let year = written.as_bytes().get(..5);
                if year.is_some_and(|y| y[..4].iter().all(u8::is_ascii_digit) && y[4] == b'-') {
                    assert_eq!(Timestamp::parse(&written), Ok(at), "{written}");
                }
                let card = IdDocument::parse("resident_id", "11010519491231002X").expect("the tests' card");
                let _ = card.age_at(at);
            }
            let Ok(text) = std::str::from_utf8(rest) else { return };
            if let Ok(at) = Timestamp::parse(text) {
                let written = at.to_rfc3339();
                if !written.starts_with('@') {
                    assert_eq!(Timestamp::parse(&written), Ok(at), "{written}");
                }
            }
            if let Ok(id) = PersonId::parse(text) {
                assert_eq!(id.as_str(), text);
            }
            if let Ok(id) = EventId::parse(text) {
                assert_eq!(EventId::parse(id.as_str()).as_ref(), Ok(&id));
            }
            let masked = mask_name(text);
            let kept = text.trim();
            assert_eq!(masked.chars().count(), kept.chars().count() - spaces_squeezed(kept));
            if let Ok(name) = check_name(text) {
                assert_eq!(check_name(&name).as_ref(), Ok(&name));
            }
            if let Ok(phone) = check_phone(text) {
                assert_eq!(check_phone(&phone).as_ref(), Ok(&phone));
            }
        }
        _ => unreachable!(),
    }
});

fn area(text: &str) {
    let Ok(code) = AreaCode::parse(text) else { return };
    assert_eq!(code.as_str(), text);
    assert!(text.starts_with(code.normal()));
    assert!(code.covers(&code));
    for prefix in code.covering_prefixes() {
        let cover = AreaCode::parse(&healthcode_places::written(prefix)).expect("a covering prefix is a code");
        assert!(cover.covers(&code), "{prefix} does not cover {text}");
    }
    let divisions = Divisions::embedded();
    let now = Timestamp::from_millis(NOW * 1000);
    let current = divisions.validate(&code, None);
    if current.is_ok() {
        assert!(divisions.validate(&code, Some(now)).is_ok());
        assert!(divisions.check_current(&code).is_ok());
    }
    for at in [now, Timestamp::MIN, Timestamp::MAX] {
        let _ = divisions.check(&code, at);
    }
    if let Err(unknown) = current {
        let _ = unknown.to_string();
    }
    let place = divisions.place(&code);
    let _ = (place.label(true), place.label(false));
    let _ = divisions.ancestry(code.normal());
    let _ = divisions.children(code.normal());
}

fn document(id_type: &str, number: &str) {
    let Ok(doc) = IdDocument::parse(id_type, number) else { return };
    assert_eq!(IdDocument::parse(id_type, doc.number()).as_ref(), Ok(&doc));
    for at in [NOW * 1000, 0, i64::MIN, i64::MAX] {
        let _ = doc.age_at(Timestamp::from_millis(at));
    }
}

/// Whitespace `mask_name` drops: it keeps words, joined by one space.
fn spaces_squeezed(name: &str) -> usize {
    if !name.contains(char::is_whitespace) {
        return 0;
    }
    let words = name.split_whitespace().count();
    name.chars().count() - name.split_whitespace().map(|w| w.chars().count()).sum::<usize>() - (words - 1)
}
