//! QR rendering and reading: a token must come back out of its own picture unchanged.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code_claims, key, venue_claims, NOW};
use healthcode_token::qr::{self, QrError};
use healthcode_token::{issue_code, issue_venue};

#[test]
fn a_token_comes_back_out_of_its_png() {
    for token in [issue_code(&key(1), &code_claims(NOW)), issue_venue(&key(1), &venue_claims((NOW, NOW + 60)))] {
        let png = qr::png(&token, 4).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(qr::decode_png(&png).unwrap(), token);
    }
}

#[test]
fn the_svg_is_a_complete_document() {
    let svg = qr::svg(&issue_code(&key(1), &code_claims(NOW))).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
}

#[test]
fn text_too_long_for_a_qr_code_is_an_error_not_a_panic() {
    assert!(matches!(qr::svg(&"A".repeat(5000)), Err(QrError::TooLong(_))));
    assert!(matches!(qr::png(&"A".repeat(5000), 2), Err(QrError::TooLong(_))));
}

#[test]
fn pictures_without_a_code_are_reported_as_such() {
    assert!(matches!(qr::decode_png(b"not a png"), Err(QrError::BadImage(_))));
    let blank = {
        let picture = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
        let mut bytes = Vec::new();
        picture.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        bytes
    };
    assert_eq!(qr::decode_png(&blank), Err(QrError::NotFound));
}

/// An independent reader (ZBar) must read our pictures too. Skipped with a note when
/// `zbarimg` is not installed; CI installs zbar-tools.
#[test]
fn zbar_reads_the_png() {
    let Ok(path) = which_zbarimg() else {
        eprintln!("zbar_reads_the_png: not run: install zbar-tools (zbarimg) to run this check");
        return;
    };
    let token = issue_code(&key(1), &code_claims(NOW));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("code.png");
    std::fs::write(&file, qr::png(&token, 4).unwrap()).unwrap();
    let output = std::process::Command::new(path).args(["--raw", "-q"]).arg(&file).output().unwrap();
    assert!(output.status.success(), "zbarimg failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim_end_matches('\n'), token);
}

fn which_zbarimg() -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path).map(|dir| dir.join("zbarimg")).find(|candidate| candidate.is_file()).ok_or(())
}
