//! Complaints that end in a fix (issue 18), against a running server on both backends: a
//! wrong positive test makes a code red; the resident complains on their page; the
//! complaint is routed to the handlers of their district and graded urgent; the handler
//! asks the health department for a correction; the department retracts the test; the
//! code turns green; the resident reads each step, and the log holds the retraction and
//! the colour change. A second complaint misses its deadline and goes to the provincial
//! office. And who may not do any of it. Last, a person's own erasure of their data
//! (PIPL art. 47), down to the bytes of the database file, and self-declarations.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{resident_id, TestApp};
use healthcode_domain::Duration;
use healthcode_service::Clock;
use serde_json::{json, Value};

common::on_both_backends!(
    a_wrong_positive_test_is_retracted_through_a_complaint_and_the_code_turns_green,
    a_retraction_withdraws_only_what_its_sender_may_and_only_once,
    correction_requests_reach_only_their_department_and_handlers_only_their_area,
    a_person_erases_their_data_once_no_rule_needs_it,
    residents_declare_and_the_rules_judge_what_they_declare,
    consent_is_recorded_with_the_notice_version_and_a_guardians_for_a_child,
    handlers_keep_a_knowledge_base_that_residents_search_before_complaining,
    a_test_report_is_attached_sealed_and_read_only_by_its_person_and_handlers,
);

