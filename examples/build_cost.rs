//! Where the detector set build (cold start) goes: each built-in file loaded alone, timed.
//! `cargo run --release --example build_cost`
use std::time::Instant;

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/detectors");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("detectors/")
        .chain(std::fs::read_dir(format!("{dir}/events")).expect("events/"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let t = Instant::now();
    let _ = logwarden::DetectorSet::builtin().expect("built-in");
    println!("builtin: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    for f in files {
        let t = Instant::now();
        let r = logwarden::DetectorSet::builder()
            .path(&f)
            .and_then(|b| b.build());
        println!(
            "{:>7.1} ms  {} {}",
            t.elapsed().as_secs_f64() * 1e3,
            f.display(),
            if r.is_ok() {
                ""
            } else {
                "(does not load alone)"
            }
        );
    }
}
