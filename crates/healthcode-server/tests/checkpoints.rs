//! Signed codes, venue codes and verification at the door, against a running server:
//! a resident's code read back from its QR and verified; every way a code can be refused,
//! each with its own reason; venue check-ins and gates following the management measures.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{resident_id, TestApp};
use healthcode_domain::Timestamp;
use serde_json::{json, Value};

common::on_both_backends!(
    a_residents_code_is_signed_rendered_and_verified,
    refused_codes_each_have_their_own_reason,
    venue_check_ins_follow_the_measures_and_refuse_forwarded_venue_codes,
    gates_read_codes_and_id_cards_and_see_only_colour_and_masked_name,
    the_trust_list_is_cacheable_and_changes_with_the_keys,
    an_international_code_shows_orange_and_is_barred_like_red,
    contact_tracing_lists_contacts_and_only_an_approved_confirmation_turns_them_red,
    companions_check_in_with_one_scan_each_by_their_own_code,
    a_printed_card_opens_a_gate_by_the_colour_now_and_never_once_revoked,
);

async fn register_named(app: &TestApp, first17: &str, name: &str) -> String {
    let body = json!({"id_type": "resident_id", "id_number": resident_id(first17), "name": name,
                      "residence_area": "330106"});
    let (status, answer) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(status, 201, "{answer}");
    answer["person_id"].as_str().unwrap().to_string()
}

