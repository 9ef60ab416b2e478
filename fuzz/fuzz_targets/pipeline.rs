//! Arbitrary bytes through the whole pipeline with the built-in detectors, as a raw input and
//! as the messages of a well-formed subscription payload.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use logwarden::{Config, DetectorSet, Pipeline, TextSource};

static DETECTORS: OnceLock<Arc<DetectorSet>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let detectors = DETECTORS
        .get_or_init(|| Arc::new(DetectorSet::builtin().expect("built-in detectors")))
        .clone();
    let mut p = Pipeline::new(detectors, Config::default());
    let _ = p.process_input(data, &TextSource::default(), &mut |a| {
        assert!(!a.id.is_empty());
    });
    let lines: Vec<String> = String::from_utf8_lossy(data).lines().map(str::to_owned).collect();
    let payload = serde_json_payload(&lines);
    let _ = p.process_input(payload.as_bytes(), &TextSource::default(), &mut |_| {});
    p.finish(&mut |_| {});
    let s = p.stats();
    assert_eq!(
        s.events_received,
        s.events_processed + s.events_skipped_control + s.events_skipped_ignored_group
    );
});

fn serde_json_payload(lines: &[String]) -> String {
    let mut out = String::from(r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/lambda/fuzz","logStream":"s","logEvents":["#);
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let escaped: String = l
            .chars()
            .flat_map(|c| match c {
                '"' => vec!['\\', '"'],
                '\\' => vec!['\\', '\\'],
                c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32).chars().collect(),
                c => vec![c],
            })
            .collect();
        out.push_str(&format!(r#"{{"id":"{i}","timestamp":{},"message":"{escaped}"}}"#, 1_795_600_800_000u64 + i as u64 * 1000));
    }
    out.push_str("]}");
    out
}
