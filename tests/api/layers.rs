//! The layers of `src/` keep to their lanes (see `src/lib.rs`): the API edge and the MCP server
//! never reach the event store or the work queue, only use cases issue commands, and adapters
//! know nothing of the layers above them. Read from the source, so that a change that crosses
//! a lane fails here, with the file and the line.
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, with its code: comment lines left out, so that prose may
/// name anything.
fn sources(dir: &str) -> Vec<(PathBuf, Vec<(usize, String)>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files = Vec::new();
    let mut pending = vec![root];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the source tree") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                let code = text
                    .lines()
                    .enumerate()
                    .filter(|(_, line)| !line.trim_start().starts_with("//"))
                    .map(|(n, line)| (n + 1, line.to_string()))
                    .collect();
                files.push((path, code));
            }
        }
    }
    assert!(!files.is_empty(), "no source under {dir}");
    files
}

/// Each place in `dir` whose code mentions one of `forbidden`.
fn mentions(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, code) in sources(dir) {
        for (line, text) in &code {
            for word in forbidden {
                if text.contains(word) {
                    found.push(format!("{}:{line}: {word}", path.display()));
                }
            }
        }
    }
    found
}

/// Each `use` declaration in `dir` (as one line, however it was laid out) that names
/// `module` and one of `items` anywhere in it, braces and all: `use crate::adapters::{queue,
/// ...}` as well as `use crate::adapters::queue`. An alias of `module` counts as naming
/// everything in it.
fn imports(dir: &str, module: &str, items: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, code) in sources(dir) {
        let text: String = code.iter().map(|(_, line)| format!("{line} ")).collect();
        for declaration in text.split(';').map(without_attributes) {
            let declaration = declaration.trim_start_matches("pub(crate) ");
            let declaration = declaration.trim_start_matches("pub ");
            if !declaration.starts_with("use ") {
                continue;
            }
            let words: Vec<&str> = declaration
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect();
            if !words.contains(&module) {
                continue;
            }
            let aliased = declaration.contains(&format!("{module} as "));
            if aliased || items.iter().any(|item| words.contains(item)) {
                found.push(format!("{}: {declaration}", path.display()));
            }
        }
    }
    found
}

/// A statement without the attributes before it (`#[allow(...)] use ...`), trimmed.
fn without_attributes(statement: &str) -> &str {
    let mut rest = statement.trim();
    while let Some(attribute) = rest.strip_prefix("#[") {
        let Some(end) = attribute.find(']') else {
            break;
        };
        rest = attribute[end + 1..].trim_start();
    }
    rest
}

#[test]
fn the_api_edge_never_reaches_the_store_or_the_queue() {
    // The MCP server is another door onto the use cases, held to the same lane.
    let mut found = Vec::new();
    for door in ["src/api", "src/mcp"] {
        found.extend(mentions(
            door,
            &[
                "adapters::store",
                "adapters::queue",
                "adapters::read_models",
                "adapters::subscriber",
                "altframe_projections",
                "sqlx",
                "cqrs_es",
                "crate::run",
            ],
        ));
        found.extend(imports(
            door,
            "adapters",
            &["store", "queue", "read_models", "subscriber"],
        ));
    }
    assert!(
        found.is_empty(),
        "a door (the API edge, the MCP server) reaches past the use cases:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_use_cases_issue_commands() {
    let commands = [
        "AccountCommand",
        "ApiKeyCommand",
        "JobCommand",
        "BatchCommand",
    ];
    let mut found = Vec::new();
    for layer in ["src/api", "src/mcp", "src/adapters", "src/run"] {
        found.extend(mentions(layer, &commands));
    }
    // A command on an aggregate store, however it is laid out over lines.
    for layer in ["src/api", "src/mcp", "src/adapters", "src/run"] {
        for (path, code) in sources(layer) {
            let joined: String = code
                .iter()
                .map(|(_, text)| text.as_str())
                .collect::<String>()
                .split_whitespace()
                .collect();
            for store in ["accounts", "api_keys", "jobs", "batches"] {
                for call in ["execute(", "execute_new("] {
                    let pattern = format!(".{store}.{call}");
                    if joined.contains(&pattern) {
                        found.push(format!("{}: {pattern}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "commands issued outside src/usecases:\n{}",
        found.join("\n")
    );
}

#[test]
fn each_layer_knows_only_those_below_it() {
    let mut found = Vec::new();
    found.extend(mentions(
        "src/adapters",
        &["crate::usecases", "crate::api", "crate::mcp", "crate::run"],
    ));
    found.extend(mentions(
        "src/usecases",
        &["crate::api", "crate::mcp", "crate::run"],
    ));
    found.extend(imports(
        "src/adapters",
        "crate",
        &["usecases", "api", "mcp", "run"],
    ));
    found.extend(imports("src/usecases", "crate", &["api", "mcp", "run"]));
    assert!(
        found.is_empty(),
        "a layer reaches up:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_domain_does_no_io() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("domain/Cargo.toml"))
            .expect("read domain/Cargo.toml");
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] table");
    for line in dependencies.lines().filter(|l| l.contains('=')) {
        let name = line.split(['=', '.']).next().unwrap_or_default().trim();
        assert!(
            // whatlang and isolang are tables and arithmetic over text: pure.
            [
                "chrono",
                "cqrs-es",
                "isolang",
                "schemars",
                "serde",
                "thiserror",
                "whatlang",
            ]
            .contains(&name),
            "domain/ depends on {name}: the domain is pure (no I/O)"
        );
    }
    let found = mentions(
        "domain/src",
        &["tokio::", "sqlx", "reqwest", "std::fs", "std::net"],
    );
    assert!(
        found.is_empty(),
        "the domain does I/O:\n{}",
        found.join("\n")
    );
}
