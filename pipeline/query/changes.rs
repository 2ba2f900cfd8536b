//! `orglake changes`: the `changes` of every complete run since a date, for people who do
//! not write SQL.

use chrono::NaiveDate;

use crate::embedded;
use crate::error::{Error, Result};

/// Which changes to list.
#[derive(Debug, Clone, Default)]
pub struct ChangesFilter {
    /// First snapshot date, `YYYY-MM-DD`.
    pub since: String,
    /// Only these accounts (empty: all).
    pub accounts: Vec<String>,
    /// Only these entity types (empty: all).
    pub entities: Vec<String>,
}

/// The entity types `queries/changes/` declares.
pub fn entity_types() -> Vec<&'static str> {
    embedded::files_in("queries/changes", "sql")
        .into_iter()
        .map(|(entity, _)| entity)
        .collect()
}

/// The query of `orglake changes`, after checking every value (so none can change the SQL).
pub fn changes_sql(filter: &ChangesFilter) -> Result<String> {
    NaiveDate::parse_from_str(&filter.since, "%Y-%m-%d").map_err(|_| {
        Error::config(
            "--since",
            "flag --since",
            format!("{:?}: expected a date, YYYY-MM-DD", filter.since),
        )
    })?;
    let mut conditions = vec![format!("snapshot_date >= '{}'", filter.since)];
    if !filter.accounts.is_empty() {
        for account in &filter.accounts {
            crate::config::validate::account_id(account)
                .map_err(|m| Error::config("--account", "flag --account", format!("{account:?}: {m}")))?;
        }
        conditions.push(format!("account_id IN ('{}')", filter.accounts.join("', '")));
    }
    if !filter.entities.is_empty() {
        let known = entity_types();
        for entity in &filter.entities {
            if !known.contains(&entity.as_str()) {
                return Err(Error::config(
                    "--entity",
                    "flag --entity",
                    format!("{entity:?} is not an entity type; one of {}", known.join(", ")),
                ));
            }
        }
        conditions.push(format!("entity_type IN ('{}')", filter.entities.join("', '")));
    }
    Ok(format!(
        "SELECT snapshot_date, account_id, entity_type, entity_id, parent_id, region, change, field, old_value, new_value \
         FROM changes WHERE {} \
         ORDER BY snapshot_date, detected_at, account_id, entity_type, entity_id, change, field",
        conditions.join(" AND ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_checked_values_reach_the_sql() {
        let filter = |since: &str, accounts: &[&str], entities: &[&str]| ChangesFilter {
            since: since.into(),
            accounts: accounts.iter().map(|s| s.to_string()).collect(),
            entities: entities.iter().map(|s| s.to_string()).collect(),
        };
        let sql = changes_sql(&filter("2026-11-30", &["111111111111"], &["user", "access_key"])).unwrap();
        assert!(
            sql.contains("snapshot_date >= '2026-11-30'") && sql.contains("'user', 'access_key'"),
            "{sql}"
        );
        for bad in [
            filter("2026-11-30' OR '1'='1", &[], &[]),
            filter("2026-11-30", &["1' OR '1"], &[]),
            filter("2026-11-30", &[], &["user' OR '1"]),
        ] {
            let err = changes_sql(&bad).unwrap_err().to_string();
            assert!(
                err.contains("--since") || err.contains("--account") || err.contains("--entity"),
                "{err}"
            );
        }
        assert!(entity_types().contains(&"mfa_device"));
    }
}
