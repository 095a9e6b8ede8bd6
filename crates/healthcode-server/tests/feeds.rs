//! Bulk feeds over HTTP (`/v1/feeds/{batch_id}`) on both backends: a streamed NDJSON
//! batch, its report and status, a resumed upload, CSV, and the client mistakes.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestApp;
use healthcode_domain::{PersonId, PersonKind};
use serde_json::Value;

common::on_both_backends!(
    a_streamed_batch_is_reported_by_line_and_resumes_where_it_stands,
    csv_batches_and_client_mistakes,
);

fn row(i: usize) -> String {
    let result = if i % 400 == 7 { "maybe" } else { "negative" };
    format!(
        r#"{{"id":"t{i}","person_id":"p{}","type":"test","result":"{result}","sampled_at":"2020-05-31T08:00:00+08:00"}}"#,
        i % 20
    )
}

async fn send(app: &TestApp, who: &str, path: &str, content_type: &str, body: String) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(&app.keys[who])
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    common::json_answer(response).await
}

async fn a_streamed_batch_is_reported_by_line_and_resumes_where_it_stands(app: TestApp) {
    for i in 0..20 {
        let id = PersonId::parse(&format!("p{i}")).unwrap();
        app.service.residents().register_pseudonymous(id, PersonKind::Domestic, None).await.unwrap();
    }
    let lines: Vec<String> = (0..12_000).map(row).collect();

    // The first 7,000 lines, then the rest from line 5,001 (overlapping: skipped).
    let first: String = lines[..7_000].iter().map(|l| format!("{l}\n")).collect();
    let (status, report) = send(&app, "health", "/v1/feeds/cdc-1", "application/x-ndjson", first).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["committed_through_line"], 7_000);
    assert_eq!((report["accepted"].as_u64(), report["rejected"].as_u64()), (Some(6_982), Some(18)));
    assert_eq!(report["rejected_rows"][0]["line"], 8);
    assert_eq!(report["rejected_rows"][0]["field"], "result");
    assert!(report["rejected_rows"][0]["rejection_id"].as_i64().is_some(), "{report}");

    let (status, stands) = app.get_with_key("/v1/feeds/cdc-1", &app.keys["health"]).await;
    assert_eq!((status, &stands["committed_through_line"]), (200, &Value::from(7_000)), "{stands}");
    assert!(stands.get("this_upload").is_none());
    let (status, _) = app.get_with_key("/v1/feeds/cdc-1", &app.keys["telecom"]).await;
    assert_eq!(status, 404, "a batch is its own account's");

    let (status, gap) =
        send(&app, "health", "/v1/feeds/cdc-1?first_line=7002", "application/x-ndjson", "x".into()).await;
    assert_eq!((status, gap["error"]["code"].as_str()), (409, Some("conflict")), "{gap}");

    let rest: String = lines[5_000..].iter().map(|l| format!("{l}\r\n")).collect();
    let (status, report) = send(&app, "health", "/v1/feeds/cdc-1?first_line=5001", "application/x-ndjson", rest).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["this_upload"]["skipped_lines"], 2_000);
    assert_eq!(report["committed_through_line"], 12_000);
    assert_eq!(report["complete"], true);
    let (rows, accepted, duplicates, rejected) = (
        report["rows"].as_u64().unwrap(),
        report["accepted"].as_u64().unwrap(),
        report["duplicates"].as_u64().unwrap(),
        report["rejected"].as_u64().unwrap(),
    );
    assert_eq!((rows, accepted, duplicates, rejected), (12_000, 11_970, 0, 30));
    let stored: usize = {
        let ids: Vec<PersonId> = (0..20).map(|i| PersonId::parse(&format!("p{i}")).unwrap()).collect();
        app.store.evidence_for_many(&ids).await.unwrap().iter().map(|(_, e)| e.len()).sum()
    };
    assert_eq!(stored, 11_970, "each accepted row stored once");

    // Fixed rows resubmitted resolve the rejected ones.
    let fixes: String = (0..30).map(|k| row(k * 400 + 7).replace("maybe", "negative") + "\n").collect();
    let (status, fixed) = send(&app, "health", "/v1/feeds/cdc-1-fixes", "application/x-ndjson", fixes).await;
    assert_eq!((status, fixed["accepted"].as_u64()), (200, Some(30)), "{fixed}");
    let (_, stands) = app.get_with_key("/v1/feeds/cdc-1?rejected_after=8", &app.keys["health"]).await;
    assert_eq!(stands["resolved"], 30);
    assert_eq!(stands["rejected_rows"][0]["line"], 408);
    assert_eq!(stands["rejected_rows"][0]["resolved_by"], "cdc-1-fixes line 2");
}