/// A resident registered on the page; returns their page path (`/persons/<id>`), their
/// person id and the key their cookie holds.
async fn resident_on_the_page(app: &TestApp, first17: &str, area: &str) -> (String, String, String) {
    let body = format!("id_type=resident_id&id_number={}&residence_area={area}&consent=yes", resident_id(first17));
    let response = pages()
        .post(app.url("/register"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let page = response.headers()["location"].to_str().unwrap().trim_end_matches("?welcome=1").to_string();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let key = cookie.split_once('=').unwrap().1.to_string();
    let person = page.trim_start_matches("/persons/").to_string();
    (page, person, key)
}

/// A client that, like a test of the pages, sees redirects instead of following them.
fn pages() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn post_page(app: &TestApp, path: &str, key: &str, form: &str) -> (u16, String) {
    let response = pages()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .header("cookie", format!("hc_resident={key}"))
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn get_page(app: &TestApp, path: &str, key: &str) -> String {
    let response = app.client.get(app.url(path)).header("cookie", format!("hc_resident={key}")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.text().await.unwrap()
}

fn positive_test(id: &str, person: &str) -> String {
    json!({"id": id, "person_id": person, "type": "test", "result": "positive",
           "sampled_at": "2020-06-01T07:00:00+08:00"})
    .to_string()
}

fn advance(app: &TestApp, by: Duration) {
    app.clock.set(app.clock.now().saturating_add(by));
}

fn steps(complaint: &Value) -> Vec<String> {
    complaint["steps"].as_array().unwrap().iter().map(|s| s["what"].as_str().unwrap().to_string()).collect()
}

async fn a_wrong_positive_test_is_retracted_through_a_complaint_and_the_code_turns_green(app: TestApp) {
    let (page, me, key) = resident_on_the_page(&app, "33010619800101123", "330106").await;
    assert_eq!(app.post("/v1/events", positive_test("t-1", &me)).await.0, 201);
    let code = format!("/v1/persons/{me}/code");
    let (_, red) = app.get_with_key(&code, &key).await;
    assert_eq!((red["colour"].as_str(), red["reasons"][0]["rule"].as_str()), (Some("red"), Some("R1")), "{red}");

    // The page offers the record behind the colour to dispute, and what the code blocks.
    let form = get_page(&app, &format!("{page}/complaints"), &key).await;
    assert!(form.contains("name=\"event_id\"") && form.contains("value=\"t-1\""), "the record is offered: {form}");
    assert!(form.contains("name=\"blocks\""), "{form}");
    let text =
        "%E6%88%91%E6%B2%A1%E6%9C%89%E5%81%9A%E8%BF%87%E6%A3%80%E6%B5%8B%EF%BC%8C%E6%A0%87%E7%AD%BE%E9%94%99%E4%BA%86";
    let (status, _) = post_page(
        &app,
        &format!("{page}/complaints"),
        &key,
        &format!("subject=evidence&event_id=t-1&blocks=medical&text={text}"),
    )
    .await;
    assert_eq!(status, 303);

    // Routed to Hangzhou's handler, graded urgent (a red code blocks medical care today).
    let handler = &app.keys["complaints"];
    let (_, queue) = app.get_with_key("/v1/complaints?status=open", handler).await;
    let complaint = &queue["complaints"][0];
    assert_eq!(complaint["grade"], "urgent", "{queue}");
    assert_eq!((complaint["event"].as_str(), complaint["area"].as_str()), (Some("t-1"), Some("330106")));
    let id = complaint["id"].as_str().unwrap().to_string();
    let due = healthcode_domain::Timestamp::parse(complaint["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due, app.clock.now().saturating_add(Duration::hours(4)), "urgent: four hours");

    // The handler cannot ask the telecom department about a test; the health department it is.
    let ask = |department: &str| json!({"department": department, "text": "请核对该样本的标签与送检人。"}).to_string();
    let path = format!("/v1/complaints/{id}/correction-request");
    let (status, refused) = app.post_with_key(&path, handler, ask("telecom")).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("department")), "{refused}");
    let (status, asked) = app.post_with_key(&path, handler, ask("health")).await;
    assert_eq!(status, 200, "{asked}");
    assert_eq!(app.post_with_key(&path, handler, ask("health")).await.0, 409, "one request waits at a time");

    // The department's queue: the record to check, not the resident's words.
    let (_, queue) = app.get_with_key("/v1/corrections", &app.keys["health"]).await;
    let request = &queue["corrections"][0];
    assert_eq!((request["complaint_id"].as_str(), request["event_id"].as_str()), (Some(id.as_str()), Some("t-1")));
    assert_eq!(request["event_type"], "test");
    assert!(!queue.to_string().contains("标签错了"), "the department does not read the complaint's text: {queue}");
    let (_, telecom) = app.get_with_key("/v1/corrections", &app.keys["telecom"]).await;
    assert_eq!(telecom["corrections"], json!([]));

    // The department retracts the test: the code turns green at once.
    advance(&app, Duration::hours(1));
    let retraction = json!({"id": "r-1", "person_id": me, "type": "retraction", "retracts": "t-1",
                            "reason": "样本标签贴错，属于另一名送检人"});
    let (status, stored) = app.post("/v1/events", retraction.to_string()).await;
    assert_eq!(status, 201, "{stored}");
    let (_, green) = app.get_with_key(&code, &key).await;
    assert_eq!(green["colour"], "green", "{green}");
    assert_eq!(green["retracted"][0]["id"], "t-1", "the explanation says what was withdrawn: {green}");
    assert_eq!(green["retracted"][0]["retraction"], "r-1");

    // The complaint closed as upheld, and the resident reads every step.
    let (_, mine) = app.get_with_key(&format!("/v1/persons/{me}/complaints"), &key).await;
    let closed = &mine["complaints"][0];
    assert_eq!(closed["status"], "upheld", "{mine}");
    assert_eq!(steps(closed), ["filed", "correction_requested", "retracted", "colour_changed", "answered"], "{closed}");
    assert_eq!(closed["correction"]["answer"]["outcome"], "retracted");
    assert!(closed["answer"]["text"].as_str().unwrap().contains("green"), "{closed}");
    let (_, queue) = app.get_with_key("/v1/corrections", &app.keys["health"]).await;
    assert_eq!(queue["corrections"], json!([]), "answered by the retraction");
    let html = get_page(&app, &format!("{page}/complaints"), &key).await;
    assert!(html.contains("样本标签贴错") && html.contains("red → green"), "the page shows the steps: {html}");

    // The log holds the retraction and the colour change, in the person's own log.
    app.service.log().sign_checkpoint().await.unwrap();
    let (_, log) = app.get_with_key(&format!("/v1/persons/{me}/log"), &key).await;
    let entries: Vec<&Value> = log["entries"].as_array().unwrap().iter().map(|e| &e["entry"]).collect();
    let retracted = entries.iter().find(|e| e["type"] == "retraction").expect("a retraction entry");
    assert_eq!((retracted["event_type"].as_str(), retracted["by"].as_str()), (Some("test"), Some("health")));
    assert_eq!(retracted["department"], "health");
    assert!(
        entries.iter().any(|e| e["type"] == "colour_change" && e["old_colour"] == "red" && e["new_colour"] == "green"),
        "{log}"
    );
    assert!(!log.to_string().contains("样本标签"), "the public log carries no free text");
    // The health department's read of the request is in the resident's access log.
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{me}/accesses"), &key).await;
    assert!(accesses["accesses"].as_array().unwrap().iter().any(|a| a["actor"] == "health"), "{accesses}");

    // A second complaint, by another resident, is not handled in time: it goes to the
    // provincial office, with an alarm.
    let (_, other, other_key) = resident_on_the_page(&app, "33010619800101234", "330106").await;
    let body = json!({"subject": "colour", "text": "我的健康码颜色不对，请核查。"}).to_string();
    let (status, filed) = app.post_with_key(&format!("/v1/persons/{other}/complaints"), &other_key, body).await;
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["complaint"]["grade"], "normal", "a green code blocks nothing");
    advance(&app, Duration::hours(healthcode_service::NORMAL_COMPLAINT_HOURS));
    let done = app.service.residents().follow_up_complaints().await.unwrap();
    assert_eq!(done.escalated, 1, "{done:?}");
    let (_, escalated) = app.get_with_key("/v1/complaints?escalated=true", &app.keys["provincial"]).await;
    assert_eq!(escalated["complaints"].as_array().unwrap().len(), 1, "{escalated}");
    assert_eq!(steps(&escalated["complaints"][0]), ["filed", "escalated"]);
    let (_, alarms) = app.get_with_key("/v1/alarms", &app.keys["auditor"]).await;
    assert!(alarms.to_string().contains("complaint_overdue"), "{alarms}");
    assert_eq!(app.service.residents().follow_up_complaints().await.unwrap().escalated, 0, "escalated once");
    let dashboard = app.client.get(app.url("/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(dashboard.contains("data-escalated=\"1\""), "the dashboard counts it: {dashboard}");
    // The provincial office takes it over; until a complaint is overdue, it may not.
    let overdue = escalated["complaints"][0]["id"].as_str().unwrap().to_string();
    let answer = json!({"status": "dismissed", "text": "经核查，您的健康码颜色与记录一致。"}).to_string();
    let (status, _) =
        app.post_with_key(&format!("/v1/complaints/{id}/answer"), &app.keys["provincial"], answer.clone()).await;
    assert_eq!(status, 403, "the first complaint was never overdue: not the provincial office's");
    let body = json!({"subject": "other", "text": "再次申诉：请核查我的记录。"}).to_string();
    let (_, fresh) = app.post_with_key(&format!("/v1/persons/{other}/complaints"), &other_key, body).await;
    let fresh = fresh["complaint"]["id"].as_str().unwrap().to_string();
    let (status, _) =
        app.post_with_key(&format!("/v1/complaints/{fresh}/answer"), &app.keys["provincial"], answer.clone()).await;
    assert_eq!(status, 403, "not overdue: the area's handlers answer it");
    let (status, answered) =
        app.post_with_key(&format!("/v1/complaints/{overdue}/answer"), &app.keys["provincial"], answer).await;
    assert_eq!((status, answered["complaint"]["answer"]["by"].as_str()), (200, Some("provincial")), "{answered}");
}

async fn a_retraction_withdraws_only_what_its_sender_may_and_only_once(app: TestApp) {
    let me = app.register_in(&resident_id("33010619800101123"), "330106").await;
    assert_eq!(app.post("/v1/events", positive_test("t-1", &me)).await.0, 201);
    let retract = |id: &str, target: &str| {
        json!({"id": id, "person_id": me, "type": "retraction", "retracts": target, "reason": "wrong person"})
            .to_string()
    };
    // Telecom may not withdraw a test; a handler or an office may not retract at all.
    let (status, refused) = app.post_with_key("/v1/events", &app.keys["telecom"], retract("r-0", "t-1")).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("retracts")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("telecom"), "{refused}");
    for who in ["complaints", "provincial", "local"] {
        assert_eq!(app.post_with_key("/v1/events", &app.keys[who], retract("r-0", "t-1")).await.0, 403, "{who}");
    }
    // A record that does not exist, or another person's.
    let (status, refused) = app.post("/v1/events", retract("r-0", "t-9")).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("retracts")), "{refused}");
    let stranger = app.register_in(&resident_id("33010619800101234"), "330106").await;
    let theirs = json!({"id": "r-0", "person_id": stranger, "type": "retraction", "retracts": "t-1",
                        "reason": "wrong person"});
    assert_eq!(app.post("/v1/events", theirs.to_string()).await.0, 422, "t-1 is not the stranger's");
    // The code stays red through all of that; the refusals are kept with their reasons.
    let (_, code) = app.get(&format!("/v1/persons/{me}/code")).await;
    assert_eq!(code["colour"], "red");
    let (_, rejections) = app.get_with_key("/v1/rejections", &app.keys["health"]).await;
    assert!(rejections.to_string().contains("no record `t-9`"), "{rejections}");

    assert_eq!(app.post("/v1/events", retract("r-1", "t-1")).await.0, 201);
    assert_eq!(app.post("/v1/events", retract("r-1", "t-1")).await.0, 200, "a resend is a duplicate");
    let (status, refused) = app.post("/v1/events", retract("r-2", "t-1")).await;
    assert_eq!(status, 422);
    assert!(refused["error"]["message"].as_str().unwrap().contains("already retracted by `r-1`"), "{refused}");
    let (status, refused) = app.post("/v1/events", retract("r-3", "r-1")).await;
    assert_eq!(status, 422);
    assert!(refused["error"]["message"].as_str().unwrap().contains("cannot be withdrawn"), "{refused}");
    let (_, code) = app.get(&format!("/v1/persons/{me}/code")).await;
    assert_eq!(code["colour"], "green");

    // Retractions do not travel in bulk feeds: each is checked against its record.
    let batch = format!("{}\n", retract("r-4", "t-1"));
    let (status, report) = app.post("/v1/events/batch", batch).await;
    assert_eq!((status, report["accepted"].as_u64()), (200, Some(0)), "the batch endpoint checks them: {report}");
    let upload = app
        .client
        .post(app.url("/v1/feeds/corrections-1"))
        .bearer_auth(&app.keys["health"])
        .header("content-type", "application/x-ndjson")
        .body(format!(
            "{}\n",
            json!({"id": "r-5", "person_id": me, "type": "retraction", "retracts": "t-1", "reason": "wrong person"})
        ))
        .send()
        .await
        .unwrap();
    let (status, report) = common::json_answer(upload).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.to_string().contains("checked one by one"), "{report}");
}

