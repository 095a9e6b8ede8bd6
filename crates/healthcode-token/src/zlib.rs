//! The zlib layer (RFC 1950). Writing: stored deflate blocks. Reading: any zlib stream,
//! through miniz_oxide, bounded.
//!
//! Why stored blocks: a COSE_Sign1 of ~140 bytes, a third of it a random signature, has
//! nothing deflate can shorten; miniz_oxide at every level 1–9 emits a stored block for it
//! anyway (a test checks the bytes are identical). What it costs is setting up a
//! compressor — about 300 KB of tables allocated and zeroed per token, measured at ~45%
//! of issuing time. Readers see an ordinary zlib stream.

use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_PARSE_ZLIB_HEADER, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// CMF 0x78: deflate, 32 KiB window; FLG 0x01: the check bits for "fastest", which is
/// what miniz_oxide writes at level 1.
const ZLIB_HEADER: [u8; 2] = [0x78, 0x01];
const MAX_STORED_BLOCK: usize = u16::MAX as usize;

pub(crate) fn stored(bytes: &[u8]) -> Vec<u8> {
    let blocks = bytes.len().div_ceil(MAX_STORED_BLOCK).max(1);
    let mut out = Vec::with_capacity(bytes.len() + 2 + 5 * blocks + 4);
    out.extend_from_slice(&ZLIB_HEADER);
    let mut chunks = bytes.chunks(MAX_STORED_BLOCK).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        // RFC 1951 3.2.4: BFINAL on the last block, BTYPE 00, then LEN and its complement.
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&adler2::adler32_slice(bytes).to_be_bytes());
    out
}

/// Inflates an untrusted zlib stream of at most `limit` bytes of output. Refuses a stream
/// that would produce more, a bad checksum, and bytes after the stream's end.
pub(crate) fn inflate(compressed: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut decompressor = Box::<DecompressorOxide>::default();
    // One spare byte tells "exactly at the limit" from "over it".
    let mut out = vec![0u8; limit + 1];
    let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, consumed, produced) = decompress(&mut decompressor, compressed, &mut out, 0, flags);
    match status {
        TINFLStatus::Done if produced > limit => Err(format!("inflates to more than {limit} bytes")),
        TINFLStatus::Done if consumed != compressed.len() => Err("bytes after the end of the zlib stream".into()),
        TINFLStatus::Done => {
            out.truncate(produced);
            Ok(out)
        }
        TINFLStatus::HasMoreOutput => Err(format!("inflates to more than {limit} bytes")),
        TINFLStatus::Adler32Mismatch => Err("the zlib checksum does not match".into()),
        _ => Err("not zlib data".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_blocks_are_what_miniz_writes_for_a_token_sized_payload() {
        let cose = crate::envelope::craft::unwrap(&crate::issue_code(
            &crate::SigningKey::from_seed([3; 32]),
            &crate::CodeClaims {
                issuer: "33".into(),
                code_id: "c_7f3a9e21b04d".into(),
                colour: healthcode_domain::Colour::Red,
                kind: healthcode_domain::PersonKind::International,
                display_name: "J*** S****".into(),
                issued_at: 1_764_036_000,
                expires_at: 1_764_036_300,
            },
        ));
        assert_eq!(stored(&cose), miniz_oxide::deflate::compress_to_vec_zlib(&cose, 1));
        for level in [6, 9] {
            let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&cose, level);
            assert!(compressed.len() >= stored(&cose).len() - 2, "level {level} would save bytes");
        }
    }

    #[test]
    fn stored_streams_of_any_size_inflate_back() {
        for len in [0, 1, 137, 65_535, 65_536, 200_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            assert_eq!(inflate(&stored(&bytes), 200_000), Ok(bytes), "{len}");
        }
    }

    #[test]
    fn any_zlib_stream_is_read_and_limits_hold() {
        let text = b"health code health code health code".repeat(20);
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&text, 9);
        assert_eq!(inflate(&compressed, 4096), Ok(text.clone()));
        assert_eq!(inflate(&compressed, text.len()), Ok(text.clone()));
        assert!(inflate(&compressed, text.len() - 1).unwrap_err().contains("more than"));
        let mut corrupt = compressed.clone();
        *corrupt.last_mut().unwrap() ^= 1;
        assert!(inflate(&corrupt, 4096).unwrap_err().contains("checksum"));
        assert!(inflate(&compressed[..compressed.len() - 3], 4096).is_err());
        assert_eq!(inflate(b"", 4096), Err("not zlib data".into()));
    }
}
