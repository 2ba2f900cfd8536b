//! What AWS returns that the code did not expect, and the longest, strangest tags AWS
//! accepts: kept, counted, never a panic, never lost.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{FaultProxy, Moto, export_csv, query, run_ok};

/// A DescribeInstances answer with an instance that has nothing but an id and a state this
/// SDK does not know, and one with no instance id at all.
const ODD_INSTANCES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>canned</requestId>
  <reservationSet>
    <item>
      <reservationId>r-0canned</reservationId>
      <ownerId>123456789012</ownerId>
      <instancesSet>
        <item>
          <instanceId>i-0bare</instanceId>
          <instanceState><code>99</code><name>hibernating-somehow</name></instanceState>
          <instanceType>z9.colossal</instanceType>
        </item>
        <item>
          <instanceType>t3.micro</instanceType>
        </item>
      </instancesSet>
    </item>
  </reservationSet>
</DescribeInstancesResponse>"#;

#[test]
fn missing_optional_fields_and_unexpected_values_are_kept_and_counted() {
    let moto = Moto::start();
    let org = moto.seed(&json!({"accounts": [{"name": "odd"}]}));
    let proxy = FaultProxy::start(&moto.url());
    proxy.set_rules(json!([{"action": "DescribeInstances", "fault": "respond", "body": ODD_INSTANCES}]));
    let lake = tempfile::tempdir().unwrap();
    let account = org.account("odd");
    run_ok(&[
        "run",
        "--account",
        &account,
        "--endpoint-url",
        &proxy.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);

    let rows = query(lake.path(), "SELECT * FROM latest_ec2_instances");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let bare = &rows[0];
    assert_eq!(bare["instance_id"], "i-0bare");
    assert_eq!(bare["state"], "hibernating-somehow", "an unknown state is kept raw");
    assert_eq!(bare["instance_type"], "z9.colossal", "an unknown type is kept raw");
    for missing in [
        "launch_time",
        "image_id",
        "image_name",
        "vpc_id",
        "private_ip",
        "availability_zone",
        "terminated_at",
    ] {
        assert!(bare.get(missing).is_none_or(Value::is_null), "{missing}: {bare}");
    }
    assert_eq!(bare["observed"], "seen");

    let status = query(
        lake.path(),
        "SELECT status, message FROM latest_account_status WHERE stage = 'ec2' AND region = 'us-east-1'",
    );
    assert_eq!(status[0]["status"], "ok");
    let message = status[0]["message"].as_str().unwrap();
    assert!(
        message.contains("1 instances with a state this version does not know")
            && message.contains("1 instances without an instance id"),
        "counted: {message}"
    );
}

/// `length` characters cycling through `alphabet`, starting at `offset`.
fn text(alphabet: &[char], length: usize, offset: usize) -> String {
    (0..length).map(|i| alphabet[(i + offset) % alphabet.len()]).collect()
}

#[test]
fn tags_at_their_maximum_lengths_with_any_unicode_survive_the_lake_and_the_csv() {
    // EC2 and Organizations take any character: astral emoji, CJK, right-to-left scripts,
    // combining marks, zero-width joiners, quotes, commas, newlines, formula starts.
    let any: Vec<char> = "=😀中שع\u{301}\u{200d}\",\n 𝄞Ωé@+-\t'".chars().collect();
    // IAM takes letters and digits of any script, spaces and _.:/=+-@ (moto enforces it too).
    let iam: Vec<char> = "=中שΩéДあ٣ _.:/+-@a".chars().collect();
    let tags = |alphabet: &[char], salt: usize| -> BTreeMap<String, String> {
        (0..3)
            .map(|i| (text(alphabet, 128, salt + i), text(alphabet, 256, salt + 7 * i)))
            .chain([("Name".to_string(), format!("={}", text(alphabet, 255, salt + 1)))])
            .collect()
    };
    let account_tags = tags(&any, 0);
    let instance_tags = tags(&any, 3);
    let user_tags = tags(&iam, 5);
    for (key, value) in account_tags.iter().chain(&instance_tags).chain(&user_tags) {
        assert!(key.chars().count() <= 128 && value.chars().count() <= 256);
    }
    assert!(account_tags.keys().any(|k| k.chars().count() == 128));

    let moto = Moto::start();
    let org = moto.seed(&json!({"accounts": [{
        "name": "unicode", "tags": account_tags,
        "instances": [{"region": "us-east-1", "state": "running", "tags": instance_tags}],
        "users": [{"name": "u", "tags": user_tags}]
    }]}));
    let lake = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--account",
        &org.account("unicode"),
        "--endpoint-url",
        &moto.url(),
        "--warehouse",
        lake.path().to_str().unwrap(),
    ]);

    let as_map = |value: &Value| -> BTreeMap<String, String> { serde_json::from_value(value.clone()).unwrap() };
    let account = query(lake.path(), "SELECT tags FROM latest_accounts");
    assert_eq!(as_map(&account[0]["tags"]), account_tags);
    let instance = query(lake.path(), "SELECT tags, name_tag FROM latest_ec2_instances");
    assert_eq!(as_map(&instance[0]["tags"]), instance_tags);
    assert_eq!(instance[0]["name_tag"], json!(instance_tags["Name"]));
    let user = query(lake.path(), "SELECT tags FROM latest_iam_users");
    assert_eq!(as_map(&user[0]["tags"]), user_tags);

    // The CSV keeps every character: the Tags cell is JSON, whole.
    let (_, records) = export_csv(lake.path(), "ec2_instances");
    let tags_column = records[0].iter().position(|h| h == "Tags").unwrap();
    let cell: BTreeMap<String, String> = serde_json::from_str(&records[1][tags_column]).unwrap();
    assert_eq!(cell, instance_tags);
    let name_column = records[0].iter().position(|h| h == "InstanceName").unwrap();
    assert_eq!(
        records[1][name_column],
        format!("'{}", instance_tags["Name"]),
        "a formula start is neutralised"
    );
}
