//! The text files compiled into the binary: every `.toml` of `schemas/` and every `.sql` of
//! `queries/`, found by the build script (`build.rs`). Adding a schema or a query is adding
//! its file; no Rust lists them.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The files directly in `dir` (for example `queries/findings`) ending in `.{extension}`,
/// as (file stem, text), sorted by name.
pub fn files_in(dir: &str, extension: &str) -> Vec<(&'static str, &'static str)> {
    let prefix = format!("{dir}/");
    let suffix = format!(".{extension}");
    FILES
        .iter()
        .filter_map(|(path, text)| {
            let name = path.strip_prefix(&prefix)?;
            let stem = name.strip_suffix(&suffix)?;
            (!stem.contains('/')).then_some((stem, *text))
        })
        .collect()
}

/// One file's text, by its path from the repository root.
pub fn file(path: &str) -> Option<&'static str> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_schema_and_query_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in [
            "schemas",
            "schemas/staging",
            "queries/findings",
            "queries/exports",
            "queries/transform",
        ] {
            let on_disk = std::fs::read_dir(root.join(dir))
                .unwrap()
                .flatten()
                .filter(|e| e.path().is_file())
                .count();
            let extension = if dir.starts_with("schemas") { "toml" } else { "sql" };
            assert_eq!(super::files_in(dir, extension).len(), on_disk, "{dir}");
        }
        assert!(super::file("queries/act/owner_tag_plan.sql").is_some());
    }

    /// The one-row parameter tables of the commit's and the tag plan's SQL.
    const PARAMETER_TABLES: [&str; 2] = ["run_params", "tag_params"];

    /// Each `CROSS JOIN <parameter table>` in `sql` (comments left out): the parameter table
    /// second, where DataFusion holds the other side whole and emits it a row at a time.
    fn parameters_joined_second(sql: &str) -> Vec<String> {
        let text: String = sql
            .lines()
            .map(|line| line.split("--").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == '(')
            .filter(|w| !w.is_empty())
            .collect();
        words
            .windows(3)
            .filter(|w| w[0] == "cross" && w[1] == "join" && PARAMETER_TABLES.contains(&w[2]))
            .map(|w| w.join(" "))
            .collect()
    }

    #[test]
    fn the_one_row_parameters_come_first_in_every_cross_join() {
        assert_eq!(
            parameters_joined_second("SELECT * FROM t CROSS JOIN run_params p -- CROSS JOIN tag_params"),
            vec!["cross join run_params"],
            "the check finds what it looks for"
        );
        let generated = [
            ("findings wrapper", crate::transform::finding_rows_sql("SELECT 1")),
            // The changes' SQL is put together in Rust: its text is checked as written.
            ("transform/changes.rs", include_str!("transform/changes.rs").to_string()),
        ];
        let files = super::FILES
            .iter()
            .filter(|(path, _)| path.ends_with(".sql"))
            .map(|(path, text)| (*path, text.to_string()));
        for (name, sql) in files.chain(generated) {
            assert_eq!(parameters_joined_second(&sql), Vec::<String>::new(), "{name}");
        }
    }
}
