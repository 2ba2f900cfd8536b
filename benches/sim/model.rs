//! What the simulator serves: an organization as moto answered it, fragment by fragment
//! (`capture_moto.py` writes it), or one of any size rendered from such a capture.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// A captured call: its HTTP status and body.
pub type Answer = (u16, String);

/// One organization, ready to serve.
#[derive(Debug, Deserialize)]
pub struct Org {
    /// Response bodies with `{{items}}` and `{{request_id}}` holes, by operation.
    pub envelopes: HashMap<String, String>,
    /// DescribeOrganization's `Organization`.
    pub organization: Value,
    /// ListRoots' root.
    pub root: Value,
    /// Every OU (raw JSON) with its parent id.
    pub ous: Vec<Ou>,
    /// Every account, the management account first as Organizations lists it.
    pub accounts: Vec<Account>,
    /// DescribeRegions' items.
    pub regions: Vec<String>,
    /// Account id -> index in `accounts` (filled by [`Org::index`]).
    #[serde(skip)]
    pub by_id: HashMap<String, usize>,
}

/// One OU.
#[derive(Debug, Deserialize, Clone)]
pub struct Ou {
    /// As ListOrganizationalUnitsForParent answers it.
    pub raw: Value,
    /// Parent id.
    pub parent: String,
}

/// One account and everything in it.
#[derive(Debug, Deserialize, Default)]
pub struct Account {
    /// As ListAccountsForParent answers it.
    pub raw: Value,
    /// Parent id.
    pub parent: String,
    /// ListTagsForResource's tags.
    pub tags: Value,
    /// Region -> its resources.
    #[serde(default)]
    pub regions: BTreeMap<String, Region>,
    /// IAM users.
    #[serde(default)]
    pub users: Vec<User>,
    /// ListAccountAliases' body.
    #[serde(default)]
    pub aliases: Option<Answer>,
    /// The credential report.
    #[serde(default)]
    pub report: Option<Report>,
    /// How long a credential report takes to generate.
    #[serde(skip)]
    pub report_generation: Duration,
    /// User name -> index in `users`.
    #[serde(skip)]
    pub user_index: HashMap<String, usize>,
    /// Access key id -> (user, key) indexes.
    #[serde(skip)]
    pub key_index: HashMap<String, (usize, usize)>,
}

/// One region of one account.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct Region {
    /// Reservations, each a head with an `{{items}}` hole and its instances.
    pub reservations: Vec<Reservation>,
    /// DescribeImages items.
    pub images: Vec<String>,
    /// DescribeSecurityGroups items.
    pub security_groups: Vec<String>,
}

/// One reservation.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct Reservation {
    /// The reservation item with its instances replaced by `{{items}}`.
    pub head: String,
    /// Instance items.
    pub instances: Vec<String>,
}

/// One IAM user and its details.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct User {
    /// ListUsers member.
    pub list: String,
    /// GetAccountAuthorizationDetails member.
    pub details: Option<String>,
    /// Access keys.
    pub keys: Vec<Key>,
    /// ListMFADevices members.
    pub mfa: Vec<String>,
    /// ListSigningCertificates members.
    pub certs: Vec<String>,
    /// ListGroupsForUser members.
    pub groups: Vec<String>,
    /// ListUserTags members.
    pub tags: Vec<String>,
    /// GetLoginProfile's answer (an error when the user has no console password).
    pub login_profile: Answer,
}

/// One access key.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct Key {
    /// ListAccessKeys member.
    pub list: String,
    /// GetAccessKeyLastUsed's answer.
    pub last_used: Answer,
}

/// A credential report.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct Report {
    /// The CSV text.
    pub content: String,
    /// GeneratedTime as captured; `None`: the time generation finished.
    pub generated_time: Option<String>,
}

/// The text between `<tag>` and `</tag>` in a fragment.
pub fn text_of<'a>(fragment: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = fragment.find(&open)? + open.len();
    let end = fragment[start..].find(&format!("</{tag}>"))? + start;
    Some(&fragment[start..end])
}

/// Replaces the text between `<tag>` and `</tag>` (first occurrence).
pub fn set_text(fragment: &str, tag: &str, value: &str) -> String {
    let open = format!("<{tag}>");
    let Some(start) = fragment.find(&open).map(|s| s + open.len()) else {
        return fragment.to_string();
    };
    let Some(end) = fragment[start..].find(&format!("</{tag}>")).map(|e| e + start) else {
        return fragment.to_string();
    };
    format!("{}{}{}", &fragment[..start], value, &fragment[end..])
}

impl Org {
    /// Reads a capture file.
    pub fn load(path: &str) -> Result<Org, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let mut org: Org = serde_json::from_str(&text).map_err(|e| format!("{path} is not a capture: {e}"))?;
        org.index();
        Ok(org)
    }

    /// Builds the lookup tables.
    pub fn index(&mut self) {
        self.by_id = self
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.raw["Id"].as_str().unwrap_or_default().to_string(), i))
            .collect();
        for account in &mut self.accounts {
            account.user_index.clear();
            account.key_index.clear();
            for (u, user) in account.users.iter().enumerate() {
                if let Some(name) = text_of(&user.list, "UserName") {
                    account.user_index.insert(name.to_string(), u);
                }
                for (k, key) in user.keys.iter().enumerate() {
                    if let Some(id) = text_of(&key.list, "AccessKeyId") {
                        account.key_index.insert(id.to_string(), (u, k));
                    }
                }
            }
        }
    }

    /// The management account's id.
    pub fn management_account(&self) -> &str {
        self.organization["MasterAccountId"].as_str().unwrap_or("123456789012")
    }

    /// An account by id.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.by_id.get(id).map(|&i| &self.accounts[i])
    }
}

impl Account {
    /// The account's id.
    pub fn id(&self) -> &str {
        self.raw["Id"].as_str().unwrap_or_default()
    }

    /// Whether the account is ACTIVE (scanned).
    pub fn active(&self) -> bool {
        self.raw.get("State").or(self.raw.get("Status")).and_then(Value::as_str) == Some("ACTIVE")
    }

    /// Instances in every region.
    pub fn instances(&self) -> usize {
        self.regions
            .values()
            .flat_map(|r| &r.reservations)
            .map(|r| r.instances.len())
            .sum()
    }
}
