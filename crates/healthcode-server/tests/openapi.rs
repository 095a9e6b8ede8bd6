//! The OpenAPI document (`GET /v1/openapi.json`), checked by tools nobody here wrote:
//! openapi-spec-validator says it is valid OpenAPI 3.1, and schemathesis attacks a real
//! server from it with the key of each role, checking that nothing answers 5xx, that every
//! answer's status, content type, headers and body are the ones documented, and that
//! invalid input is refused. `.ci/run` installs both (from `PyPI`); without them these tests say
//! so and check only what needs no outside tool. Longer runs and what they found:
//! `docs/OPENAPI.md`.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{resident_id, TestApp};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_served_is_the_one_generated_and_names_every_operation_once() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/v1/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served: Value = response.json().await.unwrap();
    let generated: Value = serde_json::from_str(healthcode_server::openapi_document()).unwrap();
    assert_eq!(served, generated);
    assert_eq!(served["openapi"], "3.1.0");

    let mut ids = BTreeSet::new();
    let schemes: BTreeSet<&str> =
        served["components"]["securitySchemes"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut operations = 0;
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "{method} {path}: operationId {id} is used twice");
            assert!(operation["tags"][0].is_string(), "{method} {path} has no tag");
            assert!(operation["summary"].is_string(), "{method} {path} has no summary (the handler's doc comment)");
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains(scheme.as_str()), "{method} {path}: unknown security scheme {scheme}");
                }
            }
            for (status, answer) in operation["responses"].as_object().unwrap() {
                assert!(!status.starts_with('5') || status == "503", "{method} {path} documents a {status}");
                assert!(answer["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
            }
        }
    }
    // Every link (what a client does next with an answer) names an operation that exists,
    // and fills only that operation's path parameters.
    let mut path_parameters = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for item in served["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let names = operation["parameters"].as_array().into_iter().flatten();
            let names = names.filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap().to_string());
            path_parameters.insert(operation["operationId"].as_str().unwrap().to_string(), names.collect());
        }
    }
    let mut links = 0;
    for item in served["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for answer in operation["responses"].as_object().unwrap().values() {
                for (name, link) in answer["links"].as_object().into_iter().flatten() {
                    links += 1;
                    let target = link["operationId"].as_str().unwrap();
                    let parameters = path_parameters.get(target).unwrap_or_else(|| panic!("link {name}: no {target}"));
                    for parameter in link["parameters"].as_object().unwrap().keys() {
                        assert!(
                            parameters.contains(parameter),
                            "link {name}: {target} has no path parameter {parameter}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        links >= 9,
        "register → code, token, log, accesses, complaints; complaint → attachment; venue → code, device"
    );

    // Every route of the JSON API: a route added without its description would not be
    // served at all (the router is built from the same list), so this count moves with it.
    assert!(operations >= 91, "{operations} operations");
}

/// Every JSON answer that is not an error is a typed schema (issue 17): what it holds, field
/// by field, so that schemathesis's `response_schema_conformance` checks the fields and not
/// only "an object". Walked through every `$ref` (each must name a component), an answer
/// fails here for a bare `{"type": "object"}` (no properties, no typed values), or for a
/// free-form value (any JSON, or a map of anything) that does not say in its description
/// why it is free-form.
#[test]
fn every_json_answer_is_a_typed_schema() {
    let document: Value = serde_json::from_str(healthcode_server::openapi_document()).unwrap();
    let components = document["components"]["schemas"].as_object().unwrap();
    let mut untyped = BTreeSet::new();
    let mut answers = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, answer) in operation["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    continue;
                }
                for (content_type, content) in answer["content"].as_object().into_iter().flatten() {
                    if !content_type.contains("json") {
                        continue;
                    }
                    answers += 1;
                    let mut seen = BTreeSet::new();
                    let at = format!("{method} {path} {status}");
                    untyped_in(&content["schema"], &at, components, &mut seen, &mut untyped);
                }
            }
        }
    }
    assert!(answers >= 91, "{answers} JSON answers");
    assert!(
        untyped.is_empty(),
        "untyped parts of JSON answers:\n{}",
        untyped.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Collects into `untyped` where `schema` (reached at `at`) is an untyped object or an
/// undocumented free-form value, following references once each.
fn untyped_in(
    schema: &Value,
    at: &str,
    components: &serde_json::Map<String, Value>,
    seen: &mut BTreeSet<String>,
    untyped: &mut BTreeSet<String>,
) {
    let Some(object) = schema.as_object() else {
        untyped.insert(format!("{at}: not a schema object"));
        return;
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        match components.get(name) {
            Some(target) if seen.insert(name.to_string()) => untyped_in(target, name, components, seen, untyped),
            Some(_) => {}
            None => {
                untyped.insert(format!("{at}: refers to {reference}, which is not in the document"));
            }
        }
        return;
    }
    let described = object.get("description").and_then(Value::as_str).is_some_and(|d| !d.trim().is_empty());
    let annotations = ["description", "title", "default", "example", "examples", "deprecated"];
    let composed: Vec<&Vec<Value>> =
        ["allOf", "oneOf", "anyOf"].iter().filter_map(|k| object.get(*k).and_then(Value::as_array)).collect();
    if object.keys().all(|k| annotations.contains(&k.as_str())) && !described {
        untyped.insert(format!("{at}: any JSON value, with no description saying why"));
    }
    let types: Vec<&str> = match object.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"object")
        && !object.contains_key("properties")
        && !object.contains_key("additionalProperties")
        && composed.is_empty()
    {
        untyped.insert(format!("{at}: a bare object, its fields not described"));
    }
    if object.get("additionalProperties") == Some(&Value::Bool(true)) && !described {
        untyped.insert(format!("{at}: a map of anything, with no description saying why"));
    }
    for (name, property) in object.get("properties").and_then(Value::as_object).into_iter().flatten() {
        untyped_in(property, &format!("{at}.{name}"), components, seen, untyped);
    }
    if let Some(items) = object.get("items").filter(|i| i.is_object()) {
        untyped_in(items, &format!("{at}[]"), components, seen, untyped);
    }
    if let Some(values) = object.get("additionalProperties").filter(|v| v.is_object()) {
        untyped_in(values, &format!("{at}{{}}"), components, seen, untyped);
    }
    for (i, schema) in composed.into_iter().flatten().enumerate() {
        untyped_in(schema, &format!("{at}/{i}"), components, seen, untyped);
    }
}

