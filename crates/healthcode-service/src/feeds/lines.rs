//! Line framing: a body's bytes, however the network cut them, into lines; a line too
//! long or not UTF-8 is refused as a row of its own, never dropped.

use super::MAX_LINE_BYTES;

/// A line of a body as the splitter hands it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawLine {
    Text(String),
    /// Refused before parsing; the row is rejected with this reason.
    Refused {
        reason: String,
        start: String,
    },
}

/// Splits a byte stream into lines (`\n`, with an optional `\r` before it), wherever the
/// chunks of the stream happen to break. A line longer than `MAX_LINE_BYTES` is not kept:
/// it becomes a refused line and the rest of it is skipped.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
    /// Bytes of an over-long line seen so far, while skipping to its end.
    overlong: Option<usize>,
}

impl LineSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the stream; complete lines are appended to `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<RawLine>) {
        while !data.is_empty() {
            let newline = data.iter().position(|&b| b == b'\n');
            let (piece, rest, ends) = match newline {
                Some(i) => (&data[..i], &data[i + 1..], true),
                None => (data, &data[data.len()..], false),
            };
            data = rest;
            if let Some(seen) = &mut self.overlong {
                *seen += piece.len() + usize::from(ends);
            } else if self.partial.len() + piece.len() > MAX_LINE_BYTES {
                let seen = self.partial.len() + piece.len();
                self.partial.extend_from_slice(&piece[..piece.len().min(200)]);
                self.overlong = Some(seen);
            } else {
                self.partial.extend_from_slice(piece);
            }
            if ends {
                out.push(self.take());
            }
        }
    }

    /// The last line, if the stream did not end with a line break.
    pub fn finish(&mut self, out: &mut Vec<RawLine>) {
        if !self.partial.is_empty() || self.overlong.is_some() {
            out.push(self.take());
        }
    }

    fn take(&mut self) -> RawLine {
        let mut bytes = std::mem::take(&mut self.partial);
        if let Some(seen) = self.overlong.take() {
            let start = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            return RawLine::Refused {
                reason: format!(
                    "the line is longer than {MAX_LINE_BYTES} bytes ({seen} bytes or more); an event is one line: \
                     check that the file has a line break after each event"
                ),
                start,
            };
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        match String::from_utf8(bytes) {
            Ok(text) => RawLine::Text(text),
            Err(e) => {
                let at = e.utf8_error().valid_up_to() + 1;
                RawLine::Refused {
                    reason: format!(
                        "the line is not UTF-8 text (invalid byte at byte {at}); send the file as UTF-8 (convert a \
                         GBK file first, e.g. with iconv -f GBK -t UTF-8)"
                    ),
                    start: String::from_utf8_lossy(e.as_bytes()).chars().take(200).collect(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(pieces: &[&[u8]]) -> Vec<RawLine> {
        let mut splitter = LineSplitter::new();
        let mut out = Vec::new();
        for p in pieces {
            splitter.push(p, &mut out);
        }
        splitter.finish(&mut out);
        out
    }

    fn text(s: &str) -> RawLine {
        RawLine::Text(s.into())
    }

    #[test]
    fn lines_are_split_wherever_the_stream_breaks() {
        let whole: &[u8] = b"{\"a\":1}\r\n\n{\"b\":\"\xe5\x81\xa5\"}\nlast";
        let expected = vec![text("{\"a\":1}"), text(""), text("{\"b\":\"健\"}"), text("last")];
        assert_eq!(split(&[whole]), expected);
        for cut in 0..whole.len() {
            assert_eq!(split(&[&whole[..cut], &whole[cut..]]), expected, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(split(&bytes), expected, "one byte at a time (a character split across chunks)");
        assert_eq!(split(&[b"a\n"]), vec![text("a")], "no empty line after a final line break");
    }

    #[test]
    fn an_overlong_line_is_refused_and_the_next_one_kept() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let out = split(&[b"first\n", &long[..1000], &long[1000..], b"\nnext\n"]);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], text("first"));
        let RawLine::Refused { reason, start } = &out[1] else { panic!("{:?}", out[1]) };
        assert!(reason.contains("longer than 65536 bytes") && reason.contains("line break"), "{reason}");
        assert_eq!(start.len(), 200, "only the start of it is kept");
        assert_eq!(out[2], text("next"));
        let exact = vec![b'y'; MAX_LINE_BYTES];
        assert_eq!(split(&[&exact, b"\n"]), vec![RawLine::Text(String::from_utf8(exact).unwrap())], "at the limit");
    }

    #[test]
    fn a_line_that_is_not_utf8_is_refused_with_a_way_to_fix_it() {
        let out = split(&[b"ok\n\xb2\xe2\xca\xd4\nok\n"]);
        let RawLine::Refused { reason, .. } = &out[1] else { panic!("{:?}", out[1]) };
        assert!(reason.contains("not UTF-8") && reason.contains("iconv -f GBK"), "{reason}");
        assert_eq!(out[2], text("ok"));
    }
}
