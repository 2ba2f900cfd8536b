//! Notification: one SNS message per run listing the accounts that failed and why; none
//! when everything succeeded. A run that stops before its commit sends one message with
//! its error instead.
//!
//! May import: `aws`, `config`, `error`, `status`.

use std::fmt::Write;

use aws_config::Region;

use crate::aws::AwsContext;
use crate::error::Result;
use crate::status::StageOutcome;

/// Largest SNS message body (256 KiB) minus room for the trailer.
const MAX_MESSAGE_BYTES: usize = 250 * 1024;

/// The subject and body of the failure message, or `None` when nothing failed.
pub fn failure_message(run_id: &str, organization_id: &str, failures: &[StageOutcome]) -> Option<(String, String)> {
    if failures.is_empty() {
        return None;
    }
    let mut accounts: Vec<&str> = failures.iter().map(|f| f.account_id.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let subject = format!("orglake: {} account(s) failed in run {run_id}", accounts.len());
    let mut body = format!(
        "orglake run {run_id} of organization {organization_id}: {} account(s) failed.\n\n",
        accounts.len()
    );
    for (shown, f) in failures.iter().enumerate() {
        let region = f.region.as_deref().map(|r| format!(" [{r}]")).unwrap_or_default();
        let line = format!(
            "{} {}{} {} {}: {}\n",
            f.account_id,
            f.stage,
            region,
            f.status,
            f.error_code.as_deref().unwrap_or("-"),
            f.message.as_deref().unwrap_or("").replace('\n', " ")
        );
        if body.len() + line.len() > MAX_MESSAGE_BYTES {
            let _ = writeln!(
                body,
                "... and {} more; see account_status for run {run_id}",
                failures.len() - shown
            );
            break;
        }
        body.push_str(&line);
    }
    // SNS subjects: ASCII, at most 100 characters.
    Some((subject.chars().take(100).collect(), body))
}

/// Most lines of a security digest; the rest is counted.
pub const MAX_DIGEST_LINES: usize = 100;

/// The subject and body of the security digest (one line per security-relevant change,
/// at most [`MAX_DIGEST_LINES`], the rest counted), or `None` when nothing relevant changed.
pub fn digest_message(
    run_id: &str,
    organization_id: &str,
    snapshot_date: &str,
    lines: &[(String, String)],
) -> Option<(String, String)> {
    if lines.is_empty() {
        return None;
    }
    let subject = format!(
        "orglake: {} security-relevant change(s) on {snapshot_date}",
        lines.len()
    );
    let mut body = format!(
        "orglake run {run_id} of organization {organization_id} (snapshot {snapshot_date}): {} security-relevant change(s) since each account's previous snapshot.\n\n",
        lines.len()
    );
    for (shown, (account, line)) in lines.iter().enumerate() {
        let text = format!("{account} {}\n", line.replace('\n', " "));
        if shown == MAX_DIGEST_LINES || body.len() + text.len() > MAX_MESSAGE_BYTES {
            let _ = writeln!(
                body,
                "... and {} more; query latest_changes (or `orglake changes --since {snapshot_date}`)",
                lines.len() - shown
            );
            break;
        }
        body.push_str(&text);
    }
    Some((subject.chars().take(100).collect(), body))
}

/// The subject and body of the message for a run that stopped before its commit.
pub fn fatal_message(run_id: &str, config: &crate::config::Config, err: &crate::Error) -> (String, String) {
    let error = one_line(&err.to_string());
    let subject = format!("orglake: run {run_id} failed");
    let scope = config.scope().ids().join(",");
    let body = format!(
        "orglake run {run_id} stopped before its commit and exited 1.\n\n\
         error: {error}\n\n\
         scope: {scope}\nshard: {}\nwarehouse: {}\n\n\
         Nothing of this run is visible in the lake: the previous snapshot stays current. \
         Fix the cause and run again (a re-run is safe).\n",
        config.shard, config.warehouse,
    );
    (subject.chars().take(100).collect(), body)
}

/// A message on one line, as the binary prints errors.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Publishes the failure message to `topic_arn` (in the topic's region).
pub async fn publish(aws: &AwsContext, topic_arn: &str, subject: &str, body: &str) -> Result<String> {
    let region = topic_arn.split(':').nth(3).unwrap_or_default().to_string();
    let conf = aws_sdk_sns::config::Builder::from(aws.base())
        .region(Region::new(region))
        .build();
    let client = aws_sdk_sns::Client::from_conf(conf);
    let sent = client
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .message(body)
        .send()
        .await
        .map_err(|e| aws.error("sns:Publish", e))?;
    Ok(sent.message_id().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::status;

    #[test]
    fn a_digest_is_sent_only_when_something_relevant_changed_and_is_capped_with_a_count() {
        assert!(digest_message("run", "o-abcdefghij", "2026-11-21", &[]).is_none());
        let lines: Vec<(String, String)> = (0..150)
            .map(|i| ("111111111111".to_string(), format!("new IAM user user-{i:03}")))
            .collect();
        let (subject, body) = digest_message("run", "o-abcdefghij", "2026-11-21", &lines).unwrap();
        assert_eq!(subject, "orglake: 150 security-relevant change(s) on 2026-11-21");
        assert!(body.contains("111111111111 new IAM user user-099\n"), "{body}");
        assert!(!body.contains("user-100"), "{body}");
        assert!(body.contains("... and 50 more"), "{body}");
    }

    #[test]
    fn nothing_is_sent_when_nothing_failed_and_every_failed_account_is_named() {
        assert!(failure_message("r", "o-1", &[]).is_none());
        let failed = [
            StageOutcome::start("111111111111", "credential_report", None)
                .finish(status::ERROR, Some("not COMPLETE after 45 polls".into())),
            StageOutcome::start("222222222222", "assume_role", None)
                .finish(status::AUTH_FAILED, Some("AccessDenied".into())),
            StageOutcome::start("111111111111", "ec2", Some("eu-west-1")).finish(status::ERROR, Some("boom".into())),
        ];
        let (subject, body) = failure_message("run-1", "o-1", &failed).unwrap();
        assert_eq!(subject, "orglake: 2 account(s) failed in run run-1");
        assert!(
            body.contains("111111111111 credential_report error") && body.contains("45 polls"),
            "{body}"
        );
        assert!(body.contains("222222222222 assume_role auth_failed"), "{body}");
        assert!(body.contains("[eu-west-1]"), "{body}");
    }
}
