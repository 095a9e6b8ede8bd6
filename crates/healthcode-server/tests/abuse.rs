//! The adversarial suite: every actor of `docs/THREAT-MODEL.md` tries, alone, every way it
//! has to change someone else's colour or read their data, against the real server on
//! both backends, and gets the outcome the threat model says. It starts with the seven
//! paths an outside review reproduced (issue 13) and goes on to their class.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{resident_id, TestApp};
use serde_json::{json, Value};

common::on_both_backends!(
    no_single_account_turns_a_stranger_red_or_yellow,
    contact_tracing_needs_a_case_in_the_jurisdiction_and_a_second_officer,
    one_officer_cannot_designate_a_building_red_and_the_others_are_counted,
    a_quarantine_order_nobody_releases_lapses_past_its_term,
    an_id_number_someone_else_registered_is_claimed_by_proof_not_by_typing,
    a_gate_checks_nobody_until_approved_and_looks_up_only_so_many,
    the_rejection_log_keeps_no_id_number_or_free_text_and_each_source_its_own,
    proofs_of_a_tree_the_log_has_not_reached_are_the_askers_mistake,
    decisions_stay_in_jurisdiction_and_whom_they_name_is_read_with_a_trace,
    a_stale_evaluation_never_overwrites_a_newer_code,
    cookies_travel_only_over_tls_behind_a_proxy,
    no_one_dates_a_record_ahead_or_passes_a_designation_off_as_another_regions,
    an_office_giving_many_keys_at_its_counter_is_said_aloud,
    a_city_officer_cannot_approve_the_provinces_rules,
    an_official_alone_cannot_declare_a_stay_with_a_key_they_gave_at_a_counter,
    a_counter_key_lends_its_officials_to_the_proxy_links_and_claim_codes_it_makes,
    an_approval_by_an_account_made_that_day_is_said_aloud,
);

/// Registers a resident living in Hangzhou's Xihu district (inside the test's local
/// office); returns their id and key.
async fn victim(app: &TestApp, first17: &str) -> (String, String) {
    let body = json!({"id_type": "resident_id", "id_number": resident_id(first17), "residence_area": "330106"});
    let (status, answer) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(status, 201, "{answer}");
    (answer["person_id"].as_str().unwrap().to_string(), answer["resident_key"].as_str().unwrap().to_string())
}

