//! The `changes` table: what changed since each account's previous snapshot, the security
//! digest, and `orglake changes`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{FaultProxy, Moto, SnsInbox, change_org, query, run_orglake};

/// alpha: two instances, an admin with console, MFA and two keys, a leaver in a group;
/// beta: one instance (fails on day 2); gamma: moves to another OU on day 2.
fn org() -> Value {
    json!({
        "ous": {"Teams": {}, "Elsewhere": {}},
        "accounts": [
            {"name": "alpha", "ou": "Teams",
             "instances": [{"region": "us-east-1", "state": "running"}, {"region": "us-east-1", "state": "running"}],
             "users": [{"name": "admin", "console": true, "mfa": true, "keys": 2},
                       {"name": "leaver", "keys": 1, "groups": ["devs"]}]},
            {"name": "beta", "ou": "Teams", "instances": [{"region": "us-east-1", "state": "running"}],
             "users": [{"name": "ops", "keys": 1}]},
            {"name": "gamma", "ou": "Teams"}
        ]
    })
}

/// (account, entity type, entity id, change, field) of every change row, as text.
fn changes_of(lake: &std::path::Path) -> BTreeSet<String> {
    query(
        lake,
        "SELECT account_id, entity_type, entity_id, change, field, old_value, new_value FROM latest_changes",
    )
    .iter()
    .map(|row| {
        let field = row["field"].as_str().map(|f| format!(" {f}")).unwrap_or_default();
        format!(
            "{} {} {} {}{field}",
            row["account_id"].as_str().unwrap(),
            row["entity_type"].as_str().unwrap(),
            row["entity_id"].as_str().unwrap(),
            row["change"].as_str().unwrap()
        )
    })
    .collect()
}

