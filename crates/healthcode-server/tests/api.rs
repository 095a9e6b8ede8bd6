//! The API against a running server: ingestion, reading codes back, the three ways a
//! code changes, and every kind of client mistake as a JSON error.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{resident_id, t, TestApp};

// Every test runs against both storage backends (PostgreSQL when reachable).
common::on_both_backends!(
    register_is_idempotent_and_never_echoes_the_id_number,
    evidence_turns_the_code_red_at_once_with_its_reason,
    events_can_name_the_person_by_document_before_registration,
    time_passing_turns_an_entry_green_through_the_scheduler,
    a_designation_turns_residents_with_a_stay_yellow,
    a_batch_reports_every_row_by_line_number_and_keeps_rejections,
    client_mistakes_are_json_errors_with_stable_codes,
    rules_are_published_read_only,
    pages_render_codes_in_html,
    nothing_a_client_sends_yields_a_server_error,
    transport_mistakes_are_json_errors_too,
    the_rejection_log_never_shows_id_numbers,
    the_scheduler_task_applies_changes_when_their_time_comes,
    permit_and_residence_card_holders_choose_the_international_code,
    metrics_count_requests_by_route_and_show_the_state_without_a_person,
    an_incident_notice_is_carried_by_every_answer_and_page_while_it_stands,
    a_visitor_converts_over_the_api_and_is_judged_by_this_regions_rules,
);
use serde_json::{json, Value};

