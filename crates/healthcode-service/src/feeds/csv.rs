//! CSV bodies: the header, each record as the JSON object of its event (RFC 4180
//! quoting), and records whose quoted fields span lines.

use healthcode_domain::ValidationError;
use serde_json::{Map, Value};

use super::{RawLine, MAX_LINE_BYTES, MAX_RECORD_LINES};

/// The CSV columns a feed may use: the event's envelope and the fields of the evidence a
/// department submits. Cells are text except `days` (a number); an empty cell is a field
/// left out. Which columns a row needs depends on its `type` (README, "Bulk feeds").
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "type",
    "person_id",
    "id_type",
    "id_number",
    "at",
    "source",
    "note",
    "comment",
    "description",
    "onset_at",
    "result",
    "sampled_at",
    "status",
    "exposure_at",
    "country",
    "entered_at",
    "area",
    "from",
    "to",
    "mode",
    "days",
    "origin",
    "home_code",
    "arrived_at",
];

/// The columns of a CSV batch, from its header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvHeader {
    columns: Vec<&'static str>,
}

impl CsvHeader {
    pub fn parse(line: &str) -> Result<CsvHeader, ValidationError> {
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        let cells = split_csv(line).map_err(|e| ValidationError::new(format!("line 1 (the CSV header): {e}")))?;
        let mut columns = Vec::with_capacity(cells.len());
        for cell in cells {
            let name = cell.trim();
            let known = CSV_COLUMNS.iter().find(|c| **c == name).ok_or_else(|| {
                ValidationError::field(
                    name,
                    format!(
                        "line 1 (the CSV header): unknown column `{}`; the columns are {}",
                        name.chars().take(64).collect::<String>(),
                        CSV_COLUMNS.join(", ")
                    ),
                )
            })?;
            if columns.contains(known) {
                return Err(ValidationError::field(
                    name,
                    format!("line 1 (the CSV header): column `{name}` is named twice"),
                ));
            }
            columns.push(*known);
        }
        if !columns.contains(&"type") {
            return Err(ValidationError::missing_column("type"));
        }
        Ok(CsvHeader { columns })
    }

    /// One CSV row as the JSON object an NDJSON row would be.
    pub fn row(&self, line: &str) -> Result<Value, ValidationError> {
        let cells = split_csv(line).map_err(ValidationError::new)?;
        if cells.len() != self.columns.len() {
            return Err(ValidationError::new(format!(
                "the row has {} fields and the header {}; quote a field that holds a comma (\"a,b\")",
                cells.len(),
                self.columns.len()
            )));
        }
        let mut object = Map::new();
        for (column, cell) in self.columns.iter().zip(cells) {
            if cell.is_empty() {
                continue;
            }
            let value = match (*column, cell.parse::<u64>()) {
                ("days", Ok(n)) => Value::from(n),
                _ => Value::String(cell),
            };
            object.insert((*column).to_string(), value);
        }
        Ok(Value::Object(object))
    }
}

trait MissingColumn {
    fn missing_column(name: &str) -> ValidationError;
}

impl MissingColumn for ValidationError {
    fn missing_column(name: &str) -> ValidationError {
        ValidationError::field(name, format!("line 1 (the CSV header): the column `{name}` is required"))
    }
}

/// The fields of one CSV record (RFC 4180 quoting: `"a,b"`, `""` for a quote, line
/// breaks inside quotes).
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(format!(
                            "field {} opens a quote that is not closed on this line or the {MAX_RECORD_LINES} after it",
                            fields.len() + 1
                        ))
                    }
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => {}
                Some(c) => {
                    return Err(format!(
                        "field {} has `{c}` after its closing quote; write a quote inside a field as \"\"",
                        fields.len() + 1
                    ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
        }
        fields.push(field);
    }
}