async fn correction_requests_reach_only_their_department_and_handlers_only_their_area(app: TestApp) {
    // A resident of Shanghai (outside the handler's 330100) and one of Hangzhou.
    let (_, shanghai, sh_key) = resident_on_the_page(&app, "31010119800101235", "310101").await;
    let (_, me, key) = resident_on_the_page(&app, "33010619800101123", "330106").await;
    for (person, id) in [(&shanghai, "t-sh"), (&me, "t-hz")] {
        assert_eq!(app.post("/v1/events", positive_test(id, person)).await.0, 201);
    }
    let complain =
        |event: &str| json!({"subject": "evidence", "text": "检测结果不是我的。", "event_id": event}).to_string();
    let (status, sh) =
        app.post_with_key(&format!("/v1/persons/{shanghai}/complaints"), &sh_key, complain("t-sh")).await;
    assert_eq!(status, 201, "{sh}");
    let sh_id = sh["complaint"]["id"].as_str().unwrap().to_string();
    let handler = &app.keys["complaints"];
    let ask = json!({"department": "health", "text": "请核对该样本的标签。"}).to_string();
    let (status, _) =
        app.post_with_key(&format!("/v1/complaints/{sh_id}/correction-request"), handler, ask.clone()).await;
    assert_eq!(status, 403, "outside the handler's jurisdiction");

    // Someone else's record cannot be disputed; a second complaint about one record joins the first.
    let (status, refused) = app.post_with_key(&format!("/v1/persons/{me}/complaints"), &key, complain("t-sh")).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("event_id")), "{refused}");
    let (status, first) = app.post_with_key(&format!("/v1/persons/{me}/complaints"), &key, complain("t-hz")).await;
    assert_eq!(status, 201, "{first}");
    let (status, joined) = app.post_with_key(&format!("/v1/persons/{me}/complaints"), &key, complain("t-hz")).await;
    assert_eq!((status, joined["joined"].as_bool()), (200, Some(true)), "{joined}");
    assert_eq!(joined["complaint"]["id"], first["complaint"]["id"]);
    let id = first["complaint"]["id"].as_str().unwrap().to_string();

    // Only a complaint handler asks; only the department asked answers; data sources
    // cannot ask, handlers cannot read the departments' queue.
    let path = format!("/v1/complaints/{id}/correction-request");
    assert_eq!(app.post_with_key(&path, &app.keys["health"], ask.clone()).await.0, 403);
    assert_eq!(app.post_with_key(&path, handler, ask).await.0, 200);
    assert_eq!(app.get_with_key("/v1/corrections", handler).await.0, 403);
    let decline = json!({"text": "样本记录经核对无误。"}).to_string();
    let (status, _) =
        app.post_with_key(&format!("/v1/corrections/{id}/decline"), &app.keys["telecom"], decline.clone()).await;
    assert_eq!(status, 422, "not a request for telecom");
    let (status, declined) =
        app.post_with_key(&format!("/v1/corrections/{id}/decline"), &app.keys["health"], decline).await;
    assert_eq!(status, 200, "{declined}");
    assert_eq!(steps(&declined["complaint"]), ["filed", "joined", "correction_requested", "correction_declined"]);
    assert_eq!(declined["complaint"]["status"], "open", "back with its handler");
    let (_, code) = app.get_with_key(&format!("/v1/persons/{me}/code"), &key).await;
    assert_eq!(code["colour"], "red", "a declined request changes nothing");
}