fn reasons(code: &Value) -> Vec<&str> {
    code["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect()
}

async fn register_is_idempotent_and_never_echoes_the_id_number(app: TestApp) {
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

async fn evidence_turns_the_code_red_at_once_with_its_reason(app: TestApp) {
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
    assert_eq!(code["rules"]["version"], "2026.1");
    // The stored code was kept current by the ingestion itself (the incremental path).
    let stored = app.store.code(&healthcode_domain::PersonId::parse(&person).unwrap()).await.unwrap().unwrap();
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

async fn events_can_name_the_person_by_document_before_registration(app: TestApp) {
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
    // Whoever registers online later does not get the person's key: the list made them
    // known, and typing their ID number proves nothing.
    let body = json!({"id_type": "resident_id", "id_number": number, "residence_area": "330106"});
    let (status, registered) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!((status, registered["status"].as_str()), (200, Some("claim_required")), "{registered}");
    assert!(registered.get("resident_key").is_none() && registered["residence_area"].is_null(), "{registered}");
    // The resident claims it at a counter, which records the area the list did not have.
    let counter = json!({"id_type": "resident_id", "id_number": number, "residence_area": "330106"});
    let (status, claimed) = app.post_with_key("/v1/residents/keys", &app.keys["provincial"], counter.to_string()).await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["residence_area"], "330106", "filled in where the list had none");
    let person = claimed["person_id"].as_str().unwrap().to_string();
    let key = claimed["resident_key"].as_str().unwrap();
    let (_, code) = app.get_with_key(&format!("/v1/persons/{person}/code"), key).await;
    assert_eq!(code["colour"], "red", "{code}");
    assert_eq!(reasons(&code), ["R1"]);
}

async fn time_passing_turns_an_entry_green_through_the_scheduler(app: TestApp) {
    let person = app.register(&resident_id("33010619800101123")).await;
    app.post(
        "/v1/events",
        json!({"id": "border-1", "person_id": person, "type": "entry", "country": "GB",
        "entered_at": "2020-06-01T06:00:00+08:00"})
        .to_string(),
    )
    .await;
    let id = healthcode_domain::PersonId::parse(&person).unwrap();
    let stored = app.store.code(&id).await.unwrap().unwrap();
    assert_eq!(stored.reasons, ["R3"]);
    assert_eq!(stored.next_change, Some(t("2020-06-15T06:00:00+08:00")));

    app.clock.set(t("2020-06-15T07:00:00+08:00"));
    let report = app.service.codes().run_due().await.unwrap();
    assert_eq!(report.evaluated, 1);
    let stored = app.store.code(&id).await.unwrap().unwrap();
    assert_eq!(stored.colour, healthcode_domain::Colour::Green);
    assert_eq!(stored.since, t("2020-06-15T06:00:00+08:00"), "the change is dated when it happened");
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(code["colour"], "green");
    let (_, past) = app.get(&format!("/v1/persons/{person}/code?at=2020-06-10T08:00:00%2B08:00")).await;
    assert_eq!(past["colour"], "red", "the code as known at an earlier time: {past}");
}

async fn a_designation_turns_residents_with_a_stay_yellow(app: TestApp) {
    let stayed = app.register(&resident_id("33010619800101123")).await;
    let elsewhere = app.register(&resident_id("33010619900202456")).await;
    for (person, area, id) in [(&stayed, "330106002", "tel-1"), (&elsewhere, "330206", "tel-2")] {
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
    let (status, proposed) = app.post("/v1/designations", r#"{"id":"prov-1","area":"330100","level":"medium"}"#).await;
    assert_eq!(status, 202, "a designation is a proposal: {proposed}");
    let (_, code) = app.get(&format!("/v1/persons/{stayed}/code")).await;
    assert_eq!(code["colour"], "green", "nothing changes on one officer's word");
    let approved = app.designate(r#"{"id":"prov-1","area":"330100","level":"medium"}"#).await;
    assert_eq!(approved["approved_by"], "provincial2");
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

async fn a_batch_reports_every_row_by_line_number_and_keeps_rejections(app: TestApp) {
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
    assert_eq!(
        rejections[0]["origin"], "api batch (health) row 3",
        "the log names the source and rows by their line in the file"
    );
    assert!(rejections[1]["input"].as_str().unwrap().contains("this is not json"), "the input is kept as sent");
    let (_, page) = app.get(&format!("/v1/rejections?after={}&limit=1", rejections[0]["id"])).await;
    assert_eq!(page["rejections"][0]["id"], rejections[1]["id"]);
    assert_eq!(page["next_after"], rejections[1]["id"]);
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(reasons(&code), ["Y1"], "only the valid fever counts");
}

async fn client_mistakes_are_json_errors_with_stable_codes(app: TestApp) {
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
        ("/v1/persons", r#"{"id_type":"passport","id_number":"E1234567","religion":"x"}"#.into(), 422, "invalid_input", Some("religion")),
        ("/v1/persons", r#"{"id_type":"passport","id_number":"E1234567","name":"a\u0007b"}"#.into(), 422, "invalid_input", Some("name")),
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

async fn rules_are_published_read_only(app: TestApp) {
    let (status, rules) = app.get("/v1/rules").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = rules["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["R1", "R2", "R3", "R4", "R5", "R6", "Y1", "Y2", "Y3"]);
    assert!(rules["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(rules["source"]["window_hours"], 336);
    let response = app.client.post(app.url("/v1/rules")).body("{}").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405, "no route changes the rules");
}

async fn pages_render_codes_in_html(app: TestApp) {
    let person = app.register(&resident_id("33010619800101123")).await;
    app.post("/v1/events", json!({"id": "f1", "person_id": person, "type": "fever"}).to_string()).await;
    let cookie = format!("hc_resident={}", app.resident_key(&person).unwrap());
    for path in
        ["/".to_string(), "/signin".to_string(), format!("/persons/{person}"), format!("/persons/{person}/history")]
    {
        let response = app.client.get(app.url(&path)).header("cookie", &cookie).send().await.unwrap();
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

async fn nothing_a_client_sends_yields_a_server_error(app: TestApp) {
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

async fn transport_mistakes_are_json_errors_too(app: TestApp) {
    let person = app.register(&resident_id("33010619800101123")).await;
    let fever = |id: &str| json!({"id": id, "person_id": person, "type": "fever"}).to_string();

    // Bodies that are not UTF-8 JSON, whatever the Content-Type says.
    let gbk_line = [b"{\"id\":\"g1\",\"basis\":\"".to_vec(), vec![0xb7, 0xa2, 0xc8, 0xc8], b"\"}".to_vec()].concat();
    let not_utf8_batch = [fever("u0").into_bytes(), b"\n".to_vec(), gbk_line.clone()].concat();
    let escaped_nul = format!(
        r#"{{"id":"n4","person_id":"{person}","type":"entry","country":"G\u0000B","entered_at":"{}"}}"#,
        "2020-05-30T08:00:00+08:00"
    );
    // (path, body, Content-Type, status, error code)
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("/v1/events", gbk_line.clone(), Some("application/json"), 400, "invalid_json"),
        ("/v1/events/batch", not_utf8_batch, Some("application/x-ndjson"), 400, "invalid_json"),
        ("/v1/persons", vec![0xff, 0xfe], None, 400, "invalid_json"),
        ("/v1/events", b"id=1&type=fever".to_vec(), Some("application/x-www-form-urlencoded"), 400, "invalid_json"),
        (
            "/v1/events",
            b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--".to_vec(),
            Some("multipart/form-data; boundary=x"),
            400,
            "invalid_json",
        ),
        ("/v1/events", b"fever please".to_vec(), Some("text/plain"), 400, "invalid_json"),
        ("/v1/events", Vec::new(), None, 400, "invalid_json"),
        ("/v1/persons", Vec::new(), Some("application/json"), 400, "invalid_json"),
        ("/v1/designations", Vec::new(), None, 400, "invalid_json"),
        (
            "/v1/events",
            json!({"id": "n1", "person_id": person, "type": "test", "result": "negative",
            "sampled_at": 123456789012345678901234567890u128 as f64})
            .to_string()
            .into_bytes(),
            None,
            422,
            "invalid_event",
        ),
        ("/v1/events", br#"{"id":"n2","type":"fever","person_id":"p","x":1e999}"#.to_vec(), None, 400, "invalid_json"),
        (
            "/v1/events",
            format!(
                r#"{{"id":"n3","person_id":"{person}","type":"fever","onset_at":{}"x"{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            )
            .into_bytes(),
            None,
            400,
            "invalid_json",
        ),
        ("/v1/events", vec![b' '; healthcode_server::MAX_JSON_BYTES + 1], None, 413, "payload_too_large"),
        // NUL, raw or escaped, is refused (and never reaches a store that cannot hold it).
        ("/v1/events", escaped_nul.into_bytes(), None, 400, "invalid_json"),
        ("/v1/events", [fever("n5").as_bytes(), b"\0"].concat(), None, 400, "invalid_json"),
    ];
    for (path, body, content_type, status, code) in cases {
        let shown = String::from_utf8_lossy(&body).chars().take(80).collect::<String>();
        let (got, error) = app.post_bytes(path, body, content_type).await;
        assert_eq!(
            (got, error["error"]["code"].as_str()),
            (status, Some(code)),
            "{path} {content_type:?} {shown}: {error}"
        );
    }
    let (_, error) = app.post_bytes("/v1/events/batch", [b"{}\n{}\n".to_vec(), vec![0xc8]].concat(), None).await;
    assert!(error["error"]["message"].as_str().unwrap().contains("line 3"), "the bad line is named: {error}");

    // The Content-Type is not checked: `curl -d` (a form type) with a JSON event works,
    // and a byte-order mark from a Windows editor is tolerated.
    let (status, body) =
        app.post_bytes("/v1/events", fever("c1").into_bytes(), Some("application/x-www-form-urlencoded")).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) =
        app.post_bytes("/v1/events", [&b"\xef\xbb\xbf"[..], fever("c2").as_bytes()].concat(), None).await;
    assert_eq!(status, 201, "{body}");

    // Paths and methods.
    for (method, path, status, code) in [
        ("POST", "/", 405, "method_not_allowed"),
        ("POST", "/healthz", 405, "method_not_allowed"),
        ("GET", "/v1/events", 405, "method_not_allowed"),
        ("DELETE", "/v1/persons/p1/code", 405, "method_not_allowed"),
        ("PUT", "/demo", 405, "method_not_allowed"),
        ("GET", "/v1/persons/%FF/code", 422, "invalid_input"),
        ("GET", "/v1/persons/p1/code?at=%FF", 422, "invalid_input"),
        ("GET", "/v1/rejections?after=99999999999999999999", 422, "invalid_input"),
        ("GET", "/persons/a/b", 404, "not_found"),
        ("GET", "/v2/persons", 404, "not_found"),
    ] {
        let mut request = app.client.request(method.parse().unwrap(), app.url(path));
        if let Some(key) = app.key_for(path.split('?').next().unwrap_or(path), "") {
            request = request.bearer_auth(key);
        }
        let (got, error) = common::json_answer(request.send().await.unwrap()).await;
        assert_eq!((got, error["error"]["code"].as_str()), (status, Some(code)), "{method} {path}: {error}");
    }

    // `?at=` with its `+` left unencoded (read as a space) still means +08:00; before the
    // fever was recorded the code was green.
    let (status, code) = app.get(&format!("/v1/persons/{person}/code?at=2020-06-01T07:59:59+08:00")).await;
    assert_eq!((status, code["colour"].as_str()), (200, Some("green")), "{code}");
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(code["colour"], "yellow");

    // Security headers on JSON and HTML alike.
    for path in ["/v1/stats", "/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"), "{csp}");
    }
}

async fn the_rejection_log_never_shows_id_numbers(app: TestApp) {
    let number = resident_id("33010619800101123");
    let (status, error) = app
        .post(
            "/v1/events",
            json!({"id": "doc-1", "id_type": "resident_id", "id_number": number, "type": "test",
                   "result": "maybe", "sampled_at": "2020-06-01T07:00:00+08:00"})
            .to_string(),
        )
        .await;
    assert_eq!((status, error["error"]["field"].as_str()), (422, Some("result")), "{error}");
    assert!(!error.to_string().contains(&number));
    let broken = format!(r#"{{"id":"doc-2","id_type":"resident_id","id_number":"{number}","type":"#);
    let (status, _) = app.post("/v1/events", broken).await;
    assert_eq!(status, 400);
    let mut bad_check_digit = number.clone();
    bad_check_digit.replace_range(17.., if number.ends_with('1') { "2" } else { "1" });
    let (status, error) =
        app.post("/v1/persons", json!({"id_type": "resident_id", "id_number": bad_check_digit}).to_string()).await;
    assert_eq!((status, error["error"]["field"].as_str()), (422, Some("id_number")));
    assert!(!error.to_string().contains(&bad_check_digit), "errors never echo the number: {error}");

    let (_, listed) = app.get("/v1/rejections").await;
    let rejections = listed["rejections"].as_array().unwrap();
    assert_eq!(rejections.len(), 2, "{listed}");
    assert!(!listed.to_string().contains(&number), "the number is masked: {listed}");
    assert!(rejections.iter().all(|r| r["input"].as_str().unwrap().contains(r#""id_number":"***""#)));
    assert_eq!(rejections[0]["field"], "result");
    assert!(rejections[0]["reason"].as_str().unwrap().contains("result"));
    assert_eq!(listed["next_after"], Value::Null, "one page holds them all");
}

async fn the_scheduler_task_applies_changes_when_their_time_comes(app: TestApp) {
    let person = app.register(&resident_id("33010619800101123")).await;
    let (status, _) = app
        .post(
            "/v1/events",
            json!({"id": "q-1", "person_id": person, "type": "entry", "country": "GB",
                   "entered_at": "2020-05-31T08:00:00+08:00"})
            .to_string(),
        )
        .await;
    assert_eq!(status, 201);
    let id = healthcode_domain::PersonId::parse(&person).unwrap();
    let stored = || async { app.store.code(&id).await.unwrap().unwrap().colour };
    assert_eq!(stored().await, healthcode_domain::Colour::Red);

    app.clock.set(t("2020-06-20T08:00:00+08:00"));
    let scheduler = healthcode_server::spawn_scheduler(app.service.clone(), std::time::Duration::from_millis(5));
    let turned_green = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while stored().await != healthcode_domain::Colour::Green {
            tokio::task::yield_now().await;
        }
    })
    .await;
    scheduler.abort();
    assert!(turned_green.is_ok(), "the scheduler re-evaluated the due code without any request");
    let (_, stats) = app.get("/v1/stats").await;
    assert_eq!((stats["codes"]["green"].as_u64(), stats["queue"].as_u64()), (Some(1), Some(0)), "{stats}");
}

/// Seed 001: residents of Hong Kong, Macao and Taiwan and foreigners with permanent
/// residence register with their own documents, and get the international code only if
/// they ask for it.
async fn permit_and_residence_card_holders_choose_the_international_code(app: TestApp) {
    let app = &app;
    let register = |body: Value| async move { app.post("/v1/persons", body.to_string()).await };
    let (status, hk) = register(json!({"id_type": "hk_macao_permit", "id_number": "H12345678"})).await;
    assert_eq!((status, hk["kind"].as_str()), (201, Some("domestic")), "{hk}");
    let (status, tw) =
        register(json!({"id_type": "taiwan_permit", "id_number": "12345678", "international": true})).await;
    assert_eq!((status, tw["kind"].as_str()), (201, Some("international")), "{tw}");
    let (status, pr) =
        register(json!({"id_type": "foreign_permanent_residence", "id_number": "USA330106800101"})).await;
    assert_eq!((status, pr["kind"].as_str()), (201, Some("domestic")), "{pr}");
    let (status, passport) = register(json!({"id_type": "passport", "id_number": "E12345678"})).await;
    assert_eq!((status, passport["kind"].as_str()), (201, Some("international")), "a passport always");
    let (status, refused) =
        register(json!({"id_type": "resident_id", "id_number": common::resident_id("33010619800101123"),
                                            "international": true}))
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("international")), "{refused}");
    let (status, refused) = register(json!({"id_type": "hk_macao_permit", "id_number": "A12345678"})).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("id_number")), "{refused}");
    assert!(!refused.to_string().contains("A12345678"), "never echoed");
    // Each document is its own identity: the same digits on another document are another person.
    let (_, other) = register(json!({"id_type": "taiwan_permit", "id_number": "12345678"})).await;
    assert_eq!(other["person_id"], tw["person_id"], "the same permit is the same person");
    let (_, hk_digits) = register(json!({"id_type": "hk_macao_permit", "id_number": "M12345678"})).await;
    assert_ne!(hk_digits["person_id"], hk["person_id"]);
}

/// `/metrics` for the province's monitoring: requests by route template, and the state
/// read at each scrape; never a person.
async fn metrics_count_requests_by_route_and_show_the_state_without_a_person(app: TestApp) {
    let person = app.register_in(&common::resident_id("33010619800101123"), "330106").await;
    let fever = json!({"id": "f-1", "person_id": person, "type": "fever", "onset_at": "2020-06-01T07:00:00+08:00"});
    assert_eq!(app.post("/v1/events", fever.to_string()).await.0, 201);
    for _ in 0..3 {
        assert_eq!(app.get(&format!("/v1/persons/{person}/code")).await.0, 200);
    }
    let batch = [
        json!({"id": "m-1", "person_id": person, "type": "test", "result": "negative", "sampled_at": "2020-06-01T06:00:00+08:00"}),
        json!({"id": "m-1", "person_id": person, "type": "test", "result": "negative", "sampled_at": "2020-06-01T06:00:00+08:00"}),
        json!({"id": "m-2", "person_id": person, "type": "no_such_type"}),
    ];
    let lines: Vec<String> = batch.iter().map(Value::to_string).collect();
    let upload = app
        .client
        .post(app.url("/v1/feeds/metrics-1"))
        .bearer_auth(&app.keys["health"])
        .header("content-type", "application/x-ndjson")
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    assert!(upload.status().is_success(), "{:?}", upload.text().await);
    app.service.log().sign_checkpoint().await.unwrap();
    let anonymous = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401, "exact counts, scraped often, could tell one person's change");
    let resident = app.resident_key(&person).unwrap();
    assert_eq!(app.client.get(app.url("/metrics")).bearer_auth(resident).send().await.unwrap().status().as_u16(), 401);
    let response = app.client.get(app.url("/metrics")).bearer_auth(&app.keys["auditor"]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    for expected in [
        "healthcode_http_requests_total{method=\"GET\",route=\"/v1/persons/{person_id}/code\",status=\"200\"} 3",
        "healthcode_http_requests_total{method=\"POST\",route=\"/v1/events\",status=\"201\"} 1",
        "healthcode_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/persons/{person_id}/code\"} 3",
        "healthcode_persons 1",
        "healthcode_codes{colour=\"yellow\"} 1",
        "healthcode_scheduler_lag_seconds -1",
        "healthcode_scheduler_leader 0",
        "healthcode_complaints{standing=\"open\"} 0",
        "healthcode_feed_uploads_in_progress 0",
        "healthcode_feed_rows{outcome=\"accepted\"} 1",
        "healthcode_feed_rows{outcome=\"duplicate\"} 1",
        "healthcode_feed_rows{outcome=\"rejected\"} 1",
        "healthcode_db_connections{state=\"max\"}",
        "healthcode_db_connections{state=\"idle\"}",
        "# EOF",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(text.contains("healthcode_log_size ") && text.contains("healthcode_log_checkpoint_age_seconds "), "{text}");
    // Each backend says what only it can: SQLite its own memory, PostgreSQL's pool its queue.
    let sqlite = text.contains("healthcode_db_embedded_memory_bytes{backend=\"sqlite\"} ");
    let postgres = text.contains("healthcode_db_waiting{backend=\"postgres\"} ");
    assert!(sqlite != postgres, "one backend's series, not both or neither:\n{text}");
    assert!(!text.contains(&person), "no metric names a person");
    // Once it has taken the scheduler's lease, the server says it is the one.
    assert!(app.service.follow().await.unwrap());
    let response = app.client.get(app.url("/metrics")).bearer_auth(&app.keys["auditor"]).send().await.unwrap();
    assert!(response.text().await.unwrap().contains("healthcode_scheduler_leader 1"));
}

/// Seed 001's 故障通报: a provincial officer posts a notice; every answer carries it in a
/// header and every page shows it, until it is lifted.
async fn an_incident_notice_is_carried_by_every_answer_and_page_while_it_stands(app: TestApp) {
    let notice = json!({"text_zh": "国家平台数据延迟，跨省核验结果可能滞后。",
                        "text_en": "National data delayed: cross-province results may lag."});
    assert_eq!(app.post_with_key("/v1/notice", &app.keys["local"], notice.to_string()).await.0, 403);
    let past = json!({"text_zh": "测试通报", "text_en": "test notice", "until": "2020-05-01T00:00:00+08:00"});
    assert_eq!(app.post_with_key("/v1/notice", &app.keys["provincial"], past.to_string()).await.0, 422);
    let (status, posted) = app.post_with_key("/v1/notice", &app.keys["provincial"], notice.to_string()).await;
    assert_eq!(status, 201, "{posted}");

    let answer = app.client.get(app.url("/v1/rules")).send().await.unwrap();
    let header = answer.headers()["healthcode-notice"].to_str().unwrap().to_string();
    let fields: std::collections::HashMap<String, String> = serde_urlencoded::from_str(&header).unwrap();
    assert_eq!(fields["en"], "National data delayed: cross-province results may lag.");
    assert_eq!(fields["zh"], "国家平台数据延迟，跨省核验结果可能滞后。");
    let page = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("class=\"incident\"><strong>国家平台数据延迟"), "{page}");
    let page = app.client.get(app.url("/?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<strong>National data delayed"), "in the page's language");
    let (_, current) = app.get("/v1/notice").await;
    assert_eq!(current["notice"]["posted_by"], "provincial");

    let lift = app.client.post(app.url("/v1/notice/lift")).bearer_auth(&app.keys["provincial2"]).send().await.unwrap();
    assert_eq!(lift.status().as_u16(), 204);
    let answer = app.client.get(app.url("/v1/rules")).send().await.unwrap();
    assert!(answer.headers().get("healthcode-notice").is_none(), "lifted");
    let page = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("class=\"incident\""));
}

/// `POST /v1/conversions` (转码): a visitor from another region with a declared stay gets
/// a key and a code judged here; what is wrong is refused by field, and registers nobody.
async fn a_visitor_converts_over_the_api_and_is_judged_by_this_regions_rules(app: TestApp) {
    let visitor = resident_id("41010519900101123");
    let body = |extra: Value| {
        let mut body = json!({"id_type": "resident_id", "id_number": visitor, "name": "张三", "origin": "410105",
                              "accepted_notice": healthcode_service::COLLECTION_NOTICE_VERSION});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body.to_string()
    };
    for (extra, field) in [
        (json!({"origin": "330106"}), "origin"),
        (json!({"origin": "41"}), "origin"),
        (json!({"home_code": "HC1:NOTACODE"}), "home_code"),
        (json!({"stays": [{"area": "410105"}]}), "stays"),
        (json!({"stays": [{"area": "999", "from": "2020-02-20T08:00:00+08:00"}]}), "area"),
        (json!({"colour": "green"}), "colour"),
    ] {
        let (status, answer) = app.post("/v1/conversions", body(extra.clone())).await;
        assert_eq!(status, 422, "{extra}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{extra}: {answer}");
    }
    let (status, answer) =
        app.post("/v1/conversions", json!({"id_type": "resident_id", "id_number": visitor}).to_string()).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("origin")), "{answer}");
    assert_eq!(app.store.person_count().await.unwrap(), 0, "a refused conversion registers nobody");

    let stays =
        json!({"stays": [{"area": "410105", "from": "2020-02-20T08:00:00+08:00", "to": "2020-02-25T08:00:00+08:00"}]});
    let (status, converted) = app.post("/v1/conversions", body(stays.clone())).await;
    assert_eq!(status, 201, "{converted}");
    assert!(converted["resident_key"].as_str().unwrap().starts_with("hcr_"));
    assert_eq!(converted["home_code"], Value::Null);
    assert_eq!(converted["code"]["person_id"], converted["person_id"]);
    assert!(!converted.to_string().contains(&visitor), "the ID number is never echoed");
    let (status, again) = app.post("/v1/conversions", body(stays)).await;
    assert_eq!(status, 409, "{again}");
}
