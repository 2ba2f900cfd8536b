//! EC2 inventory against an organization seeded by someone else.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{FaultProxy, Moto, boto3_lines, export_csv, query, run_ok};

const REGIONS: &str = "us-east-1,eu-west-1,ap-southeast-2";

fn awkward_tags() -> Value {
    json!({"Name": "web, \"front\"\nline two", "owner": "=SUM(A1)", "ключ": "значение 🚀", "cost": "+1", "Owner2": "@x"})
}

fn ec2_org() -> Value {
    json!({
        "ous": {"Apps": {}},
        "accounts": [
            {"name": "busy", "ou": "Apps", "tags": {"owner": "team@example.com"}, "instances": [
                {"region": "us-east-1", "state": "running", "tags": awkward_tags()},
                {"region": "us-east-1", "state": "stopped", "image": "missing"},
                {"region": "eu-west-1", "state": "running", "tags": {"Name": "eu"}},
                {"region": "ap-southeast-2", "state": "terminated"}
            ]},
            {"name": "quiet", "ou": "Apps"}
        ]
    })
}

/// What boto3 sees, as a set of canonical JSON strings.
fn boto3_view(endpoint: &str, accounts: &[String]) -> BTreeSet<String> {
    boto3_lines("ec2_view.py", &[endpoint, &accounts.join(","), REGIONS])
        .iter()
        .map(Value::to_string)
        .collect()
}

fn orglake_view(lake: &Path) -> BTreeSet<String> {
    let rows = query(
        lake,
        "SELECT account_id, region, instance_id, state, image_name, tags FROM latest_ec2_instances",
    );
    rows.into_iter()
        .map(|mut r| {
            // JSON lines leave out nulls; boto3's view has them.
            for (key, empty) in [("tags", json!({})), ("image_name", Value::Null)] {
                if r[key].is_null() {
                    r[key] = empty;
                }
            }
            r.to_string()
        })
        .collect()
}

#[test]
fn the_inventory_holds_exactly_what_boto3_sees() {
    let moto = Moto::start();
    let org = moto.seed(&ec2_org());
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Apps"),
        "--regions",
        REGIONS,
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);

    let accounts = [org.account("busy"), org.account("quiet")];
    let expected = boto3_view(&moto.url(), &accounts);
    assert_eq!(expected.len(), 4, "the seed made four instances: {expected:?}");
    assert_eq!(orglake_view(lake.path()), expected);

    let missing_ami = query(
        lake.path(),
        "SELECT image_id, image_name FROM ec2_instances WHERE state = 'stopped'",
    );
    assert_eq!(
        missing_ami[0]["image_name"],
        Value::Null,
        "an AMI that does not exist is a null, not an error"
    );
    let joined = query(
        lake.path(),
        "SELECT DISTINCT account_name, ou_path, account_owner, first_seen = last_seen AS new FROM ec2_instances",
    );
    assert_eq!(
        joined,
        vec![json!({"account_name": "busy", "ou_path": "Root/Apps", "account_owner": "team@example.com", "new": true})]
    );
    let owners = query(
        lake.path(),
        "SELECT owner_tag, name_tag FROM ec2_instances WHERE region = 'us-east-1' AND state = 'running'",
    );
    assert_eq!(
        owners,
        vec![json!({"owner_tag": "=SUM(A1)", "name_tag": "web, \"front\"\nline two"})],
        "the table keeps values raw"
    );

    let quiet = query(
        lake.path(),
        &format!(
            "SELECT status, message FROM account_status WHERE account_id = '{}' AND stage = 'ec2' AND region IS NULL",
            accounts[1]
        ),
    );
    assert_eq!(
        quiet,
        vec![json!({"status": "no_data", "message": "no instances in any scanned region"})]
    );

    let (name, records) = export_csv(lake.path(), "ec2_instances");
    assert!(name.starts_with("EC2_INSTANCES_o-") && name.ends_with(".csv"), "{name}");
    let header = &records[0];
    assert_eq!(
        &header.iter().take(6).collect::<Vec<_>>(),
        &[
            "AccountId",
            "AccountName",
            "OUPath",
            "AccountOwner",
            "Region",
            "InstanceId"
        ]
    );
    assert_eq!(records.len(), 5, "header + four instances");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let web = records
        .iter()
        .find(|r| r.get(col("InstanceName")) == Some("web, \"front\"\nline two"))
        .expect("the tagged instance, with its comma, quotes and newline intact");
    assert_eq!(web.get(col("OwnerTag")), Some("'=SUM(A1)"), "formula neutralised");
    let tags: Value = serde_json::from_str(web.get(col("Tags")).unwrap()).unwrap();
    assert_eq!(tags, awkward_tags(), "tags as JSON, complete");
}

