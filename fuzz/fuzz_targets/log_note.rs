//! C2SP signed notes, checkpoints and note keys (healthcode-log): `open_note`,
//! `Checkpoint::parse_body` / `Checkpoint::open`, `NoteVerifier::parse`, `NoteSigner::parse`.
//!
//! First byte: 0, the rest is a note as fetched; 1, the rest is note text (a checkpoint
//! body), signed here by the log's key so that the fuzzer gets past the signature; 2, the
//! rest is a verifier or signer key text.
//!
//! Checked besides "no panic": an opened note's text is the start of the note; text that
//! signs opens back to itself; a checkpoint body that parses writes back (`to_body`) to
//! one that parses the same, and a signed checkpoint opens to it; key texts that parse
//! write back to themselves.
#![no_main]

use healthcode_fuzz::mode;
use healthcode_log::{open_note, sign_note, Checkpoint, NoteSigner, NoteVerifier};
use libfuzzer_sys::fuzz_target;

/// The tests' origin and log key.
const ORIGIN: &str = "healthcode.example/log";

fuzz_target!(|data: &[u8]| {
    let Some((m, rest)) = mode(data) else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let signer = NoteSigner::from_seed(ORIGIN, [42; 32]).expect("a valid name");
    let verifier = signer.verifier();
    match m % 3 {
        0 => {
            if let Ok(opened) = open_note(text, &verifier) {
                assert!(text.starts_with(opened));
                let again = sign_note(opened, &[&signer]).expect("opened text signs");
                assert_eq!(open_note(&again, &verifier), Ok(opened));
            }
            if let Ok(checkpoint) = Checkpoint::open(text, &verifier, ORIGIN) {
                assert_eq!(checkpoint.origin, ORIGIN);
            }
        }
        1 => {
            if let Ok(note) = sign_note(text, &[&signer]) {
                assert_eq!(open_note(&note, &verifier), Ok(text));
                let other = NoteSigner::from_seed(ORIGIN, [66; 32]).expect("a valid name");
                assert!(open_note(&note, &other.verifier()).is_err());
            }
            if let Ok(checkpoint) = Checkpoint::parse_body(text) {
                let body = checkpoint.to_body();
                assert_eq!(Checkpoint::parse_body(&body).as_ref(), Ok(&checkpoint));
                // No extension lines: the body is the one spelling of the checkpoint.
                if text.matches('\n').count() == 3 {
                    assert_eq!(body, text);
                }
                if let Ok(signed) = checkpoint.sign(&signer) {
                    assert_eq!(Checkpoint::open(&signed, &verifier, &checkpoint.origin).as_ref(), Ok(&checkpoint));
                }
            }
        }
        2 => {
            if let Ok(key) = NoteVerifier::parse(text) {
                assert_eq!(key.to_string(), text);
            }
            if let Ok(key) = NoteSigner::parse(text) {
                assert_eq!(key.to_secret_text(), text);
                assert_eq!(NoteVerifier::parse(&key.verifier().to_string()).as_ref(), Ok(&key.verifier()));
            }
        }
        _ => unreachable!(),
    }
});
