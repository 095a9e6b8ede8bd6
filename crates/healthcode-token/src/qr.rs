//! QR rendering (SVG, PNG) and reading a QR code back from a PNG, for offline verifiers
//! that are handed a picture.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Largest picture `decode_png` looks at, per side; a phone photo of a screen fits.
pub const MAX_DECODE_SIDE_PX: u32 = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the text does not fit in a QR code ({0}); tokens are a few hundred characters, so this is not a token")]
    TooLong(String),
    #[error("not a readable PNG picture ({0})")]
    BadImage(String),
    #[error("no QR code found in the picture; hold the code flat, fully in view, and try again")]
    NotFound,
    #[error("a QR code was found but could not be read ({0}); try a sharper picture")]
    Unreadable(String),
}

// Level M: restores ~15% damage (a scratched screen, glare) and keeps a ~200-character
// token at version 7–8. The token alphabet is QR's alphanumeric set, so the encoder picks
// alphanumeric mode (5.5 bits a character).
fn encode(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| QrError::TooLong(e.to_string()))
}

/// An SVG document of the code, quiet zone included, at least 256 px wide.
pub fn svg(text: &str) -> Result<String, QrError> {
    let code = encode(text)?;
    Ok(code.render::<svg::Color<'_>>().min_dimensions(256, 256).quiet_zone(true).build())
}

/// A greyscale PNG of the code, `module_px` pixels per module (at least 1), quiet zone
/// included.
pub fn png(text: &str, module_px: u32) -> Result<Vec<u8>, QrError> {
    let module_px = module_px.max(1);
    let picture = encode(text)?.render::<Luma<u8>>().module_dimensions(module_px, module_px).quiet_zone(true).build();
    let mut bytes = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|e| QrError::BadImage(format!("could not write the PNG: {e}")))?;
    Ok(bytes)
}

/// Reads the first QR code in a PNG picture and returns its text.
pub fn decode_png(bytes: &[u8]) -> Result<String, QrError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Png);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODE_SIDE_PX);
    limits.max_image_height = Some(MAX_DECODE_SIDE_PX);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| QrError::BadImage(e.to_string()))?.to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(picture);
    let grids = prepared.detect_grids();
    let mut last_error = None;
    for grid in grids {
        match grid.decode() {
            Ok((_, text)) => return Ok(text),
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    Err(last_error.map_or(QrError::NotFound, QrError::Unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{issue_code, CodeClaims, SigningKey};

    #[test]
    fn a_resident_code_fits_a_version_9_symbol() {
        let claims = CodeClaims {
            issuer: "33".into(),
            code_id: "c_7f3a9e21b04d".into(),
            colour: healthcode_domain::Colour::Green,
            kind: healthcode_domain::PersonKind::Domestic,
            display_name: "张*三".into(),
            issued_at: 1_764_036_000,
            expires_at: 1_764_036_300,
        };
        let token = issue_code(&SigningKey::from_seed([1; 32]), &claims);
        let code = encode(&token).unwrap();
        assert!(matches!(code.version(), qrcode::Version::Normal(v) if v <= 9), "{:?}", code.version());
    }
}
