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
}