/// Every byte of the SQLite store's files (database, write-ahead log), to search.
fn stored_bytes(app: &TestApp) -> Option<Vec<u8>> {
    let file = app.sqlite_file()?;
    let mut bytes = std::fs::read(&file).unwrap();
    for suffix in ["-wal", "-shm"] {
        if let Ok(more) = std::fs::read(format!("{}{suffix}", file.display())) {
            bytes.extend(more);
        }
    }
    Some(bytes)
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn a_person_erases_their_data_once_no_rule_needs_it(app: TestApp) {
    let body = json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123"), "name": "张三丰",
                      "phone": "13800138000", "residence_area": "330106"});
    let (status, me) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(status, 201, "{me}");
    let (person, key) =
        (me["person_id"].as_str().unwrap().to_string(), me["resident_key"].as_str().unwrap().to_string());
    let stay = json!({"id": "s-1", "person_id": person, "type": "stay", "area": "330106002",
                      "from": "2020-05-31T08:00:00+08:00", "to": "2020-06-01T07:00:00+08:00"});
    assert_eq!(app.post("/v1/events", stay.to_string()).await.0, 201);
    let wrong = json!({"id": "x-1", "person_id": person, "type": "feverish"});
    assert_eq!(app.post("/v1/events", wrong.to_string()).await.0, 422, "a rejected row naming the person");
    let complaint = json!({"subject": "other", "text": "请删除我的旅居记录。"});
    assert_eq!(
        app.post_with_key(&format!("/v1/persons/{person}/complaints"), &key, complaint.to_string()).await.0,
        201
    );
    let (_, proxy) = app
        .post(
            "/v1/persons",
            json!({"id_type": "resident_id", "id_number": resident_id("33010619800202456")}).to_string(),
        )
        .await;
    let proxy_key = proxy["resident_key"].as_str().unwrap().to_string();
    let erasure = format!("/v1/persons/{person}/erasure");
    let confirm = json!({"confirm": true}).to_string();

    // Not yet: the stay ended today and a designation of that street could still use it.
    let (status, refused) = app.post_with_key(&erasure, &key, confirm.clone()).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("2020-06-15"), "says from when: {refused}");
    // Nobody else may ask: not a stranger's key, not staff, not without confirming.
    assert_eq!(app.post_with_key(&erasure, &proxy_key, confirm.clone()).await.0, 403);
    assert_eq!(
        app.post_with_key(&format!("{erasure}?purpose=tidy+up"), &app.keys["provincial"], confirm.clone()).await.0,
        403
    );
    let (status, refused) = app.post_with_key(&erasure, &key, json!({"confirm": false}).to_string()).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("confirm")));
    if let Some(bytes) = stored_bytes(&app) {
        assert!(holds(&bytes, &person), "the scan finds the person id before the erasure");
    }

    // Fourteen days after the stay ended, nothing can use it: everything goes.
    advance(&app, Duration::days(15));
    let (status, erased) = app.post_with_key(&erasure, &key, confirm.clone()).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["removed"]["persons"], 1);
    assert_eq!(erased["removed"]["evidence"], 1);
    assert_eq!(erased["removed"]["personal_data"], 1, "the sealed details and the key that opens them");
    assert_eq!(erased["removed"]["rejections"], 1);
    assert_eq!(erased["removed"]["complaints"], 1);
    assert_eq!(app.get_with_key(&format!("/v1/persons/{person}/code"), &key).await.0, 404, "the person is gone");
    assert_eq!(app.get_with_key("/v1/me", &key).await.0, 401, "and so is the key");
    let entries = app.service.log().entries(0, 1000).await.unwrap();
    let logged = entries
        .iter()
        .filter_map(|(_, data)| healthcode_log::Entry::from_leaf_bytes(data).ok())
        .any(|e| matches!(e, healthcode_log::Entry::Erasure(ref x) if x.removed.iter().any(|r| r == "persons=1")));
    assert!(logged, "the erasure is in the log");
    assert!(!entries.iter().any(|(_, data)| holds(data, &person)), "and the log never names the person");
    if let Some(bytes) = stored_bytes(&app) {
        let found = bytes.windows(person.len()).position(|w| w == person.as_bytes());
        assert_eq!(found, None, "no byte of the database files holds the person id any more");
        assert!(!holds(&bytes, "张*丰"), "nor the masked name");
    } else {
        assert!(app.store.person(&healthcode_domain::PersonId::parse(&person).unwrap()).await.unwrap().is_none());
    }
}

