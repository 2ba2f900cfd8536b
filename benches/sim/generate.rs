//! An organization of any size, rendered from a capture's first account with instances and
//! users: every fragment is the captured one with its ids, names and values replaced, so
//! the shapes stay moto's. Deterministic for a seed.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::model::{Account, Key, Org, Ou, Region, Report, Reservation, User, set_text, text_of};

/// The size and mix of a generated organization.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Member accounts (the management account comes on top).
    pub accounts: usize,
    /// Regions per account (the first enabled ones of the capture's list).
    pub regions: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Shortest and longest credential-report generation time.
    pub report_seconds: (f64, f64),
}

/// splitmix64: a small, fast, deterministic generator.
pub struct Rng(u64);

impl Rng {
    /// A generator for one seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Log-uniform integer in [1, max]: most values small, a long tail.
    pub fn skewed(&mut self, max: usize) -> usize {
        ((self.unit() * ((max + 1) as f64).ln()).exp() as usize).clamp(1, max)
    }
}

/// The captured pieces a generated organization is made of.
struct Templates {
    account_id: String,
    account: Value,
    ou: Value,
    region: String,
    reservation: String,
    reservation_id: String,
    instance: String,
    instance_id: String,
    image: String,
    security_group: String,
    group_id: String,
    /// A user with a console password, MFA, keys, a certificate; and one without.
    console_user: User,
    plain_user: User,
    report_header: String,
    console_line: String,
    plain_line: String,
    aliases: (u16, String),
}

fn templates(capture: &Org) -> Result<Templates, String> {
    let account = capture
        .accounts
        .iter()
        .find(|a| a.active() && !a.users.is_empty() && a.instances() > 0)
        .ok_or("the capture has no active account with users and instances")?;
    let (region, reservation) = account
        .regions
        .iter()
        .find_map(|(name, r)| r.reservations.first().map(|res| (name.clone(), res.clone())))
        .ok_or("no reservation")?;
    let instance = reservation.instances[0].clone();
    let image_id = text_of(&instance, "imageId")
        .ok_or("instance without imageId")?
        .to_string();
    let images = &account.regions[&region].images;
    let image = images
        .iter()
        .find(|i| text_of(i, "imageId") == Some(&image_id))
        .ok_or("the template instance's image was not captured")?
        .clone();
    let security_group = account.regions[&region]
        .security_groups
        .first()
        .ok_or("no security group")?
        .clone();
    let console_user = account
        .users
        .iter()
        .find(|u| u.login_profile.0 == 200 && !u.keys.is_empty())
        .ok_or("no user with a console password and keys")?
        .clone();
    let plain_user = account
        .users
        .iter()
        .find(|u| u.login_profile.0 != 200)
        .ok_or("no user without a console password")?
        .clone();
    let report = account.report.as_ref().ok_or("no credential report")?;
    let mut lines = report.content.lines();
    let report_header = lines.next().ok_or("empty report")?.to_string();
    let line_of = |user: &User| {
        let name = text_of(&user.list, "UserName").unwrap_or_default();
        report
            .content
            .lines()
            .find(|l| l.starts_with(&format!("{name},")))
            .map(str::to_string)
            .ok_or(format!("no report line for {name}"))
    };
    Ok(Templates {
        account_id: account.id().to_string(),
        account: account.raw.clone(),
        ou: capture.ous.first().ok_or("no OU")?.raw.clone(),
        reservation_id: text_of(&reservation.head, "reservationId")
            .unwrap_or_default()
            .to_string(),
        instance_id: text_of(&instance, "instanceId").unwrap_or_default().to_string(),
        group_id: text_of(&security_group, "groupId").unwrap_or_default().to_string(),
        console_line: line_of(&console_user)?,
        plain_line: line_of(&plain_user)?,
        aliases: account.aliases.clone().ok_or("no aliases")?,
        region,
        reservation: reservation.head,
        instance,
        image,
        security_group,
        console_user,
        plain_user,
        report_header,
    })
}

