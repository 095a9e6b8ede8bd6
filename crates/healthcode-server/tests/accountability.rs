//! The Zhengzhou attempt (seed 003), replayed against a running server: officials want
//! the codes of bank depositors red. There is no API that sets a colour; a data feed may
//! submit only its own department's evidence; a decision needs two provincial approvers
//! other than its proposer, and a mass decision that passes raises an alarm, goes into the
//! log, and is shown to each person with its basis. Then every protected endpoint against
//! every role.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{entry_scenario, resident_id, TestApp};
use serde_json::{json, Value};

common::on_both_backends!(
    the_zhengzhou_attempt_is_impossible_or_loud,
    every_protected_endpoint_checks_role_and_key,
    staff_log_in_with_a_password_and_sessions_end,
    rule_changes_need_two_provincial_approvals_and_take_effect_at_their_time,
    a_local_escalation_takes_effect_only_with_provincial_approval,
    a_forwarded_venue_code_raises_an_alarm,
    many_small_decisions_in_one_city_raise_a_burst_alarm,
    small_decisions_split_across_cities_are_added_up_over_the_province,
    nineteen_persons_an_hour_add_up_to_a_drip_said_aloud,
    a_persons_data_opens_to_them_their_proxies_and_staff_with_a_purpose,
    complaints_are_answered_within_jurisdiction_and_never_set_a_colour,
    a_lost_key_is_replaced_at_a_counter_and_the_old_one_stops_working,
    consent_and_third_party_scopes_are_enforced,
    registering_one_person_at_once_gives_one_key,
    a_credit_record_needs_two_approvers_is_shown_to_its_person_and_sets_no_colour,
    two_second_approvals_given_at_once_are_logged_and_applied_once,
    two_first_approvals_given_at_once_are_both_kept,
);

const DEPOSITORS: usize = 60;

async fn colour(app: &TestApp, person: &str) -> String {
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    code["colour"].as_str().unwrap().to_string()
}

async fn the_zhengzhou_attempt_is_impossible_or_loud(app: TestApp) {
    let mut depositors = Vec::new();
    for i in 0..DEPOSITORS {
        // Depositors who live in Hangzhou, where the local office proposing works.
        depositors.push(app.register_in(&resident_id(&format!("4101051980010{i:04}")), "330102").await);
    }
    let first = depositors[0].clone();

    // 1. No route sets a colour.
    for (method, path, body) in [
        ("PUT", format!("/v1/persons/{first}/code"), json!({"colour": "red"})),
        ("POST", format!("/v1/persons/{first}/code"), json!({"colour": "red"})),
        ("PATCH", format!("/v1/persons/{first}"), json!({"colour": "red"})),
        ("POST", "/v1/codes".to_string(), json!({"person_id": first, "colour": "red"})),
    ] {
        let request = app.client.request(method.parse().unwrap(), app.url(&path)).bearer_auth(&app.keys["provincial"]);
        let status = request.body(body.to_string()).send().await.unwrap().status().as_u16();
        assert!(status == 404 || status == 405, "{method} {path} answered {status}");
    }
    let (status, refused) = app
        .post_with_key(
            "/v1/events",
            &app.keys["health"],
            json!({"id": "x1", "person_id": first, "type": "colour", "colour": "red"}).to_string(),
        )
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("type")), "{refused}");

    // 2. A decision smuggled in as an event, even well formed with two names: refused and
    // kept in the rejection log.
    let smuggled = json!({"id": "x2", "person_id": first, "type": "management_decision", "color": "red",
        "until": "2020-06-20T00:00:00+08:00", "basis": "维稳", "approvers": ["冯", "张"]});
    let (status, refused) = app.post_with_key("/v1/events", &app.keys["health"], smuggled.to_string()).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("/v1/decisions"), "{refused}");
    let (status, _) = app.post_with_key("/v1/events", &app.keys["provincial"], smuggled.to_string()).await;
    assert_eq!(status, 403, "an office is not a data feed");

    // 3. A source outside its department: telecom may submit stays, not diagnoses.
    let diagnosis = json!({"id": "x3", "person_id": first, "type": "diagnosis", "status": "confirmed"});
    let (status, refused) = app.post_with_key("/v1/events", &app.keys["telecom"], diagnosis.to_string()).await;
    assert_eq!(status, 422);
    assert!(refused["error"]["message"].as_str().unwrap().contains("telecom department is not authorised"));
    let (_, rejections) = app.get("/v1/rejections").await;
    let kept: Vec<&str> =
        rejections["rejections"].as_array().unwrap().iter().map(|r| r["origin"].as_str().unwrap()).collect();
    assert_eq!(kept, ["api (health)", "api (health)", "api (telecom)"], "every refused event is kept with its source");
    assert_eq!(colour(&app, &first).await, "green");

    // 4. The decision, proposed by a local office, with a basis that is no epidemic basis.
    let proposal = json!({"persons": depositors, "colour": "red", "until": "2020-06-20T00:00:00+08:00",
        "basis": "村镇银行储户维稳（非防疫目的）"});
    let (status, proposed) = app.post_with_key("/v1/decisions", &app.keys["local"], proposal.to_string()).await;
    assert_eq!(status, 201, "{proposed}");
    let id = proposed["decision"]["id"].as_str().unwrap().to_string();
    let approve = |who: &'static str| {
        let (app, id) = (&app, id.clone());
        async move { app.post_with_key(&format!("/v1/decisions/{id}/approve"), &app.keys[who], "").await }
    };
    let (status, _) = approve("local").await;
    assert_eq!(status, 403, "a local office does not approve");
    let (status, once) = approve("provincial").await;
    assert_eq!((status, once["decision"]["status"].as_str()), (200, Some("proposed")), "{once}");
    assert_eq!(colour(&app, &first).await, "green", "one approval changes nothing");
    let (status, twice) = approve("provincial").await;
    assert_eq!(status, 403, "the same officer cannot approve twice: {twice}");
    assert_eq!(colour(&app, &first).await, "green");

    // 5. A second, distinct provincial officer: it takes effect, loudly.
    let (status, applied) = approve("provincial2").await;
    assert_eq!((status, applied["decision"]["status"].as_str()), (200, Some("applied")), "{applied}");
    for person in &depositors {
        assert_eq!(colour(&app, person).await, "red");
    }
    let (status, again) = approve("provincial3").await;
    assert_eq!(status, 409, "an applied decision is final: {again}");

    // Each person sees the decision and its basis with their code (not who approved it).
    let (_, code) = app.get(&format!("/v1/persons/{first}/code")).await;
    assert_eq!(code["reasons"][0]["rule"], "R5", "{code}");
    let evidence = &code["reasons"][0]["evidence"][0];
    assert_eq!(evidence["type"], "management_decision");
    assert_eq!(evidence["details"]["basis"], "村镇银行储户维稳（非防疫目的）");
    assert!(evidence["details"].get("approvers").is_none());

    // An alarm for auditors, and everything in the transparency log.
    let (status, alarms) = app.get("/v1/alarms").await;
    assert_eq!(status, 200, "{alarms}");
    let alarm = &alarms["alarms"][0];
    assert_eq!(alarm["kind"], "mass_decision");
    assert_eq!(alarms["alarms"][1]["kind"], "decision_burst");
    assert_eq!(alarm["jurisdiction"], "3301", "the proposing office's jurisdiction");
    assert!(alarm["detail"].as_str().unwrap().contains(&format!("turns {DEPOSITORS} persons red")), "{alarm}");
    let (_, entries) = app.get("/v1/log/entries?from=0").await;
    let kinds: Vec<Value> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let bytes = base64_decode(e["data"].as_str().unwrap());
            serde_json::from_slice::<Value>(&bytes).unwrap()["type"].clone()
        })
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "colour_change").count(), DEPOSITORS);
    assert_eq!(kinds.iter().filter(|k| *k == "decision_approval").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "alarm").count(), 2, "a mass decision, and a burst in its jurisdiction");
    let (_, mine) = app.get(&format!("/v1/persons/{first}/log")).await;
    assert_eq!(mine["entries"][0]["entry"]["new_colour"], "red", "{mine}");
    assert_eq!(mine["entries"][0]["entry"]["rules"], json!(["R5"]));

    // A decision over the cap is refused outright.
    let too_many: Vec<String> = (0..1001).map(|i| format!("p{i}")).collect();
    let (status, refused) = app
        .post_with_key(
            "/v1/decisions",
            &app.keys["provincial"],
            json!({"persons": too_many, "colour": "red", "until": "2020-06-20T00:00:00+08:00", "basis": "test basis"})
                .to_string(),
        )
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("persons")), "{refused}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

