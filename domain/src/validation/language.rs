//! Which language an alt text is written in, when that can be told: whatlang's trigram
//! detector, trusted only on a text with enough letters and on a verdict it calls reliable, so
//! that a short text or a close call is never a finding.
use crate::generation::Language;

/// Fewer letters than this say too little to tell a language apart from its neighbours.
const MIN_LETTERS: usize = 24;

/// The language `text` is written in, or `None` when it cannot be told with confidence.
pub fn detect_language(text: &str) -> Option<Language> {
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let info = whatlang::detect(text).filter(whatlang::Info::is_reliable)?;
    let code = match info.lang() {
        // Mandarin has no two-letter code of its own; ISO 639-1 calls Chinese "zh".
        whatlang::Lang::Cmn => "zh",
        lang => isolang::Language::from_639_3(lang.code())?.to_639_1()?,
    };
    Language::parse(code).ok()
}

/// The language's English name ("German"), or its code when it has none.
pub fn language_name(language: &Language) -> String {
    isolang::Language::from_639_1(language.as_str())
        .map(|l| l.to_name().to_string())
        .unwrap_or_else(|| language.as_str().to_string())
}