async fn residents_declare_and_the_rules_judge_what_they_declare(app: TestApp) {
    let (_, me, key) = resident_on_the_page(&app, "33010619800101123", "330106").await;
    let declarations = format!("/v1/persons/{me}/declarations");
    // A fever declared: evidence with the resident as its source; the reference rules
    // have no rule on declarations, so the code stays green (a province may add one).
    let body = json!({"items": ["fever", "cough"], "since": "2020-05-31T20:00:00+08:00"});
    let (status, declared) = app.post_with_key(&declarations, &key, body.to_string()).await;
    assert_eq!(status, 201, "{declared}");
    assert_eq!((declared["recorded"].as_u64(), declared["code"]["colour"].as_str()), (Some(2), Some("green")));
    let stored = app.store.evidence_for(&healthcode_domain::PersonId::parse(&me).unwrap()).await.unwrap();
    assert!(stored.iter().all(|e| e.id.as_str().starts_with("hc-decl-self-")), "who declared is kept: {stored:?}");
    // A stay declared in an area that is high risk: the rules (Y2) make it yellow.
    app.designate(&json!({"id": "d-1", "area": "330106", "level": "high"}).to_string()).await;
    let body = json!({"stays": [{"area": "330106002", "from": "2020-05-30T08:00:00+08:00", "to": "2020-05-31T08:00:00+08:00"}]});
    let (status, declared) = app.post_with_key(&declarations, &key, body.to_string()).await;
    assert_eq!(status, 201, "{declared}");
    assert_eq!(declared["code"]["colour"], "yellow", "{declared}");
    assert_eq!(declared["code"]["reasons"][0]["rule"], "Y2");
    // The colour change is counted as a declaration's, not a department's stay report.
    let (_, history) = app.get_with_key(&format!("/v1/persons/{me}/log"), &key).await;
    let origins: Vec<&str> =
        history["entries"].as_array().unwrap().iter().filter_map(|e| e["entry"]["origin"].as_str()).collect();
    assert_eq!(origins, ["declaration"], "{history}");

    // Nothing half-stored: one wrong item refuses the whole declaration.
    let before = app.store.evidence_for(&healthcode_domain::PersonId::parse(&me).unwrap()).await.unwrap().len();
    let body = json!({"items": ["fever", "headache"]});
    let (status, refused) = app.post_with_key(&declarations, &key, body.to_string()).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("items")), "{refused}");
    let body = json!({"items": ["fever"], "stays": [{"area": "3301", "from": "2020-05-30T08:00:00+08:00"}]});
    assert_eq!(app.post_with_key(&declarations, &key, body.to_string()).await.0, 422);
    let after = app.store.evidence_for(&healthcode_domain::PersonId::parse(&me).unwrap()).await.unwrap().len();
    assert_eq!(before, after, "nothing stored from a refused declaration");

    // Only for oneself or those one acts for; and no department sends a declaration.
    let (_, _, stranger_key) = resident_on_the_page(&app, "33010619800202456", "330106").await;
    let body = json!({"items": ["fever"]}).to_string();
    assert_eq!(app.post_with_key(&declarations, &stranger_key, body.clone()).await.0, 403);
    let as_feed = json!({"id": "dx-1", "person_id": me, "type": "declaration", "item": "fever"});
    let (status, refused) = app.post("/v1/events", as_feed.to_string()).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("type")), "{refused}");
}