/// Every endpoint that needs a key, called with no key, an unknown key, and each role's
/// key: 401 without a valid key, 403 for a role the policy does not list, and anything
/// but 401/403 for one it lists.
async fn every_protected_endpoint_checks_role_and_key(app: TestApp) {
    let person = app.register(&resident_id("33010619800101123")).await;
    let in_hangzhou = app.register_in(&resident_id("33010619800101124"), "330106").await;
    let fever = json!({"id": "f1", "person_id": person, "type": "fever"}).to_string();
    let designation = json!({"id": "d1", "area": "330106", "level": "medium"}).to_string();
    let decision = json!({"persons": [in_hangzhou], "colour": "yellow", "until": "2020-06-10T00:00:00+08:00",
                          "basis": "test basis"})
    .to_string();
    // (method, path, body, roles allowed by name of the test account)
    let table: &[(&str, &str, &str, &[&str])] = &[
        ("POST", "/v1/events", &fever, &["health", "telecom", "border"]),
        ("POST", "/v1/events/batch", &fever, &["health", "telecom", "border"]),
        ("POST", "/v1/feeds/role-check", &fever, &["health", "telecom", "border"]),
        ("GET", "/v1/feeds/role-check", "", &["health", "telecom", "border"]),
        ("POST", "/v1/designations", &designation, &["provincial", "provincial2", "provincial3", "local"]),
        ("GET", "/v1/designations/proposals", "", &["provincial", "provincial2", "provincial3", "local", "auditor"]),
        ("POST", "/v1/designations/proposals/nope/approve", "", &["provincial", "provincial2", "provincial3"]),
        (
            "GET",
            "/v1/rejections",
            "",
            &["health", "telecom", "border", "provincial", "provincial2", "provincial3", "local", "auditor"],
        ),
        ("POST", "/v1/decisions", &decision, &["provincial", "provincial2", "provincial3", "local"]),
        ("GET", "/v1/decisions", "", &["provincial", "provincial2", "provincial3", "local", "auditor", "complaints"]),
        ("POST", "/v1/decisions/nope/approve", "", &["provincial", "provincial2", "provincial3"]),
        (
            "GET",
            "/v1/decisions/nope/persons?purpose=check+the+list",
            "",
            &["provincial", "provincial2", "provincial3", "local"],
        ),
        ("GET", "/v1/alarms", "", &["provincial", "provincial2", "provincial3", "auditor"]),
        ("POST", "/v1/rules/proposals", "{}", &["provincial", "provincial2", "provincial3", "local"]),
        ("POST", "/v1/traces", "{}", &["provincial", "provincial2", "provincial3", "local"]),
        ("POST", "/v1/traces/nope/confirm", "{}", &["provincial", "provincial2", "provincial3", "local"]),
        ("GET", "/v1/traces/nope", "", &["provincial", "provincial2", "provincial3", "local"]),
        ("POST", "/v1/traces/nope/approve", "", &["provincial", "provincial2", "provincial3"]),
        ("GET", "/v1/rules/proposals", "", &["provincial", "provincial2", "provincial3", "local", "auditor"]),
        ("POST", "/v1/rules/proposals/nope/approve", "", &["provincial", "provincial2", "provincial3"]),
        ("GET", "/v1/complaints", "", &["provincial", "provincial2", "provincial3", "auditor", "complaints"]),
        ("POST", "/v1/complaints/nope/answer", "{}", &["complaints", "provincial", "provincial2", "provincial3"]),
        (
            "POST",
            "/v1/complaints/nope/correction-request",
            "{}",
            &["complaints", "provincial", "provincial2", "provincial3"],
        ),
        ("POST", "/v1/knowledge", "{}", &["complaints", "provincial", "provincial2", "provincial3"]),
        ("POST", "/v1/notice", "{}", &["provincial", "provincial2", "provincial3"]),
        ("POST", "/v1/notice/lift", "", &["provincial", "provincial2", "provincial3"]),
        ("POST", "/v1/credit-records", "{}", &["provincial", "provincial2", "provincial3", "local"]),
        ("POST", "/v1/credit-records/nope/approve", "", &["provincial", "provincial2", "provincial3"]),
        ("POST", "/v1/knowledge/nope/retire", "", &["complaints", "provincial", "provincial2", "provincial3"]),
        // Correction requests are the departments' own: their data sources read and answer them.
        ("GET", "/v1/corrections", "", &["health", "telecom", "border"]),
        ("POST", "/v1/corrections/nope/decline", "{}", &["health", "telecom", "border"]),
        ("POST", "/v1/residents/keys", "{}", &["provincial", "provincial2", "provincial3", "local"]),
        ("POST", "/v1/residents/cards", "{}", &["provincial", "provincial2", "provincial3", "local"]),
        ("POST", "/v1/residents/cards/revoke", "{}", &["provincial", "provincial2", "provincial3", "local"]),
        // A person's data: staff whose role may read persons, with a purpose (the person
        // registered without an area is covered by the provincial offices only, so the
        // local office and the complaint handler get a jurisdiction refusal, also a 403).
        (
            "GET",
            &format!("/v1/persons/{person}/code?purpose=complaint+c-1"),
            "",
            &["provincial", "provincial2", "provincial3"],
        ),
        (
            "GET",
            &format!("/v1/persons/{person}/log?purpose=complaint+c-1"),
            "",
            &["provincial", "provincial2", "provincial3"],
        ),
        (
            "GET",
            &format!("/v1/persons/{person}/complaints?purpose=complaint+c-1"),
            "",
            &["provincial", "provincial2", "provincial3"],
        ),
        // What only the person and their proxies hold: nobody on staff.
        ("GET", &format!("/v1/persons/{person}/token?purpose=curious"), "", &[]),
        ("GET", &format!("/v1/persons/{person}/qr.png?purpose=curious"), "", &[]),
        ("GET", &format!("/v1/persons/{person}/accesses?purpose=curious"), "", &[]),
        ("POST", &format!("/v1/persons/{person}/complaints?purpose=curious"), "{}", &[]),
        ("GET", &format!("/v1/persons/{person}/consents?purpose=curious"), "", &[]),
        ("POST", &format!("/v1/persons/{person}/consents?purpose=curious"), "{}", &[]),
        ("GET", "/v1/devices", "", &["provincial", "provincial2", "provincial3", "local", "auditor"]),
        ("POST", "/v1/devices/nope/approve", "", &["provincial", "provincial2", "provincial3"]),
        ("POST", "/v1/third-parties", "{}", &["provincial", "provincial2", "provincial3"]),
        ("GET", "/v1/third-parties", "", &["provincial", "provincial2", "provincial3", "auditor"]),
        ("POST", "/v1/third-parties/nope/revoke", "", &["provincial", "provincial2", "provincial3"]),
        // Only third-party systems check card holders (none among the test's accounts).
        ("POST", "/v1/third-party/check", "{}", &[]),
    ];
    let accounts =
        ["health", "telecom", "border", "provincial", "provincial2", "provincial3", "local", "auditor", "complaints"];
    for (method, path, body, allowed) in table {
        let call = |key: Option<String>| {
            let mut request = app.client.request(method.parse().unwrap(), app.url(path)).body(body.to_string());
            if let Some(key) = key {
                request = request.bearer_auth(key);
            }
            async move { request.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(call(None).await, 401, "{method} {path} without a key");
        assert_eq!(call(Some("hck_not-a-key".into())).await, 401, "{method} {path} with an unknown key");
        for account in accounts {
            let status = call(Some(app.keys[account].clone())).await;
            if allowed.contains(&account) {
                assert!(status != 401 && status != 403, "{method} {path} as {account}: {status}");
            } else {
                assert_eq!(status, 403, "{method} {path} as {account}");
            }
        }
    }
    // Jurisdiction: an office designates only inside its own area.
    let key = app.office_key("hangzhou-prov", healthcode_domain::Role::ProvincialOffice, "330100").await;
    let outside = json!({"id": "d2", "area": "330200", "level": "high"}).to_string();
    let (status, refused) = app.post_with_key("/v1/designations", &key, outside).await;
    assert_eq!(status, 403, "{refused}");
    let inside = json!({"id": "d3", "area": "330106", "level": "high"}).to_string();
    assert_eq!(app.post_with_key("/v1/designations", &key, inside).await.0, 202, "a proposal");
}

async fn staff_log_in_with_a_password_and_sessions_end(app: TestApp) {
    let officer = healthcode_service::NewAccount {
        username: "li.na".into(),
        password: Some("correct horse battery staple".into()),
        role: healthcode_domain::Role::Auditor,
        jurisdiction: None,
        department: None,
    };
    app.service.accounts().create(officer).await.unwrap();
    let (status, wrong) = app.post("/v1/login", r#"{"username":"li.na","password":"wrong password!!"}"#).await;
    assert_eq!(status, 401);
    let (status, unknown) = app.post("/v1/login", r#"{"username":"nobody","password":"wrong password!!"}"#).await;
    assert_eq!(status, 401);
    assert_eq!(wrong["error"]["message"], unknown["error"]["message"], "a login never tells which usernames exist");
    // A username with a NUL in it (PostgreSQL cannot compare such a text: a 500 before,
    // found by schemathesis) is just an unknown one.
    let (status, nul) = app.post("/v1/login", r#"{"username":"\u0000\"a","password":"wrong password!!"}"#).await;
    assert_eq!(status, 401, "{nul}");
    assert_eq!(nul["error"]["message"], unknown["error"]["message"]);
    let (status, session) =
        app.post("/v1/login", r#"{"username":"li.na","password":"correct horse battery staple"}"#).await;
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    let (status, me) = app.get_with_key("/v1/me", &token).await;
    assert_eq!((status, me["account"]["role"].as_str()), (200, Some("auditor")));
    assert!(me.to_string().find("password").is_none());
    assert_eq!(app.get_with_key("/v1/alarms", &token).await.0, 200);
    // Logging out ends a session; an API key presented to it stays valid (schemathesis
    // found that logout deleted whatever key it was shown, a department's feed key too).
    let (status, refused) = app.post_with_key("/v1/logout", &app.keys["auditor"], "").await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(app.get_with_key("/v1/alarms", &app.keys["auditor"]).await.0, 200);
    let response = app.client.post(app.url("/v1/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(app.get_with_key("/v1/alarms", &token).await.0, 401, "the session is over");
    let (status, _) = app.post_with_key("/v1/logout", &token, "").await;
    assert_eq!(status, 401, "an ended session cannot be ended again");
    let (status, session) =
        app.post("/v1/login", r#"{"username":"li.na","password":"correct horse battery staple"}"#).await;
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    // Twelve hours later the session is over.
    let now = app.service.now().as_millis();
    app.clock.set(healthcode_domain::Timestamp::from_millis(now + 12 * 3_600_000));
    assert_eq!(app.get_with_key("/v1/alarms", &token).await.0, 401);
    let (status, _) = app.post("/v1/login", r#"{"username":"li.na","password":"correct horse battery staple"}"#).await;
    assert_eq!(status, 200);
}

/// A week instead of two: a proposal of version 2020.2 with the scenario that shows what
/// it changes (an entry from abroad ten days ago no longer makes a code red).
fn seven_day_rules() -> String {
    healthcode_rules::REFERENCE_RULES_TOML
        .replace("version = \"2026.1\"", "version = \"2026.2\"")
        .replace("window_hours = 336", "window_hours = 168")
}

async fn rule_changes_need_two_provincial_approvals_and_take_effect_at_their_time(app: TestApp) {
    let traveller = app.register(&resident_id("33010619800101123")).await;
    let entry = json!({"id": "bd-1", "person_id": traveller, "type": "entry", "country": "GB",
                       "entered_at": "2020-05-23T08:00:00+08:00"});
    assert_eq!(app.post("/v1/events", entry.to_string()).await.0, 201);
    assert_eq!(colour(&app, &traveller).await, "red", "R3: an entry from abroad within 14 days");

    // A local office proposes; the proposal carries its diff and its suite's results.
    let proposal = json!({"source": seven_day_rules(), "activates_at": "2020-06-01T09:00:00+08:00",
                          "scenarios": [entry_scenario("green")]});
    let (status, proposed) = app.post_with_key("/v1/rules/proposals", &app.keys["local"], proposal.to_string()).await;
    assert_eq!(status, 201, "{proposed}");
    let p = &proposed["proposal"];
    assert_eq!(
        (p["version"].as_str(), p["scenarios_passed"].as_u64(), p["scenarios_failed"].as_u64()),
        (Some("2026.2"), Some(1), Some(0))
    );
    assert_eq!(p["diff"][0], json!({"change": "setting", "name": "window_hours", "before": "336", "after": "168"}));
    let id = p["id"].as_str().unwrap().to_string();
    let approve = |who: &'static str| {
        let (app, id) = (&app, id.clone());
        async move { app.post_with_key(&format!("/v1/rules/proposals/{id}/approve"), &app.keys[who], "").await }
    };
    assert_eq!(approve("local").await.0, 403, "local offices never activate rules");
    assert_eq!(approve("provincial").await.0, 200);
    assert_eq!(approve("provincial").await.0, 403, "not twice by one officer");
    let (status, approved) = approve("provincial2").await;
    assert_eq!((status, approved["proposal"]["status"].as_str()), (200, Some("approved")), "{approved}");

    // Approved, not yet in force: its time has not come.
    let (_, rules) = app.get("/v1/rules").await;
    assert_eq!(rules["version"], "2026.1");
    assert_eq!(colour(&app, &traveller).await, "red");
    app.clock.set(common::t("2020-06-01T09:00:00+08:00"));
    assert_eq!(app.service.governance().activate_due_rules().await.unwrap().as_deref(), Some("2026.2"));
    let (_, rules) = app.get("/v1/rules").await;
    assert_eq!(rules["version"], "2026.2");
    assert_eq!(colour(&app, &traveller).await, "green", "the new rules re-evaluated the code");

    // The history keeps every version; the approval is in the log.
    let (_, history) = app.get_with_key("/v1/rules/proposals", &app.keys["auditor"]).await;
    assert_eq!(history["proposals"][0]["status"], "active", "{history}");
    let (_, entries) = app.get("/v1/log/entries?from=0").await;
    let approvals = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            String::from_utf8(base64_decode(e["data"].as_str().unwrap())).unwrap().contains("rule_set_approval")
        })
        .count();
    assert_eq!(approvals, 1);
    // ... and said aloud: every colour is computed anew under it.
    let (_, alarms) = app.get("/v1/alarms").await;
    let said = alarms["alarms"].as_array().unwrap().iter().filter(|a| a["kind"] == "rules_approved").count();
    assert_eq!(said, 1, "{alarms}");

    // A proposal whose own suite fails cannot be approved.
    let failing = json!({"source": seven_day_rules().replace("2026.2", "2020.3"), "activates_at": "2020-06-02T00:00:00+08:00",
                         "scenarios": [entry_scenario("red")]});
    let (status, proposed) =
        app.post_with_key("/v1/rules/proposals", &app.keys["provincial3"], failing.to_string()).await;
    assert_eq!((status, proposed["proposal"]["scenarios_failed"].as_u64()), (201, Some(1)), "{proposed}");
    let id = proposed["proposal"]["id"].as_str().unwrap();
    let (status, refused) =
        app.post_with_key(&format!("/v1/rules/proposals/{id}/approve"), &app.keys["provincial"], "").await;
    assert_eq!(status, 409, "{refused}");
    // A rule set that does not parse is refused with where it is wrong.
    let broken =
        json!({"source": "format = 1\nname = \"x\"", "activates_at": "2020-06-02T00:00:00+08:00", "scenarios": []});
    let (status, refused) = app.post_with_key("/v1/rules/proposals", &app.keys["provincial"], broken.to_string()).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("source")), "{refused}");
}

async fn a_local_escalation_takes_effect_only_with_provincial_approval(app: TestApp) {
    let resident = app.register(&resident_id("33010619800101123")).await;
    let stay = json!({"id": "tel-1", "person_id": resident, "type": "stay", "area": "330106",
                      "from": "2020-05-30T08:00:00+08:00", "to": null});
    assert_eq!(app.post("/v1/events", stay.to_string()).await.0, 201);
    assert_eq!(colour(&app, &resident).await, "green");

    let escalation = json!({"id": "hz-1", "area": "330106", "level": "high", "escalate_to_red": true});
    let (status, proposed) = app.post_with_key("/v1/designations", &app.keys["local"], escalation.to_string()).await;
    assert_eq!(status, 202, "{proposed}");
    assert_eq!(colour(&app, &resident).await, "green", "a local proposal changes nothing");
    let outside = json!({"id": "nb-1", "area": "330200", "level": "high"});
    let (status, _) = app.post_with_key("/v1/designations", &app.keys["local"], outside.to_string()).await;
    assert_eq!(status, 403, "Hangzhou's office cannot designate Ningbo");

    let id = proposed["proposal"]["id"].as_str().unwrap();
    let path = format!("/v1/designations/proposals/{id}/approve");
    assert_eq!(app.post_with_key(&path, &app.keys["local"], "").await.0, 403);
    let (status, approved) = app.post_with_key(&path, &app.keys["provincial"], "").await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(colour(&app, &resident).await, "red", "R6: a stay in an escalated area");
    assert_eq!(app.post_with_key(&path, &app.keys["provincial2"], "").await.0, 409, "approved once");

    let (_, entries) = app.get("/v1/log/entries?from=0").await;
    let logged: Vec<Value> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_slice::<Value>(&base64_decode(e["data"].as_str().unwrap())).unwrap())
        .filter(|e| e["type"] == "designation_approval")
        .collect();
    assert_eq!(logged.len(), 1);
    assert_eq!(
        (logged[0]["proposed_by"].as_str(), logged[0]["approved_by"].as_str()),
        (Some("local"), Some("provincial"))
    );
}

/// The 871 Zhengzhou depositors who "checked in" with venue codes forwarded to them: each
/// stale scan is refused, and many of them at one venue raise an alarm.
async fn a_forwarded_venue_code_raises_an_alarm(app: TestApp) {
    let (status, venue) = app
        .post("/v1/venues", json!({"name": "某村镇银行", "category": "general", "area": "410105"}).to_string())
        .await;
    assert_eq!(status, 201, "{venue}");
    let (id, key) = (venue["venue"]["id"].as_str().unwrap(), venue["operator_key"].as_str().unwrap());
    let (_, code) = app.get_with_key(&format!("/v1/venues/{id}/code"), key).await;
    let photo = code["code"]["token"].as_str().unwrap().to_string();
    let now = app.service.now().as_millis();
    app.clock.set(healthcode_domain::Timestamp::from_millis(now + 5 * 60_000));
    let person = app.register(&resident_id("41010519800101123")).await;
    for _ in 0..healthcode_service::FORWARDED_SCANS_ALARM {
        let (status, refused) =
            app.post("/v1/checkins", json!({"person_id": person, "venue_code": photo}).to_string()).await;
        assert_eq!((status, refused["error"]["reason"].as_str()), (422, Some("replayed")));
    }
    let (_, alarms) = app.get("/v1/alarms").await;
    let alarms = alarms["alarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(alarms[0]["kind"], "forwarded_venue_code");
    assert_eq!(alarms[0]["jurisdiction"], "410105");
    assert!(alarms[0]["log_index"].is_u64(), "the alarm is in the transparency log");
    assert_eq!(colour(&app, &person).await, "green", "a refused scan changes no colour");
}

/// Splitting a mass decision into small ones (each under the mass-decision threshold) does
/// not go unnoticed: the decisions of one jurisdiction within an hour are added up.
async fn many_small_decisions_in_one_city_raise_a_burst_alarm(app: TestApp) {
    for batch in 0..3 {
        let mut persons = Vec::new();
        for i in 0..10 {
            persons.push(app.register_in(&resident_id(&format!("3301061980{batch}1{i:05}")), "330106").await);
        }
        yellow_by_decision(&app, &app.keys["local"], &persons, "小批量管理决定").await;
    }
    let (_, alarms) = app.get("/v1/alarms").await;
    let kinds: Vec<&str> = alarms["alarms"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"mass_decision"), "each decision is small: {kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "decision_burst").count(), 2, "at 20 and at 30 persons: {kinds:?}");
    assert_eq!(alarms["alarms"][0]["jurisdiction"], "3301");
}

/// The same burst split across four cities' offices, each staying under the threshold in
/// its own jurisdiction: the province's count over the hour says it aloud, once no one
/// city's would.
async fn small_decisions_split_across_cities_are_added_up_over_the_province(app: TestApp) {
    let cities = [("330100", "330106"), ("330200", "330203"), ("330300", "330302"), ("330400", "330402")];
    for (n, (city, area)) in cities.iter().enumerate() {
        let office = app.office_key(&format!("office-{city}"), healthcode_domain::Role::LocalOffice, city).await;
        let mut persons = Vec::new();
        for i in 0..6 {
            persons.push(app.register_in(&resident_id(&format!("{area}1980{n}1{i:05}")), area).await);
        }
        yellow_by_decision(&app, &office, &persons, "小批量管理决定").await;
        let (_, alarms) = app.get("/v1/alarms").await;
        let kinds: Vec<&str> =
            alarms["alarms"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
        assert!(!kinds.contains(&"decision_burst"), "no city reaches it alone: {kinds:?}");
        let split = kinds.iter().filter(|k| **k == "decision_burst_split").count();
        assert_eq!(split, usize::from(n == 3), "after {} persons: {kinds:?}", 6 * (n + 1));
    }
}

/// 19 persons an hour in one jurisdiction stays under the hourly burst; hour after hour
/// it is a mass measure: said aloud once the day's count reaches `DRIP_PERSONS_PER_DAY`.
async fn nineteen_persons_an_hour_add_up_to_a_drip_said_aloud(app: TestApp) {
    const HOURLY: usize = 19;
    let kinds =
        |alarms: &Value, kind: &str| alarms["alarms"].as_array().unwrap().iter().filter(|a| a["kind"] == kind).count();
    let hours = healthcode_service::DRIP_PERSONS_PER_DAY.div_ceil(HOURLY);
    for hour in 0..hours {
        let mut persons = Vec::new();
        for i in 0..HOURLY {
            persons.push(app.register_in(&resident_id(&format!("3301061981{hour:02}{i:05}")), "330106").await);
        }
        yellow_by_decision(&app, &app.keys["local"], &persons, "每小时少量管理决定").await;
        let (_, alarms) = app.get("/v1/alarms").await;
        assert_eq!(kinds(&alarms, "decision_burst"), 0, "under the hourly threshold every hour");
        let expected = usize::from(hour + 1 == hours);
        assert_eq!(kinds(&alarms, "decision_drip"), expected, "after {} persons", HOURLY * (hour + 1));
        let next = healthcode_service::Clock::now(&app.clock).as_millis() + 3_600_000;
        app.clock.set(healthcode_domain::Timestamp::from_millis(next));
    }
}

/// A decision turning `persons` yellow until 10 June, proposed by `office` and approved by
/// two provincial officers.
async fn yellow_by_decision(app: &TestApp, office: &str, persons: &[String], basis: &str) {
    let proposal =
        json!({"persons": persons, "colour": "yellow", "until": "2020-06-10T00:00:00+08:00", "basis": basis});
    let (status, proposed) = app.post_with_key("/v1/decisions", office, proposal.to_string()).await;
    assert_eq!(status, 201, "{proposed}");
    let id = proposed["decision"]["id"].as_str().unwrap();
    for who in ["provincial", "provincial2"] {
        let (status, approved) = app.post_with_key(&format!("/v1/decisions/{id}/approve"), &app.keys[who], "").await;
        assert_eq!(status, 200, "{approved}");
    }
}

/// Registers a resident with an area; returns their id and key.
async fn resident_in(app: &TestApp, first17: &str, area: &str) -> (String, String) {
    let body = json!({"id_type": "resident_id", "id_number": resident_id(first17), "residence_area": area});
    let (status, answer) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(status, 201, "{answer}");
    (answer["person_id"].as_str().unwrap().to_string(), answer["resident_key"].as_str().unwrap().to_string())
}

async fn a_persons_data_opens_to_them_their_proxies_and_staff_with_a_purpose(app: TestApp) {
    let (me, my_key) = resident_in(&app, "33010619800101123", "330106").await;
    let (stranger, stranger_key) = resident_in(&app, "33010619800101234", "330106").await;
    let code = format!("/v1/persons/{me}/code");
    assert_eq!(app.get_with_key(&code, &my_key).await.0, 200, "my own key");
    let (status, refused) = app.get_with_key(&code, &stranger_key).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden")), "{refused}");
    let anonymous = app.client.get(app.url(&code)).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401, "no key, no code");
    let (status, again) = app
        .post(
            "/v1/persons",
            json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123")}).to_string(),
        )
        .await;
    assert_eq!(status, 200);
    assert!(again.get("resident_key").is_none(), "knowing an ID number gives no key: {again}");

    // My mother has no phone: I register her and act for her.
    let mother_card = resident_id("33010619500101111");
    let body = json!({"id_type": "resident_id", "id_number": mother_card, "relation": "parent"});
    let (status, added) = app.post_with_key("/v1/me/dependants", &my_key, body.to_string()).await;
    assert_eq!(status, 201, "{added}");
    let mother = added["person_id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get_with_key(&format!("/v1/persons/{mother}/token"), &my_key).await.0,
        200,
        "a proxy holds her code"
    );
    assert_eq!(app.get_with_key(&format!("/v1/persons/{mother}/code"), &stranger_key).await.0, 403);
    let (_, me_now) = app.get_with_key("/v1/me", &my_key).await;
    assert_eq!(me_now["resident"]["family"]["dependants"][0]["dependant"], mother.as_str(), "{me_now}");
    // Someone already registered must agree, by their own key.
    let body = json!({"id_type": "resident_id", "id_number": resident_id("33010619800101234"), "relation": "sibling"});
    let (status, refused) = app.post_with_key("/v1/me/dependants", &my_key, body.to_string()).await;
    assert_eq!(status, 409, "{refused}");
    let mut agreed = body.clone();
    agreed["dependant_key"] = json!(stranger_key);
    assert_eq!(app.post_with_key("/v1/me/dependants", &my_key, agreed.to_string()).await.0, 200);
    assert_eq!(app.get_with_key(&format!("/v1/persons/{stranger}/code"), &my_key).await.0, 200);
    // …and may end it at any time.
    let end = app
        .client
        .delete(app.url(&format!("/v1/persons/{stranger}/proxies/{me}")))
        .bearer_auth(&stranger_key)
        .send()
        .await
        .unwrap();
    assert_eq!(end.status().as_u16(), 204);
    assert_eq!(app.get_with_key(&format!("/v1/persons/{stranger}/code"), &my_key).await.0, 403, "ended at once");

    // Staff: a purpose, inside their jurisdiction, and the person sees it.
    let local = &app.keys["local"];
    let (status, refused) = app.get_with_key(&code, local).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("purpose")), "{refused}");
    assert_eq!(app.get_with_key(&format!("{code}?purpose=complaint+c-7"), local).await.0, 200);
    let (outsider, _) = resident_in(&app, "31010119800101235", "310101").await;
    let (status, _) = app.get_with_key(&format!("/v1/persons/{outsider}/code?purpose=complaint+c-8"), local).await;
    assert_eq!(status, 403, "Shanghai is outside Hangzhou's jurisdiction");
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{me}/accesses"), &my_key).await;
    let list = accesses["accesses"].as_array().unwrap();
    assert!(
        list.iter().any(|a| a["actor"] == "local" && a["role"] == "local_office" && a["purpose"] == "complaint c-7"),
        "{accesses}"
    );
    let (_, hers) = app.get_with_key(&format!("/v1/persons/{mother}/accesses"), &my_key).await;
    assert!(hers["accesses"].as_array().unwrap().iter().any(|a| a["role"] == "proxy"), "{hers}");
    let (status, _) = app.get_with_key(&format!("/v1/persons/{me}/accesses?purpose=curious"), local).await;
    assert_eq!(status, 403, "the access log is the person's own");
}

async fn complaints_are_answered_within_jurisdiction_and_never_set_a_colour(app: TestApp) {
    let (me, my_key) = resident_in(&app, "33010619800101123", "330106").await;
    let fever = json!({"id": "f-1", "person_id": me, "type": "fever", "onset_at": "2020-06-01T07:00:00+08:00"});
    assert_eq!(app.post("/v1/events", fever.to_string()).await.0, 201);
    let complaints = format!("/v1/persons/{me}/complaints");
    let body = json!({"subject": "evidence", "text": "我没有发烧，诊所登记错了人。"});
    let (status, filed) = app.post_with_key(&complaints, &my_key, body.to_string()).await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["complaint"]["id"].as_str().unwrap().to_string();
    assert_eq!(filed["complaint"]["colour_at_filing"], "yellow");
    assert_eq!(filed["complaint"]["reasons_at_filing"], json!(["Y1"]));
    let (status, bad) =
        app.post_with_key(&complaints, &my_key, json!({"subject": "x", "text": "hello world"}).to_string()).await;
    assert_eq!((status, bad["error"]["field"].as_str()), (422, Some("subject")));

    // The handler for Hangzhou sees it in the open queue; the person sees that they did.
    let handler = &app.keys["complaints"];
    let (_, queue) = app.get_with_key("/v1/complaints?status=open", handler).await;
    assert_eq!(queue["complaints"][0]["id"], id.as_str(), "{queue}");
    // A handler elsewhere does not.
    let sh_key = app.office_key("sh-complaints", healthcode_domain::Role::ComplaintHandler, "310000").await;
    let (_, theirs) = app.get_with_key("/v1/complaints", &sh_key).await;
    assert_eq!(theirs["complaints"], json!([]));
    let answer = json!({"status": "referred", "text": "已转卫健部门核对诊所记录。"}).to_string();
    let (status, _) = app.post_with_key(&format!("/v1/complaints/{id}/answer"), &sh_key, answer.clone()).await;
    assert_eq!(status, 403, "outside their jurisdiction");

    let (status, answered) = app.post_with_key(&format!("/v1/complaints/{id}/answer"), handler, answer.clone()).await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(app.post_with_key(&format!("/v1/complaints/{id}/answer"), handler, answer).await.0, 409, "once");
    let (_, mine) = app.get_with_key(&complaints, &my_key).await;
    assert_eq!(mine["complaints"][0]["status"], "referred");
    assert_eq!(mine["complaints"][0]["answer"]["by"], "complaints");
    let (_, code) = app.get_with_key(&format!("/v1/persons/{me}/code"), &my_key).await;
    assert_eq!(code["colour"], "yellow", "an answer sets no colour; only corrected evidence would");
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{me}/accesses"), &my_key).await;
    assert!(
        accesses["accesses"].as_array().unwrap().iter().any(|a| a["actor"] == "complaints" && a["what"] == "complaint"),
        "{accesses}"
    );
}

async fn a_lost_key_is_replaced_at_a_counter_and_the_old_one_stops_working(app: TestApp) {
    let card = resident_id("33010619800101123");
    let (me, old_key) = resident_in(&app, "33010619800101123", "330106").await;
    let body = json!({"id_type": "resident_id", "id_number": card}).to_string();
    let (status, replaced) = app.post_with_key("/v1/residents/keys", &app.keys["local"], body.clone()).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["person_id"], me.as_str());
    let new_key = replaced["resident_key"].as_str().unwrap();
    assert_eq!(app.get_with_key(&format!("/v1/persons/{me}/code"), new_key).await.0, 200);
    assert_eq!(app.get_with_key(&format!("/v1/persons/{me}/code"), &old_key).await.0, 401, "the lost key is dead");
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{me}/accesses"), new_key).await;
    assert!(accesses["accesses"].as_array().unwrap().iter().any(|a| a["purpose"] == "give a key at a service counter"));
    // Only the person's own district replaces it.
    let (_, outsider_key) = resident_in(&app, "31010119800101235", "310101").await;
    let _ = outsider_key;
    let body = json!({"id_type": "resident_id", "id_number": resident_id("31010119800101235")}).to_string();
    assert_eq!(app.post_with_key("/v1/residents/keys", &app.keys["local"], body).await.0, 403);
}

async fn consent_and_third_party_scopes_are_enforced(app: TestApp) {
    let body = json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123"), "name": "张三丰",
        "residence_area": "330106"});
    let (_, registered) = app.post("/v1/persons", body.to_string()).await;
    let me = registered["person_id"].as_str().unwrap().to_string();
    let my_key = registered["resident_key"].as_str().unwrap().to_string();
    let card = json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123")}).to_string();
    let province = app.keys["provincial"].clone();
    let register = |username: &str, function: &str, fields: Value, expires_at: &str| {
        json!({"username": username, "function": function, "fields": fields, "purpose": "entry gates of the metro",
            "agreement": "ZJ-DSA-2020-017", "expires_at": expires_at})
        .to_string()
    };
    let (status, metro) = app
        .post_with_key(
            "/v1/third-parties",
            &province,
            register("metro-card", "transport_card", json!(["colour"]), "2020-12-31T00:00:00+08:00"),
        )
        .await;
    assert_eq!(status, 201, "{metro}");
    let metro_key = metro["api_key"].as_str().unwrap().to_string();
    let (status, refused) = app
        .post_with_key(
            "/v1/third-parties",
            &province,
            register("leaky", "parking", json!(["phone"]), "2020-12-31T00:00:00+08:00"),
        )
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("fields")), "no field beyond a checkpoint's");
    let (status, _) = app
        .post_with_key(
            "/v1/third-parties",
            &app.keys["local"],
            register("local-co", "parking", json!(["colour"]), "2020-12-31T00:00:00+08:00"),
        )
        .await;
    assert_eq!(status, 403, "only the province registers third parties");

    // Not switched on: nothing.
    let (status, refused) = app.post_with_key("/v1/third-party/check", &metro_key, card.clone()).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("transport_card"));
    // The resident switches the transport card on: the colour, and nothing else.
    let consents = format!("/v1/persons/{me}/consents");
    let on = json!({"function": "transport_card", "granted": true}).to_string();
    assert_eq!(app.post_with_key(&consents, &my_key, on.clone()).await.0, 200);
    let (status, answer) = app.post_with_key("/v1/third-party/check", &metro_key, card.clone()).await;
    assert_eq!((status, answer.clone()), (200, json!({"colour": "green"})), "only the scope's fields");
    // Another function's system learns nothing from that consent.
    let (_, parking) = app
        .post_with_key(
            "/v1/third-parties",
            &province,
            register("park-co", "parking", json!(["colour", "masked_name"]), "2020-12-31T00:00:00+08:00"),
        )
        .await;
    let parking_key = parking["api_key"].as_str().unwrap().to_string();
    assert_eq!(app.post_with_key("/v1/third-party/check", &parking_key, card.clone()).await.0, 403);
    // Staff cannot consent for anyone.
    let staff_on = app.post_with_key(&format!("{consents}?purpose=helping+out"), &app.keys["local"], on.clone()).await;
    assert_eq!(staff_on.0, 403);
    // The read is in the resident's access log, with the agreement.
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{me}/accesses"), &my_key).await;
    assert!(
        accesses["accesses"].as_array().unwrap().iter().any(|a| a["actor"] == "metro-card"
            && a["role"] == "third_party"
            && a["purpose"].as_str().unwrap().contains("ZJ-DSA-2020-017")),
        "{accesses}"
    );
    // Switched off: at once.
    let off = json!({"function": "transport_card", "granted": false}).to_string();
    assert_eq!(app.post_with_key(&consents, &my_key, off).await.0, 200);
    assert_eq!(app.post_with_key("/v1/third-party/check", &metro_key, card.clone()).await.0, 403);
    let (_, listed) = app.get_with_key(&consents, &my_key).await;
    assert!(listed["consents"][0]["revoked_at"].is_string(), "the withdrawal is kept: {listed}");
    // On again, then the province revokes the metro's registration: at once.
    assert_eq!(app.post_with_key(&consents, &my_key, on).await.0, 200);
    assert_eq!(app.post_with_key("/v1/third-party/check", &metro_key, card.clone()).await.0, 200);
    assert_eq!(app.post_with_key("/v1/third-parties/metro-card/revoke", &province, "").await.0, 200);
    let (status, refused) = app.post_with_key("/v1/third-party/check", &metro_key, card.clone()).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("revoked"));
    // A registration past its expiry answers nothing.
    let parking_on = json!({"function": "parking", "granted": true}).to_string();
    assert_eq!(app.post_with_key(&consents, &my_key, parking_on).await.0, 200);
    let (status, named) = app.post_with_key("/v1/third-party/check", &parking_key, card.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(named, json!({"colour": "green", "masked_name": "张*丰"}), "this scope includes the masked name");
    app.clock.set(healthcode_domain::Timestamp::parse("2021-01-01T00:00:00+08:00").unwrap());
    let (status, refused) = app.post_with_key("/v1/third-party/check", &parking_key, card).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("expired"));
}

