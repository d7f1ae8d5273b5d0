//! The crate's layers point one way: text → tagger → segment → train → service → cli/tui.
//! Every `crate::` path in `src/` is checked against the table below, so an import against
//! the order (the model ↔ lexicon ↔ segment circle that once was) fails this test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and the modules it may use. A module not listed fails the test:
/// a new module gets its place in the order here.
const ALLOWED: &[(&str, &[&str])] = &[
    // The bottom: no fenci module below them.
    ("text", &[]),
    ("kernels", &[]),
    ("fsio", &[]),
    ("eval", &[]),
    // The tagger, and what reads the text around it.
    ("tagger", &["text", "kernels", "fsio"]),
    ("explain", &["text"]),
    ("lm", &["text", "kernels", "fsio"]),
    ("segment", &["text", "kernels", "tagger"]),
    ("generate", &["text", "lm"]),
    ("hub", &["text", "fsio", "tagger", "lm"]),
    (
        "annotate",
        &["text", "tagger", "explain", "segment", "generate"],
    ),
    (
        "train",
        &[
            "text", "kernels", "fsio", "eval", "tagger", "lm", "segment", "generate",
        ],
    ),
    // The user's data, and the operations on it.
    ("store", &["text", "fsio"]),
    ("document", &["fsio", "tagger", "segment"]),
    (
        "service",
        &[
            "text", "fsio", "tagger", "segment", "generate", "train", "store",
        ],
    ),
    // The front ends.
    (
        "tui",
        &[
            "text", "kernels", "fsio", "eval", "tagger", "explain", "lm", "segment", "generate",
            "hub", "annotate", "train", "store", "service", "document",
        ],
    ),
    (
        "cli",
        &[
            "text", "kernels", "fsio", "eval", "tagger", "explain", "lm", "segment", "generate",
            "hub", "annotate", "train", "store", "service", "document", "tui",
        ],
    ),
];

/// `src` with comments, strings and character literals blanked, so only code is searched.
fn code_only(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if s[i..].starts_with("//") {
            i = s[i..].find('\n').map_or(b.len(), |j| i + j);
        } else if s[i..].starts_with("/*") {
            i = s[i + 2..].find("*/").map_or(b.len(), |j| i + 2 + j + 2);
        } else if b[i] == b'r'
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
            && s[i + 1..].trim_start_matches('#').starts_with('"')
        {
            let hashes = s[i + 1..].len() - s[i + 1..].trim_start_matches('#').len();
            let end = format!("\"{}", "#".repeat(hashes));
            let open = i + 1 + hashes + 1;
            i = s[open..]
                .find(&end)
                .map_or(b.len(), |j| open + j + end.len());
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            i = j + 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{4e00}'), not a lifetime ('a).
            let rest = &s[i + 1..];
            let lit = if let Some(esc) = rest.strip_prefix('\\') {
                esc.find('\'').map(|j| j + 2)
            } else {
                let mut cs = rest.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), Some('\'')) => Some(c.len_utf8() + 1),
                    _ => None,
                }
            };
            match lit {
                Some(n) => {
                    i += 1 + n;
                    out.push_str("' '");
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = s[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The top-level modules a source file names through `crate::` paths (`crate::a::x`,
/// `crate::{a::x, b}`).
fn crate_paths(src: &str) -> BTreeSet<String> {
    let code = code_only(src);
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        if at > 0 {
            let prev = code.as_bytes()[at - 1];
            if prev.is_ascii_alphanumeric() || prev == b'_' {
                continue; // e.g. `$crate::` or `mycrate::`
            }
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group, up to its closing brace.
            let (mut depth, mut start) = (0usize, 0usize);
            let mut names = Vec::new();
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.push(&group[start..k]);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(&group[start..k]);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            found.extend(
                names
                    .iter()
                    .map(|n| ident(n.trim()))
                    .filter(|n| !n.is_empty()),
            );
        } else {
            let n = ident(rest);
            if !n.is_empty() {
                found.insert(n);
            }
        }
    }
    found
}

/// Every import against the table in the tree under `src`: "file: module → module".
fn violations(src: &Path) -> Vec<String> {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src");
            let top = rel
                .components()
                .next()
                .expect("a path")
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            let Some(ok) = allowed.get(top.as_str()) else {
                out.push(format!(
                    "{}: module `{top}` has no row in ALLOWED (tests/it/layers.rs); give it its layer",
                    rel.display()
                ));
                continue;
            };
            for dep in crate_paths(&text) {
                if dep != top && allowed.contains_key(dep.as_str()) && !ok.contains(dep.as_str()) {
                    out.push(format!("{}: {top} → {dep}", rel.display()));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let v = violations(&src);
    assert!(
        v.is_empty(),
        "imports against the layer order (text → tagger → segment → train → service → cli/tui):\n{}",
        v.join("\n")
    );
}

#[test]
fn every_module_of_lib_rs_has_a_layer() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("lib.rs");
    let listed: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    for line in lib.lines() {
        if let Some(m) = line.trim().strip_prefix("pub mod ") {
            let m = m.trim_end_matches(';');
            assert!(
                listed.contains(m),
                "src/lib.rs declares `{m}`, which ALLOWED does not place"
            );
        }
    }
}

#[test]
fn the_checker_sees_imports_in_every_form() {
    let src = r#"
        use crate::text::Units;
        use crate::{segment::Segmenter, tagger::{BertTagger, Tag}, store};
        // crate::service in a comment does not count
        const S: &str = "crate::cli in a string does not count";
        fn f<'a>(x: &'a str) -> char { let _ = crate::hub::resolve; '{' }
    "#;
    let got: Vec<String> = crate_paths(src).into_iter().collect();
    assert_eq!(got, ["hub", "segment", "store", "tagger", "text"]);

    // A module that imports upwards is reported.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("tagger")).expect("mkdir");
    std::fs::write(
        dir.path().join("tagger/mod.rs"),
        "use crate::segment::Segmenter;\nuse crate::text::Units;\n",
    )
    .expect("write");
    assert_eq!(violations(dir.path()), ["tagger/mod.rs: tagger → segment"]);
}
