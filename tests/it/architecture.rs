//! The code's house: a folder per stage, each saying in its module doc what it may
//! import, no stage importing another that it does not declare, and no import circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::repo_root;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// The top-level library modules a file's non-test code names as `crate::<module>`.
fn imports(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap();
    let mut found = BTreeSet::new();
    for piece in code.split("crate::").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if modules.contains(&name) {
            found.insert(name);
        }
    }
    // `use crate::{a, b::c}` groups.
    for group in code.split("use crate::{").skip(1) {
        let inside = group.split('}').next().unwrap();
        for item in inside.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if modules.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn each_stage_imports_only_what_its_module_doc_allows_and_there_is_no_circle() {
    let pipeline = repo_root().join("pipeline");
    let lib = std::fs::read_to_string(pipeline.join("lib.rs")).unwrap();
    let modules: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    assert!(modules.len() >= 12, "{modules:?}");
    let mut allowed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for module in &modules {
        let folder = pipeline.join(module);
        let files = if folder.is_dir() {
            rust_files(&folder)
        } else {
            vec![pipeline.join(format!("{module}.rs"))]
        };
        let mut used = BTreeSet::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            assert!(text.starts_with("//!"), "{} starts with a module doc", file.display());
            used.extend(imports(&text, &modules));
        }
        used.remove(module);
        if !folder.is_dir() {
            // The base modules (a file each: error, embedded, schema, status) are below
            // every stage: they import only each other.
            let stage = used.iter().find(|m| pipeline.join(m.as_str()).is_dir());
            assert!(
                stage.is_none(),
                "{module} is a base module, yet imports the stage {stage:?}"
            );
            allowed.insert(module.clone(), used);
            continue;
        }
        let doc = std::fs::read_to_string(folder.join("mod.rs")).unwrap();
        let line = doc
            .lines()
            .find_map(|l| l.strip_prefix("//! May import: "))
            .unwrap_or_else(|| panic!("pipeline/{module}/mod.rs says what it may import"));
        let declared: BTreeSet<String> = line
            .trim_end_matches('.')
            .split(", ")
            .map(|m| m.trim_matches('`').to_string())
            .collect();
        // The base modules (a file each, below every stage) may be used anywhere.
        let undeclared: Vec<&String> = used
            .difference(&declared)
            .filter(|m| pipeline.join(m.as_str()).is_dir())
            .collect();
        assert!(
            undeclared.is_empty(),
            "pipeline/{module}/ imports {undeclared:?}, which its module doc does not allow"
        );
        allowed.insert(module.clone(), declared.union(&used).cloned().collect());
    }
    // No circle in what the stages may import: a depth-first search that never meets a
    // module still on its path.
    fn visit(
        module: &str,
        allowed: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(module) {
            return;
        }
        assert!(!path.iter().any(|m| m == module), "import circle: {path:?} -> {module}");
        path.push(module.to_string());
        for next in allowed.get(module).into_iter().flatten() {
            visit(next, allowed, path, done);
        }
        path.pop();
        done.insert(module.to_string());
    }
    let mut done = BTreeSet::new();
    for module in allowed.keys() {
        visit(module, &allowed, &mut Vec::new(), &mut done);
    }
}
