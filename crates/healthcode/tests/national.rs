//! The national exchange as separate processes (issue 15): a hub and three regions, each
//! with its own port and store — Henan and Zhejiang on SQLite, Fujian on PostgreSQL (when
//! one is reachable). The three paths of seed 004: Zhejiang accepts a Henan code offline
//! under an agreement the hub's operator recorded (path 1); a close contact reported in
//! Henan reaches a visitor who registers in Zhejiang and Fujian, judged there by their
//! rules (path 2, the local code from national data), and Henan's retraction follows; a
//! worker of a region without a code holds the hub's national code, which takes in Henan's
//! record and which Zhejiang recognises (path 3). Henan's key is stolen: Henan revokes it
//! from the theft on, the revocation travels, and Zhejiang withdraws what the key signed
//! since; a twin of the hub (same key, another history) shown to Guangdong is caught by
//! the regions comparing checkpoints; the hub goes down and comes back (regions keep
//! serving codes, and records queued meanwhile arrive afterwards); Henan goes down and its
//! unexpired codes still pass elsewhere.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{account, command_in, healthcode, serve_with, Backend, Server};
use serde_json::{json, Value};

const VISITOR: &str = "410105199001011233";
const SECOND_VISITOR: &str = "410105198502020010";
/// A worker from a region without a code of its own (the hub issues theirs).
/// A Henan resident who tests positive after a visit to a supermarket.
const TRACED_CASE: &str = "410105197505050026";
/// A Zhejiang resident who was at that supermarket at the same time.
const TRAVELLER: &str = "330106199206060035";
const NATIONAL_HOLDER: &str = "540102199203030010";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_and_regions_as_processes_three_paths_corrections_key_changes_outages_and_a_lying_hub() {
    let root = tempfile::tempdir().unwrap();
    let national_key = root.path().join("national.key");
    std::fs::write(&national_key, [42u8; 32]).unwrap();
    let client = reqwest::Client::new();

    // The hub, its accounts for the regions, and its log key (pinned by each region).
    let hub_dir = root.path().join("hub");
    let hub_port = free_port();
    let mut keys_at_hub = Vec::new();
    for (name, province) in [("henan", "410000"), ("zhejiang", "330000"), ("fujian", "350000")] {
        keys_at_hub.push(account(&hub_dir, &Backend::Sqlite, name, &["--role", "region", "--jurisdiction", province]));
    }
    let hub = start_hub(&hub_dir, hub_port, &national_key);
    let hub_log_key = root.path().join("hub-log.key");
    let key_text = client.get(format!("{}/v1/log/key", hub.base)).send().await.unwrap().text().await.unwrap();
    assert!(key_text.starts_with("healthcode/national-hub/log+"), "{key_text}");
    std::fs::write(&hub_log_key, key_text).unwrap();

    let postgres = Postgres::open().await;
    let link = |dir: &Path, key: &str| {
        let key_file = dir.join("at-hub.key");
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(&key_file, key).unwrap();
        HubArgs {
            hub: hub.base.clone(),
            log_key: hub_log_key.clone(),
            api_key: key_file,
            national: national_key.clone(),
        }
    };
    let henan_dir = root.path().join("henan");
    let henan_feed = account(&henan_dir, &Backend::Sqlite, "cdc", &["--role", "data_source", "--department", "health"]);
    let henan_officers: Vec<String> = ["officer-li", "officer-zhao"]
        .iter()
        .map(|name| {
            account(&henan_dir, &Backend::Sqlite, name, &["--role", "provincial_office", "--jurisdiction", "410000"])
        })
        .collect();
    let henan = start_region(&henan_dir, &Backend::Sqlite, "41", &link(&henan_dir, &keys_at_hub[0]), &[]);
    // A twin of the hub: the same log key, another store. It shows Guangdong a history of
    // its own; Guangdong and Zhejiang compare the checkpoints they hold and catch it.
    let twin_dir = root.path().join("twin");
    std::fs::create_dir_all(twin_dir.join("keys")).unwrap();
    std::fs::copy(hub_dir.join("keys/log.key"), twin_dir.join("keys/log.key")).unwrap();
    let at_twin = account(&twin_dir, &Backend::Sqlite, "guangdong", &["--role", "region", "--jurisdiction", "440000"]);
    let twin = start_hub(&twin_dir, free_port(), &national_key);
    let guangdong_dir = root.path().join("guangdong");
    let guangdong = {
        let mut args = link(&guangdong_dir, &at_twin);
        args.hub = twin.base.clone();
        start_region(&guangdong_dir, &Backend::Sqlite, "44", &args, &[])
    };
    let zhejiang_dir = root.path().join("zhejiang");
    let zhejiang_telecom =
        account(&zhejiang_dir, &Backend::Sqlite, "mobile", &["--role", "data_source", "--department", "telecom"]);
    let zhejiang_organiser = account(&zhejiang_dir, &Backend::Sqlite, "rail-charter", &["--role", "group_organiser"]);
    let zhejiang_officers: Vec<String> = ["officer-qian", "officer-sun"]
        .iter()
        .map(|name| {
            account(&zhejiang_dir, &Backend::Sqlite, name, &["--role", "provincial_office", "--jurisdiction", "330000"])
        })
        .collect();
    let zhejiang = start_region(
        &zhejiang_dir,
        &Backend::Sqlite,
        "33",
        &link(&zhejiang_dir, &keys_at_hub[1]),
        &[&henan.base, &guangdong.base],
    );
    let fujian_dir = root.path().join("fujian");
    let fujian = postgres.as_ref().map(|pg| {
        start_region(
            &fujian_dir,
            &pg.backend,
            "35",
            &link(&fujian_dir, &keys_at_hub[2]),
            &[&henan.base, &zhejiang.base],
        )
    });

    // Path 1: the hub registers the regions' root keys and an agreement (Zhejiang
    // recognises Henan's codes); Henan's keys reach Zhejiang, whose verifier then accepts a
    // Henan code offline, naming its issuer.
    for (code, dir) in [("41", &henan_dir), ("33", &zhejiang_dir)] {
        let root = keys_root(dir);
        operator(&hub_dir, &["hub", "register-region", code, "--root-key", &root]);
    }
    operator(&hub_dir, &["hub", "agree", "--receiving", "33", "--issuing", "41"]);
    let (worker, worker_key) = register(&client, &henan.base, "410105197001010012").await;
    let token = token_of(&client, &henan.base, &worker, &worker_key).await;
    // The hub's agreement alone changes nothing in Zhejiang: two of its officers confirm it.
    let (_, verdict) = post(&client, &zhejiang.base, "", "/v1/verify", &json!({ "token": token })).await;
    assert_eq!(verdict["valid"], false, "{verdict}");
    confirm_agreement(&client, &zhejiang.base, &zhejiang_officers, "41").await;
    let accepted = wait_until(|| async {
        let (_, verdict) = post(&client, &zhejiang.base, "", "/v1/verify", &json!({ "token": token })).await;
        verdict["valid"] == true && verdict["code"]["issuer"] == "41"
    })
    .await;
    assert!(accepted, "Zhejiang accepts Henan's code under the agreement");
    let (_, verdict) = post(&client, &henan.base, "", "/v1/verify", &json!({ "token": token })).await;
    assert_eq!(verdict["valid"], true, "Henan's own code at home");
    // Henan knows Zhejiang's keys (every region's list is published) but has no agreement
    // that way: Zhejiang's code is refused there as `no_agreement`, not as a forgery.
    let (resident, resident_key) = register(&client, &zhejiang.base, "330106198001011235").await;
    let zhejiang_token = token_of(&client, &zhejiang.base, &resident, &resident_key).await;
    let refused = wait_until(|| async {
        let (_, verdict) = post(&client, &henan.base, "", "/v1/verify", &json!({ "token": zhejiang_token })).await;
        verdict["valid"] == false && verdict["reason"] == "no_agreement"
    })
    .await;
    assert!(refused, "one-way agreement");
    // Path 2: the Henan worker converts in Zhejiang with the home code. Zhejiang reads the
    // code as its verifier would, registers the worker, records the arrival as recognised,
    // and gives the colour its own rules compute.
    let conversion = json!({"id_type": "resident_id", "id_number": "410105197001010012", "name": "王五",
                            "origin": "410105", "home_code": token});
    let (status, converted) = post(&client, &zhejiang.base, "", "/v1/conversions", &conversion).await;
    assert_eq!(status, 201, "{converted}");
    assert_eq!(
        (&converted["home_code"]["issuer"], &converted["home_code"]["counts_as"]),
        (&json!("41"), &json!("recognised"))
    );
    assert_eq!(converted["code"]["colour"], "green", "{converted}");

    // Henan's signing key is stolen: two close contacts it signed reach Zhejiang, one
    // before the time Henan then gives for the theft, one after it.
    let mut contacts = Vec::new();
    let mut compromised_since = String::new();
    for (id, number) in [("cc-before", "330106198501011231"), ("cc-after", "330106198602022239")] {
        let (person, key) = register(&client, &zhejiang.base, number).await;
        let contact = json!({"id": id, "type": "close_contact", "id_type": "resident_id", "id_number": number,
                             "exposure_at": "2022-04-30T20:00:00+08:00"});
        assert_eq!(post(&client, &henan.base, &henan_feed, "/v1/events", &contact).await.0, 201);
        let turned =
            wait_until(|| async { code_of(&client, &zhejiang.base, &person, &key).await["colour"] != "green" }).await;
        assert!(turned, "{id} reached Zhejiang");
        contacts.push((person, key));
        if compromised_since.is_empty() {
            // The hub took the first record before now; the theft starts at the next whole
            // second (key times are whole seconds), and the second record comes after it.
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
            let next_second = (now / 1000 + 1) * 1000;
            compromised_since = healthcode_domain::Timestamp::from_millis(next_second).to_rfc3339();
            tokio::time::sleep(Duration::from_millis((next_second - now) as u64 + 100)).await;
        }
    }

    // Henan revokes the key from then on (a new one takes over): once its new list has gone
    // through the hub, Zhejiang refuses the codes the old key signed and accepts the new,
    // withdraws the record the key signed after the theft (its resident's code turns back,
    // and an alarm in Zhejiang's log says so) and keeps the one from before.
    let old_kid = signing_kid(&henan_dir);
    let out = healthcode()
        .args(["keys", "revoke", &old_kid, "--compromised-since", &compromised_since, "--file"])
        .arg(henan_dir.join("keys/signing.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed =
        healthcode().args(["keys", "list", "--file"]).arg(henan_dir.join("keys/signing.json")).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("compromised since"), "{listed:?}");
    let revoked = wait_until(|| async {
        let (_, verdict) = post(&client, &zhejiang.base, "", "/v1/verify", &json!({ "token": token })).await;
        verdict["reason"] == "revoked_key"
    })
    .await;
    assert!(revoked, "the revocation reached Zhejiang through the hub");
    let (before, after) = (&contacts[0], &contacts[1]);
    let withdrawn =
        wait_until(|| async { code_of(&client, &zhejiang.base, &after.0, &after.1).await["colour"] == "green" }).await;
    assert!(withdrawn, "the record the stolen key signed after the theft was withdrawn in Zhejiang");
    let kept = code_of(&client, &zhejiang.base, &before.0, &before.1).await;
    assert_ne!(kept["colour"], "green", "the record signed before the theft stays: {kept}");
    assert!(log_has_alarm(&client, &zhejiang.base, "national_records_withdrawn").await);
    let renewed = wait_until(|| async {
        let fresh = token_of(&client, &henan.base, &worker, &worker_key).await;
        let (_, verdict) = post(&client, &zhejiang.base, "", "/v1/verify", &json!({ "token": fresh })).await;
        verdict["valid"] == true
    })
    .await;
    assert!(renewed, "Henan's new key verifies in Zhejiang");
    let token = token_of(&client, &henan.base, &worker, &worker_key).await;

    // A return-to-work train: the operator checks its roster in Zhejiang, each member with
    // the code they showed; it learns colours, not reasons. Only a group organiser may.
    let roster = json!({"reference": "G1234", "origin": "410105", "members": [
        {"id_type": "resident_id", "id_number": "410105197001010012", "name": "王五", "code": token},
        {"id_type": "resident_id", "id_number": "410105197001010012", "name": "王五", "code": "HC1:forged"}]});
    let (status, checked) = post(&client, &zhejiang.base, &zhejiang_organiser, "/v1/groups", &roster).await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!((checked["checked"].as_u64(), checked["refused"].as_u64()), (Some(1), Some(1)), "{checked}");
    assert_eq!(checked["members"][0]["shown"]["issuer"], "41", "{checked}");
    assert!(checked["members"][0]["colour"].is_string() && checked["members"][1]["field"] == "code", "{checked}");
    assert_eq!(post(&client, &zhejiang.base, &zhejiang_telecom, "/v1/groups", &roster).await.0, 403);

    // The twin hub is caught: the region whose view is larger asks its own hub for the
    // proof that the other's checkpoint is part of its history, and cannot get it.
    let caught = wait_until(|| async {
        log_has_alarm(&client, &zhejiang.base, "hub_equivocation").await
            || log_has_alarm(&client, &guangdong.base, "hub_equivocation").await
    })
    .await;
    assert!(caught, "a hub that showed two regions different histories was caught");
    drop((twin, guangdong));

    // Path 1 at venues: Henan recognises Zhejiang's codes too, so a Zhejiang resident
    // checks in at a Henan supermarket with Zhejiang's app (the visit stays in Zhejiang). A
    // Henan case was there at the same time; one Henan officer traces the case and asks to
    // publish its visit, another approves; the hub publishes the venue and the window,
    // naming nobody; Zhejiang finds its resident among its own check-ins.
    operator(&hub_dir, &["hub", "agree", "--receiving", "41", "--issuing", "33"]);
    let shop = json!({"name": "河南超市", "category": "supermarket", "area": "410105"});
    let (status, shop) = post(&client, &henan.base, "", "/v1/venues", &shop).await;
    assert_eq!(status, 201, "{shop}");
    let (shop_id, shop_key) = (shop["venue"]["id"].as_str().unwrap(), shop["operator_key"].as_str().unwrap());
    let shop_code = || async {
        let url = format!("{}/v1/venues/{shop_id}/code", henan.base);
        let answer: Value = client.get(url).bearer_auth(shop_key).send().await.unwrap().json().await.unwrap();
        answer["code"]["token"].as_str().unwrap().to_string()
    };
    let checkin = |person: &str, venue_code: String| json!({"person_id": person, "venue_code": venue_code});
    let (case, case_key) = register(&client, &henan.base, TRACED_CASE).await;
    let (status, answer) =
        post(&client, &henan.base, &case_key, "/v1/checkins", &checkin(&case, shop_code().await)).await;
    assert_eq!(status, 200, "{answer}");
    let (traveller, traveller_key) = register(&client, &zhejiang.base, TRAVELLER).await;
    let visited = wait_until(|| async {
        let body = checkin(&traveller, shop_code().await);
        let (status, answer) = post(&client, &zhejiang.base, &traveller_key, "/v1/checkins", &body).await;
        status == 200 && answer["venue_region"] == "41" && answer["venue"] == shop_id
    })
    .await;
    assert!(visited, "Zhejiang's app checked in at Henan's venue once the agreement reached it");
    let now = healthcode_domain::Timestamp::from_millis(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64,
    );
    let positive = json!({"id": "pos-case", "type": "test", "result": "positive", "id_type": "resident_id",
                          "id_number": TRACED_CASE, "sampled_at": now.to_rfc3339()});
    assert_eq!(post(&client, &henan.base, &henan_feed, "/v1/events", &positive).await.0, 201);
    let period = json!({"case_person_id": case, "window_minutes": 30,
                        "from": healthcode_domain::Timestamp::from_millis(now.as_millis() - 3_600_000).to_rfc3339(),
                        "to": healthcode_domain::Timestamp::from_millis(now.as_millis() + 60_000).to_rfc3339()});
    let (status, traced) = post(&client, &henan.base, &henan_officers[0], "/v1/traces", &period).await;
    assert_eq!(status, 201, "{traced}");
    assert_eq!(traced["trace"]["visits"].as_array().map(Vec::len), Some(1), "{traced}");
    let trace_path = format!("/v1/traces/{}", traced["trace"]["id"].as_str().unwrap());
    let publish = json!({"persons": [], "publish_visits": true});
    let (status, confirmed) =
        post(&client, &henan.base, &henan_officers[0], &format!("{trace_path}/confirm"), &publish).await;
    assert_eq!(status, 200, "{confirmed}");
    let (status, approved) =
        post(&client, &henan.base, &henan_officers[1], &format!("{trace_path}/approve"), &json!({})).await;
    assert_eq!(status, 200, "{approved}");
    let reached = wait_until(|| async {
        code_of(&client, &zhejiang.base, &traveller, &traveller_key).await["colour"] != "green"
    })
    .await;
    assert!(reached, "Henan's exposure reached the Zhejiang resident who was there");
    let code = code_of(&client, &zhejiang.base, &traveller, &traveller_key).await;
    assert!(code.to_string().contains(r#""reported_by_region":"41""#), "{code}");

    // Path 3: a worker from a region without a code of its own holds the national code,
    // issued by the hub (region 00) under its rules; Zhejiang recognises it.
    operator(&hub_dir, &["hub", "agree", "--receiving", "33", "--issuing", "00"]);
    confirm_agreement(&client, &zhejiang.base, &zhejiang_officers, "00").await;
    let (national_holder, national_key_of_holder) = register(&client, &hub.base, NATIONAL_HOLDER).await;

    // Henan's health department reports a close contact, by document.
    let contact = json!({"id": "cc-1", "type": "close_contact", "id_type": "resident_id", "id_number": VISITOR,
                         "exposure_at": "2022-04-30T20:00:00+08:00"});
    assert_eq!(post(&client, &henan.base, &henan_feed, "/v1/events", &contact).await.0, 201);
    let published = wait_for_record(&client, &hub.base, "cc-1").await;

    // The visitor registers in Zhejiang (and Fujian): what the hub published about them is
    // evidence there, judged by the local rules and explained with its origin.
    let mut visiting = vec![(&zhejiang, "33")];
    visiting.extend(fujian.as_ref().map(|f| (f, "35")));
    let mut visitors = Vec::new();
    for (region, code) in &visiting {
        wait_for_view(&client, &region.base, published).await;
        let (person, key) = register(&client, &region.base, VISITOR).await;
        let code_now = code_of(&client, &region.base, &person, &key).await;
        assert_ne!(code_now["colour"], "green", "region {code}: {code_now}");
        assert!(code_now.to_string().contains(r#""reported_by_region":"41""#), "region {code}: {code_now}");
        visitors.push((region.base.clone(), person, key));
    }

    // The national code takes in Henan's records too (the hub follows its own log), and
    // Zhejiang accepts it at its verifier, naming the hub as issuer.
    let holder_contact = json!({"id": "cc-n", "type": "close_contact", "id_type": "resident_id",
                                "id_number": NATIONAL_HOLDER, "exposure_at": "2022-04-30T21:00:00+08:00"});
    assert_eq!(post(&client, &henan.base, &henan_feed, "/v1/events", &holder_contact).await.0, 201);
    let turned = wait_until(|| async {
        code_of(&client, &hub.base, &national_holder, &national_key_of_holder).await["colour"] != "green"
    })
    .await;
    assert!(turned, "the national code took in Henan's record");
    let national_token = token_of(&client, &hub.base, &national_holder, &national_key_of_holder).await;
    let accepted = wait_until(|| async {
        let (_, verdict) = post(&client, &zhejiang.base, "", "/v1/verify", &json!({ "token": national_token })).await;
        verdict["valid"] == true && verdict["code"]["issuer"] == "00" && verdict["code"]["colour"] != "green"
    })
    .await;
    assert!(accepted, "Zhejiang accepts the national code under its agreement");

    // Henan withdraws it: the correction reaches every region that used it.
    let retraction = json!({"id": "r-1", "type": "retraction", "id_type": "resident_id", "id_number": VISITOR,
                            "retracts": "cc-1", "reason": "another person of the same name"});
    assert_eq!(post(&client, &henan.base, &henan_feed, "/v1/events", &retraction).await.0, 201);
    for (base, person, key) in &visitors {
        let green = wait_until(|| async { code_of(&client, base, person, key).await["colour"] == "green" }).await;
        assert!(green, "the retraction reached {base}");
    }

    // Henan's officers designate a district (two of them: a proposal and an approval); the
    // level reaches the hub's national list, its public page, and Zhejiang, where a
    // resident who stayed there turns yellow under Zhejiang's own rule, explained as
    // Henan's.
    let days_ago = |days: i64| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        healthcode_domain::Timestamp::from_millis(now - days * 86_400_000).to_rfc3339()
    };
    let trip = json!({"id": "trip-1", "type": "stay", "id_type": "resident_id", "id_number": "330106198001011235",
                      "area": "410105", "from": days_ago(3), "to": days_ago(1)});
    assert_eq!(post(&client, &zhejiang.base, &zhejiang_telecom, "/v1/events", &trip).await.0, 201);
    let (status, proposal) = post(
        &client,
        &henan.base,
        &henan_officers[0],
        "/v1/designations",
        &json!({"id": "jinshui-1", "area": "410105", "level": "medium"}),
    )
    .await;
    assert_eq!(status, 202, "{proposal}");
    let approve = format!("/v1/designations/proposals/{}/approve", proposal["proposal"]["id"].as_str().unwrap());
    let (status, approved) = post(&client, &henan.base, &henan_officers[1], &approve, &json!({})).await;
    assert_eq!(status, 200, "{approved}");
    wait_for_record(&client, &hub.base, "jinshui-1").await;
    let levels: Value =
        client.get(format!("{}/v1/hub/risk-levels", hub.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (&levels[0]["area"], &levels[0]["level"], &levels[0]["region"]),
        (&json!("410105"), &json!("medium"), &json!("41")),
        "{levels}"
    );
    let page = client.get(format!("{}/hub?lang=en", hub.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Jinshui District"), "the hub's page lists the area: {page}");
    let yellow = wait_until(|| async {
        let code = code_of(&client, &zhejiang.base, &resident, &resident_key).await;
        code["colour"] == "yellow" && code.to_string().contains(r#""reported_by_region":"41""#)
    })
    .await;
    assert!(yellow, "Henan's level reached Zhejiang, judged by Zhejiang's rules");

    // The hub goes down. Regions go on serving codes; Henan queues what it reports.
    drop(hub);
    let second = json!({"id": "cc-2", "type": "close_contact", "id_type": "resident_id", "id_number": SECOND_VISITOR,
                        "exposure_at": "2022-05-01T10:00:00+08:00"});
    assert_eq!(post(&client, &henan.base, &henan_feed, "/v1/events", &second).await.0, 201);
    let (base, person, key) = &visitors[0];
    assert_eq!(code_of(&client, base, person, key).await["colour"], "green", "Zhejiang answers without the hub");
    let page = client.get(format!("{}/?lang=en", zhejiang.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("National data as of"), "a region's pages say how old the national data is: {page}");
    let (second_person, second_key) = register(&client, &zhejiang.base, SECOND_VISITOR).await;
    assert_eq!(code_of(&client, &zhejiang.base, &second_person, &second_key).await["colour"], "green");

    // It comes back on the same address: the queued record is published and arrives.
    let hub = start_hub(&hub_dir, hub_port, &national_key);
    wait_for_record(&client, &hub.base, "cc-2").await;
    let red = wait_until(|| async {
        code_of(&client, &zhejiang.base, &second_person, &second_key).await["colour"] != "green"
    })
    .await;
    assert!(red, "the record Henan queued while the hub was down reached Zhejiang");

    // The regions compared the hub's checkpoints with each other: no alarm anywhere.
    for region in [&henan.base, &zhejiang.base].into_iter().chain(fujian.as_ref().map(|f| &f.base)) {
        let view: Value = client.get(format!("{region}/v1/national/view")).send().await.unwrap().json().await.unwrap();
        assert!(view["checkpoint"].as_str().is_some_and(|c| c.starts_with("healthcode/national-hub/log")), "{view}");
    }
    // The hub's public page and its JSON: the regions (when each last spoke to the hub)
    // and the agreements.
    let overview: Value =
        client.get(format!("{}/v1/hub/regions", hub.base)).send().await.unwrap().json().await.unwrap();
    let regions: Vec<&str> =
        overview["regions"].as_array().unwrap().iter().map(|r| r["region"].as_str().unwrap()).collect();
    assert_eq!(regions, ["00", "33", "41"], "{overview}");
    assert!(overview["regions"][2]["last_contact"].is_string(), "{overview}");
    assert_eq!(overview["agreements"].as_array().unwrap().len(), 3, "{overview}");
    let page = client.get(format!("{}/hub?lang=en", hub.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Henan") && page.contains("Agreements"), "{page}");
    assert_eq!(client.get(format!("{}/hub", zhejiang.base)).send().await.unwrap().status(), 404);

    // Honest regions comparing honest views raise nothing.
    if let Some(fujian) = &fujian {
        assert!(!log_has_alarm(&client, &fujian.base, "hub_equivocation").await, "a false alarm in Fujian");
    }
    for region in [&henan.base, &zhejiang.base] {
        assert!(!log_has_alarm(&client, region, "hub_forked").await, "a false alarm in {region}");
    }

    // Henan goes down: its unexpired codes still pass Zhejiang's verifier, offline.
    drop(henan);
    let (_, verdict) = post(&client, &zhejiang.base, "", "/v1/verify", &json!({ "token": token })).await;
    assert_eq!((verdict["valid"].as_bool(), verdict["code"]["issuer"].as_str()), (Some(true), Some("41")), "{verdict}");
    drop((hub, zhejiang, fujian));
    if let Some(pg) = postgres {
        pg.close().await;
    }
}

struct HubArgs {
    hub: String,
    log_key: PathBuf,
    api_key: PathBuf,
    national: PathBuf,
}

fn start_hub(dir: &Path, port: u16, national_key: &Path) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let mut command = command_in(dir, &["hub", "serve", "--listen", &listen, "--hub-sync-seconds", "1"]);
    command.arg("--national-key-file").arg(national_key).stderr(log_file(dir, "hub"));
    serve_with(&mut command)
}

fn start_region(dir: &Path, backend: &Backend, region: &str, hub: &HubArgs, peers: &[&String]) -> Server {
    let mut command: Command = command_in(dir, &["serve", "--listen", "127.0.0.1:0", "--region", region]);
    if let Backend::Postgres { .. } = backend {
        command.args(backend.args(dir));
    }
    command
        .args(["--hub-url", &hub.hub, "--hub-sync-seconds", "1", "--scheduler-seconds", "1"])
        .arg("--hub-log-key")
        .arg(&hub.log_key)
        .arg("--hub-api-key-file")
        .arg(&hub.api_key)
        .arg("--national-key-file")
        .arg(&hub.national)
        .stderr(log_file(dir, "region"));
    for peer in peers {
        command.args(["--peer", peer.as_str()]);
    }
    serve_with(&mut command)
}

/// Each process's warnings in a file beside its keys (read it to see why a step failed).
fn log_file(dir: &Path, what: &str) -> Stdio {
    std::fs::create_dir_all(dir).unwrap();
    let n = std::fs::read_dir(dir).unwrap().count();
    Stdio::from(std::fs::File::create(dir.join(format!("{what}-{n}.log"))).unwrap())
}

/// A region's trust-list root key, as `healthcode keys root` prints it.
fn keys_root(dir: &Path) -> String {
    let out = healthcode().args(["keys", "root", "--file"]).arg(dir.join("keys/signing.json")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The key a region signs with now, as `healthcode keys list` shows it.
fn signing_kid(dir: &Path) -> String {
    let out = healthcode().args(["keys", "list", "--file"]).arg(dir.join("keys/signing.json")).output().unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    let line = listing.lines().find(|l| l.ends_with("signing")).unwrap_or_else(|| panic!("{listing}"));
    line.split_whitespace().next().unwrap().to_string()
}

/// Whether a server's transparency log holds an alarm of this kind.
async fn log_has_alarm(client: &reqwest::Client, base: &str, kind: &str) -> bool {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut from = 0;
    loop {
        let Ok(response) = client.get(format!("{base}/v1/log/entries?from={from}")).send().await else { return false };
        let page: Value = response.json().await.unwrap_or(Value::Null);
        let Some(entries) = page["entries"].as_array().filter(|e| !e.is_empty()) else { return false };
        for e in entries {
            let leaf = base64::Engine::decode(&engine, e["data"].as_str().unwrap_or_default()).unwrap_or_default();
            let entry: Value = serde_json::from_slice(&leaf).unwrap_or(Value::Null);
            if entry["type"] == "alarm" && entry["kind"] == kind {
                return true;
            }
        }
        from += entries.len();
    }
}

/// An operator's command on the hub's machine (while it runs).
fn operator(hub_dir: &Path, args: &[&str]) {
    let out = command_in(hub_dir, args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn post(client: &reqwest::Client, base: &str, key: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = client.post(format!("{base}{path}")).bearer_auth(key).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Two provincial officers of a region confirm the agreement the hub published for it to
/// recognise `issuing`'s codes, once the region's sync has brought it: one proposes, the
/// other approves.
async fn confirm_agreement(client: &reqwest::Client, base: &str, officers: &[String], issuing: &str) {
    let path = format!("/v1/national/agreements/{issuing}/confirmation");
    let proposed = wait_until(|| async { post(client, base, &officers[0], &path, &json!({})).await.0 == 202 }).await;
    assert!(proposed, "the agreement with {issuing} reached the region and was proposed for confirmation");
    let (status, approved) = post(client, base, &officers[1], &format!("{path}/approve"), &json!({})).await;
    assert_eq!(status, 200, "{approved}");
}

async fn register(client: &reqwest::Client, base: &str, id_number: &str) -> (String, String) {
    let (status, answer) =
        post(client, base, "", "/v1/persons", &json!({"id_type": "resident_id", "id_number": id_number})).await;
    assert!(status == 201 || status == 200, "{status} {answer}");
    (answer["person_id"].as_str().unwrap().to_string(), answer["resident_key"].as_str().unwrap().to_string())
}

async fn token_of(client: &reqwest::Client, base: &str, person: &str, key: &str) -> String {
    let url = format!("{base}/v1/persons/{person}/token");
    let answer: Value = client.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap();
    answer["token"].as_str().unwrap().to_string()
}

async fn code_of(client: &reqwest::Client, base: &str, person: &str, key: &str) -> Value {
    let url = format!("{base}/v1/persons/{person}/code");
    client.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap()
}

/// The size of the hub's log once it holds the record `id`: the size a region must have
/// followed to have it.
async fn record_published(client: &reqwest::Client, hub: &str, id: &str) -> Option<u64> {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut from = 0;
    loop {
        let url = format!("{hub}/v1/log/entries?from={from}");
        let page: Value = client.get(url).send().await.ok()?.json().await.ok()?;
        let entries = page["entries"].as_array()?;
        if entries.is_empty() {
            return None;
        }
        for e in entries {
            let leaf = base64::Engine::decode(&engine, e["data"].as_str()?).ok()?;
            let entry: Value = serde_json::from_slice(&leaf).ok()?;
            if entry["type"] == "national_record" && entry["id"] == id {
                return Some(e["index"].as_u64()? + 1);
            }
        }
        from += entries.len() as u64;
    }
}

async fn wait_for_record(client: &reqwest::Client, hub: &str, id: &str) -> u64 {
    let start = Instant::now();
    loop {
        if let Some(size) = record_published(client, hub, id).await {
            return size;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the hub never published {id}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_for_view(client: &reqwest::Client, region: &str, size: u64) {
    let ok = wait_until(|| async {
        let Ok(response) = client.get(format!("{region}/v1/national/view")).send().await else { return false };
        let view: Value = response.json().await.unwrap_or(Value::Null);
        view["size"].as_u64().unwrap_or(0) >= size
    })
    .await;
    assert!(ok, "{region} did not follow the hub to size {size}");
}

/// Whether `check` holds within a minute: five processes on two cores shared with the rest
/// of the suite follow each other in seconds, but a busy moment has taken over thirty.
async fn wait_until<F: std::future::Future<Output = bool>>(check: impl Fn() -> F) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// A fresh schema for the PostgreSQL region; `None` (and a note) when none is reachable.
struct Postgres {
    admin: tokio_postgres::Client,
    schema: String,
    backend: Backend,
}

impl Postgres {
    async fn open() -> Option<Postgres> {
        let url = std::env::var("HEALTHCODE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let Ok((admin, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await else {
            let _ = writeln!(std::io::stderr(), "note: the PostgreSQL region was left out: cannot reach {url}");
            return None;
        };
        tokio::spawn(connection);
        let schema = format!("hc_national_{}", std::process::id());
        admin.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
        Some(Postgres { admin, backend: Backend::Postgres { url, schema: schema.clone() }, schema })
    }

    async fn close(self) {
        self.admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema)).await.unwrap();
    }
}
