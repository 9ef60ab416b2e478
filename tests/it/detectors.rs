//! The detector files: every rule's examples, loading user files, and load errors.

use std::sync::Arc;

use logwarden::detect::{DetectorSet, Scratch};
use logwarden::{Config, FindingKind, Pipeline, TextSource};

/// The built-in set with its rules' examples (what `detectors check` loads).
fn builtin() -> DetectorSet {
    DetectorSet::builtin_with_examples().expect("built-in detectors compile")
}

/// Every rule's examples match and its negative examples don't, through the whole engine.
#[test]
fn every_builtin_rule_passes_its_examples() {
    let set = Arc::new(builtin());
    let failures = logwarden::check::check(&set);
    let report: Vec<String> = failures
        .iter()
        .map(|f| format!("{} ({}): {}", f.rule, f.location, f.problem))
        .collect();
    assert!(
        report.is_empty(),
        "{} failures:\n{}",
        report.len(),
        report.join("\n")
    );
    assert!(set.warnings().is_empty(), "{:?}", set.warnings());
}

#[test]
fn builtin_set_covers_the_required_families() {
    let set = builtin();
    let rules = set.rules();
    let secrets: Vec<_> = rules
        .iter()
        .filter(|r| r.kind == FindingKind::Secret)
        .collect();
    let pii: Vec<_> = rules
        .iter()
        .filter(|r| r.kind == FindingKind::Pii)
        .collect();
    // Families: rule ids up to their last dash-separated qualifier are one family at most,
    // so count distinct leading words (aws, github, slack, ...), which undercounts.
    let mut families: Vec<&str> = secrets
        .iter()
        .map(|r| r.id.split('-').next().unwrap_or(&r.id))
        .collect();
    families.sort();
    families.dedup();
    assert!(secrets.len() >= 70, "{} secret rules", secrets.len());
    assert!(
        families.len() >= 45,
        "{} families: {families:?}",
        families.len()
    );
    for needle in [
        "aws",
        "github",
        "gitlab",
        "slack",
        "stripe",
        "google",
        "gcp",
        "private",
        "jwt",
        "openai",
        "anthropic",
        "huggingface",
        "npm",
        "pypi",
        "sendgrid",
        "twilio",
        "azure",
    ] {
        assert!(
            secrets.iter().any(|r| r.id.contains(needle)),
            "no rule for {needle}"
        );
    }
    for needle in ["credit-card", "ssn", "iban", "email", "phone"] {
        assert!(
            pii.iter().any(|r| r.id.contains(needle)),
            "no PII rule for {needle}"
        );
    }
    for r in &rules {
        assert!(
            r.examples >= 1 && r.negative_examples >= 1,
            "{} lacks examples",
            r.id
        );
    }
}

/// Look-alikes real logs are full of: no rule may fire on any of them.
#[test]
fn common_log_lookalikes_produce_no_findings() {
    let set = builtin();
    let lines = [
        "START RequestId: 6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11 Version: $LATEST",
        "REPORT RequestId: 6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB",
        "trace Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "arn:aws:iam::123456789012:role/service-role/orders-api-role-1a2b3c4d",
        "payload eyJ0eXBlIjoib3JkZXIiLCJpdGVtcyI6WzEsMiwzXX0= processed",
        "timestamps 1795600800123 1795600860000 order 100000000000000001",
        "password=******** token=[REDACTED] secret=${DB_SECRET} api_key=<your-api-key>",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        r#"{"level":"INFO","message":"request done","requestId":"c6af9ac6-7b61-11e6-9a41-93e812345678","durationMs":12}"#,
        "2026-11-25T10:00:00.123Z\tc6af9ac6-7b61-11e6-9a41-93e812345678\tINFO\tuser u-1042 logged in from 10.0.3.7",
        "GET /api/v1/orders?page=2&limit=50 HTTP/1.1 200 5123",
    ];
    let mut scratch = Scratch::default();
    let mut found = Vec::new();
    let mut hits = Vec::new();
    for line in lines {
        found.clear();
        set.content()
            .scan(line.as_bytes(), &mut scratch, &mut found);
        for m in &found {
            hits.push(format!(
                "{} on {line:?}",
                set.content().rules()[m.rule].meta.id
            ));
        }
    }
    assert!(hits.is_empty(), "false positives:\n{}", hits.join("\n"));
}