async fn fever(app: &TestApp, person: &str, id: &str) {
    let (status, answer) = app
        .post(
            "/v1/events",
            json!({"id": id, "person_id": person, "type": "fever", "onset_at": "2020-06-01T07:00:00+08:00"})
                .to_string(),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

async fn token(app: &TestApp, person: &str) -> Value {
    let (status, issued) = app.get(&format!("/v1/persons/{person}/token")).await;
    assert_eq!(status, 200, "{issued}");
    issued
}

async fn verify(app: &TestApp, token: &str) -> Value {
    let (status, verdict) = app.post("/v1/verify", json!({ "token": token }).to_string()).await;
    assert_eq!(status, 200, "{verdict}");
    verdict
}

fn advance(app: &TestApp, seconds: i64) {
    let now = app.service.now();
    app.clock.set(Timestamp::from_millis(now.as_millis() + seconds * 1000));
}

async fn a_residents_code_is_signed_rendered_and_verified(app: TestApp) {
    let person = register_named(&app, "33010619800101123", "张三丰").await;
    let issued = token(&app, &person).await;
    let text = issued["token"].as_str().unwrap();
    assert!(text.starts_with("HC1:"), "{text}");
    assert!(!text.contains(&person), "the code carries a code id, not the person id");
    assert_eq!(issued["colour"], "green");
    assert_eq!(issued["masked_name"], "张*丰");

    let verdict = verify(&app, text).await;
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["code"]["colour"], "green");
    assert_eq!(verdict["code"]["masked_name"], "张*丰");
    assert!(verdict.to_string().find(&person).is_none(), "a verifier never learns the person id");

    // The PNG the server renders decodes back to a token that verifies offline, with the
    // published trust list only.
    let png = app
        .client
        .get(app.url(&format!("/v1/persons/{person}/qr.png")))
        .bearer_auth(app.resident_key(&person).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let decoded = healthcode_token::qr::decode_png(&png.bytes().await.unwrap()).unwrap();
    assert!(decoded.starts_with("HC1:"));
    let list = app.client.get(app.url("/v1/trust-list")).send().await.unwrap().text().await.unwrap();
    let signed = healthcode_token::SignedTrustList::from_json(&list).unwrap();
    let trust = signed.open(&app.service.tokens().key_ring().root_public()).unwrap();
    let now = app.service.now().as_millis() / 1000;
    let claims = healthcode_token::verify_code(&decoded, &trust, &healthcode_token::VerifyOptions::at(now)).unwrap();
    assert_eq!(claims.colour, healthcode_domain::Colour::Green);

    let svg = app
        .client
        .get(app.url(&format!("/v1/persons/{person}/qr.svg")))
        .bearer_auth(app.resident_key(&person).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));

    // New evidence: the next code carries the new colour.
    fever(&app, &person, "clinic-1").await;
    let issued = token(&app, &person).await;
    assert_eq!(verify(&app, issued["token"].as_str().unwrap()).await["code"]["colour"], "yellow");
}

async fn refused_codes_each_have_their_own_reason(app: TestApp) {
    let person = register_named(&app, "33010619800101123", "李四").await;
    let good = token(&app, &person).await["token"].as_str().unwrap().to_string();

    let reason = |v: Value| v["reason"].as_str().unwrap_or("valid").to_string();
    assert_eq!(reason(verify(&app, "HC1:NOT-A-CODE").await), "bad_encoding");
    assert_eq!(reason(verify(&app, "hello").await), "bad_encoding");

    // Another region's ring signs a code this server has never vouched for.
    let stranger = healthcode_service::KeyRing::generate("33", 0);
    let foreign = healthcode_token::issue_code(
        stranger.signing_key().unwrap(),
        &healthcode_token::CodeClaims {
            issuer: "33".into(),
            code_id: "c1".into(),
            colour: healthcode_domain::Colour::Green,
            kind: healthcode_domain::PersonKind::Domestic,
            display_name: "王*".into(),
            issued_at: app.service.now().as_millis() / 1000,
            expires_at: app.service.now().as_millis() / 1000 + 300,
        },
    );
    assert_eq!(reason(verify(&app, &foreign).await), "unknown_key");

    // The same content signed by our key, with the signature's last byte changed.
    let tampered = tamper_signature(&good);
    assert_eq!(reason(verify(&app, &tampered).await), "bad_signature");

    advance(&app, 300 + 61);
    assert_eq!(reason(verify(&app, &good).await), "expired");

    // Revoking the key refuses what it signed, even before expiry.
    let fresh = token(&app, &person).await["token"].as_str().unwrap().to_string();
    let mut ring = (*app.service.tokens().key_ring()).clone();
    let kid = ring.signing_key().unwrap().key_id().to_string();
    ring.revoke(&kid, app.service.now().as_millis() / 1000).unwrap();
    ring.rotate(app.service.now().as_millis() / 1000);
    app.service.tokens().set_key_ring(ring);
    assert_eq!(reason(verify(&app, &fresh).await), "revoked_key");
    let rotated = token(&app, &person).await["token"].as_str().unwrap().to_string();
    assert_eq!(reason(verify(&app, &rotated).await), "valid", "the new key signs good codes");
}

/// Re-encodes a token with one bit of its signature flipped: well formed, wrongly signed.
fn tamper_signature(token: &str) -> String {
    use std::io::{Read, Write};
    let compressed = base45::decode(token.strip_prefix("HC1:").unwrap()).unwrap();
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(&compressed[..]).read_to_end(&mut cose).unwrap();
    *cose.last_mut().unwrap() ^= 1;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&cose).unwrap();
    format!("HC1:{}", base45::encode(z.finish().unwrap()))
}

async fn register_venue(app: &TestApp, name: &str, category: &str) -> (String, String) {
    let (status, answer) =
        app.post("/v1/venues", json!({"name": name, "category": category, "area": "330106"}).to_string()).await;
    assert_eq!(status, 201, "{answer}");
    (answer["venue"]["id"].as_str().unwrap().to_string(), answer["operator_key"].as_str().unwrap().to_string())
}

async fn venue_code(app: &TestApp, venue: &str, key: &str) -> String {
    let (status, answer) = app.get_with_key(&format!("/v1/venues/{venue}/code"), key).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["svg"].as_str().unwrap().contains("<svg"));
    answer["code"]["token"].as_str().unwrap().to_string()
}