async fn consent_is_recorded_with_the_notice_version_and_a_guardians_for_a_child(app: TestApp) {
    let (_, rules) = app.get("/v1/collection-rules").await;
    let version = rules["version"].as_str().unwrap().to_string();
    assert_eq!(version, healthcode_service::COLLECTION_NOTICE_VERSION);
    let body =
        json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123"), "accepted_notice": "1999.1"});
    let (status, refused) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("accepted_notice")),
        "an old notice: {refused}"
    );
    let body =
        json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123"), "accepted_notice": version});
    let (status, me) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(status, 201, "{me}");
    let (person, key) =
        (me["person_id"].as_str().unwrap().to_string(), me["resident_key"].as_str().unwrap().to_string());
    let (_, consents) = app.get_with_key(&format!("/v1/persons/{person}/consents"), &key).await;
    let notice = format!("collection_notice:{version}");
    assert!(consents["consents"].as_array().unwrap().iter().any(|c| c["purpose"] == notice.as_str()), "{consents}");

    // A parent registers their six-year-old: the guardian's consent, with who gave it.
    let child = json!({"id_type": "resident_id", "id_number": resident_id("33010620140101222"), "relation": "child"});
    let (status, added) = app.post_with_key("/v1/me/dependants", &key, child.to_string()).await;
    assert_eq!(status, 201, "{added}");
    let child_id = added["person_id"].as_str().unwrap();
    let (_, consents) = app.get_with_key(&format!("/v1/persons/{child_id}/consents"), &key).await;
    let guardian = format!("guardian_consent:{person}");
    assert!(consents["consents"].as_array().unwrap().iter().any(|c| c["purpose"] == guardian.as_str()), "{consents}");
    // An adult registered by a family member: no guardian's consent is invented.
    let mother = json!({"id_type": "resident_id", "id_number": resident_id("33010619500101111"), "relation": "parent"});
    let (_, added) = app.post_with_key("/v1/me/dependants", &key, mother.to_string()).await;
    let (_, consents) =
        app.get_with_key(&format!("/v1/persons/{}/consents", added["person_id"].as_str().unwrap()), &key).await;
    assert_eq!(consents["consents"], json!([]), "{consents}");
    // The person's page lists what they consented to.
    let page = get_page(&app, &format!("/persons/{person}"), &key).await;
    assert!(page.contains(&version) && page.contains("收集告知"), "{page}");
}

