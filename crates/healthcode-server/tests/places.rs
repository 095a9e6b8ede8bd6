//! Real places (issue 19), against a running server on both backends: an area that is no
//! division is refused with the nearest valid codes wherever a code comes in (a
//! registration, a designation, a stay from a feed, a venue); a code retired since is
//! still understood for evidence of its time; explanations and the place API speak in
//! names.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{resident_id, TestApp};
use serde_json::{json, Value};

common::on_both_backends!(
    unknown_areas_are_refused_with_suggestions_wherever_a_code_comes_in,
    a_retired_code_is_understood_for_evidence_of_its_time,
    explanations_and_the_place_api_speak_in_names,
);

fn suggested(error: &Value) -> Vec<String> {
    error["error"]["suggestions"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap().to_string()).collect()
}

async fn unknown_areas_are_refused_with_suggestions_wherever_a_code_comes_in(app: TestApp) {
    // A registration: 330106001 is no street of 西湖区.
    let body =
        json!({"id_type": "resident_id", "id_number": resident_id("33010619800101011"), "residence_area": "330106001"});
    let (status, refused) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "unknown_area");
    assert_eq!(refused["error"]["field"], "residence_area");
    assert!(suggested(&refused).contains(&"330106002".to_string()), "{refused}");
    assert!(
        refused["error"]["suggestions"][0]["name"].as_str().unwrap().starts_with("浙江省杭州市西湖区"),
        "{refused}"
    );
    let (stats_status, stats) = app.get("/v1/stats").await;
    assert_eq!((stats_status, stats["persons"].as_u64()), (200, Some(0)), "nobody was registered");
    // The same person with a real street is registered.
    let body =
        json!({"id_type": "resident_id", "id_number": resident_id("33010619800101011"), "residence_area": "330106002"});
    assert_eq!(app.post("/v1/persons", body.to_string()).await.0, 201);

    // A designation with a typo (two digits swapped) suggests the code meant.
    let (status, refused) = app
        .post_with_key(
            "/v1/designations",
            &app.keys["provincial"],
            json!({"area": "330160", "level": "high"}).to_string(),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(suggested(&refused).contains(&"330106".to_string()), "{refused}");
    let (_, proposals) = app.get_with_key("/v1/designations/proposals", &app.keys["provincial"]).await;
    assert_eq!(proposals["proposals"].as_array().map(Vec::len), Some(0), "nothing was proposed: {proposals}");

    // A stay from the telecom feed naming no place is refused and kept with its reason.
    let person = app.register_in(&resident_id("33010619800101012"), "330106002").await;
    let stay = json!({"id": "tel-x", "person_id": person, "type": "stay", "area": "339999",
                      "from": "2020-05-30T08:00:00+08:00", "to": "2020-05-30T18:00:00+08:00"});
    let (status, refused) = app.post("/v1/events", stay.to_string()).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("339999"), "{refused}");
    let (_, kept) = app.get("/v1/rejections").await;
    let reasons = kept.to_string();
    assert!(reasons.contains("tel-x") || reasons.contains("339999"), "the refused row is kept: {kept}");

    // A venue in a place that does not exist.
    let venue = json!({"name": "Nowhere café", "category": "general", "area": "330199"});
    let (status, refused) = app.post("/v1/venues", venue.to_string()).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "unknown_area");
}

async fn a_retired_code_is_understood_for_evidence_of_its_time(app: TestApp) {
    let person = app.register_in(&resident_id("33010619800101013"), "330105001").await;
    // 下城区 (330103) was merged into 拱墅区 in 2021: a stay there in 2020 is valid evidence.
    let then = json!({"id": "tel-2020", "person_id": person, "type": "stay", "area": "330103",
                      "from": "2020-03-01T08:00:00+08:00", "to": "2020-03-01T18:00:00+08:00"});
    let (status, answer) = app.post("/v1/events", then.to_string()).await;
    assert!(status == 201 || status == 200 || status == 202, "{status} {answer}");
    // A stay there in 2022 names a place that no longer existed, and says what it became.
    app.clock.set(common::t("2022-03-10T08:00:00+08:00"));
    let now = json!({"id": "tel-2022", "person_id": person, "type": "stay", "area": "330103",
                     "from": "2022-03-01T08:00:00+08:00", "to": "2022-03-01T18:00:00+08:00"});
    let (status, refused) = app.post("/v1/events", now.to_string()).await;
    assert_eq!(status, 422, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("330105") && message.contains("拱墅区"), "{message}");
    // Nobody registers in it today.
    let body =
        json!({"id_type": "resident_id", "id_number": resident_id("33010619800101014"), "residence_area": "330103"});
    let (status, refused) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(suggested(&refused), ["330105"]);
}

async fn explanations_and_the_place_api_speak_in_names(app: TestApp) {
    app.designate(&json!({"area": "330106002", "level": "medium"}).to_string()).await;
    let person = app.register_in(&resident_id("33010619800101015"), "330106002").await;
    let stay = json!({"id": "tel-n", "person_id": person, "type": "stay", "area": "330106002",
                      "from": "2020-05-30T08:00:00+08:00", "to": null});
    let (status, answer) = app.post("/v1/events", stay.to_string()).await;
    assert!(status < 300, "{status} {answer}");
    let (status, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(status, 200, "{code}");
    let text = code.to_string();
    assert!(text.contains("浙江省杭州市西湖区北山街道"), "the explanation names the place: {code}");
    assert!(text.contains("Beishan Subdistrict, Xihu District, Hangzhou City, Zhejiang Province"), "{code}");

    let (status, found) = app.get("/v1/places?q=%E8%A5%BF%E6%B9%96").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["places"][0]["code"], "330106", "{found}");
    assert_eq!(found["places"][0]["full_name"], "浙江省杭州市西湖区");
    let (status, xihu) = app.get("/v1/places/330106").await;
    assert_eq!(status, 200);
    assert_eq!(xihu["place"]["name_en"], "Xihu District, Hangzhou City, Zhejiang Province");
    assert!(xihu["children"].as_array().unwrap().iter().any(|c| c["name"] == "北山街道"), "{xihu}");
    let (status, unknown) = app.get("/v1/places/330106001").await;
    assert_eq!(status, 404, "{unknown}");
    assert!(suggested(&unknown).contains(&"330106002".to_string()), "{unknown}");
    // Designations and venues in the API carry the name beside the code.
    let (_, proposed) = app
        .post_with_key(
            "/v1/designations",
            &app.keys["provincial"],
            json!({"area": "330106", "level": "low"}).to_string(),
        )
        .await;
    assert_eq!(proposed["proposal"]["area_name"], "浙江省杭州市西湖区", "{proposed}");
    let (_, listed) = app.get_with_key("/v1/designations/proposals", &app.keys["provincial"]).await;
    assert!(listed["proposals"].as_array().unwrap().iter().all(|p| p["area_name"].is_string()), "{listed}");
    let venue = json!({"name": "湖滨银泰", "category": "general", "area": "330102003"});
    let (status, venue) = app.post("/v1/venues", venue.to_string()).await;
    assert_eq!(status, 201, "{venue}");
    assert_eq!(venue["venue"]["area_name"], "浙江省杭州市上城区湖滨街道");
    let (_, provinces) = app.get("/v1/places").await;
    assert_eq!(provinces["places"].as_array().unwrap().len(), 31);
}