/// Joins the lines of a CSV record whose quoted field holds line breaks (RFC 4180): a
/// line that leaves a quote open is held, and the lines after it are joined to it (with
/// `\n`) until the quote closes. The record counts at its first line. A quote still open
/// after `MAX_RECORD_LINES` lines (or `MAX_LINE_BYTES`) is a mistake, not a line break:
/// its first line is given up as a row of its own (rejected: the quote is not closed) and
/// the lines held after it are read again, so that no row is lost inside it.
///
/// Public only for the fuzz targets (`crate::fuzzing`): not part of the service's API.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct CsvRecords {
    /// The lines of the record still open, with their numbers.
    open: Vec<(u64, String)>,
}

impl CsvRecords {
    /// The next line; the records it completes are appended to `out`.
    pub fn push(&mut self, number: u64, line: RawLine, out: &mut Vec<(u64, RawLine)>) {
        let RawLine::Text(text) = line else {
            self.give_up_all(out);
            out.push((number, line));
            return;
        };
        let quotes = |t: &str| t.bytes().filter(|b| *b == b'"').count();
        if self.open.is_empty() && quotes(&text).is_multiple_of(2) {
            out.push((number, RawLine::Text(text)));
            return;
        }
        self.open.push((number, text));
        if self.open.iter().map(|(_, t)| quotes(t)).sum::<usize>().is_multiple_of(2) {
            let lines = std::mem::take(&mut self.open);
            let first = lines[0].0;
            let text = lines.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join("\n");
            out.push((first, RawLine::Text(text)));
            return;
        }
        let bytes: usize = self.open.iter().map(|(_, t)| t.len() + 1).sum();
        if self.open.len() > MAX_RECORD_LINES || bytes > MAX_LINE_BYTES {
            self.give_up(out);
        }
    }

    /// The body ended (or a line was refused) inside an open record: its lines are read
    /// again one by one, as above.
    pub fn give_up_all(&mut self, out: &mut Vec<(u64, RawLine)>) {
        while !self.open.is_empty() {
            self.give_up(out);
        }
    }

    /// The first line of the record still open: the lines from it on are not settled.
    pub fn first_open_line(&self) -> Option<u64> {
        self.open.first().map(|(first, _)| *first)
    }

    fn give_up(&mut self, out: &mut Vec<(u64, RawLine)>) {
        let mut held = std::mem::take(&mut self.open).into_iter();
        if let Some((first, text)) = held.next() {
            out.push((first, RawLine::Text(text)));
        }
        for (number, text) in held {
            self.push(number, RawLine::Text(text), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_as_in_rfc_4180() {
        assert_eq!(split_csv("a,,\"b,c\",\"say \"\"hi\"\"\"").unwrap(), ["a", "", "b,c", "say \"hi\""]);
        assert_eq!(split_csv("").unwrap(), [""]);
        assert_eq!(split_csv("a,").unwrap(), ["a", ""]);
        assert!(split_csv("\"open").unwrap_err().contains("not closed"));
        assert!(split_csv("\"a\"b").unwrap_err().contains("after its closing quote"));
    }

    #[test]
    fn a_csv_row_becomes_the_json_object_of_its_event() {
        let header = CsvHeader::parse("\u{feff}id,type,person_id,result,sampled_at,days").unwrap();
        let row = header.row("t1,test,p1,negative,2026-11-20T08:00:00+08:00,").unwrap();
        assert_eq!(
            row,
            serde_json::json!({"id": "t1", "type": "test", "person_id": "p1", "result": "negative",
                               "sampled_at": "2026-11-20T08:00:00+08:00"})
        );
        let header = CsvHeader::parse("type,id,mode,days").unwrap();
        assert_eq!(header.row("quarantine_order,q1,home,14").unwrap()["days"], 14, "days is a number");
        assert_eq!(header.row("quarantine_order,q1,home,two").unwrap()["days"], "two", "left for the parser to refuse");
        assert!(header.row("a,b").unwrap_err().message.contains("2 fields and the header 4"));
        let unknown = CsvHeader::parse("type,id,colour").unwrap_err();
        assert!(unknown.message.contains("unknown column `colour`") && unknown.message.contains("sampled_at"));
        assert!(CsvHeader::parse("type,id,id").unwrap_err().message.contains("named twice"));
        assert!(CsvHeader::parse("id,person_id").unwrap_err().message.contains("`type` is required"));
    }
}
