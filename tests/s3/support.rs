//! The S3 tests' server, shared by `input/tests/s3.rs` and `replay/tests/s3.rs` (included with
//! `#[path]`): moto's real S3 server behind `tests/s3/harness.py`, a proxy that counts requests
//! and injects faults. One harness per test process; tests keep apart by bucket.
//!
//! moto comes from `tests/s3/setup.sh` (`TRAILSIGHT_MOTO_SERVER`, or
//! `target/moto-venv/bin/moto_server`); when neither is there, the harness runs the script
//! itself, and a machine without python3's venv or PyPI fails the tests, saying so.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The running harness.
pub struct Harness {
    /// Port of the proxy on 127.0.0.1.
    pub port: u16,
    _child: Option<Mutex<Child>>,
    /// Held open: the harness stops when it closes (this process exits).
    _stdin: Option<Mutex<ChildStdin>>,
    /// Held open too: the harness prints more after the port (moto's own port, for
    /// scripts/s3-bench.sh), and a pipe closed before that kills it with a broken pipe.
    _stdout: Option<Mutex<BufReader<ChildStdout>>>,
}

/// Set to the port of a harness started by a parent process, which this process then uses.
pub const PORT_VARIABLE: &str = "TRAILSIGHT_TEST_S3_PORT";

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// `/bucket/key`, decoded.
    pub path: String,
    /// The query string.
    pub query: String,
    /// moto's status, or the fault injected.
    pub outcome: String,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn moto_server() -> PathBuf {
    let from_env = std::env::var_os("TRAILSIGHT_MOTO_SERVER").map(PathBuf::from);
    let default = workspace_root().join("target/moto-venv/bin/moto_server");
    match from_env.filter(|p| p.exists()) {
        Some(path) => path,
        None if default.exists() => default,
        // First run on this machine: install it (pinned, into target/), as .ci/run does.
        None => {
            let setup = workspace_root().join("tests/s3/setup.sh");
            let output = std::process::Command::new(&setup)
                .output()
                .unwrap_or_else(|e| panic!("running {}: {e}", setup.display()));
            assert!(
                output.status.success(),
                "{} failed (it needs python3 with venv, and PyPI): {}",
                setup.display(),
                String::from_utf8_lossy(&output.stderr)
            );
            let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
            assert!(path.exists(), "{} gave no moto_server", setup.display());
            path
        }
    }
}

/// The harness, started on first use.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        if let Some(port) = std::env::var(PORT_VARIABLE)
            .ok()
            .and_then(|p| p.parse().ok())
        {
            return Harness {
                port,
                _child: None,
                _stdin: None,
                _stdout: None,
            };
        }
        let mut child = Command::new("python3")
            .arg(workspace_root().join("tests/s3/harness.py"))
            .arg(moto_server())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting tests/s3/harness.py with python3");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("harness did not start: {line:?}"));
        Harness {
            port,
            _child: Some(Mutex::new(child)),
            _stdin: Some(Mutex::new(stdin)),
            _stdout: Some(Mutex::new(stdout)),
        }
    })
}

impl Harness {
    /// The endpoint URL clients use.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn call(&self, method: &str, path_and_query: &str, body: &[u8]) -> (u16, String) {
        let (status, bytes) = self.call_bytes(method, path_and_query, body);
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn call_bytes(&self, method: &str, path_and_query: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let status = String::from_utf8_lossy(&response[9..12]).parse().unwrap();
        let body = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(Vec::new(), |at| response[at + 4..].to_vec());
        (status, body)
    }

    /// An object's bytes, fetched past the client (and not logged as the client's).
    pub fn get_object(&self, bucket: &str, key: &str) -> Vec<u8> {
        let (status, body) =
            self.call_bytes("GET", &format!("/__harness/object/{bucket}/{key}"), b"");
        assert_eq!(status, 200, "s3://{bucket}/{key}");
        body
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = self.call("POST", &format!("/__harness/bucket/{bucket}"), b"");
        assert_eq!(status, 200, "creating bucket {bucket}: {body}");
    }

    /// Uploads every file under `dir` to `bucket`, keys `prefix` + relative path.
    pub fn upload(&self, bucket: &str, dir: &Path, prefix: &str) {
        let (status, body) = self.call(
            "POST",
            &format!(
                "/__harness/upload/{bucket}?dir={}&prefix={prefix}",
                dir.display()
            ),
            b"",
        );
        assert_eq!(
            status,
            200,
            "uploading {} to {bucket}: {body}",
            dir.display()
        );
    }

    /// Injects faults: `(path, mode, times)`; see tests/s3/harness.py.
    pub fn faults(&self, faults: &[(&str, &str, i64)]) {
        let json: Vec<String> = faults
            .iter()
            .map(|(path, mode, times)| {
                format!("{path:?}: {{\"mode\": {mode:?}, \"times\": {times}}}")
            })
            .collect();
        let (status, body) = self.call(
            "POST",
            "/__harness/faults",
            format!("{{{}}}", json.join(",")).as_bytes(),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// Requests so far for `bucket`.
    pub fn requests(&self, bucket: &str) -> Vec<Request> {
        let (status, body) = self.call("GET", &format!("/__harness/log?bucket={bucket}"), b"");
        assert_eq!(status, 200, "{body}");
        body.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let field = |name: &str| -> String {
                    let start = line.find(&format!("\"{name}\": ")).unwrap() + name.len() + 4;
                    let rest = &line[start..];
                    if let Some(quoted) = rest.strip_prefix('"') {
                        quoted[..quoted.find('"').unwrap()].to_owned()
                    } else {
                        rest[..rest.find(['}', ',']).unwrap()].trim().to_owned()
                    }
                };
                Request {
                    method: field("method"),
                    path: field("path"),
                    query: field("query"),
                    outcome: field("outcome"),
                }
            })
            .collect()
    }
}

/// Environment that keeps the machine's own AWS settings out of a test: fixed fake
/// credentials and region, no shared files, no instance metadata.
pub const AWS_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_CONFIG_FILE", "/nonexistent/trailsight-test-aws-config"),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/trailsight-test-aws-credentials",
    ),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// Variables removed from a test's environment (they would point the client elsewhere).
pub const AWS_ENV_REMOVED: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_DEFAULT_REGION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];