async fn colour(app: &TestApp, person: &str, key: &str) -> (String, Vec<String>) {
    let (status, code) = app.get_with_key(&format!("/v1/persons/{person}/code"), key).await;
    assert_eq!(status, 200, "{code}");
    let reasons = code["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap().to_string()).collect();
    (code["colour"].as_str().unwrap().to_string(), reasons)
}

/// Every entry of the transparency log, decoded.
async fn log_entries(app: &TestApp) -> Vec<Value> {
    use base64::Engine;
    let (_, entries) = app.get("/v1/log/entries?from=0&limit=1000").await;
    entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(e["data"].as_str().unwrap()).unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
        .collect()
}

async fn alarms(app: &TestApp) -> Vec<Value> {
    let (_, alarms) = app.get_with_key("/v1/alarms", &app.keys["auditor"]).await;
    alarms["alarms"].as_array().unwrap().clone()
}

/// A key of each actor who is not staff: a stranger resident, a venue operator, a device
/// registered by that operator (not approved), a third-party system.
async fn outsiders(app: &TestApp) -> Vec<(&'static str, String)> {
    let (_, stranger) = victim(app, "33010619900101001").await;
    let (_, venue) = app.post("/v1/venues", json!({"name": "联华超市", "category": "supermarket"}).to_string()).await;
    let operator = venue["operator_key"].as_str().unwrap().to_string();
    let path = format!("/v1/venues/{}/devices", venue["venue"]["id"].as_str().unwrap());
    let (_, device) = app.post_with_key(&path, &operator, r#"{"label":"东门"}"#).await;
    let party = json!({"username": "metro-card", "function": "transport_card", "fields": ["colour"],
        "purpose": "entry gates of the metro", "agreement": "ZJ-DSA-2020-017", "expires_at": "2020-12-31T00:00:00+08:00"});
    let (status, party) = app.post_with_key("/v1/third-parties", &app.keys["provincial"], party.to_string()).await;
    assert_eq!(status, 201, "{party}");
    vec![
        ("resident", stranger),
        ("venue operator", operator),
        ("device", device["device_key"].as_str().unwrap().to_string()),
        ("third party", party["api_key"].as_str().unwrap().to_string()),
    ]
}

/// The rule, for every account: alone, no one makes a stranger's code red or yellow,
/// except a department reporting evidence it is authoritative for. Each actor gets its own
/// victim and tries every path it has: evidence of every kind (one by one, in a batch, in
/// a bulk feed), a designation of the victim's district, a decision, a trace, a rule set
/// that turns everyone red; and approving its own proposals.
async fn no_single_account_turns_a_stranger_red_or_yellow(app: TestApp) {
    let mut actors: Vec<(&str, String)> =
        ["health", "telecom", "border", "local", "provincial", "auditor", "complaints"]
            .into_iter()
            .map(|name| (name, app.keys[name].clone()))
            .collect();
    actors.extend(outsiders(&app).await);
    // Every rule holds for everyone: no positive test makes R1 hold.
    let everyone_red = healthcode_rules::REFERENCE_RULES_TOML
        .replace("version = \"2026.1\"", "version = \"zhengzhou\"")
        .replace(
            "when.latest.among = [{ type = \"diagnosis\" }, { type = \"test\", result = \"positive\" }]\nwhen.latest.is = [\n  { type = \"test\", result = \"positive\" },\n  { type = \"diagnosis\", status = [\"confirmed\", \"suspected\", \"asymptomatic\"] },\n]",
            "when.not.exists.event = { type = \"test\", result = \"positive\" }",
        );
    assert!(healthcode_rules::RuleSet::parse(&everyone_red).is_ok(), "the malicious rule set is valid");
    for (n, (actor, key)) in actors.iter().enumerate() {
        let (person, person_key) = victim(&app, &format!("3301061980{n:02}01999")).await;
        let at = "2020-05-31T08:00:00+08:00";
        let events = [
            json!({"type": "fever", "onset_at": at}),
            json!({"type": "test", "result": "positive", "sampled_at": at}),
            json!({"type": "diagnosis", "status": "confirmed"}),
            json!({"type": "close_contact", "exposure_at": at}),
            json!({"type": "quarantine_order", "mode": "centralized", "days": 14}),
            json!({"type": "entry", "country": "GB", "entered_at": at}),
            json!({"type": "stay", "area": "330106", "from": at, "to": null}),
            json!({"type": "management_decision", "color": "red", "until": "2020-06-20T00:00:00+08:00",
                   "basis": "维稳", "approvers": ["a", "b"]}),
        ];
        for (i, mut event) in events.into_iter().enumerate() {
            event["id"] = json!(format!("{actor}-{i}"));
            event["person_id"] = json!(person);
            app.post_with_key("/v1/events", key, event.to_string()).await;
            let mut batched = event.clone();
            batched["id"] = json!(format!("{actor}-b{i}"));
            app.post_with_key("/v1/events/batch", key, batched.to_string()).await;
            let mut fed = event.clone();
            fed["id"] = json!(format!("{actor}-f{i}"));
            let request = app.client.post(app.url(&format!("/v1/feeds/{n}-{i}"))).bearer_auth(key);
            request.header("content-type", "application/x-ndjson").body(fed.to_string()).send().await.unwrap();
        }
        let designation = json!({"area": "330106", "level": "high", "escalate_to_red": true});
        let (_, proposed) = app.post_with_key("/v1/designations", key, designation.to_string()).await;
        if let Some(id) = proposed["proposal"]["id"].as_str() {
            let path = format!("/v1/designations/proposals/{id}/approve");
            assert_eq!(app.post_with_key(&path, key, "").await.0, 403, "{actor} approves its own designation");
        }
        let decision = json!({"persons": [person], "colour": "red", "until": "2020-06-20T00:00:00+08:00",
                              "basis": "《传染病防治法》第三十九条"});
        let (_, proposed) = app.post_with_key("/v1/decisions", key, decision.to_string()).await;
        if let Some(id) = proposed["decision"]["id"].as_str() {
            let path = format!("/v1/decisions/{id}/approve");
            for _ in 0..2 {
                assert_eq!(app.post_with_key(&path, key, "").await.0, 403, "{actor} approves its own decision");
            }
        }
        let trace = json!({"case_person_id": person, "from": "2020-05-25T00:00:00+08:00",
                           "to": "2020-06-01T00:00:00+08:00"});
        let (status, _) = app.post_with_key("/v1/traces", key, trace.to_string()).await;
        assert!([401, 403, 422].contains(&status), "{actor} traces a person who is no case: {status}");
        let rules = json!({"source": everyone_red, "activates_at": "2020-06-01T08:00:00+08:00", "scenarios": []});
        let (_, proposed) = app.post_with_key("/v1/rules/proposals", key, rules.to_string()).await;
        if let Some(id) = proposed["proposal"]["id"].as_str() {
            let path = format!("/v1/rules/proposals/{id}/approve");
            assert_eq!(app.post_with_key(&path, key, "").await.0, 403, "{actor} approves its own rules");
        }
        assert_eq!(app.service.governance().activate_due_rules().await.unwrap(), None, "{actor}: no rules took effect");

        let (colour, reasons) = colour(&app, &person, &person_key).await;
        // What each department is the authority for (`Department::may_submit`).
        let allowed: &[&str] = match *actor {
            "health" => &["R1", "R2", "R4", "Y1"],
            "border" => &["R3"],
            _ => &[],
        };
        assert!(reasons.iter().all(|r| allowed.contains(&r.as_str())), "{actor} made {person} {colour}: {reasons:?}");
        if allowed.is_empty() {
            assert_eq!(colour, "green", "{actor} alone changed a stranger's colour: {reasons:?}");
        }
    }
    // What the departments did is logged as theirs: each change to red or yellow names its
    // origin, and none names a decision, a trace or a designation.
    let origins: Vec<String> = log_entries(&app)
        .await
        .iter()
        .filter(|e| e["type"] == "colour_change" && e["new_colour"] != "green")
        .map(|e| e["origin"].as_str().unwrap_or("none").to_string())
        .collect();
    assert!(!origins.is_empty());
    assert!(origins.iter().all(|o| o.starts_with("feed:")), "{origins:?}");
}

/// Reproduction 1: a local office traced a "case" with no diagnosis, outside its
/// jurisdiction, and confirmed a contact, who turned red at once.
async fn contact_tracing_needs_a_case_in_the_jurisdiction_and_a_second_officer(app: TestApp) {
    let (_, venue) = app.post("/v1/venues", json!({"name": "银泰百货", "category": "general"}).to_string()).await;
    let (venue_id, operator) =
        (venue["venue"]["id"].as_str().unwrap().to_string(), venue["operator_key"].as_str().unwrap().to_string());
    // A Ningbo resident (outside Hangzhou's office) and two Hangzhou residents at one venue.
    let body =
        json!({"id_type": "resident_id", "id_number": resident_id("33020319800101001"), "residence_area": "330203"});
    let (_, ningbo) = app.post("/v1/persons", body.to_string()).await;
    let (ningbo, ningbo_key) =
        (ningbo["person_id"].as_str().unwrap().to_string(), ningbo["resident_key"].as_str().unwrap().to_string());
    let (case, case_key) = victim(&app, "33010619800101002").await;
    let (contact, contact_key) = victim(&app, "33010619800101003").await;
    for (person, key) in [(&ningbo, &ningbo_key), (&case, &case_key), (&contact, &contact_key)] {
        let (_, code) = app.get_with_key(&format!("/v1/venues/{venue_id}/code"), &operator).await;
        let scan = json!({"person_id": person, "venue_code": code["code"]["token"]});
        assert_eq!(app.post_with_key("/v1/checkins", key, scan.to_string()).await.0, 200);
    }
    let trace_of = |case: &str| {
        json!({"case_person_id": case, "from": "2020-05-25T00:00:00+08:00", "to": "2020-06-02T00:00:00+08:00"})
            .to_string()
    };
    // No case, no trace: nobody has a positive test or a diagnosis.
    let (status, refused) = app.post_with_key("/v1/traces", &app.keys["local"], trace_of(&case)).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("case_person_id")), "{refused}");
    // A case outside the office's jurisdiction: refused.
    for person in [&ningbo, &case] {
        let test = json!({"id": format!("lab-{person}"), "person_id": person, "type": "test", "result": "positive",
                          "sampled_at": "2020-06-01T07:00:00+08:00"});
        assert_eq!(app.post_with_key("/v1/events", &app.keys["health"], test.to_string()).await.0, 201);
    }
    let (status, _) = app.post_with_key("/v1/traces", &app.keys["local"], trace_of(&ningbo)).await;
    assert_eq!(status, 403, "Hangzhou's office does not trace Ningbo's residents");
    // A real case in the office's area: listed, confirmed, and still nobody red.
    let (status, traced) = app.post_with_key("/v1/traces", &app.keys["local"], trace_of(&case)).await;
    assert_eq!(status, 201, "{traced}");
    let id = traced["trace"]["id"].as_str().unwrap().to_string();
    let confirm = json!({"persons": [contact]}).to_string();
    let (status, _) = app.post_with_key(&format!("/v1/traces/{id}/confirm"), &app.keys["local"], confirm).await;
    assert_eq!(status, 200);
    assert_eq!(colour(&app, &contact, &contact_key).await.0, "green", "a confirmation alone changes nothing");
    let approve = format!("/v1/traces/{id}/approve");
    assert_eq!(app.post_with_key(&approve, &app.keys["local"], "").await.0, 403, "the confirming office");
    // A provincial officer who confirms cannot approve their own confirmation either.
    let (_, second) = app.post_with_key("/v1/traces", &app.keys["provincial"], trace_of(&case)).await;
    let second = second["trace"]["id"].as_str().unwrap().to_string();
    let confirm = json!({"persons": [contact]}).to_string();
    app.post_with_key(&format!("/v1/traces/{second}/confirm"), &app.keys["provincial"], confirm).await;
    let (status, refused) =
        app.post_with_key(&format!("/v1/traces/{second}/approve"), &app.keys["provincial"], "").await;
    assert_eq!(status, 403, "{refused}");
    // Another provincial officer approves: red, logged with both names, counted as a trace.
    assert_eq!(app.post_with_key(&approve, &app.keys["provincial2"], "").await.0, 200);
    assert_eq!(colour(&app, &contact, &contact_key).await, ("red".to_string(), vec!["R2".to_string()]));
    let entries = log_entries(&app).await;
    let approval = entries.iter().find(|e| e["type"] == "trace_approval").expect("the approval is logged");
    assert_eq!(
        (approval["proposed_by"].as_str(), approval["approved_by"].as_str()),
        (Some("local"), Some("provincial2"))
    );
    assert!(
        entries.iter().any(|e| e["type"] == "colour_change" && e["origin"] == "trace"),
        "the change names its origin"
    );
    // The contacts the officers read, and the approval, are in the contact's access log.
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{contact}/accesses"), &contact_key).await;
    let actors: Vec<&str> =
        accesses["accesses"].as_array().unwrap().iter().map(|a| a["actor"].as_str().unwrap()).collect();
    assert!(actors.contains(&"local") && actors.contains(&"provincial2"), "{actors:?}");
}

