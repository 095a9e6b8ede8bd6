//! Signed notes and checkpoints, anchored to the Go reference implementation's example
//! (golang.org/x/mod/sumdb/note): same key text, same key hash, same signed bytes.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_log::*;

const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIGNED: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn signer(name: &str, byte: u8) -> NoteSigner {
    NoteSigner::from_seed(name, [byte; 32]).unwrap()
}

#[test]
fn the_go_reference_example_is_reproduced_byte_for_byte() {
    let signer = NoteSigner::parse(SKEY).unwrap();
    assert_eq!(signer.key_hash(), 0xc74f20a3);
    assert_eq!(signer.to_secret_text(), SKEY);
    assert_eq!(signer.verifier().to_string(), VKEY);
    let verifier = NoteVerifier::parse(VKEY).unwrap();
    assert_eq!(verifier, signer.verifier());
    assert_eq!(sign_note(TEXT, &[&signer]).unwrap(), SIGNED);
    assert_eq!(open_note(SIGNED, &verifier), Ok(TEXT));
}

#[test]
fn signer_debug_redacts_the_secret() {
    let shown = format!("{:?}", NoteSigner::parse(SKEY).unwrap());
    assert!(shown.contains("PeterNeumann") && shown.contains("c74f20a3") && shown.contains("redacted"), "{shown}");
    assert!(!shown.contains("AYEKFALV"), "{shown}");
}

#[test]
fn mangled_key_texts_are_refused() {
    for key in [VKEY, SKEY] {
        let parse = |k: &str| if key == VKEY { NoteVerifier::parse(k).is_ok() } else { NoteSigner::parse(k).is_ok() };
        assert!(parse(key));
        for cut in 0..key.len() {
            assert!(!parse(&key[..cut]), "accepted prefix {:?}", &key[..cut]);
        }
        for i in 0..key.len() {
            let mut bytes = key.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let mangled = String::from_utf8(bytes).unwrap();
            if mangled != key {
                assert!(!parse(&mangled), "accepted {mangled}");
            }
        }
    }
    assert!(NoteSigner::from_seed("has space", [1; 32]).is_err());
    assert!(NoteSigner::from_seed("has+plus", [1; 32]).is_err());
    assert!(NoteSigner::from_seed("", [1; 32]).is_err());
}

#[test]
fn opening_fails_for_each_reason() {
    let log = signer("healthcode.example/log", 7);
    let witness = signer("witness.example", 9);
    let verifier = log.verifier();
    let note = sign_note("hello\n", &[&witness, &log]).unwrap();
    assert_eq!(open_note(&note, &verifier), Ok("hello\n"), "other keys' signatures are ignored");

    let tampered = note.replacen("hello", "hullo", 1);
    assert_eq!(
        open_note(&tampered, &verifier),
        Err(NoteError::BadSignature(format!("healthcode.example/log+{:08x}", log.key_hash())))
    );

    let only_witness = sign_note("hello\n", &[&witness]).unwrap();
    assert!(
        matches!(open_note(&only_witness, &verifier), Err(NoteError::UnknownKey(names)) if names[0].starts_with("witness.example+"))
    );

    // Same name, another key: its hash differs, so it is someone else's signature.
    let impostor = signer("healthcode.example/log", 8);
    let forged = sign_note("hello\n", &[&impostor]).unwrap();
    assert!(matches!(open_note(&forged, &verifier), Err(NoteError::UnknownKey(_))));

    // Right name and key hash, signature bytes from another key.
    let sig_line = forged.lines().last().unwrap().to_owned();
    let (prefix, b64) = sig_line.rsplit_once(' ').unwrap();
    use base64::Engine as _;
    let mut blob = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    blob[..4].copy_from_slice(&log.key_hash().to_be_bytes());
    let spoofed = format!("hello\n\n{prefix} {}\n", base64::engine::general_purpose::STANDARD.encode(blob));
    assert!(matches!(open_note(&spoofed, &verifier), Err(NoteError::BadSignature(_))));

    assert_eq!(open_note("hello\n", &verifier), Err(NoteError::MissingSignature));
    assert_eq!(open_note("hello\n\n", &verifier), Err(NoteError::MissingSignature));
    for malformed in [
        "hello\n\n- healthcode.example/log AAAA\n".to_owned(),
        note.trim_end().to_owned(),
        note.replacen('\u{2014}', "\u{2013}", 1),
        "hello\n\n\u{2014} healthcode.example/log !!!\n".to_owned(),
        "hello\n\n\u{2014} healthcode.example/log AAAA\n".to_owned(),
        "hel\tlo\n\n\u{2014} a AAAAAAAA\n".to_owned(),
    ] {
        assert!(matches!(open_note(&malformed, &verifier), Err(NoteError::Malformed(_))), "{malformed:?}");
    }
    assert!(matches!(sign_note("no newline", &[&log]), Err(NoteError::Malformed(_))));
    assert!(matches!(sign_note("text\n", &[]), Err(NoteError::MissingSignature)));
}

#[test]
fn checkpoints_round_trip_and_are_bound_to_their_origin() {
    let log = signer("healthcode.example/log", 7);
    let checkpoint = Checkpoint { origin: "healthcode.example/log".into(), size: 1234, root: leaf_hash(b"x") };
    let body = checkpoint.to_body();
    assert!(body.starts_with("healthcode.example/log\n1234\n") && body.ends_with("=\n") && body.lines().count() == 3);
    assert_eq!(Checkpoint::parse_body(&body), Ok(checkpoint.clone()));

    let note = checkpoint.sign(&log).unwrap();
    assert_eq!(Checkpoint::open(&note, &log.verifier(), "healthcode.example/log"), Ok(checkpoint.clone()));
    assert_eq!(
        Checkpoint::open(&note, &log.verifier(), "other.example/log"),
        Err(CheckpointError::OriginMismatch {
            expected: "other.example/log".into(),
            found: "healthcode.example/log".into()
        })
    );
    let forged = note.replacen("1234", "1235", 1);
    assert!(matches!(
        Checkpoint::open(&forged, &log.verifier(), "healthcode.example/log"),
        Err(CheckpointError::Note(NoteError::BadSignature(_)))
    ));

    let with_extension = format!("{body}extension line\n");
    assert_eq!(Checkpoint::parse_body(&with_extension), Ok(checkpoint));
}

#[test]
fn checkpoint_bodies_have_one_spelling() {
    let root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    assert_eq!(Checkpoint::parse_body(&format!("o\n0\n{root}\n")).unwrap().root, empty_root());
    for bad in [
        format!("o\n01\n{root}\n"),
        format!("o\n+1\n{root}\n"),
        format!("o\n\n{root}\n"),
        format!("o\n1\n{root}"),
        format!("\n1\n{root}\n"),
        "o\n1\nAAAA\n".to_owned(),
        format!("o\n1\n{root}\n\n"),
        "o\n1\n".to_owned(),
        format!("o\n18446744073709551616\n{root}\n"),
    ] {
        assert!(matches!(Checkpoint::parse_body(&bad), Err(CheckpointError::Malformed(_))), "{bad:?}");
    }
}
