//! The benchmarks' AWS-scale simulator (benches/sim/) against moto: an organization captured
//! from moto and served by the simulator yields the same lake as moto itself.

use std::collections::BTreeMap;
use std::process::{Child, Stdio};

use serde_json::Value;

use crate::support::{
    Moto, clean_command, comparable_latest_rows, lake_tables, listening_port, python_command, repo_root, run_ok,
};

/// A running simulator; killed on drop.
struct Simulator {
    child: Child,
    port: u16,
}

impl Simulator {
    fn serve(org_file: &std::path::Path) -> Simulator {
        let binary = std::env::var_os("ORGLAKE_SIM_BIN")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/sim/debug/orglake-sim"));
        assert!(
            binary.exists(),
            "the simulator is not built at {}: scripts/test.sh (make test) builds it, or run \
             cargo build --manifest-path benches/sim/Cargo.toml --target-dir target/sim",
            binary.display()
        );
        let mut child = clean_command(binary)
            .args(["--org-file", org_file.to_str().unwrap()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the simulator starts");
        let port = listening_port(&mut child, "the simulator");
        Simulator { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_organization_captured_from_moto_yields_the_same_lake_from_the_simulator_as_from_moto() {
    let moto = Moto::start();
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("benches/sim/captured/template_org.json")).unwrap(),
    )
    .unwrap();
    let org = moto.seed(&spec);
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("org.json");
    let status = python_command()
        .arg(repo_root().join("benches/sim/capture_moto.py"))
        .args([
            "--endpoint-url",
            &moto.url(),
            "--regions",
            "eu-west-1,us-east-1",
            "--out",
        ])
        .arg(&capture)
        .status()
        .unwrap();
    assert!(status.success(), "capture_moto.py failed");
    let simulator = Simulator::serve(&capture);
    let scan = |endpoint: &str, lake: &std::path::Path| {
        run_ok(&[
            "run",
            "--ou-id",
            &org.ou("Workloads"),
            "--ou-id",
            &org.ou("Sandbox"),
            "--regions",
            "eu-west-1,us-east-1",
            "--as-of",
            "2026-11-20T06:00:00Z",
            "--endpoint-url",
            endpoint,
            "--warehouse",
            lake.to_str().unwrap(),
        ])
    };
    let from_moto = dir.path().join("moto-lake");
    let from_sim = dir.path().join("sim-lake");
    scan(&moto.url(), &from_moto);
    scan(&simulator.url(), &from_sim);
    let mut compared = BTreeMap::new();
    for table in lake_tables().iter().filter(|t| *t != "runs") {
        let moto_rows = comparable_latest_rows(&from_moto, table);
        let sim_rows = comparable_latest_rows(&from_sim, table);
        assert_eq!(moto_rows, sim_rows, "{table}: the simulator's lake differs from moto's");
        compared.insert(table.clone(), moto_rows.len());
    }
    for table in [
        "accounts",
        "account_status",
        "ec2_instances",
        "ec2_images",
        "ec2_security_groups",
        "iam_users",
        "iam_credential_report",
    ] {
        assert!(compared[table] > 0, "{table} has rows to compare: {compared:?}");
    }
}
