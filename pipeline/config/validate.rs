//! The validators of the settings: each reads one raw value and says, when it is wrong,
//! what is expected (the caller adds the key and where the value came from).
//!
//! May import: nothing but `chrono` and `url`.

use chrono::{DateTime, NaiveDate, Utc};

fn is_lower_alnum(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
}

/// Checks an organization id (`o-` followed by 10 to 32 lowercase letters or digits).
pub fn organization_id(v: &str) -> std::result::Result<String, String> {
    match v.strip_prefix("o-") {
        Some(rest) if (10..=32).contains(&rest.len()) && is_lower_alnum(rest) => Ok(v.to_string()),
        _ => Err(
            "not an organization id; expected o- followed by 10-32 lowercase letters or digits, e.g. o-a1b2c3d4e5"
                .into(),
        ),
    }
}

/// Checks an OU or root id (`ou-xxxx-xxxxxxxx` or `r-xxxx`).
pub fn ou_id(v: &str) -> std::result::Result<String, String> {
    let ok = if let Some(rest) = v.strip_prefix("ou-") {
        match rest.split_once('-') {
            Some((root, ou)) => {
                (4..=32).contains(&root.len())
                    && is_lower_alnum(root)
                    && (8..=32).contains(&ou.len())
                    && is_lower_alnum(ou)
            }
            None => false,
        }
    } else if let Some(rest) = v.strip_prefix("r-") {
        (4..=32).contains(&rest.len()) && is_lower_alnum(rest)
    } else {
        false
    };
    if ok {
        Ok(v.to_string())
    } else {
        Err("not an OU id; expected ou-<root>-<id> such as ou-ab12-cdef3456, or a root id such as r-ab12".into())
    }
}

/// Checks a 12-digit account id.
pub fn account_id(v: &str) -> std::result::Result<String, String> {
    if v.len() == 12 && v.chars().all(|c| c.is_ascii_digit()) {
        Ok(v.to_string())
    } else {
        Err("not an AWS account id; expected exactly 12 digits".into())
    }
}

/// Checks an IAM role name (the name, not the ARN).
pub fn role_name(v: &str) -> std::result::Result<String, String> {
    let ok = (1..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err("not an IAM role name; use 1-64 letters, digits or +=,.@_- (the name only, not the ARN)".into())
    }
}

/// Checks an AssumeRole external id (2-1224 characters).
pub fn external_id(v: &str) -> std::result::Result<String, String> {
    if (2..=1224).contains(&v.len()) {
        Ok(v.to_string())
    } else {
        Err("an external id is 2-1224 characters".into())
    }
}

/// Checks an S3 bucket name.
pub fn bucket(v: &str) -> std::result::Result<String, String> {
    let ok = (3..=63).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!(
            "{v:?} is not an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)"
        ))
    }
}

/// Checks a lake location: a directory, `file:///dir` or `s3://bucket/prefix`.
pub fn warehouse(v: &str) -> std::result::Result<String, String> {
    if v.is_empty() {
        return Err("empty; give a directory or s3://bucket/prefix".into());
    }
    if let Some(rest) = v.strip_prefix("s3://") {
        let name = rest.split('/').next().unwrap_or("");
        bucket(name)?;
        return Ok(v.trim_end_matches('/').to_string());
    }
    if v.contains("://") && !v.starts_with("file://") {
        return Err("unsupported scheme; use a local directory, file:///dir or s3://bucket/prefix".into());
    }
    Ok(v.to_string())
}

/// Checks an http(s) endpoint URL.
pub fn endpoint(v: &str) -> std::result::Result<String, String> {
    match url::Url::parse(v) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => {
            Ok(v.trim_end_matches('/').to_string())
        }
        _ => Err("not an http(s) URL; expected something like http://127.0.0.1:5000".into()),
    }
}

/// Checks a Glue database name.
pub fn glue_name(v: &str) -> std::result::Result<String, String> {
    let ok = (1..=255).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(v.to_string())
    } else {
        Err("a Glue database name is lowercase letters, digits and underscores".into())
    }
}

/// Reads true/false (also yes/no, 1/0).
pub fn boolean(v: &str) -> std::result::Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

/// Checks a tag key (1-128 characters, not `aws:`).
pub fn tag_key(v: &str) -> std::result::Result<String, String> {
    if (1..=128).contains(&v.chars().count()) && !v.to_ascii_lowercase().starts_with("aws:") {
        Ok(v.to_string())
    } else {
        Err("a tag key is 1-128 characters and may not start with aws:".into())
    }
}

/// Reads an e-mail domain (a leading `@` is dropped), lowercase.
pub fn domain(v: &str) -> std::result::Result<String, String> {
    let domain = v.trim_start_matches('@').to_ascii_lowercase();
    if domain.contains('.') && !domain.contains(char::is_whitespace) && !domain.contains('@') {
        Ok(domain)
    } else {
        Err("not an e-mail domain; expected something like example.com".into())
    }
}

/// Checks an EC2 instance state name.
pub fn instance_state(v: &str) -> std::result::Result<String, String> {
    const STATES: &[&str] = &[
        "pending",
        "running",
        "shutting-down",
        "terminated",
        "stopping",
        "stopped",
    ];
    if STATES.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(format!("not an instance state; one of {}", STATES.join(", ")))
    }
}

/// Checks an SNS topic ARN.
pub fn topic_arn(v: &str) -> std::result::Result<String, String> {
    let parts: Vec<&str> = v.split(':').collect();
    if parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && parts[4].len() == 12 && !parts[5].is_empty() {
        Ok(v.to_string())
    } else {
        Err("not an SNS topic ARN; expected arn:aws:sns:REGION:ACCOUNT:TOPIC".into())
    }
}

/// Checks a region name such as `eu-west-1`.
pub fn region(v: &str) -> std::result::Result<String, String> {
    let ok = v.len() >= 4
        && v.len() <= 32
        && v.contains('-')
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(v.to_string())
    } else {
        Err("not a region name; expected something like eu-west-1".into())
    }
}

/// Parses the run clock: RFC 3339 (`2026-11-24T06:00:00Z`) or a date (midnight UTC).
pub fn as_of_time(v: &str) -> std::result::Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err("not a time; use RFC 3339 like 2026-11-24T06:00:00Z, or a date like 2026-11-24".into())
}

/// Reads a whole number between `min` and `max` (inclusive) of `what`.
pub fn bounded<T: TryFrom<u64>>(v: &str, min: u64, max: u64, what: &str) -> std::result::Result<T, String> {
    let wrong = || format!("expected a whole number of {what} between {min} and {max}");
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => T::try_from(n).map_err(|_| wrong()),
        _ => Err(wrong()),
    }
}

/// Checks a server-side encryption type.
pub fn sse(v: &str) -> std::result::Result<String, String> {
    match v {
        "AES256" | "aws:kms" => Ok(v.to_string()),
        _ => Err("expected AES256 (SSE-S3) or aws:kms (SSE-KMS)".to_string()),
    }
}

/// Any text but the empty one.
pub fn non_empty(v: &str) -> std::result::Result<String, String> {
    if v.is_empty() {
        Err("empty".to_string())
    } else {
        Ok(v.to_string())
    }
}
