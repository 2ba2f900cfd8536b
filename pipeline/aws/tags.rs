//! AWS resource tags: lookups that match a key exactly, else ignoring case.

/// Finds a tag value by key, matching the key exactly first and then ignoring ASCII case
/// (`Owner`, `OWNER`); `None` when absent.
pub fn tag_value<'a>(tags: &'a std::collections::BTreeMap<String, String>, key: &str) -> Option<&'a String> {
    tag_entry(tags, key).map(|(_, value)| value)
}

/// The tag whose key is `key` (exactly, else ignoring ASCII case), with its key as written.
pub fn tag_entry<'a>(
    tags: &'a std::collections::BTreeMap<String, String>,
    key: &str,
) -> Option<(&'a String, &'a String)> {
    tags.get_key_value(key)
        .or_else(|| tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
}