/// Reproduction 2: one provincial officer escalated a 12-digit area (a building) and
/// everyone who stayed there turned red, with no alarm.
async fn one_officer_cannot_designate_a_building_red_and_the_others_are_counted(app: TestApp) {
    let building = "330106002051";
    let mut residents = Vec::new();
    for i in 0..healthcode_service::COLOUR_BURST_MIN_PERSONS {
        let (person, key) = victim(&app, &format!("3301061980020{i:04}")).await;
        let stay = json!({"id": format!("tel-{i}"), "person_id": person, "type": "stay", "area": building,
                          "from": "2020-05-30T08:00:00+08:00", "to": "2020-05-31T08:00:00+08:00"});
        assert_eq!(app.post("/v1/events", stay.to_string()).await.0, 201);
        residents.push((person, key));
    }
    let escalation = json!({"area": building, "level": "high", "escalate_to_red": true}).to_string();
    let (status, proposed) = app.post_with_key("/v1/designations", &app.keys["provincial"], escalation).await;
    assert_eq!(status, 202, "one officer's word is a proposal: {proposed}");
    let (first, first_key) = &residents[0];
    assert_eq!(colour(&app, first, first_key).await.0, "green");
    let id = proposed["proposal"]["id"].as_str().unwrap();
    let approve = format!("/v1/designations/proposals/{id}/approve");
    assert_eq!(app.post_with_key(&approve, &app.keys["provincial"], "").await.0, 403, "not by its proposer");
    assert_eq!(app.post_with_key(&approve, &app.keys["local"], "").await.0, 403, "not by a local office");
    // A provincial officer whose jurisdiction is another city cannot approve it either.
    let ningbo_key = app.office_key("ningbo-prov", healthcode_domain::Role::ProvincialOffice, "330200").await;
    assert_eq!(app.post_with_key(&approve, &ningbo_key, "").await.0, 403);
    assert_eq!(app.post_with_key(&approve, &app.keys["provincial2"], "").await.0, 200);
    for (person, key) in &residents {
        assert_eq!(colour(&app, person, key).await.0, "red");
    }
    // Loud: logged with both officers, each change naming the designation, and a burst
    // alarm for the city.
    let entries = log_entries(&app).await;
    let approval = entries.iter().find(|e| e["type"] == "designation_approval").unwrap();
    assert_eq!(
        (approval["proposed_by"].as_str(), approval["approved_by"].as_str()),
        (Some("provincial"), Some("provincial2"))
    );
    let by_designation =
        entries.iter().filter(|e| e["type"] == "colour_change" && e["origin"] == "designation").count();
    assert_eq!(by_designation, residents.len());
    let alarms = alarms(&app).await;
    let burst = alarms.iter().find(|a| a["kind"] == "colour_burst").expect("a burst alarm");
    assert_eq!(burst["jurisdiction"], "3301");
    assert!(burst["detail"].as_str().unwrap().contains("area designations"), "{burst}");
}

/// Reproduction 3: a feed's quarantine order kept a code red for ever when no release came.
async fn a_quarantine_order_nobody_releases_lapses_past_its_term(app: TestApp) {
    let (person, key) = victim(&app, "33010619800303001").await;
    let (other, other_key) = victim(&app, "33010619800303002").await;
    let order = |id: &str, person: &str, days: u32| {
        json!({"id": id, "person_id": person, "type": "quarantine_order", "mode": "home", "days": days}).to_string()
    };
    assert_eq!(app.post("/v1/events", order("q-1", &person, 7)).await.0, 201);
    assert_eq!(app.post("/v1/events", order("q-2", &other, 365)).await.0, 201);
    assert_eq!(colour(&app, &person, &key).await, ("red".to_string(), vec!["R4".to_string()]));
    let start = app.service.now().as_millis();
    let at_day = |days: i64| healthcode_domain::Timestamp::from_millis(start + days * 86_400_000);
    // Past the term a late release still counts: red.
    app.clock.set(at_day(20));
    app.service.codes().run_due().await.unwrap();
    assert_eq!(colour(&app, &person, &key).await.0, "red");
    // Fourteen days past the term: the order lapsed by itself.
    app.clock.set(at_day(21));
    app.service.codes().run_due().await.unwrap();
    assert_eq!(colour(&app, &person, &key).await.0, "green");
    // A feed cannot stretch it: a 365-day order counts as the rule set's 28.
    assert_eq!(colour(&app, &other, &other_key).await.0, "red");
    app.clock.set(at_day(42));
    app.service.codes().run_due().await.unwrap();
    assert_eq!(colour(&app, &other, &other_key).await.0, "green");
}

