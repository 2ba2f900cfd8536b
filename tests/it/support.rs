//! Test harness: a real moto server per test, seeded with boto3 by an independent script,
//! an optional fault-injecting proxy in front of it, and helpers to run the real binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The names (without extension) of the files of `dir` ending in `.<extension>`, sorted.
pub fn file_stems(dir: &Path, extension: &str) -> Vec<String> {
    let mut stems: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .map(|path| path.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    stems.sort();
    stems
}

/// The lake tables: one file each in `schemas/` (staging tables live in a subfolder).
pub fn lake_tables() -> Vec<String> {
    file_stems(&repo_root().join("schemas"), "toml")
}

/// The venv that `scripts/install-moto.sh` creates.
pub fn venv() -> PathBuf {
    std::env::var_os("ORGLAKE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"))
}

/// The venv's python, with boto3 and pyarrow.
pub fn python() -> PathBuf {
    let python = venv().join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-moto.sh (the test command `make test` does it)",
        python.display()
    );
    python
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    http_request(port, "GET", path)
}

fn http_request(port: u16, method: &str, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let head = "HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    write!(stream, "{method} {path} {head}").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    response.starts_with("HTTP/1.1 200").then_some(body)
}

/// A moto server on a free loopback port, stopped on drop.
pub struct Moto {
    child: Child,
    /// Its port.
    pub port: u16,
}