async fn handlers_keep_a_knowledge_base_that_residents_search_before_complaining(app: TestApp) {
    let (page, me, key) = resident_on_the_page(&app, "33010619800101123", "330106").await;
    let body = json!({"subject": "colour", "text": "去过超市后健康码变黄了，为什么？"});
    let (_, filed) = app.post_with_key(&format!("/v1/persons/{me}/complaints"), &key, body.to_string()).await;
    let id = filed["complaint"]["id"].as_str().unwrap().to_string();
    let handler = &app.keys["complaints"];
    let entry = |from: &str| {
        json!({"question_zh": "去过中风险地区后健康码为什么变黄？", "question_en": "Why did my code turn yellow after a stay in a medium-risk area?",
               "answer_zh": "14 天内到过中高风险地区的，赋黄码；离开满 14 天后自动转绿。",
               "answer_en": "A stay in a medium or high-risk area within 14 days makes the code yellow; it turns green by itself 14 days after you left.",
               "from_complaint": from})
        .to_string()
    };
    let (status, refused) = app.post_with_key("/v1/knowledge", handler, entry(&id)).await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("from_complaint")),
        "answer it first: {refused}"
    );
    let answer = json!({"status": "dismissed", "text": "您到过的区域被列为中风险地区，14 天后自动转绿。"}).to_string();
    assert_eq!(app.post_with_key(&format!("/v1/complaints/{id}/answer"), handler, answer).await.0, 200);
    let (status, added) = app.post_with_key("/v1/knowledge", handler, entry(&id)).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(app.post_with_key("/v1/knowledge", &app.keys["health"], entry("")).await.0, 403, "handlers write it");

    // Anyone searches, in either language, every word counting.
    let search = |q: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&format!("/v1/knowledge?q={q}")))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let found = search("%E5%8F%98%E9%BB%84").await;
    assert_eq!(found["entries"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(search("YELLOW%20medium").await["entries"].as_array().unwrap().len(), 1);
    assert_eq!(search("yellow%20passport").await["entries"].as_array().unwrap().len(), 0, "every word must match");
    let help = app.client.get(app.url("/help?q=%E5%8F%98%E9%BB%84")).send().await.unwrap().text().await.unwrap();
    assert!(help.contains("去过中风险地区后健康码为什么变黄"), "{help}");

    // On the complaint page, a search shows the answer before the form, and the form
    // starts with what was searched.
    let html = get_page(&app, &format!("{page}/complaints?q=%E5%8F%98%E9%BB%84"), &key).await;
    assert!(html.contains("自动转绿") && html.contains(">变黄</textarea>"), "{html}");

    let entry_id = added["entry"]["id"].as_str().unwrap();
    assert_eq!(app.post_with_key(&format!("/v1/knowledge/{entry_id}/retire"), handler, "").await.0, 200);
    assert_eq!(search("%E5%8F%98%E9%BB%84").await["entries"], json!([]), "retired");
}

async fn a_test_report_is_attached_sealed_and_read_only_by_its_person_and_handlers(app: TestApp) {
    let (_, me, key) = resident_on_the_page(&app, "33010619800101123", "330106").await;
    let body = json!({"subject": "evidence", "text": "附上我的阴性检测报告。"});
    let (_, filed) = app.post_with_key(&format!("/v1/persons/{me}/complaints"), &key, body.to_string()).await;
    let complaint = filed["complaint"]["id"].as_str().unwrap().to_string();
    let files = format!("/v1/persons/{me}/complaints/{complaint}/attachments");
    let report = b"%PDF-1.4\nnucleic acid test report: NEGATIVE, sampled 2020-06-01, Hangzhou clinic 7\n%%EOF".to_vec();
    let send = |key: String, bytes: Vec<u8>| {
        let (app, files) = (&app, files.clone());
        async move {
            let response = app.client.post(app.url(&files)).bearer_auth(key).body(bytes).send().await.unwrap();
            common::json_answer(response).await
        }
    };
    let (status, added) = send(key.clone(), report.clone()).await;
    assert_eq!((status, added["attachment"]["content_type"].as_str()), (201, Some("application/pdf")), "{added}");
    let attachment = added["attachment"]["id"].as_str().unwrap().to_string();
    let (status, refused) = send(key.clone(), b"just some text".to_vec()).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("file")), "by its bytes: {refused}");
    let (status, _) = send(key.clone(), vec![0xFF; healthcode_service::MAX_ATTACHMENT_BYTES + 10]).await;
    assert!(status == 413 || status == 422, "too large: {status}");
    let (_, _, stranger_key) = resident_on_the_page(&app, "33010619800202456", "330106").await;
    assert_eq!(send(stranger_key.clone(), report.clone()).await.0, 403);

    // Read back by the person and by the handler (in the access log); not by an auditor
    // or a stranger.
    let get = |path: String, key: String| {
        let app = &app;
        async move {
            let response = app.client.get(app.url(&path)).bearer_auth(key).send().await.unwrap();
            (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
        }
    };
    let own = format!("{files}/{attachment}");
    assert_eq!(get(own.clone(), key.clone()).await, (200, report.clone()));
    assert_eq!(get(own, stranger_key).await.0, 403);
    let staff = format!("/v1/complaints/{complaint}/attachments/{attachment}");
    assert_eq!(get(staff.clone(), app.keys["complaints"].clone()).await, (200, report.clone()));
    assert_eq!(get(staff, app.keys["auditor"].clone()).await.0, 403);
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{me}/accesses"), &key).await;
    assert!(accesses.to_string().contains("complaint attachment"), "{accesses}");
    let (_, mine) = app.get_with_key(&format!("/v1/persons/{me}/complaints"), &key).await;
    assert_eq!(mine["complaints"][0]["attachments"][0]["id"], attachment.as_str());
    // Sealed at rest: the report's words are nowhere in the database files.
    if let Some(bytes) = stored_bytes(&app) {
        assert!(!holds(&bytes, "NEGATIVE, sampled"), "the file is sealed, not stored in the clear");
    }
}
