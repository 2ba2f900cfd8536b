//! The README's table reference and settings table, and `examples/orglake.toml`, are
//! generated (from `schemas/` and from the settings' declarations) and must stay current.

use crate::support::repo_root;

/// The text between the README's `<!-- NAME:begin … -->` line and `<!-- NAME:end -->`.
fn generated_block(name: &str) -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let begin = format!("<!-- {name}:begin");
    let start = readme
        .find(&begin)
        .unwrap_or_else(|| panic!("README has the {name}:begin marker"));
    let start = start + readme[start..].find('\n').unwrap() + 1;
    let end = readme
        .find(&format!("<!-- {name}:end -->"))
        .unwrap_or_else(|| panic!("README has the {name}:end marker"));
    readme[start..end].to_string()
}

#[test]
fn the_readme_table_reference_matches_the_schema_files() {
    assert!(
        generated_block("tables") == orglake::schema::data_dictionary_markdown(),
        "README table reference is stale; run scripts/regenerate.sh (or replace the text between the markers with the output of `orglake tables --markdown`)"
    );
}

#[test]
fn the_readme_settings_table_and_the_example_file_match_the_declarations() {
    assert!(
        generated_block("settings") == orglake::config::settings::settings_markdown(),
        "README settings table is stale; run scripts/regenerate.sh (`orglake settings --markdown`)"
    );
    let example = std::fs::read_to_string(repo_root().join("examples/orglake.toml")).unwrap();
    assert!(
        example == orglake::config::settings::example_toml(),
        "examples/orglake.toml is stale; run scripts/regenerate.sh (`orglake settings --example`)"
    );
    // Every setting a file may hold is in both, once.
    let table = generated_block("settings");
    for setting in orglake::config::SETTINGS {
        let (spaced, alone) = (format!("| `{} ", setting.flag), format!("| `{}` ", setting.flag));
        let rows = table
            .lines()
            .filter(|l| l.contains(&spaced) || l.contains(&alone))
            .count();
        assert_eq!(rows, 1, "{}: one README row per setting", setting.flag);
        if !setting.flag_only {
            let lines = example
                .lines()
                .filter(|l| l.trim_start_matches("# ").starts_with(&format!("{} =", setting.key)))
                .count();
            assert_eq!(lines, 1, "{} appears once in the example file", setting.key);
        }
    }
}

#[test]
fn the_readme_table_of_change_entities_matches_queries_changes() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let expected = runtime
        .block_on(orglake::transform::changes::entities_markdown())
        .unwrap();
    assert!(
        generated_block("changes") == expected,
        "README's table of change entities is stale; run scripts/regenerate.sh (`orglake tables --changes`)"
    );
    assert!(
        expected.contains("| `access_key` | `iam_users` | status |"),
        "{expected}"
    );
}
