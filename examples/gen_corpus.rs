//! Writes the benchmark corpus (seeded, deterministic) as a Lambda event file:
//! `cargo run --release --example gen_corpus -- OUT.json [MB]`.
#[path = "../benches/corpus.rs"]
mod corpus;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "corpus-event.json".into());
    let mb: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(1);
    let payload = corpus::payload(42, mb << 20);
    if let Err(e) = std::fs::write(&out, corpus::lambda_event(&payload)) {
        eprintln!("error: {out}: {e}");
        std::process::exit(2);
    }
    eprintln!("{out}: payload {} bytes", payload.len());
}
