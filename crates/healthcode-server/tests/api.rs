//! The API against a running server: ingestion, reading codes back, the three ways a
//! code changes, and every kind of client mistake as a JSON error.

mod common;

use common::{resident_id, t, TestApp};
use serde_json::{json, Value};

fn reasons(code: &Value) -> Vec<&str> {
    code["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn register_is_idempotent_and_never_echoes_the_id_number() {
    let app = TestApp::spawn().await;
    let number = resident_id("33010619800101123");
    let body = format!(r#"{{"id_type":"resident_id","id_number":"{number}","residence_area":"330106"}}"#);
    let (status, first) = app.post("/v1/persons", body.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["kind"], "domestic");
    assert!(!first.to_string().contains(&number), "the response must not contain the ID number");
    let (status, again) = app.post("/v1/persons", body).await;
    assert_eq!(status, 200);
    assert_eq!(again["person_id"], first["person_id"]);
    assert_eq!(again["created"], false);
    let (status, passport) = app.post("/v1/persons", r#"{"id_type":"passport","id_number":"E12345678"}"#).await;
    assert_eq!(status, 201);
    assert_eq!(passport["kind"], "international");
    let (_, code) = app.get(&format!("/v1/persons/{}/code", first["person_id"].as_str().unwrap())).await;
    assert_eq!(code["colour"], "green", "a new resident without evidence is green: {code}");
}

#[tokio::test]
async fn evidence_turns_the_code_red_at_once_with_its_reason() {
    let app = TestApp::spawn().await;
    let person = app.register(&resident_id("33010619800101123")).await;
    let (status, outcome) = app
        .post(
            "/v1/events",
            json!({"id": "cdc-1", "person_id": person, "type": "close_contact",
                   "exposure_at": "2020-05-31T08:00:00+08:00"})
            .to_string(),
        )
        .await;
    assert_eq!(status, 201, "{outcome}");
    assert_eq!(outcome["status"], "accepted");
    let (status, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(status, 200);
    assert_eq!(code["colour"], "red");
    assert_eq!(reasons(&code), ["R2"]);
    assert_eq!(code["reasons"][0]["evidence"][0]["id"], "cdc-1");
    assert_eq!(code["rules"]["version"], "2020.1");
    // The stored code was kept current by the ingestion itself (the incremental path).
    let stored =
        app.service.store().code(&healthcode_domain::PersonId::parse(&person).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.colour, healthcode_domain::Colour::Red);

    let (status, again) = app
        .post(
            "/v1/events",
            json!({"id": "cdc-1", "person_id": person, "type": "close_contact",
                   "exposure_at": "2020-05-31T08:00:00+08:00"})
            .to_string(),
        )
        .await;
    assert_eq!((status, again["status"].as_str()), (200, Some("duplicate")));
}

#[tokio::test]
async fn events_can_name_the_person_by_document_before_registration() {
    let app = TestApp::spawn().await;
    let number = resident_id("33010619900202456");
    let (status, _) = app
        .post(
            "/v1/events",
            json!({"id": "h-1", "id_type": "resident_id", "id_number": number,
            "type": "diagnosis", "status": "suspected"})
            .to_string(),
        )
        .await;
    assert_eq!(status, 201);
    let person = app.register(&number).await;
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(code["colour"], "red");
    assert_eq!(reasons(&code), ["R1"]);
}

#[tokio::test]
async fn time_passing_turns_an_entry_green_through_the_scheduler() {
    let app = TestApp::spawn().await;
    let person = app.register(&resident_id("33010619800101123")).await;
    app.post(
        "/v1/events",
        json!({"id": "border-1", "person_id": person, "type": "entry", "country": "GB",
        "entered_at": "2020-06-01T06:00:00+08:00"})
        .to_string(),
    )
    .await;
    let id = healthcode_domain::PersonId::parse(&person).unwrap();
    let stored = app.service.store().code(&id).await.unwrap().unwrap();
    assert_eq!(stored.reasons, ["R3"]);
    assert_eq!(stored.next_change, Some(t("2020-06-15T06:00:00+08:00")));

    app.clock.set(t("2020-06-15T07:00:00+08:00"));
    let report = app.service.run_due().await.unwrap();
    assert_eq!(report.evaluated, 1);
    let stored = app.service.store().code(&id).await.unwrap().unwrap();
    assert_eq!(stored.colour, healthcode_domain::Colour::Green);
    assert_eq!(stored.since, t("2020-06-15T06:00:00+08:00"), "the change is dated when it happened");
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(code["colour"], "green");
    let (_, past) = app.get(&format!("/v1/persons/{person}/code?at=2020-06-10T08:00:00%2B08:00")).await;
    assert_eq!(past["colour"], "red", "the code as known at an earlier time: {past}");
}

#[tokio::test]
async fn a_designation_turns_residents_with_a_stay_yellow() {
    let app = TestApp::spawn().await;
    let stayed = app.register(&resident_id("33010619800101123")).await;
    let elsewhere = app.register(&resident_id("33010619900202456")).await;
    for (person, area, id) in [(&stayed, "330106001", "tel-1"), (&elsewhere, "330206", "tel-2")] {
        let (status, body) = app
            .post(
                "/v1/events",
                json!({"id": id, "person_id": person, "type": "stay", "area": area,
                "from": "2020-05-30T08:00:00+08:00", "to": "2020-05-31T08:00:00+08:00"})
                .to_string(),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    app.clock.set(t("2020-06-02T08:00:00+08:00"));
    let (status, body) = app.post("/v1/designations", r#"{"id":"prov-1","area":"330100","level":"medium"}"#).await;
    assert_eq!(status, 201, "{body}");
    let (_, code) = app.get(&format!("/v1/persons/{stayed}/code")).await;
    assert_eq!((code["colour"].as_str(), reasons(&code)), (Some("yellow"), vec!["Y2"]));
    let kinds: Vec<&str> =
        code["reasons"][0]["evidence"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"area_risk") && kinds.contains(&"stay"),
        "the stay and the designation are the reason: {kinds:?}"
    );
    let (_, code) = app.get(&format!("/v1/persons/{elsewhere}/code")).await;
    assert_eq!(code["colour"], "green");
    let (_, stats) = app.get("/v1/stats").await;
    assert_eq!(stats["codes"]["yellow"], 1);
    assert_eq!(stats["persons"], 2);
}

#[tokio::test]
async fn a_batch_reports_every_row_by_line_number_and_keeps_rejections() {
    let app = TestApp::spawn().await;
    let person = app.register(&resident_id("33010619800101123")).await;
    let lines = [
        json!({"id": "b1", "person_id": person, "type": "fever"}).to_string(),
        String::new(),
        json!({"id": "b2", "person_id": person, "type": "stay", "area": "33010",
               "from": "2020-05-30T08:00:00+08:00", "to": null})
        .to_string(),
        "{ this is not json".to_string(),
        json!({"id": "b1", "person_id": person, "type": "fever"}).to_string(),
        json!({"id": "b3", "person_id": "nobody", "type": "fever"}).to_string(),
        json!({"id": "b4", "person_id": person, "type": "management_decision", "color": "red",
               "until": "2020-07-01T08:00:00+08:00", "basis": "law", "approvers": ["li", "li"]})
        .to_string(),
    ];
    let (status, report) = app.post("/v1/events/batch", lines.join("\n")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["accepted"].as_u64(), report["duplicates"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(1), Some(4))
    );
    let rows = report["rows"].as_array().unwrap();
    let row_numbers: Vec<u64> = rows.iter().map(|r| r["row"].as_u64().unwrap()).collect();
    assert_eq!(row_numbers, [1, 3, 4, 5, 6, 7], "rows are line numbers; the blank line is skipped but counted");
    assert_eq!(rows[1]["field"], "area");
    assert!(rows[2]["error"].as_str().unwrap().contains("not valid JSON"));
    assert_eq!(rows[3]["status"], "duplicate");
    assert!(rows[4]["error"].as_str().unwrap().contains("no person is registered"));
    assert!(rows[5]["error"].as_str().unwrap().contains("two distinct approvers"));

    let (status, listed) = app.get("/v1/rejections").await;
    assert_eq!(status, 200);
    let rejections = listed["rejections"].as_array().unwrap();
    assert_eq!(rejections.len(), 4, "every rejected row is kept: {listed}");
    assert_eq!(rejections[0]["origin"], "api batch row 2", "origin counts submitted rows");
    assert!(rejections[1]["input"].as_str().unwrap().contains("this is not json"), "the input is kept as sent");
    let (_, page) = app.get(&format!("/v1/rejections?after={}&limit=1", rejections[0]["id"])).await;
    assert_eq!(page["rejections"][0]["id"], rejections[1]["id"]);
    assert_eq!(page["next_after"], rejections[1]["id"]);
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(reasons(&code), ["Y1"], "only the valid fever counts");
}

#[tokio::test]
async fn client_mistakes_are_json_errors_with_stable_codes() {
    let app = TestApp::spawn().await;
    let person = app.register(&resident_id("33010619800101123")).await;
    let event = |extra: Value| {
        let mut base = json!({"id": "x1", "person_id": person});
        base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        base.to_string()
    };
    let cases: Vec<(&str, String, u16, &str, Option<&str>)> = vec![
        ("/v1/events", "{ nope".into(), 400, "invalid_json", None),
        ("/v1/events", String::new(), 400, "invalid_json", None),
        ("/v1/events", event(json!({"type": "quarantine_order", "mode": "home", "days": "7"})), 422, "invalid_event", Some("days")),
        ("/v1/events", event(json!({"type": "feverish"})), 422, "invalid_event", Some("type")),
        ("/v1/events", event(json!({"type": "stay", "area": "33010", "from": "2020-05-30T08:00:00+08:00"})), 422, "invalid_event", Some("area")),
        ("/v1/events", event(json!({"type": "stay", "area": "330106", "from": "2020-05-30T08:00:00+08:00", "to": "2020-05-29T08:00:00+08:00"})), 422, "invalid_event", Some("to")),
        ("/v1/events", event(json!({"type": "management_decision", "color": "red", "until": "2020-07-01T08:00:00+08:00", "basis": "law", "approvers": ["wang"]})), 422, "invalid_event", Some("approvers")),
        ("/v1/events", event(json!({"type": "fever", "at": "2020-06-01T08:00:00+08:00"})), 422, "invalid_event", Some("at")),
        ("/v1/events", event(json!({"type": "test", "result": "negative", "sampled_at": "yesterday"})), 422, "invalid_event", Some("sampled_at")),
        ("/v1/events", json!({"id": "x2", "person_id": "nobody", "type": "fever"}).to_string(), 422, "invalid_event", Some("person_id")),
        ("/v1/events", json!({"id": "x3", "type": "fever"}).to_string(), 422, "invalid_event", None),
        ("/v1/events", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]".into(), 400, "invalid_json", None),
        ("/v1/events", event(json!({"type": "quarantine_order", "mode": "home", "days": 1e300})), 422, "invalid_event", Some("days")),
        ("/v1/designations", r#"{"id":"d1","type":"fever"}"#.into(), 422, "invalid_event", Some("type")),
        ("/v1/designations", r#"{"id":"d1","area":"330106","level":"extreme"}"#.into(), 422, "invalid_event", Some("level")),
        ("/v1/events/batch", "\n\n".into(), 422, "invalid_input", None),
        ("/v1/persons", r#"{"id_type":"resident_id","id_number":"110105194912310021"}"#.into(), 422, "invalid_input", Some("id_number")),
        ("/v1/persons", r#"{"id_type":"driving_licence","id_number":"1"}"#.into(), 422, "invalid_input", Some("id_type")),
        ("/v1/persons", r#"{"id_type":"passport","id_number":"E1234567","name":"张三"}"#.into(), 422, "invalid_input", Some("name")),
        ("/v1/persons", r#"["passport"]"#.into(), 422, "invalid_input", None),
        ("/v1/nothing", "{}".into(), 404, "not_found", None),
    ];
    for (path, body, status, code, field) in cases {
        let (got, error) = app.post(path, body.clone()).await;
        assert_eq!(got, status, "{path} {body}: {error}");
        assert_eq!(error["error"]["code"], code, "{path} {body}: {error}");
        assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        if let Some(field) = field {
            assert_eq!(error["error"]["field"], field, "{path} {body}: {error}");
        }
    }
    let (status, error) = app.get("/v1/persons/nobody/code").await;
    assert_eq!((status, error["error"]["code"].as_str()), (404, Some("unknown_person")));
    let (status, error) = app.get("/v1/persons/bad%20id/code").await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid_input")));
    let (status, error) = app.get(&format!("/v1/persons/{person}/code?at=noon")).await;
    assert_eq!((status, error["error"]["field"].as_str()), (422, Some("at")));
    let (status, error) = app.get("/v1/rejections?limit=-3").await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid_input")));
    let response = app.client.put(app.url("/v1/events")).body("{}").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "method_not_allowed");
    let huge = "x".repeat(healthcode_server::MAX_BODY_BYTES + 1);
    let (status, error) = app.post("/v1/events/batch", huge).await;
    assert_eq!((status, error["error"]["code"].as_str()), (413, Some("payload_too_large")));
}

#[tokio::test]
async fn rules_are_published_read_only() {
    let app = TestApp::spawn().await;
    let (status, rules) = app.get("/v1/rules").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = rules["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["R1", "R2", "R3", "R4", "R5", "R6", "Y1", "Y2", "Y3"]);
    assert!(rules["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(rules["source"]["window_hours"], 336);
    let response = app.client.post(app.url("/v1/rules")).body("{}").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405, "no route changes the rules");
}

#[tokio::test]
async fn pages_render_codes_in_html() {
    let app = TestApp::spawn().await;
    let person = app.register(&resident_id("33010619800101123")).await;
    app.post("/v1/events", json!({"id": "f1", "person_id": person, "type": "fever"}).to_string()).await;
    for path in
        ["/".to_string(), "/demo".to_string(), format!("/persons/{person}"), format!("/persons/lookup?id={person}")]
    {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(response.headers().contains_key("content-security-policy"));
        let html = response.text().await.unwrap();
        assert!(html.contains("<html lang=\"zh-CN\">"), "{path}");
        if path.contains(&person) {
            assert!(html.contains("黄码") && html.contains("yellow") && html.contains("Y1"), "{path}: {html}");
        }
    }
    let response = app.client.get(app.url("/persons/%3Cscript%3E")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(!response.text().await.unwrap().contains("<script>"), "input is never echoed unescaped");
}

#[tokio::test]
async fn nothing_a_client_sends_yields_a_server_error() {
    let app = TestApp::spawn().await;
    let person = app.register(&resident_id("33010619800101123")).await;
    let valid = json!({"id": "v1", "person_id": person, "type": "stay", "area": "330106",
        "from": "2020-05-30T08:00:00+08:00", "to": "2020-05-31T08:00:00+08:00"})
    .to_string();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut bodies: Vec<Vec<u8>> = vec![vec![0xff, 0xfe, 0x00], b"null".to_vec(), b"\"\"".to_vec(), b"1e999".to_vec()];
    for i in 0..150 {
        let mut body = valid.clone().into_bytes();
        // Mutate a valid event: overwrite, delete or duplicate a few bytes.
        for _ in 0..(1 + i % 4) {
            let pos = (next() as usize) % body.len();
            match next() % 3 {
                0 => body[pos] = (next() % 256) as u8,
                1 => {
                    body.remove(pos);
                }
                _ => body.insert(pos, body[pos]),
            }
        }
        bodies.push(body);
    }
    for body in bodies {
        for path in ["/v1/events", "/v1/events/batch", "/v1/persons", "/v1/designations"] {
            let response = app.client.post(app.url(path)).body(body.clone()).send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert!(status < 500, "{path} answered {status} to {:?}: {text}", String::from_utf8_lossy(&body));
            assert!(serde_json::from_str::<Value>(&text).is_ok(), "{path} answered non-JSON: {text}");
        }
    }
}
