//! Answers one AWS call from the organization: finds the caller, applies the family's
//! bucket and latency, and fills the captured envelope with the captured items.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

use crate::limits::{Buckets, Family, Limits};
use crate::model::{Org, set_text, text_of};

/// One parsed call.
#[derive(Debug, Default)]
pub struct Call {
    /// The signing service (`ec2`, `iam`, `sts`, `organizations`).
    pub service: String,
    /// The signing region.
    pub region: String,
    /// The access key id that signed it.
    pub access_key: String,
    /// The operation.
    pub action: String,
    /// Query parameters (Query protocols).
    pub params: HashMap<String, String>,
    /// The JSON body (Organizations).
    pub json: Value,
}

/// An answer.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

/// What the simulator counts about itself.
#[derive(Default)]
pub struct Stats {
    /// Calls answered.
    pub calls: AtomicU64,
    /// Calls answered with a throttling error.
    pub throttled: AtomicU64,
    /// Calls per operation.
    pub per_action: Mutex<BTreeMap<String, u64>>,
    /// Latency timers that fired late, by milliseconds late (index 0..=100, last: more).
    pub lateness_ms: Mutex<Vec<u64>>,
}

/// The simulator's state.
pub struct Sim {
    /// The organization.
    pub org: Org,
    /// Latencies and buckets.
    pub limits: Limits,
    /// Token buckets.
    pub buckets: Buckets,
    /// Account -> when its credential report generation started.
    pub reports: Mutex<HashMap<String, Instant>>,
    /// Counters.
    pub stats: Stats,
    /// Request ids.
    pub next_id: AtomicU64,
}

const EC2_PAGE: usize = 1000;
const IAM_PAGE: usize = 100;
const ORG_PAGE: usize = 20;

impl Sim {
    /// A simulator over `org`.
    pub fn new(org: Org, limits: Limits) -> Sim {
        Sim {
            org,
            limits,
            buckets: Buckets::default(),
            reports: Mutex::new(HashMap::new()),
            stats: Stats {
                lateness_ms: Mutex::new(vec![0; 102]),
                ..Stats::default()
            },
            next_id: AtomicU64::new(1),
        }
    }

    /// The account whose credentials signed the call: an assumed-role key names it, any
    /// other key is the management account's.
    fn caller(&self, call: &Call) -> String {
        match call.access_key.strip_prefix("ASIASIM") {
            Some(rest) if rest.len() >= 12 => rest[..12].to_string(),
            _ => self.org.management_account().to_string(),
        }
    }

    /// Answers a call, after the family's latency.
    pub async fn answer(&self, call: Call) -> Answer {
        let caller = self.caller(&call);
        let (family, key) = match call.service.as_str() {
            "organizations" => (Family::Organizations, String::new()),
            "sts" => (Family::Sts, caller.clone()),
            "ec2" => (Family::Ec2, format!("{caller}/{}", call.region)),
            _ => (Family::Iam, caller.clone()),
        };
        let limit = self.limits.of(family);
        let allowed = self.buckets.take(family, &key, limit);
        if !limit.latency.is_zero() {
            let start = Instant::now();
            tokio::time::sleep(limit.latency).await;
            let late = start.elapsed().saturating_sub(limit.latency).as_millis() as usize;
            self.stats.lateness_ms.lock().unwrap()[late.min(101)] += 1;
        }
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        *self
            .stats
            .per_action
            .lock()
            .unwrap()
            .entry(call.action.clone())
            .or_insert(0) += 1;
        if !allowed {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            return match family {
                Family::Organizations => org_error(
                    "TooManyRequestsException",
                    "You have sent too many requests in too short a period of time.",
                ),
                Family::Ec2 => ec2_error(503, "RequestLimitExceeded", "Request limit exceeded."),
                _ => query_error(&call.service, 400, "Throttling", "Rate exceeded"),
            };
        }
        match call.service.as_str() {
            "organizations" => self.organizations(&call),
            "sts" => self.sts(&call, &caller),
            "ec2" => self.ec2(&call, &caller),
            "iam" => self.iam(&call, &caller),
            other => query_error(other, 400, "InvalidAction", "the simulator does not serve this service"),
        }
    }