/// Reproduction 4: whoever registered an unclaimed ID number first got its key.
async fn an_id_number_someone_else_registered_is_claimed_by_proof_not_by_typing(app: TestApp) {
    let (_, proxy_key) = victim(&app, "33010619700404001").await;
    let mother = resident_id("33010619400404002");
    let body = json!({"id_type": "resident_id", "id_number": mother, "name": "王秀英", "phone": "13800138000",
                      "relation": "parent"});
    let (status, added) = app.post_with_key("/v1/me/dependants", &proxy_key, body.to_string()).await;
    assert_eq!(status, 201, "{added}");
    let mother_id = added["person_id"].as_str().unwrap().to_string();
    // Someone who knows her ID number registers it: no key, no renaming, no area.
    let attempt = json!({"id_type": "resident_id", "id_number": mother, "name": "冒名", "residence_area": "310101"});
    let (status, answer) = app.post("/v1/persons", attempt.to_string()).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("claim_required")), "{answer}");
    assert!(answer.get("resident_key").is_none());
    let (_, details) = app.get_with_key(&format!("/v1/persons/{mother_id}/details"), &proxy_key).await;
    assert_eq!(details["details"]["name"], "王秀英", "the stranger renamed nobody: {details}");
    // Persons known only from a department's list, the same.
    let listed = resident_id("33010619800404003");
    let contact = json!({"id": "cdc-9", "id_type": "resident_id", "id_number": listed, "type": "close_contact",
                         "exposure_at": "2020-05-31T08:00:00+08:00"});
    assert_eq!(app.post("/v1/events", contact.to_string()).await.0, 201);
    let (_, answer) = app.post("/v1/persons", json!({"id_type": "resident_id", "id_number": listed}).to_string()).await;
    assert_eq!(answer["status"], "claim_required", "{answer}");
    // The proxy gives her a claim code; a stranger's resident key cannot.
    let (_, stranger) = victim(&app, "33010619900404004").await;
    let path = format!("/v1/persons/{mother_id}/claim-code");
    assert_eq!(app.post_with_key(&path, &stranger, "").await.0, 403, "not someone who acts for her");
    let (status, code) = app.post_with_key(&path, &proxy_key, "").await;
    assert_eq!(status, 201, "{code}");
    let claim_code = code["claim_code"].as_str().unwrap();
    // The code works only with her own ID number, once.
    let wrong = json!({"id_type": "resident_id", "id_number": listed, "claim_code": claim_code});
    assert_eq!(app.post("/v1/persons", wrong.to_string()).await.0, 403);
    let claim = json!({"id_type": "resident_id", "id_number": mother, "claim_code": claim_code});
    let (status, claimed) = app.post("/v1/persons", claim.to_string()).await;
    assert_eq!((status, claimed["status"].as_str()), (200, Some("claimed")), "{claimed}");
    let her_key = claimed["resident_key"].as_str().unwrap();
    assert_eq!(app.get_with_key(&format!("/v1/persons/{mother_id}/details"), her_key).await.0, 200);
    assert_eq!(app.post("/v1/persons", claim.to_string()).await.0, 403, "a claim code works once");
    // Now hers: she can end the proxy link herself.
    let (_, me) = app.get_with_key("/v1/me", &proxy_key).await;
    let proxy_id = me["resident"]["person_id"].as_str().unwrap();
    let end = app.client.delete(app.url(&format!("/v1/persons/{mother_id}/proxies/{proxy_id}"))).bearer_auth(her_key);
    assert_eq!(end.send().await.unwrap().status().as_u16(), 204);
}

/// Reproduction 5: anyone could run a gate, look up any ID number's colour and masked
/// name, register the person, and record a check-in, as often as they liked.
async fn a_gate_checks_nobody_until_approved_and_looks_up_only_so_many(app: TestApp) {
    let (_, venue) =
        app.post("/v1/venues", json!({"name": "地铁站", "category": "bus", "area": "330106"}).to_string()).await;
    let operator = venue["operator_key"].as_str().unwrap().to_string();
    let path = format!("/v1/venues/{}/devices", venue["venue"]["id"].as_str().unwrap());
    let (_, device) = app.post_with_key(&path, &operator, r#"{"label":"A口"}"#).await;
    let (device_id, device_key) =
        (device["device"]["id"].as_str().unwrap().to_string(), device["device_key"].as_str().unwrap().to_string());
    let (known, known_key) = victim(&app, "33010619400505001").await;
    let card = |first17: &str| json!({"id_type": "resident_id", "id_number": resident_id(first17)}).to_string();
    let (status, _) = app.post_with_key("/v1/gate/check", &device_key, card("33010619400505001")).await;
    assert_eq!(status, 403, "an unapproved device looks nobody up");
    for who in ["local", "auditor", "health"] {
        let (status, _) = app.post_with_key(&format!("/v1/devices/{device_id}/approve"), &app.keys[who], "").await;
        assert_eq!(status, 403, "{who} approves a device");
    }
    let (status, _) = app.post_with_key(&format!("/v1/devices/{device_id}/approve"), &app.keys["provincial"], "").await;
    assert_eq!(status, 200);
    // A lookup of a known person is in their access log; of an unknown one registers nobody.
    let (status, answer) = app.post_with_key("/v1/gate/check", &device_key, card("33010619400505001")).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("allow_with_mask")), "{answer}");
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{known}/accesses"), &known_key).await;
    assert!(accesses.to_string().contains(&device_id), "the gate's read is shown to the person: {accesses}");
    let persons_before = app.store.person_count().await.unwrap();
    for i in 0..(healthcode_service::GATE_ID_CARDS_PER_MINUTE - 1) {
        let (status, answer) =
            app.post_with_key("/v1/gate/check", &device_key, card(&format!("3301061940050{i:04}"))).await;
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(app.store.person_count().await.unwrap(), persons_before, "lookups register nobody");
    // Over the limit: refused, and an alarm for auditors.
    let (status, refused) = app.post_with_key("/v1/gate/check", &device_key, card("33010619400509999")).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (429, Some("too_many_requests")), "{refused}");
    assert!(alarms(&app).await.iter().any(|a| a["kind"] == "gate_lookups"));
    // The approval is in the log.
    assert!(log_entries(&app).await.iter().any(|e| e["type"] == "device_approval" && e["approved_by"] == "provincial"));
}