impl Moto {
    /// Starts moto and waits until it answers. Fails (never skips) when moto is missing.
    pub fn start() -> Moto {
        let server = venv().join("bin/moto_server");
        assert!(
            server.exists(),
            "moto_server is missing at {}: run scripts/install-moto.sh (the test command `make test` does it)",
            server.display()
        );
        let port = free_port();
        // scripts/moto_server.py: moto's server with a backlog deep enough for a scan's burst.
        let child = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("scripts/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_get(port, "/moto-api/data.json").is_none() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 60s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The endpoint URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Forgets every resource (moto's reset), as if AWS had started over.
    pub fn reset(&self) {
        http_request(self.port, "POST", "/moto-api/reset").expect("moto reset");
    }

    /// Seeds an organization from a JSON spec (see scripts/seed_org.py) with boto3.
    pub fn seed(&self, spec: &Value) -> Seeded {
        let dir = tempfile::tempdir().unwrap();
        let spec_path = dir.path().join("spec.json");
        std::fs::write(&spec_path, spec.to_string()).unwrap();
        let output = python_command()
            .arg(repo_root().join("scripts/seed_org.py"))
            .args(["--endpoint-url", &self.url()])
            .arg(&spec_path)
            .output()
            .expect("run seed_org.py");
        assert!(
            output.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Seeded(serde_json::from_slice(&output.stdout).expect("seed output is JSON"))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the seeder created: ids by OU path and by account name.
pub struct Seeded(pub Value);

impl Seeded {
    /// Id of the OU at `path` (for example `Workloads/Prod`).
    pub fn ou(&self, path: &str) -> String {
        self.0["ous"][path]
            .as_str()
            .unwrap_or_else(|| panic!("no OU {path}"))
            .to_string()
    }

    /// Id of the account named `name`.
    pub fn account(&self, name: &str) -> String {
        self.0["accounts"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no account {name}"))
            .to_string()
    }

    /// Instance ids launched in the account named `name` (or `management`), in spec order.
    pub fn instances(&self, name: &str) -> Vec<String> {
        self.0["instances"][name]
            .as_array()
            .unwrap_or_else(|| panic!("no instances for {name}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    /// The management account id.
    pub fn management_account(&self) -> String {
        self.0["management_account_id"].as_str().unwrap().to_string()
    }

    /// The organization id.
    pub fn organization_id(&self) -> String {
        self.0["organization_id"].as_str().unwrap().to_string()
    }
}

/// A command with dummy AWS credentials and none of the developer's orglake or AWS settings.
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars() {
        let legacy = ["ORGANIZATION_ID", "ROLE_NAME", "S3_BUCKET_NAME", "OU_ID"].contains(&key.as_str());
        if key.starts_with("ORGLAKE_") || key.starts_with("AWS_") || legacy {
            command.env_remove(key);
        }
    }
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    command
}

/// The venv's python in a clean environment.
pub fn python_command() -> Command {
    clean_command(python())
}

/// Runs a boto3 view script of `tests/support/` with `args`; returns its JSON lines.
pub fn boto3_lines(script: &str, args: &[&str]) -> Vec<Value> {
    let output = python_command()
        .arg(repo_root().join("tests/support").join(script))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The orglake binary in a clean environment. It scans one region unless a test passes
/// `--regions` (flags beat the environment): moto is slow to set up a region.
pub fn orglake() -> Command {
    let mut command = clean_command(env!("CARGO_BIN_EXE_orglake"));
    command.env("ORGLAKE_REGIONS", "us-east-1");
    command
}

/// Runs orglake with `args` and returns its output.
pub fn run_orglake(args: &[&str]) -> Output {
    orglake().args(args).output().expect("run orglake")
}

/// Runs orglake with `args` and asserts that it succeeded.
pub fn run_ok(args: &[&str]) -> Output {
    let output = run_orglake(args);
    assert!(
        output.status.success(),
        "orglake {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The one CSV export of `table` in `lake`'s latest snapshot: its file name and its
/// records, header first.
pub fn export_csv(lake: &Path, table: &str) -> (String, Vec<csv::StringRecord>) {
    let snapshot = std::fs::read_dir(lake.join("exports").join(table))
        .unwrap()
        .map(|d| d.unwrap().path())
        .max()
        .unwrap();
    let files: Vec<_> = std::fs::read_dir(&snapshot)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one export file: {files:?}");
    let mut reader = csv::Reader::from_path(&files[0]).unwrap();
    let mut records = vec![reader.headers().unwrap().clone()];
    records.extend(reader.records().map(|r| r.unwrap()));
    (files[0].file_name().unwrap().to_str().unwrap().to_string(), records)
}

/// Runs `orglake query --format json` and returns the rows.
pub fn query(warehouse: &Path, sql: &str) -> Vec<Value> {
    query_with(&["--warehouse", warehouse.to_str().unwrap()], sql)
}

/// Runs `orglake query --format json` with extra flags (and `sql`, unless empty: then a
/// flag gives it, such as `--file`) and returns the rows.
pub fn query_with(flags: &[&str], sql: &str) -> Vec<Value> {
    let mut args = vec!["query", "--format", "json"];
    args.extend_from_slice(flags);
    if !sql.is_empty() {
        args.push(sql);
    }
    let output = run_orglake(&args);
    assert!(
        output.status.success(),
        "query {sql:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Asserts that the lake's run-set checkpoints change no answer: `latest_account_run_ids`
/// (the run each account's latest rows come from) is the same read through the newest
/// checkpoint, through only the oldest one (as after commits that wrote none), and from
/// every manifest with no checkpoint at all. Puts the checkpoints back afterwards.
pub fn assert_checkpoints_change_no_answer(lake: &Path) {
    let sql = "SELECT account_id, run_id, CAST(snapshot_date AS VARCHAR) AS snapshot_date \
               FROM latest_account_run_ids ORDER BY account_id";
    let dir = lake.join("_checkpoints").join("run_sets");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("every commit writes a run-set checkpoint into {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 1, "a checkpoint per commit: {files:?}");
    let newest = query(lake, sql);
    assert!(!newest.is_empty(), "the lake has latest runs");
    let aside = tempfile::tempdir().unwrap();
    let put_aside = |files: &[PathBuf]| {
        for file in files {
            std::fs::rename(file, aside.path().join(file.file_name().unwrap())).unwrap();
        }
    };
    put_aside(&files[1..]);
    let oldest = query(lake, sql);
    put_aside(&files[..1]);
    let none = query(lake, sql);
    for file in &files {
        std::fs::rename(aside.path().join(file.file_name().unwrap()), file).unwrap();
    }
    assert_eq!(none, newest, "the newest checkpoint against every manifest");
    assert_eq!(
        oldest, newest,
        "the oldest checkpoint and the runs since, against the newest"
    );
}

/// Columns that differ between two runs of the same organization at the same run clock:
/// the run's id (and the id of the run that observed a row) and wall-clock times.
const PER_RUN_COLUMNS: &[&str] = &[
    "run_id",
    "observed_run_id",
    "started_at",
    "finished_at",
    "report_generated_at",
    "previous_run_id",
];

/// The rows of `latest_<table>` without the per-run columns (and the poll count of a
/// credential report), sorted, as JSON text: what two runs of the same organization at the
/// same `--as-of` must agree on.
pub fn comparable_latest_rows(lake: &Path, table: &str) -> Vec<String> {
    let mut rows: Vec<String> = query(lake, &format!("SELECT * FROM latest_{table}"))
        .into_iter()
        .map(|mut row| {
            let object = row.as_object_mut().unwrap();
            for column in PER_RUN_COLUMNS {
                object.remove(*column);
            }
            // How many polls a credential report took depends on whether AWS still had a
            // fresh one from an earlier run.
            if object.get("stage").is_some_and(|s| s == "credential_report")
                && object.get("status").is_some_and(|s| s == "ok")
            {
                object.remove("message");
            }
            row.to_string()
        })
        .collect();
    rows.sort();
    rows
}

/// Asserts that a command ended with exactly one error line and the given exit code.
pub fn assert_one_line_error(output: &Output, code: i32, wanted: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(code), "exit code; stderr: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
        "panic: {stderr}"
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one error line expected: {stderr}");
    for w in wanted {
        assert!(errors[0].contains(w), "error line lacks {w:?}: {}", errors[0]);
    }
    errors[0].to_string()
}

/// The fault-injecting proxy (tests/support/fault_proxy.py) in front of an upstream.
pub struct FaultProxy {
    child: Child,
    /// Its port.
    pub port: u16,
    rules: tempfile::NamedTempFile,
}

impl FaultProxy {
    /// Starts the proxy in front of `upstream` with no rules.
    pub fn start(upstream: &str) -> FaultProxy {
        let rules = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(rules.path(), "[]").unwrap();
        let mut child = python_command()
            .arg(repo_root().join("tests/support/fault_proxy.py"))
            .args(["--upstream", upstream, "--rules"])
            .arg(rules.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start fault proxy");
        let port = listening_port(&mut child, "the fault proxy");
        FaultProxy { child, port, rules }
    }

    /// Replaces the rules (see the proxy's docstring).
    pub fn set_rules(&self, rules: Value) {
        std::fs::write(self.rules.path(), rules.to_string()).unwrap();
    }

    /// The endpoint URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests seen so far, per action.
    pub fn counts(&self) -> Value {
        serde_json::from_str(&http_get(self.port, "/__proxy/counts").expect("proxy counts")).unwrap()
    }

    /// How often each rule (by its index in the last `set_rules`, as a string) applied.
    pub fn hits(&self) -> Value {
        serde_json::from_str(&http_get(self.port, "/__proxy/hits").expect("proxy hits")).unwrap()
    }

    /// Method, path and headers of each request forwarded so far.
    pub fn requests(&self) -> Vec<Value> {
        serde_json::from_str(&http_get(self.port, "/__proxy/requests").expect("proxy requests")).unwrap()
    }

    /// The proxy's container credential endpoint (counted as `__credentials`).
    pub fn credentials_url(&self) -> String {
        format!("{}/__proxy/credentials", self.url())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SNS topic in moto with an SQS queue subscribed to it, to read back what orglake sends.
pub struct SnsInbox {
    endpoint: String,
    /// The topic's ARN, for `--sns-topic-arn`.
    pub topic: String,
    queue: String,
}

impl SnsInbox {
    /// Creates the topic `orglake-alerts` and the subscribed queue `inbox` in moto.
    pub fn create(moto: &Moto) -> SnsInbox {
        let setup = r#"
import boto3, json, sys
sns = boto3.client("sns", endpoint_url=sys.argv[1], region_name="us-east-1")
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
topic = sns.create_topic(Name="orglake-alerts")["TopicArn"]
queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
print(json.dumps({"topic": topic, "queue": queue}))
"#;
        let output = python_command().args(["-c", setup, &moto.url()]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let created: Value = serde_json::from_slice(&output.stdout).unwrap();
        SnsInbox {
            endpoint: moto.url(),
            topic: created["topic"].as_str().unwrap().to_string(),
            queue: created["queue"].as_str().unwrap().to_string(),
        }
    }

    /// The messages (subject and body) that arrived since the last call; each is deleted.
    pub fn take(&self) -> Vec<(String, String)> {
        let receive = r#"
import boto3, json, sys
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
messages = sqs.receive_message(QueueUrl=sys.argv[2], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
for m in messages:
    sqs.delete_message(QueueUrl=sys.argv[2], ReceiptHandle=m["ReceiptHandle"])
print(json.dumps([json.loads(m["Body"]) for m in messages]))
"#;
        let output = python_command()
            .args(["-c", receive, &self.endpoint, &self.queue])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let messages: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        messages
            .iter()
            .map(|m| {
                (
                    m["Subject"].as_str().unwrap_or_default().to_string(),
                    m["Message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

/// Creates `bucket` in moto.
pub fn make_bucket(moto: &Moto, bucket: &str) {
    let script = "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1').create_bucket(Bucket=sys.argv[2])";
    let output = python_command()
        .args(["-c", script, &moto.url(), bucket])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// The port a child server announces on its first line of stdout (`listening on PORT`).
pub fn listening_port(child: &mut Child, what: &str) -> u16 {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("the child's stdout is piped"))
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("{what} printed no first line: {e}"));
    line.trim()
        .strip_prefix("listening on ")
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("{what} says where it listens: {line:?}"))
}

/// Applies operations to a seeded organization with boto3 (scripts/change_org.py); returns
/// what they made (by operation index).
pub fn change_org(endpoint: &str, operations: serde_json::Value) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("changes.json");
    std::fs::write(&file, operations.to_string()).unwrap();
    let output = python_command()
        .arg(repo_root().join("scripts/change_org.py"))
        .args(["--endpoint-url", endpoint, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}