async fn venue_check_ins_follow_the_measures_and_refuse_forwarded_venue_codes(app: TestApp) {
    let (market, key) = register_venue(&app, "联华超市", "supermarket").await;
    let (status, refused) = app.get(&format!("/v1/venues/{market}/code")).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (401, Some("unauthorised")), "no key, no venue code");
    let (status, _) = app.get_with_key(&format!("/v1/venues/{market}/code"), "hcv_wrong").await;
    assert_eq!(status, 401);

    let green = register_named(&app, "33010619800101123", "张三").await;
    let yellow = register_named(&app, "33010619800202456", "李四").await;
    fever(&app, &yellow, "clinic-9").await;

    let code = venue_code(&app, &market, &key).await;
    let scan = |person: String, code: String| {
        let app = &app;
        async move { app.post("/v1/checkins", json!({"person_id": person, "venue_code": code}).to_string()).await }
    };
    let (status, decision) = scan(green.clone(), code.clone()).await;
    assert_eq!(
        (status, decision["outcome"].as_str(), decision["reason"].as_str()),
        (200, Some("allow"), Some("green_code"))
    );
    let (_, decision) = scan(yellow.clone(), code.clone()).await;
    assert_eq!(decision["outcome"], "deny", "{decision}");
    assert_eq!(decision["reason"], "yellow_restricted_venue");
    assert_eq!(decision["colour"], "yellow");

    // The same venue code, minutes later (a photo forwarded to someone elsewhere).
    advance(&app, 3 * 60);
    let (status, refused) = scan(green.clone(), code).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_token");
    assert_eq!(refused["error"]["reason"], "replayed");
    // A resident code is not a venue code.
    let resident_code = token(&app, &green).await["token"].as_str().unwrap().to_string();
    let (_, refused) = scan(green.clone(), resident_code).await;
    assert_eq!(refused["error"]["reason"], "wrong_token_type");

    let (status, counts) = app.get_with_key(&format!("/v1/venues/{market}/checkins/today"), &key).await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts["checkins"], json!({"allow": 1, "allow_with_mask": 0, "deny": 1}));

    // On a bus the yellow code rides wearing a mask.
    let (bus, bus_key) = register_venue(&app, "K155路公交", "bus").await;
    let (_, decision) = scan(yellow, venue_code(&app, &bus, &bus_key).await).await;
    assert_eq!(
        (decision["outcome"].as_str(), decision["reason"].as_str()),
        (Some("allow_with_mask"), Some("yellow_transport_with_mask"))
    );
}

