//! Writes the seed corpora of the fuzz targets to `fuzz/seeds/<target>/`, from the values
//! the crates' tests use. Run from `fuzz/`: `cargo run --example seeds` (any toolchain).
//! The seeds are committed; rerun this only when a format changes.
//!
//! Each seed is laid out as its target reads its input (see the targets' headers).

use std::path::Path;

use coset::{CborSerializable, CoseSign1, TaggedCborSerializable};
use healthcode_domain::{Colour, PersonKind};
use healthcode_fuzz::{issuer, root, trust, NOW};
use healthcode_log::{sign_note, Checkpoint, NoteSigner};
use healthcode_token::{issue_card, issue_code, issue_venue, CardClaims, CodeClaims, SignedTrustList, VenueClaims};

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target);
    std::fs::create_dir_all(&dir).expect("seed directory");
    std::fs::write(dir.join(name), bytes).expect("seed file");
}

fn with_mode(mode: u8, rest: impl AsRef<[u8]>) -> Vec<u8> {
    [&[mode][..], rest.as_ref()].concat()
}

fn main() {
    tokens();
    trust_lists();
    notes();
    events();
    feeds();
    rule_sets();
    areas_and_ids();
    forms();
}

fn tokens() {
    // tests/common: code_claims, venue_claims; crafted_tests: claims().
    let code = CodeClaims {
        issuer: "33".into(),
        code_id: "c_7f3a9e21b04d".into(),
        colour: Colour::Yellow,
        kind: PersonKind::Domestic,
        display_name: "张*三".into(),
        issued_at: NOW,
        expires_at: NOW + 300,
    };
    let venue = VenueClaims {
        issuer: "33".into(),
        venue_id: "v_330106_000123".into(),
        category: "supermarket".into(),
        window_start: NOW - 30,
        window_end: NOW + 30,
    };
    let card = CardClaims {
        issuer: "33".into(),
        card_id: "k_5d1c".into(),
        display_name: "J*** S****".into(),
        issued_at: NOW - 86_400,
        expires_at: NOW + 366 * 86_400,
    };
    let tokens = [
        ("code", 0u8, issue_code(&issuer(), &code)),
        ("venue", 1, issue_venue(&issuer(), &venue)),
        ("card", 2, issue_card(&issuer(), &card)),
    ];
    for (name, kind, token) in &tokens {
        write("token_verify", &format!("text-{name}"), with_mode(0, token));
        let zlib = base45::decode(&token[4..]).expect("base45");
        let cose = miniz_oxide::inflate::decompress_to_vec_zlib(&zlib).expect("zlib");
        let payload = CoseSign1::from_tagged_slice(&cose).expect("COSE").payload.expect("payload");
        write("token_verify", &format!("payload-{name}"), with_mode(1, with_mode(*kind, &payload)));
        write("token_verify", &format!("cose-{name}"), with_mode(2, with_mode(*kind, &cose)));
        write("token_verify", &format!("zlib-{name}"), with_mode(3, with_mode(*kind, &zlib)));
    }
    // An untagged COSE_Sign1 and an empty claims set: near misses.
    let cose = CoseSign1::from_tagged_slice(
        &miniz_oxide::inflate::decompress_to_vec_zlib(&base45::decode(&tokens[0].2[4..]).expect("base45"))
            .expect("zlib"),
    )
    .expect("COSE");
    write("token_verify", "cose-untagged", with_mode(2, with_mode(0, cose.to_vec().expect("COSE"))));
    write("token_verify", "payload-empty-map", with_mode(1, [0u8, 0xa0]));
}

fn trust_lists() {
    let list = trust();
    write("trust_list", "published", with_mode(0, SignedTrustList::sign(&root(), &list).to_json()));
    write("trust_list", "inner", with_mode(1, serde_json::to_string(&list).expect("JSON")));
    let mut rotated = list.clone();
    rotated.keys[0].not_after = Some(NOW + 3600);
    rotated.keys.push(healthcode_token::TrustedKey::of(&healthcode_token::SigningKey::from_seed([2; 32]), NOW));
    rotated.keys[1].revoked = true;
    write("trust_list", "inner-rotated", with_mode(1, serde_json::to_string(&rotated).expect("JSON")));
}

