//! Embeds every file under `detectors/` into the binary, so the built-in detector set is
//! loaded through the same path as user files.
//!
//! Each file is embedded twice: as written (for `detectors check` and `detectors list`, which
//! run and count the rules' examples) and with its examples and tests blanked out, their lines
//! left empty (for runs: the examples are three quarters of the text, and parsing them was
//! most of a cold start), and with the Sigma rules' prose (description, references, ...) and
//! first-column comments blanked too. Every line break is kept, so rule locations are the same
//! in both forms; a test checks that both parse to the same rules apart from what was blanked.
//!
//! It also builds the built-in set's literal automaton (the DFA of every content keyword and
//! event rule literal) into a flat table the binary reads in place (`detect::literals`), so a
//! cold start does not build it.

#[path = "src/detect/literals/layout.rs"]
#[allow(dead_code)]
mod layout;
#[path = "src/detect/literals/table_build.rs"]
mod table_build;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Top-level Sigma keys blanked in the run form: the examples and tests, and the prose and
/// bookkeeping no run reads (a rule's title and tags are what alerts carry). Together with the
/// comments they were two fifths of what a run's YAML parser read.
const SIGMA_KEYS: [&str; 9] = [
    "logwarden.examples",
    "logwarden.negative_examples",
    "logwarden.tests",
    "description",
    "falsepositives",
    "references",
    "author",
    "date",
    "modified",
];

/// TOML keys (in any table) blanked in the run form.
const TOML_KEYS: [&str; 2] = ["examples", "negative_examples"];

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("toml" | "yml" | "yaml")
        ) {
            out.push(path);
        }
    }
}

/// Marks `text[from..to]` for removal, line breaks kept.
fn blank(cut: &mut [bool], text: &[u8], from: usize, to: usize) {
    for (c, &b) in cut[from..to].iter_mut().zip(&text[from..to]) {
        *c = b != b'\n';
    }
}

/// `text` without the bytes marked in `cut`.
fn kept(text: &str, cut: &[bool]) -> String {
    let out: Vec<u8> = text
        .bytes()
        .zip(cut)
        .filter(|&(_, &c)| !c)
        .map(|(b, _)| b)
        .collect();
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// The Sigma text with the blocks of [`SIGMA_KEYS`] blanked (from the key at the start of a
/// line to the next line that starts with anything but a space, a tab, `#` or a `- ` item),
/// and the comment lines that start at the first column (no block scalar of a top-level key
/// reaches that column, so they are comments wherever they are).
fn strip_sigma(text: &str) -> String {
    let mut cut = vec![false; text.len()];
    let mut in_block = false;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let continues = body.is_empty()
            || body.starts_with([' ', '\t', '#'])
            || body == "-"
            || body.starts_with("- ");
        in_block = if in_block && continues {
            true
        } else {
            SIGMA_KEYS
                .iter()
                .any(|k| body.strip_prefix(k).is_some_and(|r| r.starts_with(':')))
        };
        if in_block || body.starts_with('#') {
            blank(&mut cut, text.as_bytes(), start, at);
        }
    }
    kept(text, &cut)
}