/// Reproduction 6: a CSV row refused before parsing kept its ID number in the clear, any
/// free text of a refused row stayed as typed, and every source read every department's
/// rejections.
async fn the_rejection_log_keeps_no_id_number_or_free_text_and_each_source_its_own(app: TestApp) {
    let id_number = resident_id("11010519491231002");
    let csv = format!(
        "id,type,id_type,id_number,onset_at,note\n\
         r1,fever,resident_id,{id_number},2020-05-31T08:00:00+08:00,one field too many,extra\n\
         r2,fevre,resident_id,{id_number},,call 138-0013-8000 or 张三丰\n"
    );
    let request = app.client.post(app.url("/v1/feeds/leaky")).bearer_auth(&app.keys["health"]);
    let report: Value =
        request.header("content-type", "text/csv").body(csv).send().await.unwrap().json().await.unwrap();
    assert_eq!(report["rejected"], 2, "{report}");
    let telecom = json!({"id": "t1", "type": "stay", "person_id": "nobody-registered", "area": "330106",
                         "from": "2020-05-30T08:00:00+08:00", "note": "13900139000"});
    assert_eq!(app.post_with_key("/v1/events", &app.keys["telecom"], telecom.to_string()).await.0, 422);

    let (_, all) = app.get_with_key("/v1/rejections", &app.keys["provincial"]).await;
    let kept = all["rejections"].to_string();
    assert_eq!(all["rejections"].as_array().unwrap().len(), 3, "{all}");
    for leaked in [id_number.as_str(), "138-0013-8000", "13800138000", "张三丰", "13900139000"] {
        assert!(!kept.contains(leaked), "{leaked} kept in the rejection log: {kept}");
    }
    let own = |who: &'static str| {
        let app = &app;
        async move {
            let (_, list) = app.get_with_key("/v1/rejections", &app.keys[who]).await;
            list["rejections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["origin"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let health = own("health").await;
    assert_eq!(health.len(), 2, "{health:?}");
    assert!(health.iter().all(|o| o.contains("(health)")), "{health:?}");
    assert_eq!(own("telecom").await, ["api (telecom)"], "a source reads its own only");
    assert!(own("border").await.is_empty());
    // And in the database itself, not only in the answers.
    let stored = app.store.rejections(0, 100, None).await.unwrap();
    assert!(stored.iter().all(|r| !r.input.contains(&id_number) && !r.input.contains("13900139000")), "{stored:?}");
}

/// Reproduction 7: a proof of a tree larger than the log answered 500 and logged
/// "tampered".
async fn proofs_of_a_tree_the_log_has_not_reached_are_the_askers_mistake(app: TestApp) {
    let (person, _) = victim(&app, "33010619800707001").await;
    let contact =
        json!({"id": "c-7", "person_id": person, "type": "close_contact", "exposure_at": "2020-05-31T08:00:00+08:00"});
    assert_eq!(app.post("/v1/events", contact.to_string()).await.0, 201);
    for path in [
        "/v1/log/proof/inclusion?index=0&size=99999999",
        "/v1/log/proof/inclusion?index=5&size=3",
        "/v1/log/proof/consistency?from=1&to=99999999",
        "/v1/log/proof/consistency?from=9&to=2",
        "/v1/log/proof/inclusion?index=0&size=18446744073709551615",
    ] {
        let (status, answer) = app.get(path).await;
        assert!(status == 422 || status == 400, "{path}: {status} {answer}");
        assert_ne!(answer["error"]["code"], "internal", "{path}");
    }
    let (status, _) = app.get("/v1/log/proof/inclusion?index=0&size=1").await;
    assert_eq!(status, 200, "an honest question is answered");
    // Asking for the current checkpoint writes nothing.
    let stored = app.store.checkpoints(0, 100).await.unwrap().len();
    for _ in 0..5 {
        let response = app.client.get(app.url("/v1/log/checkpoint")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    assert_eq!(app.store.checkpoints(0, 100).await.unwrap().len(), stored);
}

/// Decisions name only persons of the proposing office's jurisdiction, and whom they
/// name is read by offices only, with a purpose, into each person's access log.
async fn decisions_stay_in_jurisdiction_and_whom_they_name_is_read_with_a_trace(app: TestApp) {
    let (mine, mine_key) = victim(&app, "33010619800808001").await;
    let body =
        json!({"id_type": "resident_id", "id_number": resident_id("33020319800808002"), "residence_area": "330203"});
    let (_, ningbo) = app.post("/v1/persons", body.to_string()).await;
    let ningbo = ningbo["person_id"].as_str().unwrap().to_string();
    let decision = |persons: Vec<&str>| {
        json!({"persons": persons, "colour": "yellow", "until": "2020-06-10T00:00:00+08:00", "basis": "《传染病防治法》第三十九条"})
            .to_string()
    };
    let (status, refused) =
        app.post_with_key("/v1/decisions", &app.keys["local"], decision(vec![&mine, &ningbo])).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("outside your jurisdiction"));
    let (status, proposed) = app.post_with_key("/v1/decisions", &app.keys["local"], decision(vec![&mine])).await;
    assert_eq!(status, 201, "{proposed}");
    assert_eq!(proposed["decision"]["persons"], 1, "a count, not the list");
    let id = proposed["decision"]["id"].as_str().unwrap();
    for who in ["auditor", "complaints"] {
        let (_, listed) = app.get_with_key("/v1/decisions", &app.keys[who]).await;
        assert!(!listed.to_string().contains(&mine), "{who} sees whom a decision names: {listed}");
        let (status, _) =
            app.get_with_key(&format!("/v1/decisions/{id}/persons?purpose=curious"), &app.keys[who]).await;
        assert_eq!(status, 403, "{who}");
    }
    let path = format!("/v1/decisions/{id}/persons");
    assert_eq!(app.get_with_key(&path, &app.keys["provincial"]).await.0, 422, "a purpose is required");
    let (status, persons) = app.get_with_key(&format!("{path}?purpose=approve+it"), &app.keys["provincial"]).await;
    assert_eq!((status, persons["persons"].clone()), (200, json!([mine])));
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{mine}/accesses"), &mine_key).await;
    assert!(accesses.to_string().contains("approve it (decision"), "{accesses}");
}

/// Also found: two evaluations of one person at once could leave the stored code and the
/// log disagreeing. Concurrent evidence and refreshes: the log of the person is a chain
/// (each entry starts from the colour the last one ended in), and the stored code is what
/// the rules give.
async fn a_stale_evaluation_never_overwrites_a_newer_code(app: TestApp) {
    let (person, key) = victim(&app, "33010619800909001").await;
    let id = healthcode_domain::PersonId::parse(&person).unwrap();
    // Rounds of a positive test (red), then an exclusion (green) racing several
    // refreshes of the person: the evaluations that read the evidence before the exclusion
    // must not overwrite the code saved after it.
    for round in 0..8 {
        let test = json!({"id": format!("t-{round}"), "person_id": person, "type": "test", "result": "positive",
                          "sampled_at": "2020-06-01T07:00:00+08:00"});
        assert_eq!(app.post("/v1/events", test.to_string()).await.0, 201);
        let mut tasks = Vec::new();
        let excluded =
            json!({"id": format!("x-{round}"), "person_id": person, "type": "diagnosis", "status": "excluded"});
        let (client, url, health) = (app.client.clone(), app.url("/v1/events"), app.keys["health"].clone());
        tasks.push(tokio::spawn(async move {
            client.post(url).bearer_auth(health).body(excluded.to_string()).send().await.unwrap().status().as_u16()
        }));
        for _ in 0..4 {
            let (service, who) = (app.service.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                match service.codes().refresh_persons(&[who]).await {
                    Ok(_) => 200,
                    Err(e) => panic!("a refresh failed: {e}"),
                }
            }));
        }
        for task in tasks {
            let status = task.await.unwrap();
            assert!(status == 201 || status == 200, "{status}");
        }
    }
    // An evaluation that kept losing to others left the person queued: the scheduler's
    // next run settles it.
    app.service.codes().run_due().await.unwrap();
    let (_, log) = app.get_with_key(&format!("/v1/persons/{person}/log"), &key).await;
    let entries = log["entries"].as_array().unwrap();
    assert!(entries.len() >= 16, "red and green again in each round: {log}");
    // Registered green (a green first code is not logged): the chain starts from green.
    let mut last = json!("green");
    for e in entries {
        assert_eq!(e["entry"]["old_colour"], last, "each change starts where the last one ended: {log}");
        last = e["entry"]["new_colour"].clone();
    }
    let stored = app.store.code(&id).await.unwrap().unwrap();
    let evidence = app.store.evidence_for(&id).await.unwrap();
    let rules = app.service.codes().rules();
    let no_designations = healthcode_rules::AreaRiskIndex::default();
    let fresh = rules.evaluate(healthcode_domain::PersonKind::Domestic, &evidence, &no_designations, app.service.now());
    assert_eq!(stored.colour, fresh.colour, "the stored code is the rules' answer");
    assert_eq!(last.as_str().unwrap_or("green"), stored.colour.as_str(), "and the log's last word");
}

/// Also found: no cookie was `Secure` behind TLS.
async fn cookies_travel_only_over_tls_behind_a_proxy(app: TestApp) {
    let (_, key) = victim(&app, "33010619801010001").await;
    // The sign-in answers 303 with the cookie: read it there, not after the redirect.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let sign_in = |proto: Option<&'static str>| {
        let (app, key, client) = (&app, key.clone(), client.clone());
        async move {
            let mut request = client
                .post(app.url("/signin"))
                .header("origin", &app.address)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("key={key}"));
            if let Some(proto) = proto {
                request = request.header("x-forwarded-proto", proto);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 303);
            response.headers().get("set-cookie").map(|c| c.to_str().unwrap().to_string()).unwrap_or_default()
        }
    };
    let over_tls = sign_in(Some("https")).await;
    assert!(over_tls.contains("HttpOnly") && over_tls.ends_with("; Secure"), "{over_tls}");
    let plain = sign_in(None).await;
    assert!(!plain.is_empty() && !plain.contains("Secure"), "{plain}");
}