async fn gates_read_codes_and_id_cards_and_see_only_colour_and_masked_name(app: TestApp) {
    let (museum, key) = register_venue(&app, "浙江省博物馆", "museum").await;
    let (status, device) =
        app.post_with_key(&format!("/v1/venues/{museum}/devices"), &key, r#"{"label":"东门"}"#).await;
    assert_eq!(status, 201, "{device}");
    let device_key = device["device_key"].as_str().unwrap().to_string();
    let (status, _) = app.post_with_key(&format!("/v1/venues/{museum}/devices"), "hcv_nope", r#"{"label":"x"}"#).await;
    assert_eq!(status, 401, "only the operator registers devices");

    let person = register_named(&app, "33010619800101123", "王小明").await;
    let code = token(&app, &person).await["token"].as_str().unwrap().to_string();
    // Until a provincial officer approves the device, it checks nobody.
    let (status, refused) = app.post_with_key("/v1/gate/check", &device_key, json!({ "code": code }).to_string()).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden")), "{refused}");
    let approve = format!("/v1/devices/{}/approve", device["device"]["id"].as_str().unwrap());
    assert_eq!(app.post_with_key(&approve, &app.keys["local"], "").await.0, 403, "a local office does not approve");
    let (status, approved) = app.post_with_key(&approve, &app.keys["provincial"], "").await;
    assert_eq!((status, approved["device"]["approved_by"].as_str()), (200, Some("provincial")), "{approved}");
    assert_eq!(app.post_with_key(&approve, &app.keys["provincial2"], "").await.0, 409, "approved once");
    let (status, answer) = app.post_with_key("/v1/gate/check", &device_key, json!({ "code": code }).to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"], "allow");
    assert_eq!(answer["masked_name"], "王*明");
    let keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["category", "colour", "masked_name", "message", "outcome", "reason", "venue"], "nothing more");

    // An elderly resident without a phone, by ID card: admitted wearing a mask.
    let card = json!({"id_type": "resident_id", "id_number": resident_id("33010619400101777")});
    let (_, answer) = app.post_with_key("/v1/gate/check", &device_key, card.to_string()).await;
    assert_eq!(
        (answer["outcome"].as_str(), answer["reason"].as_str()),
        (Some("allow_with_mask"), Some("id_card_with_mask"))
    );
    assert!(!answer.to_string().contains("33010619400101777"), "the ID number is never echoed");
    let looked_up = app.service.person_id_for(
        &healthcode_domain::IdDocument::parse("resident_id", &resident_id("33010619400101777")).unwrap(),
    );
    assert_eq!(app.store.person(&looked_up).await.unwrap(), None, "a lookup registers nobody");

    // A forged code is a verdict (deny with the reason), not an error.
    let (_, answer) = app.post_with_key("/v1/gate/check", &device_key, r#"{"code":"HC1:XYZ"}"#).await;
    assert_eq!((answer["outcome"].as_str(), answer["reason"].as_str()), (Some("deny"), Some("bad_encoding")));

    let (status, answer) = app.post("/v1/gate/check", json!({ "code": code }).to_string()).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("unauthorised")));
    let (status, _) = app.post_with_key("/v1/gate/check", "hcd_unknown", json!({ "code": code }).to_string()).await;
    assert_eq!(status, 401);
    let (status, answer) =
        app.post_with_key("/v1/gate/check", &device_key, r#"{"code":"a","id_type":"passport"}"#).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("invalid_input")));
}

async fn the_trust_list_is_cacheable_and_changes_with_the_keys(app: TestApp) {
    let first = app.client.get(app.url("/v1/trust-list")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "public, max-age=300");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let again = app.client.get(app.url("/v1/trust-list")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    let mut ring = (*app.service.tokens().key_ring()).clone();
    ring.rotate(app.service.now().as_millis() / 1000 + 1);
    app.service.tokens().set_key_ring(ring);
    let changed = app.client.get(app.url("/v1/trust-list")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(changed.status(), 200, "a rotation publishes a new list");
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    let list: Value = changed.json().await.unwrap();
    assert_eq!(list["trust_list"].as_str().map(|t| t.matches("\"kid\"").count()), Some(2), "{list}");
}

async fn an_international_code_shows_orange_and_is_barred_like_red(app: TestApp) {
    let (status, answer) =
        app.post("/v1/persons", r#"{"id_type":"passport","id_number":"E12345678","name":"John Smith"}"#).await;
    assert_eq!(status, 201, "{answer}");
    let person = answer["person_id"].as_str().unwrap().to_string();
    let (status, _) = app
        .post("/v1/events", json!({"id": "cdc-7", "person_id": person, "type": "close_contact", "exposure_at": "2020-05-31T08:00:00+08:00"}).to_string())
        .await;
    assert_eq!(status, 201);
    let issued = token(&app, &person).await;
    assert_eq!((issued["colour"].as_str(), issued["kind"].as_str()), (Some("orange"), Some("international")));
    assert_eq!(issued["masked_name"], "J*** S****");
    let (taxi, key) = register_venue(&app, "出租车 浙A·T1234", "taxi").await;
    let (_, decision) = app
        .post(
            "/v1/checkins",
            json!({"person_id": person, "venue_code": venue_code(&app, &taxi, &key).await}).to_string(),
        )
        .await;
    assert_eq!((decision["outcome"].as_str(), decision["reason"].as_str()), (Some("deny"), Some("red_code_barred")));
}

async fn contact_tracing_lists_contacts_and_only_an_approved_confirmation_turns_them_red(app: TestApp) {
    let (market, key) = register_venue(&app, "联华超市", "supermarket").await;
    let case = register_named(&app, "33010619800101123", "张三").await;
    let near = register_named(&app, "33010619800202456", "李四").await;
    let nearish = register_named(&app, "33010619800303789", "王五").await;
    let later = register_named(&app, "33010619800404012", "赵六").await;
    let start = app.service.now();
    // Each scans the code shown at the venue when they come (it changes every minute).
    for (person, minutes) in [(&case, 0), (&near, 10), (&nearish, 25), (&later, 180)] {
        app.clock.set(Timestamp::from_millis(start.as_millis() + minutes * 60_000));
        let code = venue_code(&app, &market, &key).await;
        let (status, decision) =
            app.post("/v1/checkins", json!({"person_id": person, "venue_code": code}).to_string()).await;
        assert_eq!((status, decision["outcome"].as_str()), (200, Some("allow")), "{decision}");
    }
    let request = json!({"case_person_id": case, "from": "2020-05-25T00:00:00+08:00", "to": "2020-06-02T00:00:00+08:00",
                         "window_minutes": 30});
    let (status, refused) = app.post_with_key("/v1/traces", &app.keys["local"], request.to_string()).await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("case_person_id")),
        "not a case yet: {refused}"
    );
    let (status, diagnosed) = app
        .post(
            "/v1/events",
            json!({"id": "dx-1", "person_id": case, "type": "diagnosis", "status": "confirmed"}).to_string(),
        )
        .await;
    assert_eq!(status, 201, "{diagnosed}");

    let (status, _) = app.post_with_key("/v1/traces", &app.keys["health"], request.to_string()).await;
    assert_eq!(status, 403, "a data feed does not trace");
    let (status, traced) = app.post_with_key("/v1/traces", &app.keys["local"], request.to_string()).await;
    assert_eq!(status, 201, "{traced}");
    let contacts = traced["trace"]["contacts"].as_array().unwrap();
    let listed: Vec<(&str, i64)> =
        contacts.iter().map(|c| (c["person"].as_str().unwrap(), c["gap_minutes"].as_i64().unwrap())).collect();
    assert_eq!(listed, [(near.as_str(), 10), (nearish.as_str(), 25)], "within the window, nearest first");
    assert_eq!(contacts[0]["venue"], market.as_str());
    for person in [&near, &nearish, &later] {
        let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
        assert_eq!(code["colour"], "green", "a list turns nobody red");
    }

    let id = traced["trace"]["id"].as_str().unwrap();
    let (status, refused) = app
        .post_with_key(&format!("/v1/traces/{id}/confirm"), &app.keys["local"], json!({"persons": [later]}).to_string())
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("persons")), "only listed contacts: {refused}");
    let (status, confirmed) = app
        .post_with_key(&format!("/v1/traces/{id}/confirm"), &app.keys["local"], json!({"persons": [near]}).to_string())
        .await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(confirmed["trace"]["pending"]["proposed_by"], "local");
    let (_, code) = app.get(&format!("/v1/persons/{near}/code")).await;
    assert_eq!(code["colour"], "green", "a confirmation waits for another officer's approval");
    let approve = format!("/v1/traces/{id}/approve");
    assert_eq!(app.post_with_key(&approve, &app.keys["local"], "").await.0, 403, "a local office does not approve");
    let (status, approved) = app.post_with_key(&approve, &app.keys["provincial"], "").await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["trace"]["confirmed"], json!([near]));
    assert_eq!(approved["trace"]["confirmations"][0]["approved_by"], "provincial");
    assert_eq!(app.post_with_key(&approve, &app.keys["provincial2"], "").await.0, 409, "nothing left to approve");
    let (_, code) = app.get(&format!("/v1/persons/{near}/code")).await;
    assert_eq!((code["colour"].as_str(), code["reasons"][0]["rule"].as_str()), (Some("red"), Some("R2")), "{code}");
    let (_, code) = app.get(&format!("/v1/persons/{nearish}/code")).await;
    assert_eq!(code["colour"], "green", "not confirmed, not red");
}