#[test]
fn day_two_records_exactly_what_changed_none_for_a_failed_account_and_the_digest_lists_the_security_relevant() {
    let moto = Moto::start();
    let seeded = moto.seed(&org());
    let proxy = FaultProxy::start(&moto.url());
    let inbox = SnsInbox::create(&moto);
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    let run = |as_of: &str| {
        run_orglake(&[
            "run",
            "--endpoint-url",
            &proxy.url(),
            "--warehouse",
            warehouse,
            "--as-of",
            as_of,
            "--sns-topic-arn",
            &inbox.topic,
        ])
    };
    let (alpha, beta, gamma) = (seeded.account("alpha"), seeded.account("beta"), seeded.account("gamma"));

    // Day 1: every account's first snapshot; nothing to compare with, and the summary says so.
    let output = run("2026-11-20T02:00:00Z");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("changes: 0 since the previous snapshots"), "{summary}");
    assert!(summary.contains("4 account(s) had no previous snapshot"), "{summary}");
    assert!(changes_of(lake.path()).is_empty());
    assert!(inbox.take().is_empty(), "nothing relevant changed: no digest");

    // Between the runs, people change things.
    let instances = seeded.instances("alpha");
    let admin_keys: Vec<String> = seeded.0["users"]["alpha"]["admin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let leaver_key = seeded.0["users"]["alpha"]["leaver"][0].as_str().unwrap().to_string();
    let made = change_org(
        &moto.url(),
        json!([
            {"op": "terminate_instance", "account": alpha, "instance": instances[0]},
            {"op": "launch_instance", "account": alpha},
            {"op": "create_user", "account": alpha, "user": "newbie"},
            {"op": "create_access_key", "account": alpha, "user": "newbie"},
            {"op": "deactivate_access_key", "account": alpha, "user": "admin", "key": admin_keys[0]},
            {"op": "delete_user", "account": alpha, "user": "leaver"},
            {"op": "remove_mfa", "account": alpha, "user": "admin"},
            {"op": "move_account", "account": gamma, "from": seeded.ou("Teams"), "to": seeded.ou("Elsewhere")},
            // beta changes too, but its run fails: none of this may show.
            {"op": "delete_user", "account": beta, "user": "ops"},
            {"op": "terminate_instance", "account": beta, "instance": seeded.instances("beta")[0]}
        ]),
    );
    let (launched, new_key) = (made["1"].as_str().unwrap(), made["3"].as_str().unwrap());
    proxy.set_rules(json!([{"action": "AssumeRole", "contains": beta, "fault": "deny"}]));

    let output = run("2026-11-21T02:00:00Z");
    assert_eq!(output.status.code(), Some(3), "beta failed: partial");
    let got = changes_of(lake.path());
    let expected: BTreeSet<String> = [
        format!("{alpha} instance {} modified state", instances[0]),
        format!("{alpha} instance {launched} added"),
        format!("{alpha} user newbie added"),
        format!("{alpha} access_key {new_key} added"),
        format!("{alpha} access_key {} modified status", admin_keys[0]),
        format!("{alpha} user leaver removed"),
        format!("{alpha} access_key {leaver_key} removed"),
        format!("{alpha} group_membership leaver/devs removed"),
        format!("{alpha} mfa_device admin removed"),
        format!("{alpha} finding console_user_without_mfa/admin added"),
        format!("{gamma} account {gamma} modified ou_id"),
        format!("{gamma} account {gamma} modified ou_path"),
    ]
    .into_iter()
    .collect();
    let unexpected: Vec<&String> = got.difference(&expected).collect();
    let missing: Vec<&String> = expected.difference(&got).collect();
    // A terminated instance loses its public address in EC2 (and in moto): that is a change too.
    let unexpected: Vec<&String> = unexpected
        .into_iter()
        .filter(|c| {
            !(c.starts_with(&format!("{alpha} instance {} modified ", instances[0]))
                && (c.ends_with(" public_ip") || c.ends_with(" private_ip")))
        })
        .collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing {missing:?}, unexpected {unexpected:?}"
    );
    assert!(
        got.iter().all(|c| !c.starts_with(&beta)),
        "no change for the failed account: {got:?}"
    );

    // The values: old and new of a modified field, and the run compared with.
    let state = query(
        lake.path(),
        &format!(
            "SELECT old_value, new_value, previous_run_id = (SELECT run_id FROM runs ORDER BY as_of LIMIT 1) AS day1 \
             FROM latest_changes WHERE entity_id = '{}' AND field = 'state'",
            instances[0]
        ),
    );
    assert_eq!(
        state,
        vec![json!({"old_value": "running", "new_value": "terminated", "day1": true})]
    );
    let moved = query(
        lake.path(),
        "SELECT new_value FROM latest_changes WHERE field = 'ou_path'",
    );
    assert_eq!(moved, vec![json!({"new_value": "Root/Elsewhere"})]);

    // The digest: one message, the security-relevant changes only.
    let messages = inbox.take();
    let digests: Vec<&(String, String)> = messages
        .iter()
        .filter(|(s, _)| s.contains("security-relevant"))
        .collect();
    assert_eq!(digests.len(), 1, "one digest: {messages:?}");
    let body = &digests[0].1;
    for line in [
        format!("{alpha} new IAM user newbie"),
        format!("{alpha} new access key {new_key} of newbie"),
        format!("{alpha} MFA removed from admin"),
        format!("{alpha} new high finding console_user_without_mfa/admin"),
    ] {
        assert!(body.contains(&line), "the digest lists {line:?}: {body}");
    }
    assert!(body.contains("4 security-relevant change(s)"), "{body}");
    assert!(!body.contains("leaver") && !body.contains(&beta), "{body}");

    // `orglake changes` for people who do not write SQL.
    let output = run_orglake(&[
        "changes",
        "--warehouse",
        warehouse,
        "--since",
        "2026-11-21",
        "--entity",
        "access_key",
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        text.lines().count(),
        1 + 3,
        "a header and the three key changes: {text}"
    );
    assert!(text.contains(new_key) && text.contains(&leaver_key), "{text}");
    let output = run_orglake(&[
        "changes",
        "--warehouse",
        warehouse,
        "--since",
        "2026-11-21",
        "--entity",
        "keys",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not an entity type"));
}
