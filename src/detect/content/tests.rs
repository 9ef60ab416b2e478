//! The content matcher's unit tests.

use super::rule::WINDOW_SLACK;
use super::*;
use crate::detect::rules::RuleMeta;

#[test]
fn digit_runs_allow_short_separators() {
    let mut out = Vec::new();
    digit_runs(b"card 4111 1111 1111 1111 ok 12-34 5", 13, &mut out);
    assert_eq!(out, vec![(5, 24)]);
    out.clear();
    digit_runs(b"1234567890", 10, &mut out);
    assert_eq!(out, vec![(0, 10)]);
    out.clear();
    digit_runs(b"12  34", 3, &mut out);
    assert!(out.is_empty());
    // A phone number as people write it: the parentheses keep it one run.
    for (text, run) in [
        (&b"call (415) 555-2671 now"[..], (6, 19)),
        (b"call +1 (415) 555-2671", (6, 22)),
        (b"call (415)555-2671", (6, 18)),
    ] {
        out.clear();
        digit_runs(text, 10, &mut out);
        assert_eq!(out, vec![run], "{}", String::from_utf8_lossy(text));
    }
    // Two separators in a row, or a parenthesis with spaces on both sides, end a run.
    for text in [&b"415 - 555 2671"[..], b"415 ( 555 ) 2671", b"415.555.2671"] {
        out.clear();
        digit_runs(text, 10, &mut out);
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(text));
    }
}

/// Whether `gap`, the bytes between two digits, keeps them in one run (as
/// [`digit_runs`] documents it).
fn joins(gap: &[u8]) -> bool {
    matches!(gap, b" " | b"-" | b")" | b"(" | b") " | b" (")
}

/// Longest gap [`joins`] accepts.
const MAX_GAP: usize = 2;