/// Ten registrations of the same person at the same moment: exactly one gets the key.
async fn registering_one_person_at_once_gives_one_key(app: TestApp) {
    let body = json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123")}).to_string();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let request = app.client.post(app.url("/v1/persons")).body(body.clone());
            tokio::spawn(async move { request.send().await.unwrap().json::<Value>().await.unwrap() })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let keys = answers.iter().filter(|a| a.get("resident_key").is_some()).count();
    assert_eq!(keys, 1, "{answers:?}");
}

async fn a_credit_record_needs_two_approvers_is_shown_to_its_person_and_sets_no_colour(app: TestApp) {
    let (person, key) = resident_in(&app, "33010619800101123", "330106").await;
    let (_, before) = app.get_with_key(&format!("/v1/persons/{person}/code"), &key).await;
    let proposal = json!({"person_id": person, "basis": "《浙江省公共信用信息管理条例》第十四条",
                          "facts": "隐瞒 5 月 30 日至 6 月 1 日的武汉旅居史，核酸检测时虚假申报。"});
    let (status, refused) =
        app.post_with_key("/v1/credit-records", &app.keys["complaints"], proposal.to_string()).await;
    assert_eq!(status, 403, "a complaint handler proposes nothing: {refused}");
    let (status, proposed) = app.post_with_key("/v1/credit-records", &app.keys["local"], proposal.to_string()).await;
    assert_eq!(status, 202, "{proposed}");
    let id = proposed["record"]["id"].as_str().unwrap().to_string();
    let approve = format!("/v1/credit-records/{id}/approve");
    let records = format!("/v1/persons/{person}/credit-records");
    assert_eq!(app.post_with_key(&approve, &app.keys["local"], "").await.0, 403, "a local office approves nothing");
    assert_eq!(app.post_with_key(&approve, &app.keys["provincial"], "").await.0, 200);
    assert_eq!(app.post_with_key(&approve, &app.keys["provincial"], "").await.0, 403, "the same officer twice");
    let (_, seen) = app.get_with_key(&records, &key).await;
    assert_eq!(seen["records"], json!([]), "one approval makes nothing: {seen}");
    let (status, made) = app.post_with_key(&approve, &app.keys["provincial2"], "").await;
    assert_eq!((status, made["record"]["status"].as_str()), (200, Some("recorded")), "{made}");

    // The person reads it, with its basis and their window to appeal; the colour is as it was.
    let (_, seen) = app.get_with_key(&records, &key).await;
    assert_eq!(seen["records"][0]["basis"], "《浙江省公共信用信息管理条例》第十四条", "{seen}");
    assert!(seen["records"][0]["appeal_until"].is_string());
    let (_, after) = app.get_with_key(&format!("/v1/persons/{person}/code"), &key).await;
    assert_eq!(
        (after["colour"].clone(), after["reasons"].clone()),
        (before["colour"].clone(), before["reasons"].clone())
    );
    let log_entries = app.service.log().entries(0, 1000).await.unwrap();
    let logged: Vec<_> =
        log_entries.iter().filter_map(|(_, d)| healthcode_log::Entry::from_leaf_bytes(d).ok()).collect();
    assert!(logged.iter().any(|e| matches!(e, healthcode_log::Entry::CreditRecordApproval(c) if c.record_id == id)));
    assert!(!log_entries.iter().any(|(_, d)| String::from_utf8_lossy(d).contains(&person)), "never whom");

    // An appeal within the window, once.
    let appeal = format!("/v1/persons/{person}/credit-records/{id}/appeal");
    let body = json!({"text": "我当时已向社区报备，有通话记录为证。"}).to_string();
    assert_eq!(app.post_with_key(&appeal, &key, body.clone()).await.0, 200);
    assert_eq!(app.post_with_key(&appeal, &key, body).await.0, 409, "once");

    // Two second approvals of another record at the same moment: one makes it, logged once.
    for round in 0..4 {
        let (status, proposed) =
            app.post_with_key("/v1/credit-records", &app.keys["local"], proposal.to_string()).await;
        assert_eq!(status, 202, "{proposed}");
        let id = proposed["record"]["id"].as_str().unwrap().to_string();
        let approve = format!("/v1/credit-records/{id}/approve");
        assert_eq!(app.post_with_key(&approve, &app.keys["provincial"], "").await.0, 200);
        let (second, third) = tokio::join!(
            app.post_with_key(&approve, &app.keys["provincial2"], ""),
            app.post_with_key(&approve, &app.keys["provincial3"], "")
        );
        let mut statuses = [second.0, third.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: {second:?} {third:?}");
        let logged = app.service.log().entries(0, 1000).await.unwrap();
        let made = logged
            .iter()
            .filter_map(|(_, d)| healthcode_log::Entry::from_leaf_bytes(d).ok())
            .filter(|e| matches!(e, healthcode_log::Entry::CreditRecordApproval(c) if c.record_id == id))
            .count();
        assert_eq!(made, 1, "round {round}: logged once");
    }
}

/// Log entries whose JSON contains `kind`.
async fn log_entries_of(app: &TestApp, kind: &str) -> usize {
    let (_, entries) = app.get("/v1/log/entries?from=0&limit=1000").await;
    entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| String::from_utf8(base64_decode(e["data"].as_str().unwrap())).unwrap().contains(kind))
        .count()
}