#[test]
fn the_document_is_valid_openapi_according_to_openapi_spec_validator() {
    let Some(python) = python_with("openapi_spec_validator") else {
        eprintln!("note: openapi-spec-validator is not installed (pip install openapi-spec-validator); not run");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, healthcode_server::openapi_document()).unwrap();
    let out = Command::new(python).args(["-m", "openapi_spec_validator"]).arg(&file).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "openapi-spec-validator refused the document:\n{said}");
    assert!(said.contains("OK"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_on_sqlite() {
    schemathesis_against(TestApp::spawn().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_on_postgres() {
    if let Some(app) = TestApp::spawn_postgres().await {
        schemathesis_against(app).await;
    }
}

/// One run per staff role, each presenting that role's key where the document asks for a
/// staff key (and the resident's, the venue operator's and the gate device's where it asks
/// for those); the resident's run also fixes the path's person and venue to real ones so
/// that generated requests reach past "no such person".
const RUNS: [&str; 6] = ["resident", "health", "provincial", "local", "auditor", "complaints"];

async fn schemathesis_against(app: TestApp) {
    let Some(schemathesis) = schemathesis() else {
        eprintln!("note: schemathesis is not installed (pip install schemathesis); the API was not attacked from its document");
        return;
    };
    // Something for the generated requests to find: a resident, a venue, an approved gate.
    let person = app.register(&resident_id("33010619900101123")).await;
    let resident_key = app.resident_key(&person).unwrap();
    let (status, venue) =
        app.post("/v1/venues", r#"{"name":"西湖文化广场","category":"museum","area":"330106"}"#).await;
    assert_eq!(status, 201, "{venue}");
    let (venue_id, operator_key) =
        (venue["venue"]["id"].as_str().unwrap().to_string(), venue["operator_key"].as_str().unwrap().to_string());
    let (status, device) =
        app.post_with_key(&format!("/v1/venues/{venue_id}/devices"), &operator_key, r#"{"label":"东门"}"#).await;
    assert_eq!(status, 201, "{device}");
    let device_key = device["device_key"].as_str().unwrap().to_string();
    let approve = format!("/v1/devices/{}/approve", device["device"]["id"].as_str().unwrap());
    let (status, approved) = app.post_with_key(&approve, &app.keys["provincial"], "").await;
    assert_eq!(status, 200, "{approved}");

    let examples = std::env::var("HEALTHCODE_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "8".into());
    // A fixed seed in CI, so that a failure there can be replayed; `random` for long runs,
    // which should meet inputs CI never tried.
    let seed = std::env::var("HEALTHCODE_SCHEMATHESIS_SEED").unwrap_or_else(|_| "17".into());
    let work = tempfile::tempdir().unwrap();
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let mut failures = Vec::new();
    for run in RUNS {
        let staff = if run == "resident" { "health" } else { run };
        // Every check but one (checks named on the command line would override the
        // per-operation settings below): valid-by-schema data is often still refused,
        // rightly (an ID number's check digit, an area that is no division, a person not
        // registered), which the schema cannot say, so "positive data accepted" does not
        // hold by design.
        let mut config = format!(
            "checks.positive_data_acceptance.enabled = false\n[auth.openapi.staff_key]\nbearer = \"{}\"\n[auth.openapi.resident_key]\nbearer = \"{resident_key}\"\n\
             [auth.openapi.operator_key]\nbearer = \"{operator_key}\"\n[auth.openapi.device_key]\nbearer = \"{device_key}\"\n",
            app.keys[staff]
        );
        // A batch or a feed is text, any text: schemathesis's "schema-violating" bodies for
        // them are text too, and are answered, rightly, with a report rejecting each line.
        for path in ["/v1/events/batch", "/v1/feeds/{batch_id}"] {
            config.push_str(&format!(
                "[[operations]]\ninclude-path = \"{path}\"\nchecks.negative_data_rejection.enabled = false\n"
            ));
        }
        if run == "resident" {
            config.push_str(&format!(
                "[parameters]\n\"path.person_id\" = \"{person}\"\n\"path.venue_id\" = \"{venue_id}\"\n"
            ));
        }
        let config_file = work.path().join(format!("{run}.toml"));
        std::fs::write(&config_file, config).unwrap();
        let mut command = Command::new(&schemathesis);
        command
            .arg("--config-file")
            .arg(&config_file)
            .arg("run")
            .arg(app.url("/v1/openapi.json"))
            .args(["--max-examples", &examples])
            .args(["--phases", "examples,coverage,fuzzing,stateful"])
            .args(if seed == "random" { vec![] } else { vec!["--seed".to_string(), seed.clone()] })
            // One worker: hypothesis inspecting lambdas from two threads trips a CPython 3.11
            // bug ("AST constructor recursion depth mismatch") that reads as a runtime error.
            .args(["--workers", "1"])
            .args(["--request-timeout", "10"])
            .args(["--suppress-health-check", "all"])
            // Its cache and reports go in the test's own folder, not the repository.
            .current_dir(work.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("SCHEMATHESIS_HOOKS", "healthcode_hooks")
            .env("PYTHONPATH", &hooks)
            .env("NO_COLOR", "1")
            .env("SCHEMATHESIS_TELEMETRY", "false");
        let out = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        let tail: Vec<&str> = said.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
        eprintln!("schemathesis as {run}: exit {:?}\n{}", out.status.code(), tail.join("\n"));
        if !out.status.success() {
            failures.push(format!(
                "as {run}:\n{said}\n{}",
                String::from_utf8_lossy(&out.stderr).chars().take(4000).collect::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "schemathesis found problems:\n{}", failures.join("\n\n"));
}

fn schemathesis() -> Option<PathBuf> {
    let found = ["st", "schemathesis"].into_iter().find_map(on_path);
    found.filter(|st| Command::new(st).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn python_with(module: &str) -> Option<PathBuf> {
    let python = on_path("python3")?;
    let ok = Command::new(&python).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success());
    ok.then_some(python)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|file| is_executable(file))
}

fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