/// The straightforward left-to-right scan the sampling version must agree with.
fn naive_runs(m: &[u8], min: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < m.len() {
        if !m[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (start, mut last, mut digits) = (i, i, 1);
        loop {
            let next = (1..=MAX_GAP + 1).find(|&step| {
                let d = last + step;
                d < m.len() && m[d].is_ascii_digit() && (step == 1 || joins(&m[last + 1..d]))
            });
            match next {
                Some(step) => {
                    last += step;
                    digits += 1;
                }
                None => break,
            }
        }
        if digits >= min {
            out.push((start, last + 1));
        }
        i = last + 1;
    }
    out
}

fn lazy_rule(pattern: &str, secret_group: Option<usize>) -> ContentRule {
    lazy_rule_on("k", pattern, secret_group)
}

fn lazy_rule_on(keyword: &str, pattern: &str, secret_group: Option<usize>) -> ContentRule {
    let meta = RuleMeta {
        id: keyword.into(),
        title: "t".into(),
        severity: crate::detect::Severity::High,
        kind: crate::detect::FindingKind::Secret,
        tags: Vec::new(),
        location: crate::detect::rules::Location {
            file: "built-in".into(),
            line: 1,
        },
    };
    ContentRule::new(
        meta,
        ContentParts {
            service: None,
            verify: None,
            keywords: vec![keyword.into()],
            gate: None,
            regex: RuleRegex::lazy(pattern),
            max_len: None,
            secret_group,
            entropy: None,
            validator: None,
            allowlists: Vec::new(),
            examples: Vec::new(),
            negative_examples: Vec::new(),
            cost: 0,
            required: Vec::new(),
            multiline: false,
        },
    )
}

/// Built-in rules are compiled on first use, so the check must find what load would have.
#[test]
fn lazily_compiled_rules_report_their_regex_problems() {
    assert!(
        lazy_rule(r"k([a-z]{8})", Some(1))
            .regex_problems()
            .is_empty()
    );
    let bad = lazy_rule(r"k([a-z]{8}", None).regex_problems();
    assert!(bad.iter().any(|p| p.contains("unclosed group")), "{bad:?}");
    let group = lazy_rule(r"k[a-z]{8}", Some(2)).regex_problems();
    assert_eq!(
        group,
        ["secretGroup 2 but the regex has only 0 capture group(s)"]
    );
    // The window comes from the pattern on first use.
    assert_eq!(
        lazy_rule(r"k[a-z]{8}", None).window(),
        (9 + WINDOW_SLACK, 9 + WINDOW_SLACK)
    );
}

/// Warming up compiles the regexes of the rules the messages make candidates, and only
/// those; what the scan then finds is the same.
#[test]
fn warming_up_compiles_the_candidates_regexes_only() {
    let matcher = ContentMatcher::new(vec![
        lazy_rule_on("alpha", r"alpha=([a-z]{8})", Some(1)),
        lazy_rule_on("bravo", r"bravo=([a-z]{8})", Some(1)),
        lazy_rule_on("charlie", r"charlie=([a-z]{8})", Some(1)),
    ])
    .expect("builds");
    let compiled = |m: &ContentMatcher| {
        m.rules()
            .iter()
            .map(|r| r.body_read() && r.regex_compiled())
            .collect::<Vec<_>>()
    };
    assert_eq!(compiled(&matcher), [false, false, false]);
    let lines: [&[u8]; 2] = [b"x ALPHA=abcdefgh y", br#"{"m":"charlie\u003dabcdefgh"}"#];
    let mut scratch = Scratch::default();
    for turn in [(1, 2), (0, 2)] {
        matcher.warm(lines.iter().copied(), turn, &mut scratch);
    }
    assert_eq!(compiled(&matcher), [true, false, true]);
    let cold = ContentMatcher::new(matcher.rules().to_vec()).expect("builds");
    for line in lines {
        let (mut warm_out, mut cold_out) = (Vec::new(), Vec::new());
        matcher.scan(line, &mut scratch, &mut warm_out);
        cold.scan(line, &mut Scratch::default(), &mut cold_out);
        assert_eq!(warm_out, cold_out);
    }
}

#[test]
fn digit_runs_agree_with_a_naive_scan() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for case in 0..20_000 {
        let m = crate::detect::test_bytes(&mut seed, case % 60, b"0123456789 -x-1 2().");
        for min in [1, 3, 9, 13] {
            let mut out = Vec::new();
            digit_runs(&m, min, &mut out);
            assert_eq!(
                out,
                naive_runs(&m, min),
                "{:?} min {min}",
                String::from_utf8_lossy(&m)
            );
        }
    }
}

/// Built-in regexes are compiled for windows ([`RuleRegex::lazy`]): every built-in rule has
/// keywords or a digit gate, so none searches whole lines.
#[test]
fn built_in_rules_search_windows_only() {
    let set = crate::detect::DetectorSet::builtin().expect("builds");
    let m = set.content();
    let always: Vec<_> = m
        .always_rules
        .iter()
        .map(|&r| &m.rules()[r as usize].meta.id)
        .collect();
    assert!(
        always.is_empty(),
        "built-in rules without keywords or gate: {always:?}"
    );
}

/// A regex built for windows (no prefilter, through the meta API) finds what the `regex`
/// crate's own build finds, groups included: on a sample of the built-in rules' examples and
/// negative examples, every match from every start.
#[test]
fn regexes_built_for_windows_find_what_regex_finds() {
    let set = crate::detect::DetectorSet::builtin_with_examples().expect("builds");
    let mut compared = 0;
    for rule in set.content().rules().iter().step_by(7) {
        let pattern = rule.body().regex.pattern();
        let ours = compile_regex(pattern, Reach::Windows).expect("compiles");
        let theirs = regex::bytes::RegexBuilder::new(pattern)
            .unicode(false)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .or_else(|_| regex::bytes::RegexBuilder::new(pattern).build())
            .expect("compiles");
        let mut groups = Groups::for_regex(&ours);
        let mut locs = theirs.capture_locations();
        assert_eq!(groups.len(), locs.len(), "{}", rule.meta.id);
        for text in rule.examples.iter().chain(&rule.negative_examples) {
            let text = text.as_bytes();
            for at in 0..=text.len() {
                let found = groups.find_at(&ours, text, at);
                let m = theirs.captures_read_at(&mut locs, text, at);
                assert_eq!(found, m.map(|m| (m.start(), m.end())), "{}", rule.meta.id);
                for g in 0..locs.len() {
                    assert_eq!(groups.get(g), locs.get(g), "{} group {g}", rule.meta.id);
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 1000, "{compared}");
}

/// A rule regex's build errors read as the `regex` crate words them.
#[test]
fn regex_errors_name_the_problem() {
    let e = compile_regex("a(b", Reach::Windows)
        .expect_err("unclosed")
        .to_string();
    assert!(e.contains("unclosed group"), "{e}");
    let e = compile_regex("[a-z]{1000}{1000}", Reach::Lines)
        .expect_err("big")
        .to_string();
    assert!(e.contains("exceeds size limit"), "{e}");
}
