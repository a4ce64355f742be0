//! The rule-based checks of an image's existing alt text (issue 21's `validate`): what is
//! wrong with it, each finding with a code and a message, and a score from 0 to 100. Free to
//! run: no model is asked. A model's judgement (does the text match the picture?) and the
//! language check come on top of these.
use serde::{Deserialize, Serialize};

use crate::text::{lists_keywords, medium_opening};

/// What a finding is about; the codes the API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    /// No alt text on an image that is not decorative.
    Missing,
    /// Longer than the reader should have to hear.
    TooLong,
    /// A file name ("IMG_2043.jpg") instead of a description.
    FileName,
    /// One word that says nothing ("image", "photo", "logo").
    Generic,
    /// An opening that names the medium ("Image of"): screen readers already say "image".
    RedundantPrefix,
    /// A list of keywords, or one keyword again and again.
    KeywordStuffing,
    /// Text on an image that is decorative, which should have `alt=""`.
    DecorativeWithText,
}

impl FindingCode {
    /// How many points of the score the finding costs.
    fn weight(self) -> u8 {
        match self {
            FindingCode::Missing => 100,
            FindingCode::FileName | FindingCode::Generic => 70,
            FindingCode::DecorativeWithText => 50,
            FindingCode::KeywordStuffing => 40,
            FindingCode::TooLong => 20,
            FindingCode::RedundantPrefix => 15,
        }
    }
}

/// One thing wrong with an alt text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: FindingCode,
    pub message: String,
}

/// What the rules look at.
#[derive(Debug, Clone, Default)]
pub struct AltTextInput<'a> {
    /// The alt text as the page has it; `None` when the attribute is absent.
    pub alt_text: Option<&'a str>,
    /// The keywords the page targets, for the stuffing rule.
    pub keywords: &'a [String],
    /// The longest alt text that reads well, in characters.
    pub max_length: usize,
    /// Whether the image is decorative, when that is known.
    pub decorative: Option<bool>,
}

/// Words that describe nothing when they are the whole alt text.
const GENERIC: &[&str] = &[
    "image",
    "img",
    "picture",
    "pic",
    "photo",
    "photograph",
    "graphic",
    "logo",
    "icon",
    "banner",
    "untitled",
    "placeholder",
    "spacer",
    "alt",
    "alt text",
    "thumbnail",
    "screenshot",
];

/// Endings of image files.
const IMAGE_EXTENSIONS: &[&str] = &[
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".heic", ".tif", ".tiff", ".svg", ".bmp",
];

/// The same word this many times or more is stuffing.
const REPEATS: usize = 3;

/// Every finding on `input`, in the order of [`FindingCode`].
pub fn check(input: &AltTextInput<'_>) -> Vec<Finding> {
    let text = input.alt_text.map(str::trim).unwrap_or_default();
    let decorative = input.decorative == Some(true);
    if text.is_empty() {
        return if decorative {
            Vec::new()
        } else {
            vec![finding(
                FindingCode::Missing,
                "The image has no alt text: a screen reader says nothing, or reads its file name.",
            )]
        };
    }
    let mut findings = Vec::new();
    let chars = text.chars().count();
    if chars > input.max_length {
        findings.push(finding(
            FindingCode::TooLong,
            &format!(
                "The alt text is {chars} characters long; keep it under {} and put detail in a caption.",
                input.max_length
            ),
        ));
    }
    if is_file_name(text) {
        findings.push(finding(
            FindingCode::FileName,
            &format!("\"{text}\" is a file name, not a description of the image."),
        ));
    } else if GENERIC
        .iter()
        .any(|g| g.eq_ignore_ascii_case(text.trim_end_matches('.')))
    {
        findings.push(finding(
            FindingCode::Generic,
            &format!("\"{text}\" says that there is an image, not what it shows."),
        ));
    }
    if let Some(opening) = medium_opening(text) {
        findings.push(finding(
            FindingCode::RedundantPrefix,
            &format!(
                "It starts with \"{}\": screen readers already announce an image.",
                text.get(..opening.len()).unwrap_or(opening)
            ),
        ));
    }
    if lists_keywords(text, input.keywords) || repeats_a_word(text) {
        findings.push(finding(
            FindingCode::KeywordStuffing,
            "It lists keywords or repeats a word: describe the image in a sentence instead.",
        ));
    }
    if decorative {
        findings.push(finding(
            FindingCode::DecorativeWithText,
            "The image is decorative: give it an empty alt text (alt=\"\") so readers skip it.",
        ));
    }
    findings
}

