//! The one-screen summary printed at the end of a run.

use std::fmt::Write;

use crate::run::{RunReport, RunStatus};

/// At most this many failures are listed; the rest are counted.
const MAX_FAILURES_SHOWN: usize = 20;

/// Renders the end-of-run summary.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let status = match report.status {
        RunStatus::Complete => "COMPLETE",
        RunStatus::Partial => "PARTIAL",
    };
    let seconds = (report.finished_at - report.started_at).num_milliseconds() as f64 / 1000.0;
    let shard = if report.shard.is_partial() {
        format!("  shard {}", report.shard)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "orglake run {}  {}  snapshot {}{shard}  in {seconds:.1}s",
        report.run_id, status, report.snapshot_date
    );
    let _ = writeln!(
        out,
        "organization {}  lake {}",
        report.organization_id, report.warehouse
    );
    let _ = writeln!(
        out,
        "accounts: {} in scope, {} ok, {} failed, {} not scanned (suspended or closed)",
        report.accounts_total, report.accounts_ok, report.accounts_failed, report.accounts_skipped
    );
    let rows: Vec<String> = report.table_rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let _ = writeln!(out, "rows: {}", rows.join(", "));
    let mut stages: Vec<(String, Vec<String>)> = Vec::new();
    for ((stage, status), n) in &report.stage_accounts {
        match stages.last_mut() {
            Some((last, parts)) if last == stage => parts.push(format!("{n} {status}")),
            _ => stages.push((stage.clone(), vec![format!("{n} {status}")])),
        }
    }
    if !stages.is_empty() {
        let line: Vec<String> = stages
            .iter()
            .map(|(stage, parts)| format!("{stage} {}", parts.join(" / ")))
            .collect();
        let _ = writeln!(out, "accounts by stage: {}", line.join("; "));
    }
    let changes = &report.changes;
    let mut line = format!(
        "changes: {} since the previous snapshots, {} security-relevant",
        changes.rows, changes.security_relevant
    );
    if changes.first_snapshot_accounts > 0 {
        line.push_str(&format!(
            "; {} account(s) had no previous snapshot (first run: nothing to compare, no changes recorded)",
            changes.first_snapshot_accounts
        ));
    }
    let _ = writeln!(out, "{line}");
    if let Some(catalog) = &report.catalog {
        let _ = writeln!(out, "catalog: {catalog}");
    }
    if let Some(notification) = &report.notification {
        let _ = writeln!(out, "notification: {notification}");
    }
    if let Some(digest) = &report.digest_notification {
        let _ = writeln!(out, "digest: {digest}");
    }
    for export in &report.exports {
        let _ = writeln!(out, "export: {export}");
    }
    if !report.failures.is_empty() {
        let _ = writeln!(out, "failed:");
        for failure in report.failures.iter().take(MAX_FAILURES_SHOWN) {
            let region = failure.region.as_deref().map(|r| format!(" {r}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}  {}{}  {}  {}",
                failure.account_id,
                failure.stage,
                region,
                failure.status,
                failure.message.as_deref().unwrap_or("").lines().next().unwrap_or("")
            );
        }
        if report.failures.len() > MAX_FAILURES_SHOWN {
            let _ = writeln!(
                out,
                "  ... and {} more: orglake query \"SELECT * FROM latest_account_status WHERE status <> 'ok'\"",
                report.failures.len() - MAX_FAILURES_SHOWN
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::status::{StageOutcome, status};

    #[test]
    fn a_partial_run_summary_lists_counts_stages_and_failures() {
        let started_at = Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap();
        let mut failure = StageOutcome::start("222222222222", "assume_role", None).fail(&crate::Error::Aws {
            operation: "sts:AssumeRole".into(),
            code: "AccessDenied".into(),
            message: "not allowed".into(),
        });
        failure.started_at = started_at;
        failure.finished_at = started_at;
        let mut stage_accounts = BTreeMap::new();
        stage_accounts.insert(("assume_role".to_string(), status::OK.to_string()), 35);
        stage_accounts.insert(("assume_role".to_string(), status::AUTH_FAILED.to_string()), 1);
        stage_accounts.insert(("ec2".to_string(), status::NO_DATA.to_string()), 20);
        stage_accounts.insert(("ec2".to_string(), status::OK.to_string()), 15);
        let report = RunReport {
            run_id: "20261124T060000.000Z-0a1b2c3d".into(),
            snapshot_date: "2026-11-24".into(),
            status: RunStatus::Partial,
            organization_id: "o-a1b2c3d4e5".into(),
            accounts_total: 37,
            accounts_ok: 35,
            accounts_failed: 1,
            accounts_skipped: 1,
            shard: crate::config::shard::Shard { index: 1, count: 3 },
            failures: vec![failure],
            stage_accounts,
            table_rows: [("accounts".to_string(), 37), ("ec2_instances".to_string(), 120)]
                .into_iter()
                .collect(),
            warehouse: "/lake".into(),
            exports: vec!["/lake/exports/ec2_instances/snapshot_date=2026-11-24/EC2_INSTANCES.csv".into()],
            notification: Some("sent to arn:aws:sns:us-east-1:111111111111:ops (message 1)".into()),
            digest_notification: None,
            changes: crate::run::ChangesSummary {
                rows: 12,
                security_relevant: 2,
                first_snapshot_accounts: 1,
            },
            catalog: None,
            started_at,
            finished_at: started_at + chrono::Duration::milliseconds(12_345),
        };
        insta::assert_snapshot!(render(&report));
    }
}
