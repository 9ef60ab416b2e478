//! The shape of the code, drawn from its imports: the stages of the data flow import nothing
//! from a later stage, and no file imports (directly or through others) a file that imports
//! it back. Every `crate::`, `super::` and `self::` path in `src/` (and a `use` of a child
//! module) is resolved to the file it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may import its own layer and the ones below.
const LAYERS: &[&[&str]] = &[
    &[
        "time", "hash", "error", "logging", "fs", "mask", "clock", "severity", "startup",
    ],
    &["decode"],
    &["record"],
    &["detect"],
    &["alert"],
    &["engine"],
    &["multiline"],
    &["correlate"],
    &["policy"],
    &["incidents"],
    &["pipeline"],
    &["sink"],
    &["verify"],
    &["driver"],
    &["keys", "input", "settings", "objects"],
    &["replay", "report", "lambda", "check"],
    &["explain"],
    &["lib", "main", "cli", "bin"],
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` has no layer in tests/it/structure.rs"))
}

/// The module path of a source file: `src/detect/sigma/mod.rs` → [detect, sigma].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The file of module path `m`, if it is a file of its own.
fn file_of(src: &Path, m: &[String]) -> Option<PathBuf> {
    if m.is_empty() {
        return Some(src.join("lib.rs"));
    }
    let base: PathBuf = m.iter().collect();
    let a = src.join(&base).with_extension("rs");
    let b = src.join(&base).join("mod.rs");
    [a, b].into_iter().find(|p| p.is_file())
}

/// The deepest file a path of segments names, starting from module `from`.
fn resolve(src: &Path, from: &[String], segments: &[&str]) -> Option<PathBuf> {
    let mut module: Vec<String> = from.to_vec();
    let mut found = None;
    for (i, s) in segments.iter().enumerate() {
        match *s {
            "crate" if i == 0 => module.clear(),
            "self" if i == 0 => {}
            "super" => {
                module.pop();
            }
            name => {
                let mut next = module.clone();
                next.push(name.to_owned());
                match file_of(src, &next) {
                    Some(f) => {
                        found = Some(f);
                        module = next;
                    }
                    None => break,
                }
                continue;
            }
        }
        found = file_of(src, &module);
    }
    found
}

/// Every path a file mentions: `crate::a::b`, `super::x`, `self::y`, and `use child::...`
/// for a child module the file declares.
fn paths(text: &str) -> Vec<Vec<String>> {
    let children: BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            l.strip_prefix("mod ")
                .and_then(|r| r.strip_suffix(';'))
                .map(str::to_owned)
        })
        .collect();
    let mut out = Vec::new();
    // The code of the file itself: comments and the unit tests at its end left out.
    let code: String = text
        .lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !ident(bytes[i]) || (i > 0 && (ident(bytes[i - 1]) || bytes[i - 1] == b':')) {
            i += 1;
            continue;
        }
        // A path: idents joined by `::`.
        let mut segs = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < bytes.len() && ident(bytes[j]) {
                j += 1;
            }
            segs.push(code[start..j].to_owned());
            if code[j..].starts_with("::")
                && code[j + 2..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            {
                j += 2;
            } else if code[j..].starts_with("::{") {
                // A group: each item is a path of its own after the prefix.
                let end = code[j..].find('}').map_or(code.len(), |e| j + e);
                for item in code[j + 3..end].split(',') {
                    let item: Vec<String> = item
                        .trim()
                        .split("::")
                        .map(|s| s.trim().split(' ').next().unwrap_or("").to_owned())
                        .filter(|s| !s.is_empty() && s != "{")
                        .collect();
                    if !item.is_empty() {
                        let mut p = segs.clone();
                        p.extend(item);
                        out.push(p);
                    }
                }
                j = end;
                break;
            } else {
                break;
            }
        }
        let first = segs[0].as_str();
        if segs.len() > 1
            && (matches!(first, "crate" | "super" | "self") || children.contains(first))
        {
            out.push(segs);
        }
        i = j.max(i + 1);
    }
    out
}

fn graph() -> (PathBuf, BTreeMap<PathBuf, BTreeSet<PathBuf>>) {
    let src = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("source");
        let from = module_of(&src, f);
        let set = edges.entry(f.clone()).or_default();
        for p in paths(&text) {
            let segs: Vec<&str> = p.iter().map(String::as_str).collect();
            if let Some(to) = resolve(&src, &from, &segs)
                && to != *f
            {
                set.insert(to);
            }
        }
    }
    (src, edges)
}

#[test]
fn no_stage_imports_a_later_stage() {
    let (src, edges) = graph();
    let mut wrong = Vec::new();
    for (from, tos) in &edges {
        let fm = module_of(&src, from);
        let fl = layer(fm.first().map_or("lib", String::as_str));
        for to in tos {
            let tm = module_of(&src, to);
            let tl = layer(tm.first().map_or("lib", String::as_str));
            if tl > fl {
                wrong.push(format!("{} imports {}", from.display(), to.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports from a lower stage to a higher one:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_file_imports_itself_through_others() {
    let (src, edges) = graph();
    // What each file reaches through its imports (the graph has some sixty nodes).
    let reach = |from: &PathBuf| -> BTreeSet<PathBuf> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&PathBuf> = edges.get(from).into_iter().flatten().collect();
        while let Some(f) = stack.pop() {
            if seen.insert(f.clone()) {
                stack.extend(edges.get(f).into_iter().flatten());
            }
        }
        seen
    };
    let reaches: BTreeMap<&PathBuf, BTreeSet<PathBuf>> =
        edges.keys().map(|f| (f, reach(f))).collect();
    // Files in a circle: those that reach themselves; grouped by mutual reach.
    let mut circles: BTreeSet<Vec<String>> = BTreeSet::new();
    for (f, r) in &reaches {
        if r.contains(*f) {
            let mut circle: Vec<String> = r
                .iter()
                .filter(|g| reaches.get(g).is_some_and(|rg| rg.contains(*f)))
                .map(|g| g.strip_prefix(&src).unwrap_or(g).display().to_string())
                .collect();
            circle.sort();
            circles.insert(circle);
        }
    }
    let shown: Vec<String> = circles.iter().map(|c| c.join(" ↔ ")).collect();
    assert!(shown.is_empty(), "import circles:\n{}", shown.join("\n"));
}

#[test]
fn no_source_file_is_over_800_lines() {
    let (_, edges) = graph();
    let long: Vec<String> = edges
        .keys()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            (n > 800).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 800 lines: {long:?}");
}

#[test]
fn the_import_reader_sees_paths() {
    let p = paths(
        "use crate::detect::{sigma::Grouping, DetectorSet};\nuse super::x;\nfn f() { crate::mask::inert(\"\"); }",
    );
    assert!(
        p.contains(&vec![
            "crate".into(),
            "detect".into(),
            "sigma".into(),
            "Grouping".into()
        ]),
        "{p:?}"
    );
    assert!(
        p.contains(&vec!["crate".into(), "mask".into(), "inert".into()]),
        "{p:?}"
    );
    assert!(p.contains(&vec!["super".into(), "x".into()]), "{p:?}");
}
