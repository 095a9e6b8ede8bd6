//! The whole path of a code, with nothing of ours in the middle: `healthcode serve`
//! renders a resident's code as a PNG, a QR reader nobody here wrote (`zbarimg`, from
//! Debian's zbar-tools) reads it, and `healthcode verify` accepts it offline against the
//! trust list the server published, checked with the pinned root key.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{healthcode, serve};

fn verify(dir: &Path, root: &str, code: &str, extra: &[&str]) -> (i32, String) {
    let out = healthcode()
        .args(["verify", code, "--root-key", root])
        .arg("--trust-list")
        .arg(dir.join("trust-list.json"))
        .args(extra)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string())
}

#[tokio::test]
async fn a_code_rendered_by_the_server_is_read_by_zbarimg_and_verified_offline() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let registered: serde_json::Value = client
        .post(format!("{base}/v1/persons"))
        .body(r#"{"id_type":"resident_id","id_number":"11010519491231002X","name":"张三丰"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let person = registered["person_id"].as_str().unwrap();
    let key = registered["resident_key"].as_str().unwrap();
    let png = client
        .get(format!("{base}/v1/persons/{person}/qr.png"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let png_path = dir.path().join("code.png");
    std::fs::write(&png_path, &png).unwrap();
    let list = client.get(format!("{base}/v1/trust-list")).send().await.unwrap().text().await.unwrap();
    std::fs::write(dir.path().join("trust-list.json"), list).unwrap();

    // The root key comes from the key ring file, as an operator would give it to verifiers.
    let out = healthcode().args(["keys", "root", "--file"]).arg(dir.path().join("keys/signing.json")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = String::from_utf8(out.stdout).unwrap().trim().to_string();

    // From here on, no server: the verifier is offline.
    drop(server);
    let (code, said) = verify(dir.path(), &root, png_path.to_str().unwrap(), &["--venue-category", "supermarket"]);
    assert_eq!(code, 0, "{said}");
    assert!(said.starts_with("valid: domestic code, green, 张*丰, region 33"), "{said}");
    assert!(said.contains("at a supermarket: Allow (green_code)"), "{said}");

    match Command::new("zbarimg").args(["--raw", "-q"]).arg(&png_path).output() {
        Ok(out) => {
            assert!(out.status.success(), "zbarimg failed: {}", String::from_utf8_lossy(&out.stderr));
            let read = String::from_utf8(out.stdout).unwrap().trim_end_matches('\n').to_string();
            let ours = healthcode_token::qr::decode_png(&png).unwrap();
            assert_eq!(read, ours, "zbarimg reads back exactly the token the server signed");
            assert!(read.starts_with("HC1:"));
            let (code, said) = verify(dir.path(), &root, &read, &[]);
            assert_eq!(code, 0, "{said}");

            // The same code ten minutes later, or with one character changed, is refused.
            let later = "2099-01-01T00:00:00+08:00";
            let (code, said) = verify(dir.path(), &root, &read, &["--at", later]);
            assert_eq!((code, said.starts_with("refused (expired)")), (1, true), "{said}");
            let mut tampered = read.clone().into_bytes();
            let i = tampered.len() / 2;
            tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
            let (code, said) = verify(dir.path(), &root, &String::from_utf8(tampered).unwrap(), &[]);
            assert_eq!(code, 1, "{said}");
            assert!(said.starts_with("refused (bad_"), "{said}");
        }
        Err(_) => eprintln!("note: zbarimg was not run (install Debian's zbar-tools; .ci/run does)"),
    }

    // A trust list checked with another root key is not trusted at all.
    let (code, _) = verify(dir.path(), &"00".repeat(32), png_path.to_str().unwrap(), &[]);
    assert_eq!(code, 2);
}

/// A verifier that holds a newer trust list refuses an older one: replaying the list from
/// before a revocation would make the revoked key's codes valid again.
#[test]
fn an_older_trust_list_than_the_one_held_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("keys/signing.json");
    let keys = |args: &[&str]| {
        let out = healthcode().arg("keys").args(args).arg("--file").arg(&ring).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let before = dir.path().join("before.json");
    keys(&["trust-list", "--out", before.to_str().unwrap()]);
    let root = keys(&["root"]).trim().to_string();
    let kid = keys(&["list"]).lines().nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    keys(&["revoke", &kid]);
    std::fs::write(dir.path().join("trust-list.json"), keys(&["trust-list"])).unwrap();

    // The current list: the code is refused on its own merits, and the list's number kept.
    let (code, said) = verify(dir.path(), &root, "HC1:NOTACODE", &[]);
    assert_eq!(code, 1, "{said}");
    assert!(dir.path().join("trust-list.json.seen").exists());
    // The old list, from before the revocation: not trusted at all.
    std::fs::copy(&before, dir.path().join("trust-list.json")).unwrap();
    let out = healthcode()
        .args(["verify", "HC1:NOTACODE", "--root-key", &root, "--trust-list"])
        .arg(dir.path().join("trust-list.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("older than number"), "{said}");
}