/// 100 for no finding; each finding costs its weight, down to 0.
pub fn score(findings: &[Finding]) -> u8 {
    let lost: u32 = findings.iter().map(|f| u32::from(f.code.weight())).sum();
    u8::try_from(100u32.saturating_sub(lost)).unwrap_or(0)
}

fn finding(code: FindingCode, message: &str) -> Finding {
    Finding {
        code,
        message: message.to_string(),
    }
}

/// "IMG_2043.jpg", "DSC00012", "photo-1.png", "hero_banner_v2": one token that ends like an
/// image file, or that joins letters and digits with `_` or `-` or none at all, as cameras
/// and exports name files.
fn is_file_name(text: &str) -> bool {
    if text.contains(char::is_whitespace) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    if IMAGE_EXTENSIONS.iter().any(|e| lower.ends_with(e)) {
        return true;
    }
    let has_digit = text.chars().any(|c| c.is_ascii_digit());
    let has_letter = text.chars().any(|c| c.is_alphabetic());
    let joined = text.contains(['_', '-']);
    let camera = ["img", "dsc", "dscn", "dcim", "pxl", "screenshot"]
        .iter()
        .any(|p| lower.starts_with(p));
    (has_digit && has_letter && (joined || camera)) || (joined && text.contains('_'))
}

/// One word of three letters or more said [`REPEATS`] times or more.
fn repeats_a_word(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect();
    words
        .iter()
        .any(|w| words.iter().filter(|other| *other == w).count() >= REPEATS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(alt: Option<&str>, decorative: Option<bool>) -> Vec<FindingCode> {
        let keywords = ["tomato seeds", "organic gardening", "raised beds"].map(String::from);
        let input = AltTextInput {
            alt_text: alt,
            keywords: &keywords,
            max_length: 125,
            decorative,
        };
        check(&input).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_good_alt_text_has_no_finding_and_scores_100() {
        let alt = Some("Hands pressing tomato seeds into a raised bed");
        assert_eq!(codes(alt, None), vec![]);
        assert_eq!(score(&[]), 100);
    }

    #[test]
    fn missing_alt_text_is_a_finding_unless_the_image_is_decorative() {
        assert_eq!(codes(None, None), vec![FindingCode::Missing]);
        assert_eq!(codes(Some("  "), Some(false)), vec![FindingCode::Missing]);
        assert_eq!(codes(Some(""), Some(true)), vec![]);
        let missing = check(&AltTextInput {
            max_length: 125,
            ..AltTextInput::default()
        });
        assert_eq!(score(&missing), 0);
    }

    #[test]
    fn file_names_and_generic_words_are_found() {
        for name in [
            "IMG_2043.jpg",
            "DSC00012",
            "photo-1.png",
            "hero_banner_v2",
            "banner.webp",
        ] {
            assert_eq!(
                codes(Some(name), None),
                vec![FindingCode::FileName],
                "{name}"
            );
        }
        for word in ["image", "Photo", "logo.", "Untitled"] {
            assert_eq!(
                codes(Some(word), None),
                vec![FindingCode::Generic],
                "{word}"
            );
        }
        assert_eq!(
            codes(Some("Route 66 at dusk"), None),
            vec![],
            "digits in a sentence"
        );
        assert_eq!(codes(Some("Wi-Fi"), None), vec![], "a hyphenated word");
    }

    #[test]
    fn a_redundant_prefix_too_long_text_and_stuffing_are_found() {
        assert_eq!(
            codes(Some("Image of a red bicycle against a wall"), None),
            vec![FindingCode::RedundantPrefix]
        );
        let long = "A red bicycle ".repeat(12);
        assert_eq!(
            codes(Some(&long), None),
            vec![FindingCode::TooLong, FindingCode::KeywordStuffing]
        );
        assert_eq!(
            codes(Some("Tomato seeds, organic gardening, raised beds"), None),
            vec![FindingCode::KeywordStuffing]
        );
        assert_eq!(
            codes(Some("Seeds seeds seeds for sale"), None),
            vec![FindingCode::KeywordStuffing]
        );
    }

    #[test]
    fn text_on_a_decorative_image_is_found_and_the_score_adds_up() {
        let found = check(&AltTextInput {
            alt_text: Some("Photo of a divider"),
            keywords: &[],
            max_length: 125,
            decorative: Some(true),
        });
        let codes: Vec<_> = found.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            vec![
                FindingCode::RedundantPrefix,
                FindingCode::DecorativeWithText
            ]
        );
        assert_eq!(score(&found), 100 - 15 - 50);
        assert!(found.iter().all(|f| !f.message.is_empty()));
    }
}