    fn request_id(&self) -> String {
        format!("sim-{:016x}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn fill(&self, action: &str, items: &[&str]) -> String {
        let envelope = self
            .org
            .envelopes
            .get(action)
            .map(String::as_str)
            .unwrap_or("{{items}}");
        envelope
            .replace("{{items}}", &items.concat())
            .replace("{{request_id}}", &self.request_id())
    }

    fn organizations(&self, call: &Call) -> Answer {
        let org = &self.org;
        let arg = |name: &str| {
            call.json
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let page = |items: Vec<Value>, key: &str| {
            let start: usize = arg("NextToken").parse().unwrap_or(0);
            let size = call
                .json
                .get("MaxResults")
                .and_then(Value::as_u64)
                .map_or(ORG_PAGE, |m| m as usize)
                .min(ORG_PAGE);
            let end = (start + size).min(items.len());
            let mut body = json!({ key: items[start.min(end)..end].to_vec() });
            if end < items.len() {
                body["NextToken"] = json!(end.to_string());
            }
            org_ok(body)
        };
        match call.action.as_str() {
            "DescribeOrganization" => org_ok(json!({"Organization": org.organization})),
            "ListRoots" => org_ok(json!({"Roots": [org.root]})),
            "DescribeOrganizationalUnit" => match org
                .ous
                .iter()
                .find(|o| o.raw["Id"] == json!(arg("OrganizationalUnitId")))
            {
                Some(ou) => org_ok(json!({"OrganizationalUnit": ou.raw})),
                None => org_error(
                    "OrganizationalUnitNotFoundException",
                    "You specified an organizational unit that doesn't exist.",
                ),
            },
            "ListParents" => {
                let child = arg("ChildId");
                let parent = org
                    .ous
                    .iter()
                    .find(|o| o.raw["Id"] == json!(child))
                    .map(|o| o.parent.clone())
                    .or_else(|| org.account(&child).map(|a| a.parent.clone()));
                match parent {
                    Some(p) => {
                        let kind = if p.starts_with("r-") {
                            "ROOT"
                        } else {
                            "ORGANIZATIONAL_UNIT"
                        };
                        org_ok(json!({"Parents": [{"Id": p, "Type": kind}]}))
                    }
                    None => org_error(
                        "ChildNotFoundException",
                        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
                    ),
                }
            }
            "ListAccountsForParent" => {
                let parent = arg("ParentId");
                page(
                    org.accounts
                        .iter()
                        .filter(|a| a.parent == parent)
                        .map(|a| a.raw.clone())
                        .collect(),
                    "Accounts",
                )
            }
            "ListAccounts" => page(org.accounts.iter().map(|a| a.raw.clone()).collect(), "Accounts"),
            "ListOrganizationalUnitsForParent" => {
                let parent = arg("ParentId");
                page(
                    org.ous
                        .iter()
                        .filter(|o| o.parent == parent)
                        .map(|o| o.raw.clone())
                        .collect(),
                    "OrganizationalUnits",
                )
            }
            "ListChildren" => {
                let parent = arg("ParentId");
                let children: Vec<Value> = if arg("ChildType") == "ACCOUNT" {
                    org.accounts
                        .iter()
                        .filter(|a| a.parent == parent)
                        .map(|a| json!({"Id": a.id(), "Type": "ACCOUNT"}))
                        .collect()
                } else {
                    org.ous
                        .iter()
                        .filter(|o| o.parent == parent)
                        .map(|o| json!({"Id": o.raw["Id"], "Type": "ORGANIZATIONAL_UNIT"}))
                        .collect()
                };
                page(children, "Children")
            }
            "DescribeAccount" => match org.account(&arg("AccountId")) {
                Some(a) => org_ok(json!({"Account": a.raw})),
                None => org_error(
                    "AccountNotFoundException",
                    "You specified an account that doesn't exist.",
                ),
            },
            "ListTagsForResource" => match org.account(&arg("ResourceId")) {
                Some(a) => org_ok(json!({"Tags": a.tags})),
                None => org_error("TargetNotFoundException", "You specified a target that doesn't exist."),
            },
            _ => org_error("InvalidInputException", "the simulator does not serve this operation"),
        }
    }

    fn sts(&self, call: &Call, caller: &str) -> Answer {
        match call.action.as_str() {
            "AssumeRole" => {
                let role_arn = call.params.get("RoleArn").cloned().unwrap_or_default();
                let account = role_arn.split(':').nth(4).unwrap_or_default().to_string();
                if self.org.account(&account).is_none() {
                    return query_error("sts", 403, "AccessDenied", "not authorized to perform sts:AssumeRole");
                }
                let role = role_arn.rsplit('/').next().unwrap_or_default();
                let session = call.params.get("RoleSessionName").cloned().unwrap_or_default();
                let expires = (chrono::Utc::now() + chrono::Duration::hours(1))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string();
                let mut body = self.fill("AssumeRole", &[]);
                body = set_text(&body, "AccessKeyId", &format!("ASIASIM{account}A"));
                body = set_text(&body, "Expiration", &expires);
                body = set_text(
                    &body,
                    "Arn",
                    &format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
                );
                body = set_text(&body, "AssumedRoleId", &format!("AROASIM{account}:{session}"));
                xml_ok(body)
            }
            "GetCallerIdentity" => {
                let mut body = self.fill("GetCallerIdentity", &[]);
                body = set_text(&body, "Account", caller);
                body = set_text(&body, "Arn", &format!("arn:aws:sts::{caller}:assumed-role/orglake/sim"));
                xml_ok(body)
            }
            _ => query_error(
                "sts",
                400,
                "InvalidAction",
                "the simulator does not serve this operation",
            ),
        }
    }

    fn ec2(&self, call: &Call, caller: &str) -> Answer {
        let region = self.org.account(caller).and_then(|a| a.regions.get(&call.region));
        let empty = Default::default();
        let region = region.unwrap_or(&empty);
        let token: usize = call.params.get("NextToken").and_then(|t| t.parse().ok()).unwrap_or(0);
        let max: usize = call
            .params
            .get("MaxResults")
            .and_then(|t| t.parse().ok())
            .unwrap_or(EC2_PAGE);
        match call.action.as_str() {
            "DescribeRegions" => {
                let items: Vec<&str> = self.org.regions.iter().map(String::as_str).collect();
                xml_ok(self.fill("DescribeRegions", &items))
            }
            "DescribeInstances" => {
                let mut items = Vec::new();
                let mut count = 0;
                let mut next = token;
                while next < region.reservations.len()
                    && (count == 0 || count + region.reservations[next].instances.len() <= max)
                {
                    let r = &region.reservations[next];
                    items.push(r.head.replace("{{items}}", &r.instances.concat()));
                    count += r.instances.len();
                    next += 1;
                }
                let refs: Vec<&str> = items.iter().map(String::as_str).collect();
                xml_ok(with_next_token(
                    self.fill("DescribeInstances", &refs),
                    next,
                    region.reservations.len(),
                ))
            }
            "DescribeImages" => {
                let wanted: Vec<&String> = call
                    .params
                    .iter()
                    .filter(|(k, _)| k.starts_with("ImageId.") || (k.starts_with("Filter.1.Value.")))
                    .map(|(_, v)| v)
                    .collect();
                let items: Vec<&str> = region
                    .images
                    .iter()
                    .filter(|i| wanted.is_empty() || wanted.iter().any(|w| text_of(i, "imageId") == Some(w.as_str())))
                    .map(String::as_str)
                    .collect();
                xml_ok(self.fill("DescribeImages", &items))
            }
            "DescribeSecurityGroups" => {
                let end = (token + max).min(region.security_groups.len());
                let items: Vec<&str> = region.security_groups[token.min(end)..end]
                    .iter()
                    .map(String::as_str)
                    .collect();
                xml_ok(with_next_token(
                    self.fill("DescribeSecurityGroups", &items),
                    end,
                    region.security_groups.len(),
                ))
            }
            _ => ec2_error(400, "InvalidAction", "the simulator does not serve this operation"),
        }
    }

    fn iam(&self, call: &Call, caller: &str) -> Answer {
        let Some(account) = self.org.account(caller) else {
            return query_error("iam", 403, "AccessDenied", "unknown account");
        };
        let param = |name: &str| call.params.get(name).cloned().unwrap_or_default();
        let user = || account.user_index.get(&param("UserName")).map(|&u| &account.users[u]);
        let no_user = || {
            query_error(
                "iam",
                404,
                "NoSuchEntity",
                &format!("The user with name {} cannot be found.", param("UserName")),
            )
        };
        let listed = |action: &str, items: Vec<&str>| {
            let start: usize = param("Marker").parse().unwrap_or(0);
            let size: usize = param("MaxItems").parse().unwrap_or(IAM_PAGE);
            let end = (start + size).min(items.len());
            let body = self.fill(action, &items[start.min(end)..end]);
            let body = if end < items.len() {
                body.replace(
                    "<IsTruncated>false</IsTruncated>",
                    &format!("<IsTruncated>true</IsTruncated><Marker>{end}</Marker>"),
                )
            } else {
                body
            };
            xml_ok(body)
        };
        match call.action.as_str() {
            "ListAccountAliases" => match &account.aliases {
                Some((status, body)) => answer_xml(*status, body.clone()),
                None => listed("ListAccountAliases", Vec::new()),
            },
            "ListUsers" => listed("ListUsers", account.users.iter().map(|u| u.list.as_str()).collect()),
            "GetAccountAuthorizationDetails" => listed(
                "GetAccountAuthorizationDetails",
                account.users.iter().filter_map(|u| u.details.as_deref()).collect(),
            ),
            "ListAccessKeys" => match user() {
                Some(u) => xml_ok(self.fill(
                    "ListAccessKeys",
                    &u.keys.iter().map(|k| k.list.as_str()).collect::<Vec<_>>(),
                )),
                None => no_user(),
            },
            "GetAccessKeyLastUsed" => match account.key_index.get(&param("AccessKeyId")) {
                Some(&(u, k)) => {
                    let (status, body) = &account.users[u].keys[k].last_used;
                    answer_xml(*status, body.clone())
                }
                None => query_error("iam", 404, "NoSuchEntity", "The Access Key with id cannot be found"),
            },
            "ListMFADevices" | "ListSigningCertificates" | "ListGroupsForUser" | "ListUserTags" => match user() {
                Some(u) => {
                    let items = match call.action.as_str() {
                        "ListMFADevices" => &u.mfa,
                        "ListSigningCertificates" => &u.certs,
                        "ListGroupsForUser" => &u.groups,
                        _ => &u.tags,
                    };
                    xml_ok(self.fill(&call.action, &items.iter().map(String::as_str).collect::<Vec<_>>()))
                }
                None => no_user(),
            },
            "GetLoginProfile" => match user() {
                Some(u) => answer_xml(u.login_profile.0, u.login_profile.1.clone()),
                None => no_user(),
            },
            "GenerateCredentialReport" => {
                let state = {
                    let mut reports = self.reports.lock().unwrap();
                    match reports.get(caller) {
                        None => {
                            reports.insert(caller.to_string(), Instant::now());
                            if account.report_generation.is_zero() {
                                "COMPLETE"
                            } else {
                                "STARTED"
                            }
                        }
                        Some(at) if at.elapsed() < account.report_generation => "INPROGRESS",
                        Some(_) => "COMPLETE",
                    }
                };
                xml_ok(set_text(&self.fill("GenerateCredentialReport", &[]), "State", state))
            }
            "GetCredentialReport" => {
                let started = self.reports.lock().unwrap().get(caller).copied();
                match (started, &account.report) {
                    (None, _) | (_, None) => {
                        query_error("iam", 410, "ReportNotPresent", "Credential report not present.")
                    }
                    (Some(at), _) if at.elapsed() < account.report_generation => {
                        query_error("iam", 404, "ReportInProgress", "Credential report is being generated.")
                    }
                    (Some(at), Some(report)) => {
                        let generated = report.generated_time.clone().unwrap_or_else(|| {
                            let done = chrono::Utc::now()
                                - chrono::Duration::from_std(at.elapsed().saturating_sub(account.report_generation))
                                    .unwrap_or_default();
                            done.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                        });
                        let body = self
                            .fill("GetCredentialReport", &[])
                            .replace("{{content}}", &base64(report.content.as_bytes()))
                            .replace("{{generated_time}}", &generated);
                        xml_ok(body)
                    }
                }
            }
            _ => query_error(
                "iam",
                400,
                "InvalidAction",
                "the simulator does not serve this operation",
            ),
        }
    }
}

fn with_next_token(body: String, next: usize, total: usize) -> String {
    if next >= total {
        return body;
    }
    match body.rfind("<requestId>") {
        Some(at) => format!("{}<nextToken>{next}</nextToken>{}", &body[..at], &body[at..]),
        None => body,
    }
}

fn xml_ok(body: String) -> Answer {
    answer_xml(200, body)
}

fn answer_xml(status: u16, body: String) -> Answer {
    Answer {
        status,
        content_type: "text/xml",
        body,
    }
}

fn org_ok(body: Value) -> Answer {
    Answer {
        status: 200,
        content_type: "application/x-amz-json-1.1",
        body: body.to_string(),
    }
}

fn org_error(code: &str, message: &str) -> Answer {
    Answer {
        status: 400,
        content_type: "application/x-amz-json-1.1",
        body: json!({"__type": code, "Message": message}).to_string(),
    }
}

fn ec2_error(status: u16, code: &str, message: &str) -> Answer {
    answer_xml(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>sim</RequestID></Response>"
        ),
    )
}

fn query_error(service: &str, status: u16, code: &str, message: &str) -> Answer {
    let namespace = match service {
        "sts" => "https://sts.amazonaws.com/doc/2011-06-15/",
        _ => "https://iam.amazonaws.com/doc/2010-05-08/",
    };
    answer_xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>sim</RequestId></ErrorResponse>"
        ),
    )
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
