//! Bulk feeds in process: a batch streamed line by line, validated row by row and stored
//! chunk by chunk; an upload cut off half-way and resumed; rejected rows fixed and
//! resubmitted; CSV.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{Colour, Department, PersonId, PersonKind, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_service::{
    FeedFormat, FeedReport, HealthService, LineSplitter, ManualClock, Pseudonymiser, RawLine, ServiceError, Source,
};
use healthcode_store::Store;
use healthcode_store_sqlite::SqliteStore;

const HEALTH: Source = Source::Department(Department::Health);

/// The service, and the store under it for looking at what was stored.
async fn service() -> (Arc<HealthService>, Arc<dyn Store>) {
    let clock = ManualClock::new(Timestamp::parse("2026-11-25T08:00:00+08:00").unwrap());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let service =
        HealthService::open(store.clone(), Arc::new(clock), Pseudonymiser::new(b"k".to_vec()), RuleSet::reference())
            .await
            .unwrap();
    (Arc::new(service), store)
}

async fn persons(service: &HealthService, n: usize) {
    for i in 0..n {
        service.residents().register_pseudonymous(pid(i), PersonKind::Domestic, None).await.unwrap();
    }
}

fn pid(i: usize) -> PersonId {
    PersonId::parse(&format!("p{i}")).unwrap()
}

/// Row `i` of a test batch: a negative test of one of 50 persons; every 1000th row
/// (from row 500) has a result no one knows.
fn row(i: usize) -> String {
    let result = if i % 1000 == 500 { "inconclusive" } else { "negative" };
    format!(
        r#"{{"id":"t{i}","person_id":"p{}","type":"test","result":"{result}","sampled_at":"2026-11-24T08:00:00+08:00"}}"#,
        i % 50
    )
}

/// Uploads `text` as it would arrive over a network: in pieces that split lines.
async fn upload(
    service: &Arc<HealthService>,
    batch: &str,
    format: FeedFormat,
    first_line: Option<u64>,
    text: &str,
) -> Result<FeedReport, ServiceError> {
    // Small chunks, so that a test batch spans several.
    let mut upload =
        service.evidence().open_feed(HEALTH, "cdc", batch, format, first_line).await?.with_chunk_rows(5_000);
    let mut splitter = LineSplitter::new();
    let mut lines = Vec::new();
    for piece in text.as_bytes().chunks(4093) {
        splitter.push(piece, &mut lines);
        for line in lines.drain(..) {
            upload.push(line).await?;
        }
    }
    splitter.finish(&mut lines);
    for line in lines {
        upload.push(line).await?;
    }
    upload.finish().await
}

