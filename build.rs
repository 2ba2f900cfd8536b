//! Embeds every file of `schemas/` and `queries/` into the library (`pipeline/embedded.rs`),
//! so that a new schema or SQL file needs no Rust edit to be compiled in.

use std::fs;
use std::path::Path;

/// Adds every file under `dir` (relative to `root`) to `out`, as a path with `/`.
fn collect(root: &Path, dir: &str, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(root.join(dir)) else {
        return; // absent in the Dockerfile's dependency-only build
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let relative = format!("{dir}/{name}");
        if entry.path().is_dir() {
            collect(root, &relative, out);
        } else if name.ends_with(".toml") || name.ends_with(".sql") {
            out.push(relative);
        }
    }
}

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&root);
    let mut files = Vec::new();
    for dir in ["schemas", "queries"] {
        println!("cargo:rerun-if-changed={dir}");
        collect(root, dir, &mut files);
    }
    files.sort();
    let mut code = String::from(
        "/// Every `.toml` and `.sql` file of `schemas/` and `queries/`: path from the repository root, text.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    // Each path from the crate's root as the compiler sees it, not as this script did: a
    // target directory shared by two checkouts (a cache) then never reads the other's files.
    for file in files {
        code.push_str(&format!(
            "    ({file:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{file}\"))),\n"
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    fs::write(out, code).expect("write embedded.rs");
}
