//! The `healthcode` binary as a user runs it: `serve` on port 0 over a data folder.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub fn healthcode() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healthcode"))
}

/// `healthcode serve` with its data and keys under `dir`.
pub fn serve_command(dir: &Path) -> Command {
    let mut command = healthcode();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--signing-keys-file")
        .arg(dir.join("keys/signing.json"))
        .arg("--log-key-file")
        .arg(dir.join("keys/log.key"))
        .arg("--pseudonym-key-file")
        .arg(dir.join("keys/pseudonym.key"))
        .env("RUST_LOG", "warn");
    command
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

/// Starts the server and reads its address from the line it prints.
#[allow(dead_code)] // each test binary uses some of these helpers
pub fn serve(dir: &Path) -> Server {
    serve_with(dir, &[])
}

/// As `serve`, with more arguments (e.g. `--database-url`).
pub fn serve_with(dir: &Path, more: &[String]) -> Server {
    let mut child = serve_command(dir).args(more).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("the server printed its address").unwrap();
    let address = line.split("http://").nth(1).unwrap().split('/').next().unwrap().to_string();
    Server { child, base: format!("http://{address}") }
}
