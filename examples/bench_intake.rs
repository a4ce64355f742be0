//! Image intake, in process: for each file given, the time from its bytes to the model-ready
//! copy (sniff, header check, decode, downscale to 1024 px, encode), as `scripts/bench` reports
//! it. Prints one JSON object per file: the median and the fastest of the runs, in ms. For a
//! JPEG also `decode_ms`: libjpeg-turbo alone decoding it, at the scale intake uses, into a
//! buffer made beforehand: the part of intake no code around the library can make faster.
//!
//!     cargo run --release --example bench_intake -- FILE... [--runs N]
use std::time::Instant;

use altframe::adapters::image::{jpeg_decode_scale, prepare_bytes, IntakeConfig};
use altframe_domain::image::ImageFormat;
use turbojpeg::{Decompressor, Image, PixelFormat};

/// The median of `runs` timings of `once`, in ms, after one run not counted.
fn median_ms<T>(runs: usize, mut once: impl FnMut() -> T) -> (f64, f64) {
    std::hint::black_box(once());
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(once());
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0])
}

/// libjpeg-turbo decoding the JPEG to RGB at the scale intake picks, nothing else.
fn decode_only_ms(bytes: &[u8], runs: usize, min_side: u32) -> Result<f64, turbojpeg::Error> {
    let header = Decompressor::new()?.read_header(bytes)?;
    let scale = jpeg_decode_scale(header.width.max(header.height), min_side as usize);
    let (width, height) = (scale.scale(header.width), scale.scale(header.height));
    let mut pixels = vec![0u8; width * height * 3];
    let mut decompressor = Decompressor::new()?;
    decompressor.set_scaling_factor(scale)?;
    let mut failed = None;
    let (median, _) = median_ms(runs, || {
        let image = Image {
            pixels: pixels.as_mut_slice(),
            width,
            pitch: width * 3,
            height,
            format: PixelFormat::RGB,
        };
        if let Err(e) = decompressor.decompress(bytes, image) {
            failed = Some(e);
        }
    });
    failed.map_or(Ok(median), Err)
}

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
        let prepared = prepare_bytes(None, bytes.clone(), &config)?;
        let mut failed = None;
        let (median, min) = median_ms(runs, || {
            if let Err(e) = prepare_bytes(None, bytes.clone(), &config) {
                failed = Some(e);
            }
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        let mut out = serde_json::json!({
            "file": path,
            "width": prepared.reference.width,
            "height": prepared.reference.height,
            "model_width": prepared.pixels.width(),
            "model_height": prepared.pixels.height(),
            "median_ms": median,
            "min_ms": min,
        });
        if prepared.reference.format == ImageFormat::Jpeg {
            out["decode_ms"] = decode_only_ms(&bytes, runs, config.model_max_side)?.into();
        }
        println!("{out}");
    }
    Ok(())
}
