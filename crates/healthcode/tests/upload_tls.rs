//! `healthcode upload` over HTTPS: a department's uploader reaches the province through
//! TLS, trusting the province's own certificate authority when told to (`--ca-cert`), and
//! refusing, without retrying, a server whose certificate it cannot trust.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{healthcode, serve};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

/// Terminates TLS on a free port and forwards each connection to `backend` (host:port),
/// as a reverse proxy in front of the servers would. Returns the HTTPS base URL.
async fn tls_proxy(backend: String) -> String {
    let certificates: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(fixture("server.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = ServerConfig::builder().with_no_client_auth().with_single_cert(certificates, key).unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let (acceptor, backend) = (acceptor.clone(), backend.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(client).await else { return };
                let Ok(mut plain) = TcpStream::connect(&backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_goes_over_https_to_a_server_whose_ca_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let added = healthcode()
        .args(["accounts", "add", "cdc-feed", "--role", "data_source", "--department", "health", "--api-key", "feed"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let key = String::from_utf8(added.stdout).unwrap().lines().nth(1).unwrap().to_string();
    let server = serve(dir.path());
    let https = tls_proxy(server.base.trim_start_matches("http://").to_string()).await;

    let file = dir.path().join("contacts.ndjson");
    let rows: String = (0..50)
        .map(|i| {
            format!(
                "{{\"id\":\"cc-{i}\",\"id_type\":\"passport\",\"id_number\":\"E{i:08}\",\"type\":\"close_contact\",\
                 \"exposure_at\":\"2026-11-20T08:00:00+08:00\"}}\n"
            )
        })
        .collect();
    std::fs::write(&file, rows).unwrap();
    let upload = |extra: &[&str]| {
        let mut command = healthcode();
        command.arg("upload").arg(&file).args(["--url", &https, "--key", &key, "--retries", "2"]).args(extra);
        command.output().unwrap()
    };

    // Without the province's CA, the certificate is not trusted: refused at once, and
    // the message says what to do.
    let started = std::time::Instant::now();
    let out = upload(&[]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("certificate") && said.contains("--ca-cert"), "{said}");
    assert!(!said.contains("resuming in"), "an untrusted certificate is not retried: {said}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    // With it, the batch is stored whole over TLS.
    let ca = fixture("ca.pem");
    let out = upload(&["--ca-cert", ca.to_str().unwrap(), "--json"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(report["accepted"], 50, "{report}");
    assert_eq!(report["complete"], true, "{report}");

    // A file that is not a certificate is named as such.
    let out = upload(&["--ca-cert", file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(said.contains("certificate"), "{said}");
}
