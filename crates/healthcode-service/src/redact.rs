//! What the rejection log keeps of a refused input. It is for finding and fixing bad rows,
//! not for holding personal data: an identity-document number is masked, free text (a
//! note a clerk typed, where a phone number or a name may be) is withheld, and a row that
//! cannot be parsed has every long run of digits masked (an ID or a phone number, or part
//! of one, whatever the field it was meant for). NUL, which no database text holds, is
//! replaced.

use serde_json::Value;

/// The fields that annotate a row in free text (CSV `note`, `comment`, …).
const FREE_TEXT: &[&str] = &["note", "comment", "description", "source", "name", "phone"];

/// Fields whose values are codes, ids or times that fixing a row needs and that a
/// person cannot be read from (an area code is digits, as is a date).
const STRUCTURAL: &[&str] = &[
    "id",
    "type",
    "person_id",
    "id_type",
    "at",
    "onset_at",
    "result",
    "sampled_at",
    "status",
    "exposure_at",
    "mode",
    "days",
    "country",
    "entered_at",
    "area",
    "from",
    "to",
    "level",
    "escalate_to_red",
    "color",
    "until",
    "origin",
    "home_code",
    "arrived_at",
];

/// The input of a refused row as kept: parsed and redacted if it is JSON, its digits
/// masked if not.
pub fn kept_input(row: &str) -> String {
    let cleaned = row.replace('\0', "\u{fffd}");
    match serde_json::from_str::<Value>(&cleaned) {
        Ok(value) => kept_parsed_input(&cleaned, &value),
        Err(_) => mask_numbers(&cleaned),
    }
}

/// `kept_input` of a row already parsed as `value` (a bulk feed parses every row once;
/// parsing it again to redact it was a twentieth of a feed's time): `row` itself when
/// nothing needs redacting.
pub(crate) fn kept_parsed_input(row: &str, value: &Value) -> String {
    let Value::Object(object) = value else { return mask_numbers(&row.replace('\0', "\u{fffd}")) };
    if object.iter().all(|(k, v)| STRUCTURAL.contains(&k.as_str()) && !v.is_object() && !v.is_array()) {
        return row.replace('\0', "\u{fffd}");
    }
    let mut kept = serde_json::Map::with_capacity(object.len());
    for (key, value) in object {
        let redacted = match key.as_str() {
            "id_number" => Value::String("***".into()),
            k if FREE_TEXT.contains(&k) => withheld(value),
            k if STRUCTURAL.contains(&k) && !value.is_object() && !value.is_array() => value.clone(),
            // An unknown field, or a structure where a value belongs: its text may be
            // anything, so its numbers are masked.
            _ => Value::String(mask_numbers(&value.to_string())),
        };
        kept.insert(key.clone(), redacted);
    }
    Value::Object(kept).to_string()
}

fn withheld(value: &Value) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::String(s) => Value::String(format!("[{} characters withheld]", s.chars().count())),
        _ => Value::String("[withheld]".into()),
    }
}

/// Masks every run of digits that could be an identity or phone number: six or more
/// digits in a row (an ID's trailing `X` included), or seven or more broken up by single
/// spaces, dots or hyphens (`138-0013-8000`). A date (`2026-11-24`) stays, and so does a
/// time (`09:30:00`: colons break runs).
pub fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // Groups of digits joined by single separators, as (start, end).
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let (mut j, mut digits) = (i, 0);
        loop {
            let group_start = j;
            while j < chars.len() && (chars[j].is_ascii_digit() || (matches!(chars[j], 'X' | 'x') && digits >= 14)) {
                digits += 1;
                j += 1;
            }
            groups.push((group_start, j));
            let joined =
                matches!(chars.get(j), Some(' ' | '.' | '-')) && chars.get(j + 1).is_some_and(char::is_ascii_digit);
            if !joined {
                break;
            }
            j += 1;
        }
        let lengths: Vec<usize> = groups.iter().map(|(a, b)| b - a).collect();
        if lengths.len() >= 3 && lengths[..3] == [4, 2, 2] {
            // A date: kept, and what follows it read on its own.
            let end = groups[2].1;
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        let end = groups.last().map_or(i + 1, |g| g.1);
        if lengths.iter().any(|&n| n >= 6) || digits >= 7 {
            out.push_str("***");
        } else {
            out.extend(&chars[i..end]);
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{kept_input, mask_numbers};

    #[test]
    fn numbers_that_could_be_ids_or_phones_are_masked_and_dates_stay() {
        let cases = [
            (r#"{"id_number":"11010519491231002X","days":14,"#, r#"{"id_number":"***","days":14,"#),
            ("E12345 passport", "E12345 passport"),
            ("call 13800138000 now", "call *** now"),
            ("call 138-0013-8000 or 138 0013 8000", "call *** or ***"),
            ("fever,2026-11-24T09:30:00+08:00,,", "fever,2026-11-24T09:30:00+08:00,,"),
            ("area 330106001002 line", "area *** line"),
            ("a,b,1,22,333", "a,b,1,22,333"),
            ("110105 19491231 002X", "***"),
            ("2026-11-24 09:30 at 330106", "2026-11-24 09:30 at ***"),
        ];
        for (text, kept) in cases {
            assert_eq!(mask_numbers(text), kept, "{text}");
        }
    }

    #[test]
    fn a_kept_json_row_holds_no_id_number_no_free_text_and_no_unknown_numbers() {
        let row = r#"{"id":"cdc-1","type":"fevre","id_type":"resident_id","id_number":"11010519491231002X",
                     "note":"phone 13800138000, 张三丰","extra":"13800138000","area":"330106"}"#;
        let kept = kept_input(row);
        for leaked in ["11010519491231002X", "13800138000", "张三丰"] {
            assert!(!kept.contains(leaked), "{leaked} in {kept}");
        }
        assert!(kept.contains(r#""type":"fevre""#) && kept.contains(r#""area":"330106""#), "{kept}");
        assert!(kept.contains("characters withheld"), "{kept}");
        let plain = r#"{"id":"cdc-2","type":"fever","person_id":"p1"}"#;
        assert_eq!(kept_input(plain), plain, "a row with nothing to hide is kept as sent");
        assert_eq!(kept_input("bad\0row"), "bad\u{fffd}row");
        assert_eq!(kept_input("{ not json 11010519491231002X"), "{ not json ***");
    }
}