/// Replaces a whole `<tag>…</tag>` element (first occurrence).
fn set_element(fragment: &str, tag: &str, element: &str) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    match (fragment.find(&open), fragment.find(&close)) {
        (Some(s), Some(e)) => format!("{}{}{}", &fragment[..s], element, &fragment[e + close.len()..]),
        _ => fragment.replace(&format!("<{tag}/>"), element),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

const STATES: [(&str, u32, f64); 3] = [("running", 16, 0.80), ("stopped", 80, 0.95), ("terminated", 48, 1.0)];
const TEAMS: [&str; 6] = ["payments", "search", "platform", "data", "identity", "web"];

/// Renders an organization of `shape.accounts` member accounts from a capture.
pub fn generate(capture: &Org, shape: &Shape) -> Result<Org, String> {
    let t = templates(capture)?;
    let mut rng = Rng::new(shape.seed);
    let enabled: Vec<&String> = capture
        .regions
        .iter()
        .filter(|r| text_of(r, "optInStatus") == Some("opt-in-not-required"))
        .collect();
    if enabled.len() < shape.regions {
        return Err(format!(
            "the capture lists {} enabled regions, fewer than {}",
            enabled.len(),
            shape.regions
        ));
    }
    let regions: Vec<String> = enabled[..shape.regions].iter().map(|r| r.to_string()).collect();
    let region_names: Vec<String> = regions
        .iter()
        .map(|r| text_of(r, "regionName").unwrap().to_string())
        .collect();
    let org_id = capture.organization["Id"].as_str().unwrap_or("o-sim").to_string();
    let root_id = capture.root["Id"].as_str().unwrap_or("r-sim").to_string();
    // Nested OUs: ten top-level units of five children each; accounts spread over all 60.
    let mut ous = Vec::new();
    for top in 0..10 {
        let top_id = format!("ou-{}-{:08x}", &root_id[2..], top);
        ous.push(ou(&t, &top_id, &format!("unit-{top}"), &root_id, &org_id));
        for child in 0..5 {
            let id = format!("ou-{}-{:08x}", &root_id[2..], 0x100 + top * 8 + child);
            ous.push(ou(&t, &id, &format!("unit-{top}-team-{child}"), &top_id, &org_id));
        }
    }
    let mut accounts = vec![capture.accounts[0].clone_shallow()];
    for n in 0..shape.accounts {
        let id = format!("{:012}", 200_000_000_000u64 + n as u64);
        let parent = ous[rng.next_u64() as usize % ous.len()].raw["Id"]
            .as_str()
            .unwrap()
            .to_string();
        accounts.push(account(&t, &mut rng, shape, &id, n, parent, &org_id, &region_names));
    }
    let mut org = Org {
        envelopes: capture.envelopes.clone(),
        organization: capture.organization.clone(),
        root: capture.root.clone(),
        ous,
        accounts,
        regions,
        by_id: Default::default(),
    };
    org.index();
    Ok(org)
}

impl Account {
    /// The account's listing only (the management account is not scanned in benchmarks).
    fn clone_shallow(&self) -> Account {
        Account {
            raw: self.raw.clone(),
            parent: self.parent.clone(),
            tags: self.tags.clone(),
            ..Account::default()
        }
    }
}

fn ou(t: &Templates, id: &str, name: &str, parent: &str, org_id: &str) -> Ou {
    let mut raw = t.ou.clone();
    raw["Id"] = json!(id);
    raw["Name"] = json!(name);
    raw["Arn"] = json!(format!("arn:aws:organizations::{}:ou/{org_id}/{id}", t.account_id));
    Ou {
        raw,
        parent: parent.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn account(
    t: &Templates,
    rng: &mut Rng,
    shape: &Shape,
    id: &str,
    n: usize,
    parent: String,
    org_id: &str,
    regions: &[String],
) -> Account {
    let mut raw = t.account.clone();
    raw["Id"] = json!(id);
    raw["Name"] = json!(format!("account-{n}"));
    raw["Email"] = json!(format!("account-{n}@example.com"));
    raw["Arn"] = json!(format!("arn:aws:organizations::{}:account/{org_id}/{id}", t.account_id));
    let suspended = rng.unit() < 0.01;
    if suspended {
        raw["Status"] = json!("SUSPENDED");
        raw["State"] = json!("SUSPENDED");
    }
    let team = TEAMS[rng.next_u64() as usize % TEAMS.len()];
    let owner = format!("{team}-lead@example.com");
    let tags = json!([{"Key": "owner", "Value": owner}, {"Key": "team", "Value": team}]);
    let (lo, hi) = shape.report_seconds;
    let report_generation = Duration::from_secs_f64(lo + (hi - lo) * rng.unit().powi(3));
    let mut account = Account {
        raw,
        parent,
        tags,
        report_generation,
        ..Account::default()
    };
    if suspended {
        return account;
    }
    let rename = |fragment: &str| fragment.replace(&t.account_id, id);
    for (r, region) in regions.iter().enumerate() {
        let mut resources = Region::default();
        let images: Vec<String> = (0..1 + rng.next_u64() % 3)
            .map(|i| format!("ami-{:08x}", (n as u64) << 12 | (r as u64) << 4 | i))
            .collect();
        for image_id in &images {
            let image = set_text(&t.image, "imageId", image_id);
            resources
                .images
                .push(set_text(&image, "name", &format!("golden-{image_id}")));
        }
        let groups = 1 + rng.next_u64() % 3;
        for g in 0..groups {
            let group_id = format!("sg-{:017x}", (n as u64) << 16 | (r as u64) << 4 | g);
            let group = rename(&t.security_group).replace(&t.group_id, &group_id);
            let group = if g == 0 {
                group
            } else {
                set_text(&group, "groupName", &format!("app-{g}"))
            };
            resources.security_groups.push(group);
        }
        if rng.unit() < 0.25 {
            let count = rng.skewed(24);
            let reservation_id = format!("r-{:017x}", (n as u64) << 16 | (r as u64) << 8);
            let head = rename(&t.reservation).replace(&t.reservation_id, &reservation_id);
            let mut instances = Vec::with_capacity(count);
            for i in 0..count {
                let instance_id = format!("i-{:017x}", (n as u64) << 20 | (r as u64) << 12 | i as u64);
                let roll = rng.unit();
                let (state, code, _) = *STATES.iter().find(|(_, _, p)| roll < *p).unwrap();
                let mut x = rename(&t.instance)
                    .replace(&t.instance_id, &instance_id)
                    .replace(&t.region, region);
                x = set_text(&x, "imageId", &images[i % images.len()]);
                x = set_element(
                    &x,
                    "instanceState",
                    &format!("<instanceState><code>{code}</code><name>{state}</name></instanceState>"),
                );
                let private_ip = format!("10.{}.{}.{}", r, (i >> 8) & 255, i & 255);
                x = set_text(&x, "privateIpAddress", &private_ip);
                let name = format!("{team}-{i}");
                let mut tag_items = format!("<item><key>Name</key><value>{}</value></item>", xml_escape(&name));
                if rng.unit() < 0.7 {
                    tag_items.push_str(&format!(
                        "<item><key>owner</key><value>{}</value></item>",
                        xml_escape(&owner)
                    ));
                }
                x = set_element(&x, "tagSet", &format!("<tagSet>{tag_items}</tagSet>"));
                instances.push(x);
            }
            resources.reservations.push(Reservation { head, instances });
        }
        account.regions.insert(region.clone(), resources);
    }
    let users = rng.skewed(41) - 1;
    let mut lines = vec![t.report_header.clone()];
    lines.push(format!("<root_account>,arn:aws:iam::{id}:root,2020-01-01T00:00:00+00:00,not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"));
    for u in 0..users {
        let console = rng.unit() < 0.4;
        let (template, line) = if console {
            (&t.console_user, &t.console_line)
        } else {
            (&t.plain_user, &t.plain_line)
        };
        let old_name = text_of(&template.list, "UserName").unwrap_or_default().to_string();
        let old_id = text_of(&template.list, "UserId").unwrap_or_default().to_string();
        let name = format!("user-{u}");
        let user_id = format!("AIDA{:016}", (n as u64) * 1000 + u as u64);
        let swap = |fragment: &str| {
            rename(fragment)
                .replace(
                    &format!("<UserName>{old_name}</UserName>"),
                    &format!("<UserName>{name}</UserName>"),
                )
                .replace(&format!("/{old_name}<"), &format!("/{name}<"))
                .replace(&format!("mfa/{old_name}-mfa"), &format!("mfa/{name}-mfa"))
                .replace(&old_id, &user_id)
        };
        let keys = template
            .keys
            .iter()
            .enumerate()
            .take(rng.next_u64() as usize % (template.keys.len() + 1))
            .map(|(k, key)| {
                let old = text_of(&key.list, "AccessKeyId").unwrap_or_default();
                let new = format!("AKIASIM{:013}", (n as u64) * 100_000 + u as u64 * 10 + k as u64);
                Key {
                    list: swap(&key.list).replace(old, &new),
                    last_used: (key.last_used.0, swap(&key.last_used.1)),
                }
            })
            .collect();
        let user = User {
            list: swap(&template.list),
            details: template.details.as_deref().map(swap),
            keys,
            mfa: if rng.unit() < 0.7 {
                template.mfa.iter().map(|m| swap(m)).collect()
            } else {
                Vec::new()
            },
            certs: template.certs.iter().map(|c| swap(c)).collect(),
            groups: template.groups.iter().map(|g| rename(g)).collect(),
            tags: template.tags.clone(),
            login_profile: (template.login_profile.0, swap(&template.login_profile.1)),
        };
        account.users.push(user);
        lines.push(
            line.replacen(&format!("{old_name},"), &format!("{name},"), 1)
                .replace(&t.account_id, id)
                .replace(&format!("/{old_name},"), &format!("/{name},")),
        );
    }
    account.aliases = Some((t.aliases.0, set_text(&t.aliases.1, "member", &format!("account-{n}"))));
    account.report = Some(Report {
        content: lines.join("\n") + "\n",
        generated_time: None,
    });
    account
}

/// Rows the lake must hold after a full scan of `org`, by table.
pub fn truth(org: &Org) -> BTreeMap<&'static str, usize> {
    let scanned: Vec<&Account> = org
        .accounts
        .iter()
        .filter(|a| a.active() && a.report.is_some())
        .collect();
    let mut truth = BTreeMap::new();
    truth.insert("accounts", org.accounts.len());
    truth.insert("scanned_accounts", scanned.len());
    truth.insert("ec2_instances", scanned.iter().map(|a| a.instances()).sum());
    truth.insert("iam_users", scanned.iter().map(|a| a.users.len()).sum());
    truth.insert(
        "iam_credential_report",
        scanned
            .iter()
            .map(|a| {
                a.report
                    .as_ref()
                    .map_or(0, |r| r.content.lines().count().saturating_sub(1))
            })
            .sum(),
    );
    truth.insert(
        "ec2_security_groups",
        scanned
            .iter()
            .flat_map(|a| a.regions.values())
            .map(|r| r.security_groups.len())
            .sum(),
    );
    truth
}