/// Found by a review (2026-12-06): a department dated a negative test after it was
/// received (clearing the person for good) or an entry ahead (turning them red on a day it
/// chose); an office proposed a designation under `hc-nat-11-…`, which would have been
/// explained and counted as another region's level and never sent to the hub.
async fn no_one_dates_a_record_ahead_or_passes_a_designation_off_as_another_regions(app: TestApp) {
    let (person, _) = victim(&app, "33010619800301123").await;
    let ahead = app.service.now().as_millis() + 3_600_000;
    let ahead = healthcode_domain::Timestamp::from_millis(ahead).to_rfc3339();
    let test = json!({"id": "t-ahead", "person_id": person, "type": "test", "result": "negative", "sampled_at": ahead});
    let (status, refused) = app.post("/v1/events", test.to_string()).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("sampled_at")), "{refused}");
    let entry = json!({"id": "e-ahead", "person_id": person, "type": "entry", "country": "SG", "entered_at": ahead});
    let (status, refused) = app.post("/v1/events", entry.to_string()).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("entered_at")), "{refused}");

    let borrowed = json!({"id": "hc-nat-11-x", "area": "330106", "level": "high"}).to_string();
    let (status, refused) = app.post_with_key("/v1/designations", &app.keys["provincial"], borrowed).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("id")), "{refused}");
}

/// A key given at a counter replaces the person's own and lets its holder declare for them
/// (a declared stay in a high-risk area turns the code yellow or red): an office giving
/// more than `COUNTER_KEYS_ALARM` within the hour — the depositors' codes, one counter at a
/// time — raises `counter_keys` once, in the log.
async fn an_office_giving_many_keys_at_its_counter_is_said_aloud(app: TestApp) {
    let limit = healthcode_service::COUNTER_KEYS_ALARM as usize;
    for i in 0..=limit {
        let body = json!({"id_type": "resident_id", "id_number": resident_id(&format!("3301061980050{i:04}")),
                          "residence_area": "330106"});
        let (status, given) = app.post_with_key("/v1/residents/keys", &app.keys["local"], body.to_string()).await;
        assert_eq!(status, 200, "{given}");
        let raised = alarms(&app).await.iter().filter(|a| a["kind"] == "counter_keys").count();
        assert_eq!(raised, usize::from(i >= limit), "after {} keys", i + 1);
    }
    let logged = log_entries(&app).await;
    assert!(logged.iter().any(|e| e["type"] == "alarm" && e["kind"] == "counter_keys"), "in the log");
}

/// A rule set judges everyone in the province: an officer of the provincial role whose
/// jurisdiction is one city cannot be one of its two approvers (found by a review,
/// 2026-12-06: any provincial-office account could).
async fn a_city_officer_cannot_approve_the_provinces_rules(app: TestApp) {
    let ningbo_key = app.office_key("ningbo-rules", healthcode_domain::Role::ProvincialOffice, "330200").await;
    let source = healthcode_rules::REFERENCE_RULES_TOML.replace("version = \"2026.1\"", "version = \"2026.2\"");
    let rules = json!({"source": source, "activates_at": "2020-06-01T08:00:00+08:00", "scenarios": [common::entry_scenario("red")]});
    let (status, proposed) = app.post_with_key("/v1/rules/proposals", &app.keys["provincial"], rules.to_string()).await;
    assert!(status < 300, "{proposed}");
    let path = format!("/v1/rules/proposals/{}/approve", proposed["proposal"]["id"].as_str().unwrap());
    let (status, refused) = app.post_with_key(&path, &ningbo_key, "").await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(app.post_with_key(&path, &app.keys["provincial2"], "").await.0, 200);
}

/// A counter key for `id_number` (of a person living in Xihu), given by the test's local
/// office: every earlier key of the person stops working.
async fn counter_key(app: &TestApp, id_number: &str) -> String {
    let body = json!({"id_type": "resident_id", "id_number": id_number});
    let (status, given) = app.post_with_key("/v1/residents/keys", &app.keys["local"], body.to_string()).await;
    assert_eq!(status, 200, "{given}");
    given["resident_key"].as_str().unwrap().to_string()
}

/// A stay of the last two days in Xihu, escalated to red by the province (R6).
async fn declare_escalated_stay(app: &TestApp, person: &str, key: &str) -> (u16, Value) {
    let stay = json!({"stays": [{"area": "330106002", "from": "2020-05-30T08:00:00+08:00", "to": "2020-05-31T08:00:00+08:00"}]});
    app.post_with_key(&format!("/v1/persons/{person}/declarations"), key, stay.to_string()).await
}

