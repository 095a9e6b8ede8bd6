//! The `healthcode` binary as a user runs it: `serve` on port 0 over a data folder.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub fn healthcode() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healthcode"))
}

/// A `healthcode` subcommand (`serve`, `destroy`, `vault rotate` …) with its data and
/// every key file under `dir`.
pub fn command_in(dir: &Path, subcommand: &[&str]) -> Command {
    let mut command = healthcode();
    command
        .args(subcommand)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--signing-keys-file")
        .arg(dir.join("keys/signing.json"))
        .arg("--log-key-file")
        .arg(dir.join("keys/log.key"))
        .arg("--pseudonym-key-file")
        .arg(dir.join("keys/pseudonym.key"))
        .arg("--vault-key-file")
        .arg(dir.join("keys/vault.key"))
        .env("RUST_LOG", "warn");
    command
}

/// `healthcode serve` with its data and keys under `dir`.
pub fn serve_command(dir: &Path) -> Command {
    command_in(dir, &["serve", "--listen", "127.0.0.1:0"])
}

/// A running server, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Waits (20 s at most) for the server to exit by itself, as a crash point makes it.
    #[allow(dead_code)] // each test binary uses some of these helpers
    pub fn wait_for_exit(&mut self) {
        let start = std::time::Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < std::time::Duration::from_secs(20), "the server did not stop");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// Starts the server and reads its address from the line it prints.
#[allow(dead_code)] // each test binary uses some of these helpers
pub fn serve(dir: &Path) -> Server {
    serve_with(serve_command(dir).stderr(Stdio::null()))
}

/// Starts a server from a command the caller prepared (its stderr, its environment).
pub fn serve_with(command: &mut Command) -> Server {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("the server printed its address").unwrap();
    let address = line.split("http://").nth(1).unwrap().split('/').next().unwrap().to_string();
    Server { child, base: format!("http://{address}") }
}

/// Where the server keeps its data: the data folder's SQLite, or a PostgreSQL schema.
#[allow(dead_code)] // each test binary uses some of these helpers
pub enum Backend {
    Sqlite,
    Postgres { url: String, schema: String },
}

#[allow(dead_code)]
impl Backend {
    /// The arguments that name the store (`accounts`, `vault`; `serve` on PostgreSQL).
    pub fn args(&self, dir: &Path) -> Vec<String> {
        match self {
            Backend::Sqlite => vec!["--data-dir".into(), dir.join("data").display().to_string()],
            Backend::Postgres { url, schema } => {
                vec!["--database-url".into(), format!("{url}?options=-c%20search_path%3D{schema}")]
            }
        }
    }
}

/// An account made on the machine (`healthcode accounts add … --api-key`); its API key.
#[allow(dead_code)] // each test binary uses some of these helpers
pub fn account(dir: &Path, backend: &Backend, name: &str, role: &[&str]) -> String {
    let out = healthcode()
        .args(["accounts", "add", name])
        .args(role)
        .args(["--api-key", "k"])
        .args(backend.args(dir))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().nth(1).unwrap().to_string()
}