async fn csv_batches_and_client_mistakes(app: TestApp) {
    let person = app.register(&common::resident_id("33010619800101123")).await;
    let csv = format!(
        "id,type,person_id,id_type,id_number,exposure_at,area,from,to\n\
         s1,stay,{person},,,,330106,2020-05-30T08:00:00+08:00,2020-05-31T08:00:00+08:00\n\
         s2,stay,,resident_id,11010519491231002X,,330106,2020-05-30T08:00:00+08:00,\n\
         c1,close_contact,{person},,,2020-05-31T08:00:00+08:00,,,\n"
    );
    let (status, report) = send(&app, "telecom", "/v1/feeds/tel-1", "text/csv; charset=utf-8", csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!((report["accepted"].as_u64(), report["rejected"].as_u64()), (Some(2), Some(1)), "{report}");
    assert_eq!(report["rejected_rows"][0]["line"], 4);
    assert!(report["rejected_rows"][0]["error"].as_str().unwrap().contains("not authorised"), "{report}");
    assert!(!report.to_string().contains("11010519491231002X"));

    // A quoted note may hold line breaks (RFC 4180); a stray quote does not swallow the
    // rows after it: its own row is rejected and every later row read as itself.
    let contact = |id: &str, note: &str| format!("{id},close_contact,{person},2020-05-31T08:00:00+08:00,{note}\n");
    let mut csv = String::from("id,type,person_id,exposure_at,note\n");
    csv += &contact("m1", "\"met at the market;\nsaid \"\"stall 3\"\", with a comma\"");
    csv += &contact("m2", "\"a stray quote");
    for i in 0..25 {
        csv += &contact(&format!("m{}", i + 3), "");
    }
    let (status, report) = send(&app, "health", "/v1/feeds/notes", "text/csv", csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!((report["accepted"].as_u64(), report["rejected"].as_u64()), (Some(26), Some(1)), "{report}");
    assert_eq!(report["rejected_rows"][0]["line"], 4, "m1 spans lines 2 and 3: {report}");
    assert!(report["rejected_rows"][0]["error"].as_str().unwrap().contains("not closed"), "{report}");
    assert_eq!(report["committed_through_line"], 29, "{report}");

    let overlong = format!("{}\n{}\n", "x".repeat(70_000), row(1));
    let (status, report) = send(&app, "health", "/v1/feeds/long", "application/x-ndjson", overlong).await;
    assert_eq!(status, 200, "{report}");
    assert!(report["rejected_rows"][0]["error"].as_str().unwrap().contains("longer than 65536 bytes"), "{report}");

    let (status, wrong) = send(&app, "health", "/v1/feeds/b", "application/json", "{}".into()).await;
    assert_eq!((status, wrong["error"]["code"].as_str()), (415, Some("unsupported_media_type")), "{wrong}");
    let (status, gbk) = send(&app, "health", "/v1/feeds/b", "text/csv; charset=GBK", "type\n".into()).await;
    assert_eq!(status, 415, "{gbk}");
    let (status, header) = send(&app, "health", "/v1/feeds/b", "text/csv", "type,colour\n".into()).await;
    assert_eq!((status, header["error"]["field"].as_str()), (422, Some("colour")), "{header}");
    let (status, unknown) = app.get_with_key("/v1/feeds/never", &app.keys["health"]).await;
    assert_eq!((status, unknown["error"]["code"].as_str()), (404, Some("unknown_batch")), "{unknown}");
    let (status, bad) = app.get_with_key("/v1/feeds/bad%20id", &app.keys["health"]).await;
    assert_eq!((status, bad["error"]["field"].as_str()), (422, Some("batch_id")), "{bad}");
}
