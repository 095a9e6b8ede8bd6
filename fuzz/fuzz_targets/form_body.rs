//! Pages' form bodies: a registration form posted with a fuzzed body and query, read by
//! the extractor every page form goes through (axum's `Form` into the pages' `Fields`,
//! with the page's `Ui` from the query), then shown again with what it held — the path of
//! every form that keeps its fields after a refusal or a step of its area picker
//! (`AreaPicker::new` and `render`: a picked, typed or searched area).
//!
//! Input: the query string, a line break, the body.
//!
//! Checked besides "no panic": the answer is a page (200) or a refusal (4xx), never a 500;
//! nothing posted reaches the page unescaped — the page has exactly as many `<`, `>`, `"`
//! and `'` as the page shown for the same form with those characters replaced in every
//! name and value.
#![no_main]

use healthcode_server::fuzzing::register_form_again;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (query, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&[][..], data),
    };
    let Ok(query) = std::str::from_utf8(query) else { return };
    let Some((status, page)) = register_form_again(query, body) else { return };
    assert!(status == 200 || (400..500).contains(&status), "status {status}");
    if status != 200 {
        return;
    }
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else { return };
    let defanged: Vec<(String, String)> = pairs.iter().map(|(k, v)| (defang(k), defang(v))).collect();
    let body = serde_urlencoded::to_string(&defanged).expect("pairs of text encode");
    let (_, plain) = register_form_again(query, body.as_bytes()).expect("the same query");
    for c in ['<', '>', '"', '\''] {
        assert_eq!(page.matches(c).count(), plain.matches(c).count(), "`{c}` from the form reached the page");
    }
});

fn defang(text: &str) -> String {
    text.replace('<', "‹").replace('>', "›").replace('"', "”").replace('\'', "’")
}