#[test]
fn history_keeps_first_seen_and_applies_the_terminated_cutoff() {
    let moto = Moto::start();
    let org = moto.seed(&json!({
        "management_instances": [
            {"region": "us-east-1", "state": "running", "tags": {"Name": "stays"}},
            {"region": "us-east-1", "state": "terminated", "tags": {"Name": "terminated-now"}}
        ]
    }));
    let (stays, terminated) = (
        org.instances("management")[0].clone(),
        org.instances("management")[1].clone(),
    );
    let account = org.management_account();
    let lake = tempfile::tempdir().unwrap();
    let warehouse = lake.path().to_str().unwrap();
    let now = chrono::Utc::now();
    let day = |n: i64| (now + chrono::Duration::days(n) - chrono::Duration::hours(1)).to_rfc3339();
    let run = |endpoint: &str, as_of: &str| {
        run_ok(&[
            "run",
            "--account",
            &account,
            "--regions",
            "us-east-1",
            "--endpoint-url",
            endpoint,
            "--warehouse",
            warehouse,
            "--as-of",
            as_of,
        ]);
    };
    let latest = || {
        query(
            lake.path(),
            "SELECT instance_id, state, observed, first_seen, terminated_at IS NOT NULL AS has_end FROM latest_ec2_instances ORDER BY instance_id",
        )
    };
    let state_of = |rows: &[Value], id: &str| rows.iter().find(|r| r["instance_id"] == json!(id)).cloned();

    // Day 1: both present; the terminated one carries the time from its transition reason.
    run(&moto.url(), &day(1));
    let day1 = latest();
    assert_eq!(day1.len(), 2);
    let first_seen = state_of(&day1, &stays).unwrap()["first_seen"].clone();
    assert_eq!(state_of(&day1, &terminated).unwrap()["has_end"], json!(true));

    // Day 10: first_seen survives; the terminated instance (terminated today) is still kept.
    run(&moto.url(), &day(10));
    let day10 = latest();
    assert_eq!(state_of(&day10, &stays).unwrap()["first_seen"], first_seen);
    assert_eq!(state_of(&day10, &terminated).unwrap()["state"], json!("terminated"));

    // The instances vanish from the API (AWS drops terminated instances after about an hour).
    moto.reset();
    moto.seed(&json!({}));
    run(&moto.url(), &day(12));
    let day12 = latest();
    let vanished = state_of(&day12, &stays).expect("a vanished instance is carried forward");
    assert_eq!(vanished["state"], json!("terminated"));
    assert_eq!(vanished["observed"], json!("vanished"));
    assert_eq!(vanished["first_seen"], first_seen);

    // Day 20: terminated longer than 15 days ago for the one terminated on day 0; the one
    // last seen on day 10 is within 15 days; day 26: both gone.
    run(&moto.url(), &day(20));
    let day20 = latest();
    assert!(
        state_of(&day20, &terminated).is_none(),
        "terminated > 15 days ago: dropped"
    );
    assert!(
        state_of(&day20, &stays).is_some(),
        "vanished after day 10: still kept on day 20"
    );
    run(&moto.url(), &day(26));
    assert_eq!(latest(), Vec::<Value>::new(), "past the retention, nothing is left");
}

#[test]
fn throttled_describe_instances_is_retried_and_loses_nothing() {
    let moto = Moto::start();
    let org = moto.seed(&ec2_org());
    let proxy = FaultProxy::start(&moto.url());
    proxy.set_rules(
        json!([{"action": "DescribeInstances", "fault": "throttle", "code": "RequestLimitExceeded", "times": 6}]),
    );
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Apps"),
        "--regions",
        REGIONS,
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);
    let calls = proxy.counts()["DescribeInstances"].as_u64().unwrap();
    assert_eq!(
        calls,
        6 + 6,
        "two accounts x three regions, plus the six throttled attempts retried"
    );
    let expected = boto3_view(&moto.url(), &[org.account("busy"), org.account("quiet")]);
    assert_eq!(orglake_view(lake.path()), expected);
}

/// One rule, the same whether it came from boto3 or from the lake: protocol, ports and
/// every range sorted.
fn rule_key(rule: &Value, boto3: bool) -> String {
    let list = |lake: &str, boto: &str, field: &str| -> Vec<String> {
        let mut values: Vec<String> = if boto3 {
            rule[boto]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v[field].as_str().unwrap().to_string())
                .collect()
        } else {
            rule[lake]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        values.sort();
        values
    };
    let (protocol, from, to) = if boto3 {
        (&rule["IpProtocol"], &rule["FromPort"], &rule["ToPort"])
    } else {
        (&rule["protocol"], &rule["from_port"], &rule["to_port"])
    };
    json!([
        protocol,
        from,
        to,
        list("cidrs", "IpRanges", "CidrIp"),
        list("ipv6_cidrs", "Ipv6Ranges", "CidrIpv6"),
        list("prefix_list_ids", "PrefixListIds", "PrefixListId"),
        list("referenced_groups", "UserIdGroupPairs", "GroupId"),
    ])
    .to_string()
}