/// Where the string starting at `i` (a quote) ends, one past its closing quote.
fn string_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let multi = b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q;
    let mut j = if multi { i + 3 } else { i + 1 };
    while j < b.len() {
        if q == b'"' && b[j] == b'\\' {
            j += 2;
            continue;
        }
        if multi {
            if b[j..].starts_with(&[q, q, q]) {
                // A closing `"""` may be followed by up to two more quotes of the string.
                let mut k = j + 3;
                while k < b.len() && k < j + 5 && b[k] == q {
                    k += 1;
                }
                return k;
            }
        } else if b[j] == q || b[j] == b'\n' {
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// Where the TOML value starting at `i` ends: an array to its closing bracket (strings and
/// comments inside skipped), anything else to the end of its line.
fn value_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => i = string_end(b, i),
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
                if depth == 0 {
                    return i;
                }
            }
            b'\n' if depth == 0 => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// The TOML text with the key-value pairs of [`TOML_KEYS`] blanked. Strings are skipped
/// whole, so a key-like line inside a multi-line string is left alone.
fn strip_toml(text: &str) -> String {
    let b = text.as_bytes();
    let mut cut = vec![false; b.len()];
    let mut i = 0;
    while i < b.len() {
        // At the start of a line.
        let line = i;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let key = TOML_KEYS.iter().find(|k| {
            b[i..].starts_with(k.as_bytes()) && {
                let rest = &b[i + k.len()..];
                let gap = rest
                    .iter()
                    .take_while(|&&c| c == b' ' || c == b'\t')
                    .count();
                rest.get(gap) == Some(&b'=')
            }
        });
        if let Some(k) = key {
            let eq = i
                + k.len()
                + b[i + k.len()..]
                    .iter()
                    .position(|&c| c == b'=')
                    .unwrap_or(0);
            let end = value_end(b, eq + 1);
            // The rest of the value's last line (a comment) goes with it.
            let eol = b[end..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| end + p);
            blank(&mut cut, b, line, eol);
            i = eol + 1;
            continue;
        }
        // Any other line: to its end, over whole strings and comments.
        while i < b.len() && b[i] != b'\n' {
            match b[i] {
                b'"' | b'\'' => i = string_end(b, i),
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        i += 1;
    }
    kept(text, &cut)
}

/// FNV-1a, 64 bits: a run text's fingerprint (a change detector for our own files, not a
/// defence against a crafted collision: nobody but the repository writes them).
/// The built-in set's literal automaton, as the flat table `detect::literals` reads in place:
/// built from the patterns `src/detect/prebuilt_content.jsonl` keeps for the set (the run
/// uses it only when its rules make exactly these patterns). Empty when the line is missing
/// or does not read, or the table cannot be built.
fn literal_table(root: &Path) -> Vec<u8> {
    let file = root.join("src/detect/prebuilt_content.jsonl");
    println!("cargo:rerun-if-changed={}", file.display());
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let line = text
        .lines()
        .find_map(|l| l.split_once(" (the built-in set's literal patterns)\t"));
    let Some((_, json)) = line else {
        return Vec::new();
    };
    let Ok(patterns) = serde_json::from_str::<Vec<String>>(json) else {
        return Vec::new();
    };
    let patterns: Vec<Vec<u8>> = patterns.into_iter().map(String::into_bytes).collect();
    // A set the table cannot hold (more states than 16 bits number) is built at each start
    // instead; the test `the_embedded_table_finds_what_a_built_automaton_finds` fails then.
    table_build::table(&patterns).unwrap_or_else(|e| {
        println!("cargo:warning=no embedded literal table: {e}");
        Vec::new()
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let dir = root.join("detectors");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let mut full =
        String::from("/// Built-in detector files: (path relative to the repo, contents).\n");
    full.push_str("pub static BUILTIN_FILES: &[(&str, &str)] = &[\n");
    let mut run = String::from(
        "/// Built-in detector files as a run loads them: examples, tests and prose blanked.\n",
    );
    run.push_str("pub static BUILTIN_RUN_FILES: &[(&str, &str)] = &[\n");
    let mut hashes = String::from(
        "/// Per file of `BUILTIN_RUN_FILES`, the FNV-1a hash of its text: how the file's prepared\n/// form (`src/detect/sigma/prebuilt.jsonl`) is known to be current.\n",
    );
    hashes.push_str("pub static BUILTIN_RUN_HASHES: &[u64] = &[\n");
    for (n, f) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap_or(f);
        let _ = writeln!(
            full,
            "    ({:?}, include_str!({:?})),",
            rel.to_string_lossy(),
            f.to_string_lossy()
        );
        let text = std::fs::read_to_string(f)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
        let stripped = if f.extension().is_some_and(|e| e == "toml") {
            strip_toml(&text)
        } else {
            strip_sigma(&text)
        };
        let _ = writeln!(hashes, "    {:#018x},", fnv1a(stripped.as_bytes()));
        let target = out_dir.join(format!("run-{n}.txt"));
        if let Err(e) = std::fs::write(&target, stripped) {
            panic!("cannot write {}: {e}", target.display());
        }
        let _ = writeln!(
            run,
            "    ({:?}, include_str!({:?})),",
            rel.to_string_lossy(),
            target.to_string_lossy()
        );
    }
    full.push_str("];\n");
    run.push_str("];\n");
    hashes.push_str("];\n");
    let table = out_dir.join("literal_table.bin");
    if let Err(e) = std::fs::write(&table, literal_table(&root)) {
        panic!("cannot write {}: {e}", table.display());
    }
    let out = out_dir.join("builtin_detectors.rs");
    if let Err(e) = std::fs::write(&out, full + &run + &hashes) {
        panic!("cannot write {}: {e}", out.display());
    }
}