/// 同行: a parent scans once for themself and the family members they act for; each is
/// decided by their own code. Nobody else can be brought along.
async fn companions_check_in_with_one_scan_each_by_their_own_code(app: TestApp) {
    let (market, key) = register_venue(&app, "联华超市", "supermarket").await;
    let body =
        json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123"), "residence_area": "330106"});
    let (_, me) = app.post("/v1/persons", body.to_string()).await;
    let (parent, parent_key) =
        (me["person_id"].as_str().unwrap().to_string(), me["resident_key"].as_str().unwrap().to_string());
    let mut family = Vec::new();
    for (card, relation) in [("33010619500101111", "parent"), ("33010620150101222", "child")] {
        let body = json!({"id_type": "resident_id", "id_number": resident_id(card), "relation": relation});
        let (status, added) = app.post_with_key("/v1/me/dependants", &parent_key, body.to_string()).await;
        assert_eq!(status, 201, "{added}");
        family.push(added["person_id"].as_str().unwrap().to_string());
    }
    fever(&app, &family[1], "clinic-child").await;
    let stranger = register_named(&app, "33010619800202456", "李四").await;

    let code = venue_code(&app, &market, &key).await;
    let scan = json!({"person_id": parent, "venue_code": code, "companions": [family[0], family[1]]});
    let (status, decided) = app.post_with_key("/v1/checkins", &parent_key, scan.to_string()).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["outcome"], "allow", "the parent: {decided}");
    let companions = decided["companions"].as_array().unwrap();
    assert_eq!((companions[0]["outcome"].as_str(), companions[1]["outcome"].as_str()), (Some("allow"), Some("deny")));
    assert_eq!(companions[1]["reason"], "yellow_restricted_venue", "the child's own fever decides for the child");
    let (_, counts) = app.get_with_key(&format!("/v1/venues/{market}/checkins/today"), &key).await;
    assert_eq!(counts["checkins"], json!({"allow": 2, "allow_with_mask": 0, "deny": 1}), "three check-ins");

    // A stranger cannot be brought along, and then nobody of the group is checked in.
    let scan =
        json!({"person_id": parent, "venue_code": venue_code(&app, &market, &key).await, "companions": [stranger]});
    let (status, refused) = app.post_with_key("/v1/checkins", &parent_key, scan.to_string()).await;
    assert_eq!(status, 403, "{refused}");
    let (_, counts) = app.get_with_key(&format!("/v1/venues/{market}/checkins/today"), &key).await;
    assert_eq!(counts["checkins"]["allow"], 2, "nothing recorded for a refused group");
    // The grandmother's access log shows the check-in by her proxy.
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{}/accesses", family[0]), &parent_key).await;
    assert!(accesses.to_string().contains("check-in"), "{accesses}");
}