#[test]
fn security_groups_hold_what_boto3_sees_and_an_instance_open_to_the_world_is_a_finding() {
    let moto = Moto::start();
    let tcp = |port: u16, cidrs: Value, ipv6: Value| json!({"protocol": "tcp", "from": port, "to": port, "cidrs": cidrs, "ipv6_cidrs": ipv6});
    let org = moto.seed(&json!({
        "ous": {"Net": {}},
        "accounts": [
            {"name": "web", "ou": "Net",
             "security_groups": [
                {"name": "ssh-open", "ingress": [tcp(22, json!(["0.0.0.0/0"]), json!([]))], "tags": {"team": "ops, \"edge\""}},
                {"name": "rdp-v6", "ingress": [tcp(3389, json!([]), json!(["::/0"]))]},
                {"name": "everything", "region": "eu-west-1", "ingress": [{"protocol": "-1", "cidrs": ["0.0.0.0/0"]}]},
                {"name": "internal", "ingress": [
                    {"protocol": "tcp", "from": 443, "to": 443, "cidrs": ["10.0.0.0/8", "192.168.0.0/16"], "groups": ["ssh-open"]},
                    tcp(80, json!(["0.0.0.0/0"]), json!([]))
                 ], "egress": [tcp(5432, json!(["10.1.0.0/16"]), json!([]))]}
             ],
             "instances": [
                {"region": "us-east-1", "state": "running", "security_groups": ["ssh-open"], "tags": {"Name": "bastion"}},
                {"region": "us-east-1", "state": "stopped", "security_groups": ["internal"], "tags": {"Name": "web"}},
                {"region": "us-east-1", "state": "running", "security_groups": ["rdp-v6", "internal"], "tags": {"Name": "windows"}},
                {"region": "us-east-1", "state": "terminated", "security_groups": ["ssh-open"], "tags": {"Name": "gone"}},
                {"region": "eu-west-1", "state": "stopped", "security_groups": ["everything"], "tags": {"Name": "open-eu"}}
             ]},
            {"name": "quiet", "ou": "Net"}
        ]
    }));
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--ou-id",
        &org.ou("Net"),
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
        "--regions",
        "us-east-1,eu-west-1",
    ]);

    let script = r#"
import boto3, json, sys
endpoint, accounts = sys.argv[1], sys.argv[2].split(",")
for account in accounts:
    creds = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/view", RoleSessionName="view")["Credentials"]
    for region in ("us-east-1", "eu-west-1"):
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        for g in ec2.describe_security_groups()["SecurityGroups"]:
            print(json.dumps({"account_id": account, "region": region, **g}, default=str))
"#;
    let accounts = [org.account("web"), org.account("quiet")];
    let output = crate::support::python_command()
        .args(["-c", script, &moto.url(), &accounts.join(",")])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let normalise = |g: &Value, boto3: bool| -> String {
        let (ingress, egress, name, vpc, owner, id) = if boto3 {
            (
                "IpPermissions",
                "IpPermissionsEgress",
                "GroupName",
                "VpcId",
                "OwnerId",
                "GroupId",
            )
        } else {
            ("ingress", "egress", "group_name", "vpc_id", "owner_id", "group_id")
        };
        let rules = |field: &str| -> Vec<String> {
            let mut keys: Vec<String> = g[field]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| rule_key(r, boto3))
                .collect();
            keys.sort();
            keys
        };
        let tags: std::collections::BTreeMap<String, String> = if boto3 {
            g["Tags"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| {
                    (
                        t["Key"].as_str().unwrap().to_string(),
                        t["Value"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        } else {
            serde_json::from_value(g["tags"].clone()).unwrap_or_default()
        };
        json!([
            g["account_id"],
            g["region"],
            g[id],
            g[name],
            g[vpc],
            g[owner],
            rules(ingress),
            rules(egress),
            tags
        ])
        .to_string()
    };
    let mut expected: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| normalise(&serde_json::from_str(l).unwrap(), true))
        .collect();
    expected.sort();
    let mut actual: Vec<String> = query(
        lake.path(),
        "SELECT account_id, region, group_id, group_name, vpc_id, owner_id, ingress, egress, tags FROM latest_ec2_security_groups",
    )
    .iter()
    .map(|g| normalise(g, false))
    .collect();
    actual.sort();
    assert!(
        expected.len() >= 8,
        "every region's default group and the seeded ones: {expected:?}"
    );
    assert_eq!(actual, expected, "the table holds exactly what boto3 sees");

    let open: BTreeSet<String> = query(
        lake.path(),
        "SELECT f.principal, f.severity, f.detail, i.name_tag FROM latest_findings f \
         JOIN latest_ec2_instances i ON i.instance_id = f.principal WHERE f.check_id = 'instance_open_to_world'",
    )
    .iter()
    .map(|r| {
        assert_eq!(r["severity"], json!("high"));
        assert!(r["detail"].as_str().unwrap().contains("sg-"), "{r}");
        r["name_tag"].as_str().unwrap().to_string()
    })
    .collect();
    assert_eq!(
        open,
        ["bastion", "open-eu", "windows"]
            .into_iter()
            .map(String::from)
            .collect(),
        "SSH from 0.0.0.0/0, RDP from ::/0, every port; not port 80, not a terminated instance"
    );
    let stages = query(
        lake.path(),
        "SELECT DISTINCT status FROM latest_account_status WHERE stage = 'ec2_security_groups'",
    );
    assert_eq!(stages, vec![json!({"status": "ok"})], "{stages:?}");
}
