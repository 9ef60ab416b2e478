//! Arbitrary bytes through input detection and decoding (base64, capped gzip, envelopes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logwarden::decode::{Limits, TextSource, decode_input};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_decompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut events = 0usize;
    let _ = decode_input(data, &TextSource::default(), &limits, &mut |b| {
        events += b.events.len();
        for e in &b.events {
            assert!(e.message.len() <= limits.max_message_bytes);
        }
    });
});