fn notes() {
    // tests/audit.rs: the origin and key seed.
    let origin = "healthcode.example/log";
    let signer = NoteSigner::from_seed(origin, [42; 32]).expect("name");
    let checkpoint = Checkpoint { origin: origin.into(), size: 7, root: [0x5a; 32] };
    write("log_note", "note-checkpoint", with_mode(0, checkpoint.sign(&signer).expect("sign")));
    let witness = NoteSigner::from_seed("witness.example", [7; 32]).expect("name");
    let cosigned = sign_note(&checkpoint.to_body(), &[&witness, &signer]).expect("sign");
    write("log_note", "note-cosigned", with_mode(0, cosigned));
    write("log_note", "body-checkpoint", with_mode(1, checkpoint.to_body()));
    write("log_note", "body-extension", with_mode(1, format!("{}extension line\n", checkpoint.to_body())));
    write("log_note", "key-verifier", with_mode(2, signer.verifier().to_string()));
    write("log_note", "key-signer", with_mode(2, signer.to_secret_text()));
}

/// The events of the repository's scenarios (`scenarios/*.json`), each once.
fn events() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut seen = std::collections::BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("scenarios").flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let text = std::fs::read_to_string(&path).expect("scenario");
        let scenario: serde_json::Value = serde_json::from_str(&text).expect("scenario JSON");
        for event in scenario["events"].as_array().into_iter().flatten() {
            let line = event.to_string();
            if seen.insert(line.clone()) {
                write("parse_event", &format!("scenario-{:03}", seen.len()), line);
            }
        }
    }
    // The domain's parse tests: a designation, a person named by document.
    write(
        "parse_event",
        "area-risk",
        r#"{"type":"area_risk","area":"330106","level":"high","at":"2020-06-01T08:00:00+08:00"}"#,
    );
    write(
        "parse_event",
        "by-document",
        r#"{"type":"fever","id_type":"resident_id","id_number":"11010519491231002X","onset_at":"2020-05-31T08:00:00+08:00"}"#,
    );
}