/// The Zhengzhou path through a counter (second review, 2026-12-06): an official gives
/// themself a depositor's key at a counter (papers the system cannot check) and declares
/// a stay in an area escalated to red. The declaration waits; the official who gave the
/// key can neither see it waiting nor decide it; another official reads it (into the
/// person's access log) and confirms it, which is logged, or refuses it, which the person
/// reads with the reason.
async fn an_official_alone_cannot_declare_a_stay_with_a_key_they_gave_at_a_counter(app: TestApp) {
    app.designate(&json!({"id": "d-esc", "area": "330106", "level": "high", "escalate_to_red": true}).to_string())
        .await;
    let depositor = resident_id("33010619800707001");
    let (person, own_key) = victim(&app, "33010619800707001").await;
    let key = counter_key(&app, &depositor).await;
    let (status, waiting) = declare_escalated_stay(&app, &person, &key).await;
    assert_eq!(status, 202, "{waiting}");
    assert_eq!((waiting["recorded"].as_u64(), waiting["code"]["colour"].as_str()), (Some(0), Some("green")));
    assert_eq!(waiting["waiting"]["key_seen_by"], json!(["local"]), "{waiting}");
    let id = waiting["waiting"]["id"].as_str().unwrap().to_string();
    assert_eq!(colour(&app, &person, &key).await.0, "green", "nothing counts yet");
    assert_eq!(app.get_with_key(&format!("/v1/persons/{person}/code"), &own_key).await.0, 401, "the old key stopped");

    // The official who gave the key: not in their list, and refused if they try.
    let (status, listed) = app.get_with_key("/v1/declarations/waiting", &app.keys["local"]).await;
    assert_eq!((status, listed["declarations"].as_array().map(Vec::len)), (200, Some(0)), "{listed}");
    let confirm = format!("/v1/declarations/{id}/confirm");
    let (status, refused) = app.post_with_key(&confirm, &app.keys["local"], "").await;
    assert_eq!(status, 403, "{refused}");
    let refuse = format!("/v1/declarations/{id}/refuse");
    let reason = json!({"reason": "I changed my mind"}).to_string();
    assert_eq!(app.post_with_key(&refuse, &app.keys["local"], reason).await.0, 403, "nor refuses it");
    // Neither a resident key, nor an office of another district, nor a data source.
    let ningbo = app.office_key("ningbo-desk", healthcode_domain::Role::LocalOffice, "330200").await;
    assert_eq!(app.post_with_key(&confirm, &ningbo, "").await.0, 403, "outside its jurisdiction");
    assert_eq!(app.post_with_key(&confirm, &key, "").await.0, 401, "a resident key is no staff key");
    assert_eq!(app.post_with_key(&confirm, &app.keys["health"], "").await.0, 403);
    assert_eq!(colour(&app, &person, &key).await.0, "green");

    // Another official of the district: sees it, opens it with a purpose, confirms it.
    let xihu = app.office_key("xihu-desk", healthcode_domain::Role::LocalOffice, "330106").await;
    let (_, listed) = app.get_with_key("/v1/declarations/waiting", &xihu).await;
    assert_eq!(listed["declarations"][0]["id"], id.as_str(), "{listed}");
    assert!(listed["declarations"][0].get("records").is_none(), "a list shows who, not what");
    assert_eq!(app.get_with_key(&format!("/v1/declarations/{id}"), &xihu).await.0, 422, "a purpose is needed");
    let (status, opened) =
        app.get_with_key(&format!("/v1/declarations/{id}?purpose=check the declared stay"), &xihu).await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["records"][0]["area"], "330106002", "{opened}");
    let (status, confirmed) = app.post_with_key(&confirm, &xihu, "").await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(
        (confirmed["declaration"]["status"].as_str(), confirmed["colour_changes"].as_u64()),
        (Some("confirmed"), Some(1))
    );
    assert_eq!(colour(&app, &person, &key).await, ("red".to_string(), vec!["R6".to_string(), "Y2".to_string()]));
    let stored = app.store.evidence_for(&healthcode_domain::PersonId::parse(&person).unwrap()).await.unwrap();
    assert!(stored.iter().any(|e| e.id.as_str().starts_with("hc-decl-counter-self-")), "{stored:?}");
    assert_eq!(app.post_with_key(&confirm, &app.keys["provincial"], "").await.0, 409, "decided once");
    let logged = log_entries(&app).await;
    let confirmation = logged.iter().find(|e| e["type"] == "declaration_confirmation").expect("logged");
    assert_eq!(
        (&confirmation["declaration_id"], &confirmation["key_seen_by"], &confirmation["confirmed_by"]),
        (&json!(id), &json!(["local"]), &json!("xihu-desk"))
    );
    assert!(!confirmation.to_string().contains(&person), "never whom");
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{person}/accesses"), &key).await;
    assert!(accesses.to_string().contains("check the declared stay"), "the read is the person's to see: {accesses}");

    // A second one, refused: it never counts, and the person reads why.
    let other = resident_id("33010619800707002");
    let (other_person, _) = victim(&app, "33010619800707002").await;
    let other_key = counter_key(&app, &other).await;
    let (status, waiting) = declare_escalated_stay(&app, &other_person, &other_key).await;
    assert_eq!(status, 202, "{waiting}");
    let refuse = format!("/v1/declarations/{}/refuse", waiting["waiting"]["id"].as_str().unwrap());
    let reason = json!({"reason": "no record of this stay"}).to_string();
    let (status, refused) = app.post_with_key(&refuse, &xihu, reason.clone()).await;
    assert_eq!((status, refused["declaration"]["status"].as_str()), (200, Some("refused")), "{refused}");
    assert_eq!(app.post_with_key(&refuse, &app.keys["provincial"], reason).await.0, 409);
    assert_eq!(colour(&app, &other_person, &other_key).await.0, "green");
    let (_, mine) = app.get_with_key(&format!("/v1/persons/{other_person}/declarations"), &other_key).await;
    assert_eq!(mine["declarations"][0]["reason"], "no record of this stay", "{mine}");

    // Two officials deciding at once: one decision holds, the other is told so.
    let (status, waiting) = declare_escalated_stay(&app, &other_person, &other_key).await;
    assert_eq!(status, 202, "{waiting}");
    let id = waiting["waiting"]["id"].as_str().unwrap();
    let (confirm, refuse) = (format!("/v1/declarations/{id}/confirm"), format!("/v1/declarations/{id}/refuse"));
    let reason = json!({"reason": "no record of this stay"}).to_string();
    let (confirmed, refused) = tokio::join!(
        app.post_with_key(&confirm, &xihu, ""),
        app.post_with_key(&refuse, &app.keys["provincial"], reason)
    );
    let mut statuses = [confirmed.0, refused.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{confirmed:?} {refused:?}");
    let expected = if confirmed.0 == 200 { "red" } else { "green" };
    assert_eq!(colour(&app, &other_person, &other_key).await.0, expected);

    // A symptom waits dated when it was declared, not when it is confirmed.
    let fever = json!({"items": ["fever"]}).to_string();
    let (status, waiting) =
        app.post_with_key(&format!("/v1/persons/{other_person}/declarations"), &other_key, fever).await;
    assert_eq!(status, 202, "{waiting}");
    let path = format!("/v1/declarations/{}?purpose=check the symptom", waiting["waiting"]["id"].as_str().unwrap());
    let (_, opened) = app.get_with_key(&path, &xihu).await;
    let since = opened["records"][0]["since"].as_str().expect("dated");
    assert_eq!(healthcode_domain::Timestamp::parse(since).unwrap(), healthcode_service::Clock::now(&app.clock));
}