fn ndjson(rows: std::ops::Range<usize>) -> String {
    rows.map(|i| row(i) + "\n").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_stored_chunk_by_chunk_with_a_report_that_adds_up() {
    let (service, store) = service().await;
    persons(&service, 50).await;
    let mut text = ndjson(0..12_000);
    text.push_str("\n{ not json\n");
    text.push_str(r#"{"id":"x1","person_id":"nobody","type":"fever"}"#);
    text.push('\n');
    text.push_str(
        r#"{"id":"x2","person_id":"p1","type":"entry","country":"GB","entered_at":"2026-11-20T08:00:00+08:00"}"#,
    );

    let report = upload(&service, "b1", FeedFormat::Ndjson, None, &text).await.unwrap();
    assert_eq!(report.committed_through_line, 12_004, "the blank line 12001 is counted");
    assert!(report.complete);
    assert_eq!((report.rows, report.accepted, report.duplicates, report.rejected), (12_003, 11_988, 0, 15));
    assert_eq!(report.rows, report.accepted + report.duplicates + report.rejected);
    let lines: Vec<u64> = report.rejected_rows.iter().map(|r| r.line).collect();
    assert_eq!(lines[..3], [501, 1501, 2501], "1-based line numbers");
    assert_eq!(lines[12..], [12_002, 12_003, 12_004]);
    assert_eq!(report.rejected_rows[0].field.as_deref(), Some("result"));
    assert!(report.rejected_rows[12].error.contains("not valid JSON"), "{:?}", report.rejected_rows[12]);
    assert_eq!(report.rejected_rows[13].field.as_deref(), Some("person_id"));
    assert!(
        report.rejected_rows[14].error.contains("not authorised to submit `entry`"),
        "{:?}",
        report.rejected_rows[14]
    );
    let summary = report.this_upload.unwrap();
    assert_eq!((summary.rows, summary.skipped_lines), (12_003, 0));
    assert_eq!(summary.codes.evaluated, 50, "each person once, at the end, however many chunks name them");
    let log = store.rejections(0, 100, None).await.unwrap();
    assert_eq!(log.len(), 15, "every rejected row is in the rejection log");
    assert_eq!(log[0].origin, "feed b1 (cdc) line 501");
    assert_eq!(store.evidence_for(&pid(7)).await.unwrap().len(), 240);
    assert_eq!(store.code(&pid(7)).await.unwrap().unwrap().colour, Colour::Green, "codes are current");

    // The whole batch again: every line is already stored, nothing is read twice.
    let again = upload(&service, "b1", FeedFormat::Ndjson, None, &text).await.unwrap();
    assert_eq!((again.rows, again.accepted), (12_003, 11_988));
    assert_eq!(again.this_upload.unwrap().skipped_lines, 12_004);
    // The same rows as another batch are duplicates.
    let copy = upload(&service, "b1-copy", FeedFormat::Ndjson, None, &ndjson(0..100)).await.unwrap();
    assert_eq!((copy.accepted, copy.duplicates, copy.rejected), (0, 100, 0));

    // The rejected rows fixed and resubmitted as a batch of their own.
    let fixes: String = (0..12).map(|k| row(k * 1000 + 500).replace("inconclusive", "negative") + "\n").collect();
    let fixed = upload(&service, "b1-fixes", FeedFormat::Ndjson, None, &fixes).await.unwrap();
    assert_eq!(fixed.accepted, 12);
    let b1 = service.evidence().feed_report("cdc", "b1", 0).await.unwrap().unwrap();
    assert_eq!(b1.resolved, 12, "the fixed rows resolve the rejected ones");
    assert_eq!(b1.rejected_rows[0].resolved_by.as_deref(), Some("b1-fixes line 1"));
    assert_eq!(b1.rejected_rows[12].resolved_by, None);
    let page = service.evidence().feed_report("cdc", "b1", 12_002).await.unwrap().unwrap();
    assert_eq!(page.rejected_rows.iter().map(|r| r.line).collect::<Vec<_>>(), [12_003, 12_004]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_resumes_without_losses_or_duplicates() {
    let (service, store) = service().await;
    persons(&service, 50).await;
    let all = ndjson(0..17_000);

    // The client goes away after 12,345 lines: the two whole chunks handed on are
    // committed, the rest is dropped.
    {
        let mut upload = service
            .evidence()
            .open_feed(HEALTH, "cdc", "b2", FeedFormat::Ndjson, None)
            .await
            .unwrap()
            .with_chunk_rows(5_000);
        for line in all.lines().take(12_345) {
            upload.push(RawLine::Text(line.to_string())).await.unwrap();
        }
    }
    let mut stood = None;
    for _ in 0..200 {
        // The chunks already handed on finish in the background.
        match service.evidence().open_feed(HEALTH, "cdc", "b2", FeedFormat::Ndjson, None).await {
            Ok(_) => {
                stood = service.evidence().feed_report("cdc", "b2", 0).await.unwrap();
                break;
            }
            Err(ServiceError::Conflict(why)) => {
                assert!(why.contains("being uploaded already"), "{why}");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let stood = stood.expect("the interrupted upload ended");
    assert_eq!(stood.committed_through_line, 10_000, "two chunks of 5,000");
    assert!(!stood.complete);

    // A resume may not leave a gap.
    let gap = upload(&service, "b2", FeedFormat::Ndjson, Some(10_002), "").await.unwrap_err();
    assert!(gap.to_string().contains("would leave lines 10001–10001 out"), "{gap}");
    let wrong = upload(&service, "b2", FeedFormat::Csv, None, "type\n").await.unwrap_err();
    assert!(wrong.to_string().contains("begun as ndjson"), "{wrong}");

    // Resumed from line 8,001 (overlapping what is stored: skipped, not stored twice).
    let rest: String = all.lines().skip(8_000).map(|l| l.to_string() + "\n").collect();
    let report = upload(&service, "b2", FeedFormat::Ndjson, Some(8_001), &rest).await.unwrap();
    assert_eq!(report.committed_through_line, 17_000);
    assert_eq!(report.this_upload.unwrap().skipped_lines, 2_000);
    assert_eq!((report.rows, report.accepted, report.duplicates, report.rejected), (17_000, 16_983, 0, 17));
    let stored: usize = {
        let ids: Vec<PersonId> = (0..50).map(pid).collect();
        store.evidence_for_many(&ids).await.unwrap().iter().map(|(_, e)| e.len()).sum()
    };
    assert_eq!(stored, 16_983, "every accepted row stored exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_batch_names_persons_by_id_or_document() {
    let (service, store) = service().await;
    persons(&service, 2).await;
    let csv = "\u{feff}id,type,person_id,id_type,id_number,result,sampled_at,exposure_at,mode,days\r\n\
               c1,close_contact,,resident_id,11010519491231002X,,,2026-11-20T08:00:00+08:00,,\r\n\
               t1,test,p0,,,positive,2026-11-24T08:00:00+08:00,,,\r\n\
               q1,quarantine_order,p1,,,,,,home,7\r\n\
               q2,quarantine_order,p1,,,,,,home,seven\r\n\
               t2,test,p1,,,negative\r\n";
    let report = upload(&service, "c1", FeedFormat::Csv, None, csv).await.unwrap();
    assert_eq!((report.rows, report.accepted, report.rejected), (5, 3, 2), "{report:?}");
    assert_eq!(report.committed_through_line, 6, "the header is line 1");
    assert_eq!(report.rejected_rows[0].line, 5);
    assert_eq!(report.rejected_rows[0].field.as_deref(), Some("days"));
    assert!(report.rejected_rows[1].error.contains("6 fields and the header 10"), "{:?}", report.rejected_rows[1]);
    let contact =
        service.person_id_for(&healthcode_domain::IdDocument::parse("resident_id", "11010519491231002X").unwrap());
    assert_eq!(store.code(&contact).await.unwrap().unwrap().colour, Colour::Red, "registered and evaluated");
    assert_eq!(store.code(&pid(0)).await.unwrap().unwrap().colour, Colour::Red);
    let log = store.rejections(0, 10, None).await.unwrap();
    assert!(log.iter().all(|r| !r.input.contains("11010519491231002X")), "no ID number is kept");

    let bad = upload(&service, "c2", FeedFormat::Csv, None, "id,type,colour\n").await.unwrap_err();
    assert!(bad.to_string().contains("unknown column `colour`"), "{bad}");
    let empty = upload(&service, "c3", FeedFormat::Ndjson, None, "").await.unwrap_err();
    assert!(empty.to_string().contains("the batch is empty"), "{empty}");
    let id = upload(&service, "../x", FeedFormat::Ndjson, None, "{}").await.unwrap_err();
    assert!(id.to_string().contains("a batch id is"), "{id}");
}

/// CSV notes with line breaks, and stray quotes that must not swallow the rows after
/// them, across chunk boundaries: every row is stored or rejected once, at its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_records_may_span_lines_and_a_stray_quote_loses_no_row() {
    let (service, store) = service().await;
    persons(&service, 50).await;
    let mut csv = String::from("id,type,person_id,result,sampled_at,note\n");
    let mut line = 1;
    let (mut rows, mut strays) = (0, Vec::new());
    for i in 0..12_000 {
        let note = match i % 997 {
            // Stray quotes with no other quote in the 20 lines after them: each is given
            // up as a row of its own and the lines after it are read again.
            3 | 30 => "\"no closing quote",
            // A note over three lines.
            500 => "\"first line\nsecond, with a comma\nthird \"\"quoted\"\"\"",
            _ => "",
        };
        csv += &format!("t{i},test,p{},negative,2026-11-24T08:00:00+08:00,{note}\n", i % 50);
        line += 1;
        if note.starts_with("\"no") {
            strays.push(line);
        }
        line += note.matches('\n').count();
        rows += 1;
    }
    let report = upload(&service, "notes", FeedFormat::Csv, None, &csv).await.unwrap();
    assert_eq!(report.committed_through_line, line as u64, "every line settled");
    assert_eq!(report.rows, rows, "{report:?}");
    assert_eq!((report.accepted, report.rejected), (rows - strays.len() as u64, strays.len() as u64), "{report:?}");
    let rejected: Vec<u64> = report.rejected_rows.iter().map(|r| r.line).collect();
    assert_eq!(rejected, strays.iter().map(|l| *l as u64).collect::<Vec<_>>());
    assert!(report.rejected_rows.iter().all(|r| r.error.contains("not closed")), "{:?}", report.rejected_rows[0]);
    let stored: usize = store
        .evidence_for_many(&(0..50).map(pid).collect::<Vec<_>>())
        .await
        .unwrap()
        .iter()
        .map(|(_, e)| e.len())
        .sum();
    assert_eq!(stored as u64, report.accepted, "each accepted row stored once");

    // A stray quote closed by the next quote within 20 lines makes one record of the
    // lines between (as in any CSV reader): it is rejected, and the reason says so.
    let csv = "id,type,person_id,result,sampled_at,note\n\
               a1,test,p1,negative,2026-11-24T08:00:00+08:00,\"stray\n\
               a2,test,p2,negative,2026-11-24T08:00:00+08:00,\n\
               a3,test,p3,negative,2026-11-24T08:00:00+08:00,\"a note\n\
               that goes on\"\n";
    let report = upload(&service, "paired", FeedFormat::Csv, None, csv).await.unwrap();
    assert_eq!((report.rows, report.accepted, report.rejected), (2, 0, 2), "{report:?}");
    let first = &report.rejected_rows[0];
    assert!(first.line == 2 && first.error.contains("from line 2 to line 4"), "{first:?}");
    assert_eq!(report.rejected_rows[1].line, 5, "the rest of the file is read on: {report:?}");
}