#[test]
fn detector_set_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
    let set = Arc::new(builtin());
    assert_send_sync(&set);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let set = Arc::clone(&set);
            std::thread::spawn(move || {
                let mut p = Pipeline::new(set, Config::default());
                let mut n = 0;
                let src = TextSource::default();
                p.process_input(b"x sk_live_4eC39HqLyjWDarjtT1zdp7dc y\n", &src, &mut |_| {
                    n += 1
                })
                .map(|_| n)
                .unwrap_or(0)
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().ok(), Some(1));
    }
}

const GITLEAKS_TOML: &str = r#"
title = "team gitleaks config"

[extend]
useDefault = true

[allowlist]
description = "global allowlist"
paths = ['''vendor/''']
stopwords = ["dummy"]

[[rules]]
id = "acme-api-token"
description = "ACME internal API token"
regex = '''(?i)\b(acme_[a-z0-9]{32})\b'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]
path = '''\.env$'''
tags = ["internal", "acme"]

  [rules.allowlist]
  regexes = ['''acme_0{32}''']

[[rules]]
id = "acme-path-only"
description = "a rule with only a path, which has no meaning for logs"
path = '''id_rsa$'''
"#;

#[test]
fn gitleaks_schema_file_loads_and_detects() {
    let set = DetectorSet::builder()
        .source("gitleaks.toml", GITLEAKS_TOML)
        .build()
        .expect("a gitleaks config loads as-is");
    let warnings = set.warnings().join("\n");
    for key in ["useDefault", "`path`", "`paths`", "acme-path-only"] {
        assert!(warnings.contains(key), "no warning about {key}: {warnings}");
    }
    let mut p = Pipeline::new(Arc::new(set), Config::default());
    let mut alerts = Vec::new();
    let log = "deploy ok acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0 used\n\
               zero acme_00000000000000000000000000000000\n\
               dummy acme_dummy9e7d6c5b4a39281706f5e4d3c2b1\n";
    let src = TextSource {
        log_group: "deploy.log".into(),
        log_stream: "deploy.log".into(),
        first_line: 1,
    };
    p.process_input(log.as_bytes(), &src, &mut |a| alerts.push(a))
        .expect("decodes");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].rule_id, "acme-api-token");
    assert_eq!(alerts[0].event_ids, ["1"]);
    let json = alerts[0].to_json();
    assert!(
        !json.contains("acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        "{json}"
    );
}

fn load_err(text: &str) -> String {
    match DetectorSet::builder().source("bad.toml", text).build() {
        Ok(_) => panic!("expected a load error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_regex_names_file_rule_and_line() {
    let e = load_err("\n[[rules]]\nid = \"broken\"\nregex = '''(unclosed'''\nkeywords=[\"x\"]\n");
    assert!(
        e.starts_with("bad.toml:3: rule `broken`: invalid regex"),
        "{e}"
    );
}

#[test]
fn invalid_toml_names_the_file_and_position() {
    let e = load_err("[[rules]\nid = 1\n");
    assert!(e.starts_with("bad.toml: invalid detector file:"), "{e}");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn duplicate_rule_id_names_both_places() {
    let e = load_err(
        "[[rules]]\nid = \"a\"\nregex = 'x(y)'\nkeywords = [\"x\"]\n[[rules]]\nid = \"a\"\nregex = 'z'\nkeywords = [\"z\"]\n",
    );
    assert_eq!(
        e,
        "bad.toml:6: duplicate rule id `a` (first defined at bad.toml:2)"
    );
}

#[test]
fn oversized_regex_is_rejected_clearly() {
    let e = load_err(
        "[[rules]]\nid = \"huge\"\nregex = '''\\pL{1000}\\pL{1000}'''\nkeywords=[\"x\"]\n",
    );
    assert!(
        e.starts_with("bad.toml:2: rule `huge`: invalid regex"),
        "{e}"
    );
    assert!(e.contains("size limit"), "{e}");
}

#[test]
fn bad_validator_gate_and_group_are_rejected() {
    let e =
        load_err("[[rules]]\nid = \"v\"\nregex = 'x'\nkeywords=[\"x\"]\nvalidate = \"crc99\"\n");
    assert!(e.contains("unknown validator `crc99`"), "{e}");
    let e = load_err("[[rules]]\nid = \"g\"\nregex = 'x'\ngate = \"letters:4\"\n");
    assert!(e.contains("unknown gate `letters:4`"), "{e}");
    let e = load_err("[[rules]]\nid = \"s\"\nregex = 'x(y)'\nkeywords=[\"x\"]\nsecretGroup = 3\n");
    assert!(e.contains("secretGroup 3"), "{e}");
}

/// Built-in TOML files skip some checks at load (their regexes compile on first use, a
/// `[[service]]` value is not parsed); this holds each of them to every check of a user's file.
/// And a user's service value with a capture group (which would move the secret's group) is
/// refused.
#[test]
fn builtin_content_files_pass_a_user_files_checks() {
    let mut files = 0;
    for (path, text) in logwarden::detect::builtin_files() {
        if path.ends_with(".toml") {
            let set = DetectorSet::builder().source(path, text).build();
            let set = set.unwrap_or_else(|e| panic!("{path} as a user's file: {e}"));
            assert!(!set.rules().is_empty(), "{path}");
            files += 1;
        }
    }
    assert!(files >= 5, "only {files} built-in TOML files");
    let e = load_err(
        "[[service]]\nid = \"acme-key\"\nservice = \"Acme\"\nwhat = \"key\"\nkeywords = [\"acme\"]\nvalue = 'ak_([0-9a-f]{32})'\nexamples = [\"acme ak_0123456789abcdef0123456789abcdef\"]\nnegative_examples = [\"acme\"]\n",
    );
    assert_eq!(
        e,
        "bad.toml:2: rule `acme-key`: `value` must not have capture groups: use (?:...)"
    );
}

/// A gitleaks config that uses every construct of the upstream schema and RE2 dialect loads
/// beside the built-in rules: RE2 braces translated (with a warning naming the rule), `[extend]`
/// followed, `disabledRules` honoured, path-only rules skipped, `targetRules` and
/// `[[rules.required]]` applied, and every rule finds its line.
#[test]
fn the_gitleaks_dialect_fixture_loads_beside_the_builtins() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gitleaks");
    let set = DetectorSet::builder()
        .builtin()
        .path(std::path::Path::new(&format!("{dir}/dialect.toml")))
        .expect("reads")
        .build()
        .expect("the dialect fixture loads beside the built-ins");
    let warnings = set.warnings().join("\n");
    assert!(
        warnings.contains("translated from Go's RE2 syntax"),
        "{warnings}"
    );
    assert!(warnings.contains("pkcs12-bundle-file"), "{warnings}");
    let ids: Vec<String> = set.rules().into_iter().map(|r| r.id).collect();
    assert!(
        !ids.iter().any(|i| i == "base-disabled-rule"),
        "disabledRules"
    );
    let lines = std::fs::read_to_string(format!("{dir}/dialect-lines.txt")).expect("lines");
    let expected = [
        "acme-widget-token",
        "templated-config-secret",
        "vendor-case-sensitive-key",
        "base64-jwt-header",
        "kube-secret-data",
        "gem-mirror-credentials",
        "acme-widget-client-pair",
    ];
    let set = Arc::new(set);
    for (line, rule) in lines.lines().zip(expected) {
        let mut p = Pipeline::new(Arc::clone(&set), Config::default());
        let mut alerts = Vec::new();
        p.process_input(line.as_bytes(), &TextSource::default(), &mut |a| {
            alerts.push(a)
        })
        .expect("decodes");
        assert!(
            alerts.iter().any(|a| a.rule_id == rule),
            "{rule} on {line:?}: {:?}",
            alerts.iter().map(|a| &a.rule_id).collect::<Vec<_>>()
        );
    }
    // The composite rule needs its required rule in the same event.
    let mut p = Pipeline::new(Arc::clone(&set), Config::default());
    let mut alerts = Vec::new();
    p.process_input(
        b"client=awc_7q2m9x4k1v8z alone\n",
        &TextSource::default(),
        &mut |a| alerts.push(a),
    )
    .expect("decodes");
    assert!(
        !alerts
            .iter()
            .any(|a| a.rule_id == "acme-widget-client-pair"),
        "{alerts:?}"
    );
}

/// A user rule with a built-in rule's id replaces it, with a warning; two user rules with one
/// id are an error.
#[test]
fn a_user_rule_replaces_the_builtin_of_the_same_id() {
    let user = r#"
[[rules]]
id = "aws-access-key-id"
regex = '''\b(AKIA[A-Z2-7]{16})\b'''
keywords = ["akia"]
"#;
    let set = DetectorSet::builder()
        .builtin()
        .source("mine.toml", user)
        .build()
        .expect("loads");
    assert!(
        set.warnings()
            .iter()
            .any(|w| w.contains("replaces the built-in rule"))
    );
    let rule = set
        .content()
        .rules()
        .iter()
        .find(|r| r.meta.id == "aws-access-key-id")
        .expect("the rule");
    assert_eq!(rule.meta.location.file, "mine.toml");
}

/// A PEM private key logged one line per event (as many loggers do): the header alone
/// alerts, and the joined lines give the key's own alert, listing every event, also when the
/// key is split across two batches of a warm instance.
#[test]
fn a_private_key_logged_line_by_line_is_found() {
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    let mut seed = 0x5eed_u64;
    let body = logwarden_test_base64(&mut seed, 64 * 12);
    let mut lines = vec!["-----BEGIN RSA PRIVATE KEY-----".to_owned()];
    lines.extend(
        body.as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned()),
    );
    lines.push("-----END RSA PRIVATE KEY-----".to_owned());
    let payload = |from: usize, to: usize| {
        let events: Vec<serde_json::Value> = (from..to)
            .map(|i| {
                serde_json::json!({"id": format!("{i:056}"), "timestamp": 1_795_600_800_000i64 + i as i64,
                    "message": format!("2026-11-25T10:00:00.000Z\tr-1\tINFO\t{}", lines[i])})
            })
            .collect();
        serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/keys",
            "logStream": "s", "logEvents": events})
        .to_string()
    };
    for split in [lines.len(), 5] {
        let mut p = Pipeline::new(Arc::clone(&set), Config::default());
        let mut alerts = Vec::new();
        for (from, to) in [(0, split), (split, lines.len())] {
            if from < to {
                p.process_input(
                    payload(from, to).as_bytes(),
                    &TextSource::default(),
                    &mut |a| alerts.push(a),
                )
                .expect("decodes");
            }
        }
        let rules: Vec<&str> = alerts.iter().map(|a| a.rule_id.as_str()).collect();
        assert!(rules.contains(&"private-key-header"), "{rules:?}");
        let key = alerts
            .iter()
            .find(|a| a.rule_id == "private-key-rsa")
            .unwrap_or_else(|| panic!("the joined key alerts (split {split}): {rules:?}"));
        assert_eq!(key.event_ids.len(), lines.len().min(16), "{key:?}");
        assert!(!key.to_json().contains(&lines[3]));
    }
}

fn logwarden_test_base64(seed: &mut u64, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..n)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            A[(*seed % 64) as usize] as char
        })
        .collect()
}

/// A keyword right after an escape starts a word: every secret rule's examples are found
/// after each escape a log line may put before them (`\r`, `\"`, `\\`, `%0A`, `\u000a`, HTML
/// references), besides the contexts `detectors check` runs.
#[test]
fn a_secret_right_after_an_escape_is_found() {
    let set = builtin();
    let content = set.content();
    let escapes = [
        r"\r", r#"\""#, r"\\", "%0A", r"\u000a", "&#10;", "&#x0A;", "&quot;", r"\r\n",
    ];
    let mut scratch = Scratch::default();
    let mut found = Vec::new();
    let mut missed = Vec::new();
    let mut tried = 0;
    for (i, rule) in content.rules().iter().enumerate() {
        if rule.meta.kind != FindingKind::Secret || rule.multiline {
            continue;
        }
        for ex in &rule.examples {
            for esc in escapes {
                tried += 1;
                let line = format!("ERROR dump{esc}{ex}");
                found.clear();
                content.scan(line.as_bytes(), &mut scratch, &mut found);
                if !found.iter().any(|m| m.rule == i) {
                    missed.push(format!("{} after {esc}: {line:.120}", rule.meta.id));
                }
            }
        }
    }
    assert!(tried > 10_000, "{tried}");
    assert!(
        missed.is_empty(),
        "{} of {tried}:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

/// Takes the example and test keys out of every table of a TOML document.
fn without_toml_examples(v: &mut toml::Value) {
    match v {
        toml::Value::Table(t) => {
            t.remove("examples");
            t.remove("negative_examples");
            t.iter_mut().for_each(|(_, v)| without_toml_examples(v));
        }
        toml::Value::Array(a) => a.iter_mut().for_each(without_toml_examples),
        _ => {}
    }
}

/// The built-in files a run loads (examples, tests, and the Sigma rules' prose and comments
/// blanked at build time) are the files as written without those: each line as written or
/// emptied, the same rules once those are taken out, and the same rules at the same lines once
/// loaded.
#[test]
fn run_files_are_the_builtin_files_without_their_examples() {
    use logwarden::detect::{builtin_files, builtin_run_files};
    let (full, run) = (builtin_files(), builtin_run_files());
    assert_eq!(full.len(), run.len());
    let words = |t: &str| t.split_whitespace().map(str::len).sum::<usize>();
    let (mut full_words, mut run_words) = (0, 0);
    for ((path, text), (run_path, run_text)) in full.iter().zip(run) {
        assert_eq!(path, run_path);
        let (lines, run_lines): (Vec<&str>, Vec<&str>) =
            (text.split('\n').collect(), run_text.split('\n').collect());
        assert_eq!(lines.len(), run_lines.len(), "{path}: lines moved");
        for (n, (line, run_line)) in lines.iter().zip(&run_lines).enumerate() {
            assert!(
                run_line.is_empty() || run_line == line,
                "{path}:{}: {run_line:?} is not {line:?}",
                n + 1
            );
        }
        full_words += words(text);
        run_words += words(run_text);
        if path.ends_with(".toml") {
            let mut want: toml::Value = toml::from_str(text).expect("parses");
            without_toml_examples(&mut want);
            let got: toml::Value = toml::from_str(run_text).expect("run form parses");
            assert_eq!(got, want, "{path}");
        } else {
            let want = rsigma_parser::parse_sigma_yaml(text).expect("parses");
            let got = rsigma_parser::parse_sigma_yaml(run_text).expect("run form parses");
            assert!(want.errors.is_empty() && got.errors.is_empty(), "{path}");
            let mut rules = want.rules.clone();
            let mut correlations = want.correlations.clone();
            let keys = [
                "logwarden.examples",
                "logwarden.negative_examples",
                "logwarden.tests",
            ];
            for key in keys {
                rules.iter_mut().for_each(|r| {
                    r.custom_attributes.remove(key);
                });
                correlations.iter_mut().for_each(|c| {
                    c.custom_attributes.remove(key);
                });
            }
            // The prose and bookkeeping no run reads are blanked too.
            for r in &mut rules {
                (r.description, r.author, r.date, r.modified) = (None, None, None, None);
                r.falsepositives.clear();
                r.references.clear();
            }
            for c in &mut correlations {
                (c.description, c.author, c.date, c.modified) = (None, None, None, None);
                c.falsepositives.clear();
                c.references.clear();
            }
            assert_eq!(got.rules, rules, "{path}");
            assert_eq!(got.correlations, correlations, "{path}");
            assert_eq!(got.filters, want.filters, "{path}");
        }
    }
    // The examples were most of the text.
    assert!(run_words * 2 < full_words, "{run_words} of {full_words}");
    let loaded = |set: DetectorSet| {
        set.rules()
            .into_iter()
            .map(|r| (r.id, r.kind, r.severity, r.description, r.source))
            .collect::<Vec<_>>()
    };
    let for_run = DetectorSet::builtin().expect("loads");
    assert!(for_run.rules().iter().all(|r| r.examples == 0));
    assert_eq!(loaded(for_run), loaded(builtin()));
    let at = |set: DetectorSet| {
        let ids: Vec<String> = set.rules().into_iter().map(|r| r.id).collect();
        ids.iter()
            .map(|id| set.rule(id).map(|m| m.location.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(at(DetectorSet::builtin().expect("loads")), at(builtin()));
}
