use super::*;
use image::Rgba;

#[test]
fn a_flat_blue_landscape_is_a_blue_graphic() {
    let img = RgbaImage::from_pixel(80, 40, Rgba([20, 60, 200, 255]));
    let a = analyse(&img, 800, 400);
    assert_eq!(a.orientation, "panoramic");
    assert_eq!(a.colours, vec!["blue"]);
    assert_eq!(a.kind, "graphic");
    assert_eq!(a.transparent_share, 0.0);
    assert_eq!(a.distinct_colours, 1);
    assert_eq!(a.flat_share, 1.0);
    assert!(!a.is_invisible());
}

#[test]
fn noise_reads_as_a_photo_and_transparency_is_measured() {
    let img = RgbaImage::from_fn(64, 64, |x, y| {
        let v = ((x * 37 + y * 91) % 251) as u8;
        Rgba([
            v,
            v.wrapping_mul(3),
            v.wrapping_mul(7),
            if x < 16 { 0 } else { 255 },
        ])
    });
    let a = analyse(&img, 64, 64);
    assert_eq!(a.kind, "photo");
    assert_eq!(a.orientation, "square");
    assert!((a.transparent_share - 0.25).abs() < 1e-9);
    assert!(a.distinct_colours > 200, "{}", a.distinct_colours);
    assert!(a.flat_share < 0.1, "{}", a.flat_share);
}

#[test]
fn a_fully_transparent_image_is_invisible_with_no_colours() {
    let img = RgbaImage::from_pixel(10, 10, Rgba([255, 255, 255, 0]));
    let a = analyse(&img, 10, 10);
    assert!(a.is_invisible());
    assert_eq!(a.distinct_colours, 0);
    assert_eq!(a.flat_share, 0.0);
}

#[test]
fn two_colour_halves_are_two_colours_and_almost_all_flat() {
    let img = RgbaImage::from_fn(100, 10, |x, _| {
        if x < 50 {
            Rgba([250, 250, 250, 255])
        } else {
            Rgba([10, 10, 10, 255])
        }
    });
    let a = analyse(&img, 100, 10);
    assert_eq!(a.distinct_colours, 2);
    assert!(
        (a.flat_share - 98.0 / 99.0).abs() < 1e-9,
        "{}",
        a.flat_share
    );
}