/// Two officers press "approve" on the same proposal at the same moment, each its second
/// approval: one wins, the other is told it changed nothing, and the log has the approval
/// once (it had it twice, and a decision's evidence was ingested twice over, before
/// approvals were claims).
async fn two_second_approvals_given_at_once_are_logged_and_applied_once(app: TestApp) {
    const ROUNDS: usize = 6;
    for round in 0..ROUNDS {
        let person = app.register_in(&resident_id(&format!("3301061980{round}1{:05}", 7)), "330106").await;
        let proposal = json!({"persons": [person], "colour": "yellow", "until": "2020-06-10T00:00:00+08:00",
                              "basis": "同时审批测试"});
        let (status, proposed) = app.post_with_key("/v1/decisions", &app.keys["local"], proposal.to_string()).await;
        assert_eq!(status, 201, "{proposed}");
        let path = format!("/v1/decisions/{}/approve", proposed["decision"]["id"].as_str().unwrap());
        race_the_second_approval(&app, &path).await;
        assert_eq!(colour(&app, &person).await, "yellow", "round {round}");
    }
    assert_eq!(log_entries_of(&app, "decision_approval").await, ROUNDS, "each decision's approval logged once");

    let proposal = json!({"source": seven_day_rules(), "activates_at": "2020-06-01T09:00:00+08:00",
                          "scenarios": [entry_scenario("green")]});
    let (status, proposed) = app.post_with_key("/v1/rules/proposals", &app.keys["local"], proposal.to_string()).await;
    assert_eq!(status, 201, "{proposed}");
    let path = format!("/v1/rules/proposals/{}/approve", proposed["proposal"]["id"].as_str().unwrap());
    race_the_second_approval(&app, &path).await;
    assert_eq!(log_entries_of(&app, "rule_set_approval").await, 1, "the rule set's approval logged once");

    // A designation needs one approver besides its proposer: two giving it at once. Before,
    // both were told 200 and the proposal named whichever saved last, not always the one
    // the log names.
    for (round, area) in ["330102", "330105", "330106", "330108", "330109", "330110"].into_iter().enumerate() {
        let designation = json!({"area": area, "level": "medium"});
        let (status, proposed) =
            app.post_with_key("/v1/designations", &app.keys["provincial"], designation.to_string()).await;
        assert_eq!(status, 202, "{proposed}");
        let id = proposed["proposal"]["id"].as_str().unwrap();
        let path = format!("/v1/designations/proposals/{id}/approve");
        let (a, b) = tokio::join!(
            app.post_with_key(&path, &app.keys["provincial2"], ""),
            app.post_with_key(&path, &app.keys["provincial3"], "")
        );
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}: {} / {}", a.1, b.1);
        let (_, listed) = app.get_with_key("/v1/designations/proposals", &app.keys["provincial"]).await;
        let shown = listed["proposals"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
        let winner = if a.0 == 200 { "provincial2" } else { "provincial3" };
        assert!(
            shown["approved_by"].as_str().unwrap().contains(winner),
            "the approver logged is the one named: {shown}"
        );
    }
    assert_eq!(log_entries_of(&app, "designation_approval").await, ROUNDS, "each designation logged once");
}