/// For people without a phone (seed 001): a card printed once that names no colour; the
/// gate asks the server for the holder's colour now, and a revoked card opens nothing.
/// A counter registers a person in front of it and prints their card, as the official.
async fn a_printed_card_opens_a_gate_by_the_colour_now_and_never_once_revoked(app: TestApp) {
    let (museum, key) = register_venue(&app, "浙江省博物馆", "museum").await;
    let (_, device) = app.post_with_key(&format!("/v1/venues/{museum}/devices"), &key, r#"{"label":"东门"}"#).await;
    let device_key = device["device_key"].as_str().unwrap().to_string();
    let approve = format!("/v1/devices/{}/approve", device["device"]["id"].as_str().unwrap());
    assert_eq!(app.post_with_key(&approve, &app.keys["provincial"], "").await.0, 200);
    let gate = |token: String| {
        let (app, device_key) = (&app, device_key.clone());
        async move { app.post_with_key("/v1/gate/check", &device_key, json!({ "code": token }).to_string()).await.1 }
    };

    let person = register_named(&app, "33010619400101777", "王小明").await;
    let (status, printed) = app.post(&format!("/v1/persons/{person}/cards"), "").await;
    assert_eq!(status, 201, "{printed}");
    let card = printed["card"]["token"].as_str().unwrap().to_string();
    assert!(card.starts_with("HP1:") && printed["svg"].as_str().unwrap().contains("<svg"));
    let answer = gate(card.clone()).await;
    assert_eq!(
        (answer["outcome"].as_str(), answer["masked_name"].as_str()),
        (Some("allow"), Some("王*明")),
        "{answer}"
    );

    // A fever a week later: the same card now meets a yellow code.
    advance(&app, 7 * 24 * 3600);
    fever(&app, &person, "clinic-1").await;
    let answer = gate(card.clone()).await;
    assert_eq!(answer["colour"], "yellow", "the colour is asked at the gate, not printed: {answer}");

    // Lost: revoked by its holder, it opens nothing; a stranger cannot print or revoke it.
    let card_id = printed["card"]["card_id"].as_str().unwrap().to_string();
    let stranger = app
        .post(
            "/v1/persons",
            json!({"id_type": "resident_id", "id_number": resident_id("33010619800202456")}).to_string(),
        )
        .await
        .1;
    let stranger_key = stranger["resident_key"].as_str().unwrap();
    assert_eq!(app.post_with_key(&format!("/v1/persons/{person}/cards"), stranger_key, "").await.0, 403);
    let revoke = format!("/v1/persons/{person}/cards/{card_id}/revoke");
    assert_eq!(app.post_with_key(&revoke, stranger_key, "").await.0, 403);
    assert_eq!(app.post(&revoke, "").await.0, 200);
    assert_eq!(app.post(&revoke, "").await.0, 409, "revoked once");
    let answer = gate(card).await;
    assert_eq!(
        (answer["outcome"].as_str(), answer["reason"].as_str()),
        (Some("deny"), Some("revoked_card")),
        "{answer}"
    );

    // At a counter: someone never registered, papers checked, registered in the
    // office's district, given a key on paper and a printed card, all as the official's acts.
    let papers =
        json!({"id_type": "resident_id", "id_number": resident_id("33010619380101555"), "residence_area": "330106"});
    let (status, given) = app.post_with_key("/v1/residents/keys", &app.keys["local"], papers.to_string()).await;
    assert_eq!(status, 200, "{given}");
    let newcomer = given["person_id"].as_str().unwrap().to_string();
    let newcomer_key = given["resident_key"].as_str().unwrap().to_string();
    let counter = json!({"id_type": "resident_id", "id_number": resident_id("33010619380101555")});
    let (status, printed) = app.post_with_key("/v1/residents/cards", &app.keys["local"], counter.to_string()).await;
    assert_eq!((status, printed["person_id"].as_str()), (201, Some(newcomer.as_str())), "{printed}");
    let answer = gate(printed["card"]["token"].as_str().unwrap().to_string()).await;
    assert_eq!(answer["outcome"], "allow", "{answer}");
    let (_, accesses) = app.get_with_key(&format!("/v1/persons/{newcomer}/accesses"), &newcomer_key).await;
    let purposes: Vec<&str> =
        accesses["accesses"].as_array().unwrap().iter().filter_map(|a| a["purpose"].as_str()).collect();
    for act in ["register at a service counter", "give a key at a service counter", "print a card at a service counter"]
    {
        assert!(purposes.contains(&act), "{act}: {accesses}");
    }
    assert!(accesses.to_string().contains("\"actor\":\"local\""), "each as the official's: {accesses}");
    // Outside the office's district: neither registered nor printed.
    let elsewhere =
        json!({"id_type": "resident_id", "id_number": resident_id("31010119380101555"), "residence_area": "310101"});
    assert_eq!(app.post_with_key("/v1/residents/keys", &app.keys["local"], elsewhere.to_string()).await.0, 403);
    let unknown = json!({"id_type": "resident_id", "id_number": resident_id("31010119380101555")});
    assert_eq!(app.post_with_key("/v1/residents/cards", &app.keys["local"], unknown.to_string()).await.0, 404);
    let revoke = json!({"id_type": "resident_id", "id_number": resident_id("33010619380101555"),
                        "card_id": printed["card"]["card_id"]});
    assert_eq!(app.post_with_key("/v1/residents/cards/revoke", &app.keys["local"], revoke.to_string()).await.0, 200);
}