/// Two ways to launder a counter key into one nobody has seen, both closed: agreeing with
/// it to a proxy link (the official's own resident key then acts for the person), and a
/// claim code given with it (the claimed key is the dependant's).
async fn a_counter_key_lends_its_officials_to_the_proxy_links_and_claim_codes_it_makes(app: TestApp) {
    app.designate(&json!({"id": "d-esc", "area": "330106", "level": "high", "escalate_to_red": true}).to_string())
        .await;
    // The official, as a resident, acts for a depositor with the depositor's counter key.
    let (_, officials_own) = victim(&app, "33010619800808001").await;
    let depositor = resident_id("33010619800808002");
    let (person, _) = victim(&app, "33010619800808002").await;
    let key = counter_key(&app, &depositor).await;
    let body = json!({"id_type": "resident_id", "id_number": depositor, "relation": "relative", "dependant_key": key});
    let (status, linked) = app.post_with_key("/v1/me/dependants", &officials_own, body.to_string()).await;
    assert_eq!(status, 200, "{linked}");
    let (status, waiting) = declare_escalated_stay(&app, &person, &officials_own).await;
    assert_eq!(status, 202, "a proxy link agreed to with a counter key waits too: {waiting}");
    assert_eq!(waiting["waiting"]["key_seen_by"], json!(["local"]));
    assert_eq!(colour(&app, &person, &key).await.0, "green");

    // A son registered his mother; the official gives the son a counter key, gives the
    // mother a claim code with it and claims her key: what that key declares waits too.
    let son = resident_id("33010619700808003");
    let (_, _) = victim(&app, "33010619700808003").await;
    let son_key = counter_key(&app, &son).await;
    let mother = resident_id("33010619400808004");
    let body = json!({"id_type": "resident_id", "id_number": mother, "relation": "parent"});
    let (status, added) = app.post_with_key("/v1/me/dependants", &son_key, body.to_string()).await;
    assert_eq!(status, 201, "{added}");
    let mother_id = added["person_id"].as_str().unwrap().to_string();
    let (status, code) = app.post_with_key(&format!("/v1/persons/{mother_id}/claim-code"), &son_key, "").await;
    assert_eq!(status, 201, "{code}");
    let claim = json!({"id_type": "resident_id", "id_number": mother, "claim_code": code["claim_code"]});
    let (status, claimed) = app.post("/v1/persons", claim.to_string()).await;
    assert_eq!((status, claimed["status"].as_str()), (200, Some("claimed")), "{claimed}");
    let her_key = claimed["resident_key"].as_str().unwrap();
    let (status, waiting) = declare_escalated_stay(&app, &mother_id, her_key).await;
    assert_eq!(status, 202, "{waiting}");
    assert_eq!(colour(&app, &mother_id, her_key).await.0, "green");

    // A key nobody but its holder saw declares at once, as before.
    let (plain, plain_key) = victim(&app, "33010619800808005").await;
    let (status, declared) = declare_escalated_stay(&app, &plain, &plain_key).await;
    assert_eq!((status, declared["code"]["colour"].as_str()), (201, Some("red")), "{declared}");
}

/// An insider who can make accounts makes the second approver the night before (second
/// review, 2026-12-06: both are logged, `account_in_use`, but nothing was said aloud): an
/// approval by an account younger than `FRESH_APPROVER_HOURS` raises `fresh_approver`.
async fn an_approval_by_an_account_made_that_day_is_said_aloud(app: TestApp) {
    let tonight = app.office_key("made-tonight", healthcode_domain::Role::ProvincialOffice, "330000").await;
    let propose = |id: &str| json!({"id": id, "area": "330106", "level": "medium"}).to_string();
    let (status, proposed) = app.post_with_key("/v1/designations", &app.keys["provincial"], propose("d-a")).await;
    assert_eq!(status, 202, "{proposed}");
    let path = format!("/v1/designations/proposals/{}/approve", proposed["proposal"]["id"].as_str().unwrap());
    let (status, approved) = app.post_with_key(&path, &tonight, "").await;
    assert_eq!(status, 200, "{approved}");
    let fresh: Vec<Value> = alarms(&app).await.into_iter().filter(|a| a["kind"] == "fresh_approver").collect();
    assert!(fresh.iter().any(|a| a["detail"].as_str().unwrap().contains("made-tonight")), "{fresh:?}");
    let logged = log_entries(&app).await;
    assert!(logged.iter().any(|e| e["type"] == "alarm" && e["kind"] == "fresh_approver"), "in the log");
    // A day later the test's own officers, made at its start, approve without one.
    let later = healthcode_service::Clock::now(&app.clock).as_millis()
        + (healthcode_service::FRESH_APPROVER_HOURS + 1) * 3_600_000;
    app.clock.set(healthcode_domain::Timestamp::from_millis(later));
    let before = fresh.len();
    let (_, proposed) = app.post_with_key("/v1/designations", &app.keys["provincial"], propose("d-b")).await;
    let path = format!("/v1/designations/proposals/{}/approve", proposed["proposal"]["id"].as_str().unwrap());
    assert_eq!(app.post_with_key(&path, &app.keys["provincial2"], "").await.0, 200);
    let after = alarms(&app).await.into_iter().filter(|a| a["kind"] == "fresh_approver").count();
    assert_eq!(after, before, "an account older than a day approves quietly");

    // The operator mints a key tonight for an officer who has served for a month, and
    // approves as them: said aloud too, naming the key's age.
    let minted = app.service.accounts().issue_api_key("provincial3", "minted tonight").await.unwrap();
    let (_, proposed) = app.post_with_key("/v1/designations", &app.keys["provincial"], propose("d-c")).await;
    let path = format!("/v1/designations/proposals/{}/approve", proposed["proposal"]["id"].as_str().unwrap());
    assert_eq!(app.post_with_key(&path, &minted, "").await.0, 200);
    let fresh: Vec<Value> = alarms(&app).await.into_iter().filter(|a| a["kind"] == "fresh_approver").collect();
    assert_eq!(fresh.len(), before + 1, "{fresh:?}");
    assert!(
        fresh.iter().any(|a| a["detail"]
            .as_str()
            .unwrap()
            .contains("provincial3 approved a designation with an API key issued")),
        "{fresh:?}"
    );
    // The same officer with the key they have had all along: quiet.
    let (_, proposed) = app.post_with_key("/v1/designations", &app.keys["provincial"], propose("d-d")).await;
    let path = format!("/v1/designations/proposals/{}/approve", proposed["proposal"]["id"].as_str().unwrap());
    assert_eq!(app.post_with_key(&path, &app.keys["provincial3"], "").await.0, 200);
    assert_eq!(alarms(&app).await.into_iter().filter(|a| a["kind"] == "fresh_approver").count(), before + 1);
}
