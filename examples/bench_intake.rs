//! Image intake, in process: for each file given, the time from its bytes to the model-ready
//! copy (sniff, header check, decode, downscale to 1024 px, encode), as `scripts/bench` reports
//! it. Prints one JSON object per file: the median and the fastest of the runs, in ms.
//!
//!     cargo run --release --example bench_intake -- FILE... [--runs N]
use std::time::Instant;

use altframe::image::{prepare_bytes, IntakeConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 10;
    if let Some(i) = args.iter().position(|a| a == "--runs") {
        runs = args.get(i + 1).ok_or("--runs needs a number")?.parse()?;
        args.drain(i..=i + 1);
    }
    let config = IntakeConfig::default();
    for path in &args {
        let bytes = std::fs::read(path)?;
        // One run to warm caches and the allocator, not counted.
        let prepared = prepare_bytes(None, bytes.clone(), &config)?;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let input = bytes.clone();
            let started = Instant::now();
            let out = prepare_bytes(None, input, &config)?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(out);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{}",
            serde_json::json!({
                "file": path,
                "width": prepared.reference.width,
                "height": prepared.reference.height,
                "model_width": prepared.pixels.width(),
                "model_height": prepared.pixels.height(),
                "median_ms": times[times.len() / 2],
                "min_ms": times[0],
            })
        );
    }
    Ok(())
}
