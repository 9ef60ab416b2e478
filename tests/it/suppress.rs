//! Suppressions with owners and expiry, and `logwarden explain`.

use std::process::{Command, Stdio};

const LINE: &str =
    "2026-11-25T10:00:00.000Z\tr-1\tINFO\tcharging with sk_live_4eC39HqLyjWDarjtT1zdp7dc\n";

fn logwarden(args: &[&str], stdin: &str, config: &std::path::Path) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run logwarden");
    if let Some(mut i) = child.stdin.take() {
        use std::io::Write;
        i.write_all(stdin.as_bytes()).expect("stdin");
    }
    child.wait_with_output().expect("output")
}

#[test]
fn a_suppression_drops_and_counts_an_alert_until_it_expires() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fp = logwarden(
        &["fingerprint"],
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        dir.path(),
    );
    let fp = String::from_utf8_lossy(&fp.stdout).trim().to_owned();
    let file = dir.path().join("suppressions.toml");
    std::fs::write(
        &file,
        format!(
            "[[suppress]]\nrule_id = \"stripe-secret-key\"\nfingerprint = \"{fp}\"\nreason = \"fixture key, revoked 2026-11-02\"\nowner = \"appsec@example.com\"\nexpires = \"2999-01-31\"\n\
             [[suppress]]\nrule_id = \"no-such-rule\"\nreason = \"stale\"\nowner = \"ops@example.com\"\nexpires = \"2999-01-31\"\n\
             [[suppress]]\nrule_id = \"jwt\"\nreason = \"old\"\nowner = \"ops@example.com\"\nexpires = \"2020-01-01\"\n"
        ),
    )
    .expect("write");
    let f = file.to_str().unwrap_or_default();
    let out = logwarden(
        &[
            "replay",
            "--format",
            "json",
            "--stats",
            "--suppressions",
            f,
            "-",
        ],
        LINE,
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "suppressed: no alert; {stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("suppression #3: expired on 2020-01-01"),
        "{stderr}"
    );
    // Without the file the alert goes out.
    let out = logwarden(&["replay", "--format", "json", "-"], LINE, dir.path());
    assert!(String::from_utf8_lossy(&out.stdout).contains("stripe-secret-key"));
    // detectors check warns about the expired entry and the one that names no rule.
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    std::fs::copy(&file, rules.join("suppressions.toml")).expect("copy");
    std::fs::write(
        rules.join("r.toml"),
        "[[rules]]\nid = \"acme\"\nregex = '''acme_[a-z]{8}'''\nkeywords = [\"acme_\"]\nexamples = ['''x acme_abcdefgh''']\nnegative_examples = ['''x acme_''']\n",
    )
    .expect("write");
    let out = logwarden(
        &["detectors", "check", rules.to_str().unwrap_or_default()],
        "",
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WARN") && stderr.contains("expired on 2020-01-01"),
        "{stderr}"
    );
    assert!(stderr.contains("names rule `no-such-rule`"), "{stderr}");
    // explain names the entry that would drop it, and never shows the key.
    let out = logwarden(&["explain", "--suppressions", f, "-"], LINE, dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("suppressed by") && text.contains("appsec@example.com"),
        "{text}"
    );
    assert!(!text.contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
}

#[test]
fn suppressed_alerts_are_counted_in_the_metrics() {
    use logwarden::{Config, DetectorSet, Pipeline, TextSource};
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "[[suppress]]\nrule_id = \"stripe-secret-key\"\nlog_group = \"app*\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2999-01-01\"\n",
    )
    .expect("write");
    let set = DetectorSet::load(&[], true, &[file]).expect("loads");
    let mut p = Pipeline::new(std::sync::Arc::new(set), Config::default());
    let src = TextSource {
        log_group: "app.log".into(),
        log_stream: "s".into(),
        first_line: 1,
    };
    let mut n = 0;
    p.process_input(LINE.as_bytes(), &src, &mut |_| n += 1)
        .expect("decodes");
    assert_eq!(n, 0);
    let stats = p.take_stats();
    let metrics = logwarden::sink::metrics::of_stats(&stats);
    assert!(metrics.iter().any(|m| m.name == "AlertsSuppressedByRule"
        && m.value == 1.0
        && m.dimensions.iter().any(|(_, v)| v == "stripe-secret-key")));
}