fn feeds() {
    // healthcode-server tests/feeds.rs, healthcode-service tests/feeds.rs, feeds/csv.rs.
    let bodies: [(&str, u8, &str); 5] = [
        (
            "csv-stays",
            1,
            "id,type,person_id,id_type,id_number,exposure_at,area,from,to\n\
             s1,stay,p1,,,,330106,2020-05-30T08:00:00+08:00,2020-05-31T08:00:00+08:00\n\
             s2,stay,,resident_id,11010519491231002X,,330106,2020-05-30T08:00:00+08:00,\n\
             c1,close_contact,p1,,,2020-05-31T08:00:00+08:00,,,\n",
        ),
        (
            "csv-quoted-lines",
            1,
            "id,type,person_id,result,sampled_at,note\n\
             a1,test,p1,negative,2026-11-24T08:00:00+08:00,\"stray\n\
             a2,test,p2,negative,2026-11-24T08:00:00+08:00,\n\
             a3,test,p3,negative,2026-11-24T08:00:00+08:00,\"a note\n\
             that goes on\"\n",
        ),
        (
            "csv-leaky",
            1,
            "id,type,id_type,id_number,onset_at,note\r\n\
             r1,fever,resident_id,11010519491231002X,2020-05-31T08:00:00+08:00,one field too many,extra\r\n\
             r2,fevre,resident_id,11010519491231002X,,call 138-0013-8000 or 张三丰\r\n",
        ),
        (
            "ndjson",
            0,
            "{\"id\":\"t1\",\"type\":\"test\",\"person_id\":\"p1\",\"result\":\"positive\",\"sampled_at\":\"2026-11-20T08:00:00+08:00\"}\n\
             {\"id\":\"s1\",\"type\":\"stay\",\"person_id\":\"p1\",\"area\":\"330106\",\"from\":\"2020-05-30T08:00:00+08:00\"}\n\
             not json 13800138000\n",
        ),
        ("csv-bom", 1, "\u{feff}id,type,person_id,result,sampled_at,days\nt1,test,p1,negative,2026-11-20T08:00:00+08:00,\n"),
    ];
    for (name, flags, body) in bodies {
        // No cuts, and cuts at 1, 7 and 40.
        write("feed_lines", name, [&[flags, 0][..], body.as_bytes()].concat());
        let cuts: Vec<u8> = [1u16, 7, 40].iter().flat_map(|c| c.to_le_bytes()).collect();
        write("feed_lines", &format!("{name}-cut"), [&[flags, 3][..], &cuts, body.as_bytes()].concat());
        let (header, rest) = body.split_once('\n').expect("a header");
        let record = rest.split('\n').next().unwrap_or_default();
        if flags & 1 == 1 {
            write("feed_csv", name, format!("{header}\n{record}"));
        }
    }
    // A line over MAX_LINE_BYTES: a run of 70,000 `a` inserted at 0.
    let run = [&[0u8, 0][..], b"a", &70_000u32.to_le_bytes()].concat();
    write("feed_lines", "overlong", [&[2u8, 0][..], &run, b"\n{\"type\":\"fever\"}\n"].concat());
    write("feed_csv", "quoted-header", "\"type\",\" id \",days\nquarantine_order,q1,14");
    write("feed_csv", "quote-in-field", "type,note\nfever,\"say \"\"hi\"\"\"");
}

fn rule_sets() {
    let reference = include_str!("../../crates/healthcode-rules/rulesets/reference.toml");
    write("rule_set", "reference-toml", reference);
    let rules = healthcode_rules::RuleSet::parse(reference).expect("reference rules");
    write("rule_set", "reference-json", serde_json::to_string(rules.file()).expect("JSON"));
}

fn areas_and_ids() {
    for code in ["330106", "330100", "330106001", "330106001001", "110105", "000000"] {
        write("area_and_ids", &format!("area-{code}"), with_mode(0, code));
    }
    write("area_and_ids", "search-xihu", with_mode(3, "西湖"));
    write("area_and_ids", "search-en", with_mode(3, "Hangzhou"));
    for (name, doc) in [
        ("resident", "resident_id\n11010519491231002X"),
        ("passport", "passport\nE12345678"),
        ("hk", "hk_macao_permit\nH12345678"),
        ("taiwan", "taiwan_permit\n12345678"),
        ("foreign-2017", "foreign_permanent_residence\nUSA330106123456"),
    ] {
        write("area_and_ids", &format!("id-{name}"), with_mode(1, doc));
    }
    write("area_and_ids", "time", with_mode(2, "2020-06-01T08:00:00+08:00"));
    write("area_and_ids", "time-millis", with_mode(2, "2026-11-20T08:00:00.123Z"));
    write("area_and_ids", "name", with_mode(2, "张三丰"));
    write("area_and_ids", "name-latin", with_mode(2, " John  Smith "));
}

/// `form_body`: a query, a line break, a registration form as the page posts it (the
/// server's tests/pages.rs fields), at each step of its area picker.
fn forms() {
    for (name, form) in [
        ("register", "\nconsent=yes&id_type=resident_id&id_number=11010519491231002X&name=%E5%BC%A0%E4%B8%89&residence_area=330106"),
        ("pick", "lang=en\nresidence_area=&residence_area_pick=330100&id_type=passport"),
        ("search", "\nresidence_area_q=%E8%A5%BF%E6%B9%96&residence_area_search=1&name=%3Cb%3E%22x%22"),
        ("typed", "text=large\nresidence_area=330106001&residence_area_search=1&residence_area_q=Xihu"),
    ] {
        write("form_body", name, form);
    }
}