/// Two officers give the *first* approval of the same proposal at the same moment: both
/// are kept, so the later one is the second and the proposal is approved. Before first
/// approvals were saved as a compare-and-set, each saved the proposal as it had read it,
/// one approval was lost, both officers were told 200, and the proposal waited on.
async fn two_first_approvals_given_at_once_are_both_kept(app: TestApp) {
    const ROUNDS: usize = 6;
    for round in 0..ROUNDS {
        let person = app.register_in(&resident_id(&format!("3301061981{round}1{:05}", 7)), "330106").await;
        let proposal = json!({"persons": [person], "colour": "yellow", "until": "2020-06-10T00:00:00+08:00",
                              "basis": "同时首次审批测试"});
        let (status, proposed) = app.post_with_key("/v1/decisions", &app.keys["local"], proposal.to_string()).await;
        assert_eq!(status, 201, "{proposed}");
        let path = format!("/v1/decisions/{}/approve", proposed["decision"]["id"].as_str().unwrap());
        race_two_first_approvals(&app, &path).await;
        assert_eq!(colour(&app, &person).await, "yellow", "round {round}: both approvals kept, so applied");
    }
    assert_eq!(log_entries_of(&app, "decision_approval").await, ROUNDS, "each decision's approval logged once");

    for round in 0..ROUNDS {
        let source = seven_day_rules().replace("version = \"2026.2\"", &format!("version = \"2026.3.{round}\""));
        let proposal = json!({"source": source, "activates_at": format!("2020-06-0{}T09:00:00+08:00", round + 1),
                              "scenarios": [entry_scenario("green")]});
        let (status, proposed) =
            app.post_with_key("/v1/rules/proposals", &app.keys["local"], proposal.to_string()).await;
        assert_eq!(status, 201, "{proposed}");
        let id = proposed["proposal"]["id"].as_str().unwrap().to_string();
        race_two_first_approvals(&app, &format!("/v1/rules/proposals/{id}/approve")).await;
        let (_, listed) = app.get_with_key("/v1/rules/proposals", &app.keys["local"]).await;
        let shown = listed["proposals"].as_array().unwrap().iter().find(|p| p["id"] == id.as_str()).unwrap();
        assert_eq!(shown["approvals"].as_array().map(Vec::len), Some(2), "round {round}: {shown}");
    }
    assert_eq!(log_entries_of(&app, "rule_set_approval").await, ROUNDS, "each rule set's approval logged once");
}

/// Two officers giving the first approval at once: both are taken (200).
async fn race_two_first_approvals(app: &TestApp, path: &str) {
    let (a, b) = tokio::join!(
        app.post_with_key(path, &app.keys["provincial"], ""),
        app.post_with_key(path, &app.keys["provincial2"], "")
    );
    assert_eq!([a.0, b.0], [200, 200], "{path}: {} / {}", a.1, b.1);
}

/// The first approval, then two officers giving the second at once: one is taken (200),
/// the other refused (409).
async fn race_the_second_approval(app: &TestApp, path: &str) {
    assert_eq!(app.post_with_key(path, &app.keys["provincial"], "").await.0, 200);
    let (a, b) = tokio::join!(
        app.post_with_key(path, &app.keys["provincial2"], ""),
        app.post_with_key(path, &app.keys["provincial3"], "")
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{path}: {} / {}", a.1, b.1);
}
