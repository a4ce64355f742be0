//! Length rules for generated text, and the tidying every provider's text gets before them.
//! A model may overshoot; the API never does.
mod words;

/// Cuts `text` to at most `max_chars` characters, at a word boundary when there is one, and
/// drops the dangling punctuation such a cut leaves. Counts characters, not bytes, so no
/// multi-byte character is ever split.
pub fn fit_to_length(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let hard_cut: String = text.chars().take(max_chars).collect();
    let next_is_break = text
        .chars()
        .nth(max_chars)
        .is_some_and(|c| c.is_whitespace());
    let cut = if next_is_break {
        hard_cut.as_str()
    } else {
        match hard_cut.rfind(char::is_whitespace) {
            Some(i) if i > 0 => &hard_cut[..i],
            _ => hard_cut.as_str(),
        }
    };
    cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—(".contains(c))
        .to_string()
}

/// Openings that describe the medium rather than the image, in the languages the rule covers
/// (screen readers already say "image"). Longest first, so "a photo of" wins over "photo of".
const MEDIUM_OPENINGS: &[&str] = &[
    // English
    "an image of",
    "a picture of",
    "a photograph of",
    "a photo of",
    "an illustration of",
    "image of",
    "picture of",
    "photograph of",
    "photo of",
    "illustration of",
    "this image shows",
    "the image shows",
    "this is an image of",
    "this is a photo of",
    // French, Spanish, Portuguese, Italian
    "une image de",
    "une photo de",
    "image de",
    "photo de",
    "una imagen de",
    "una foto de",
    "imagen de",
    "foto de",
    "uma imagem de",
    "uma foto de",
    "imagem de",
    "un'immagine di",
    "una foto di",
    "immagine di",
    "foto di",
    // German, Dutch
    "ein bild von",
    "ein foto von",
    "bild von",
    "foto von",
    "een afbeelding van",
    "een foto van",
    "afbeelding van",
    "foto van",
];

/// The longest text [`tidy`] reads, in characters: four times the longest field.
const TIDY_INPUT_CHARS: usize = 4_000;

/// Model text as it may be pasted: no wrapping quotes, no opening that names the medium
/// ("Image of …"), each keyword at most once and never a list of keywords, none of the
/// negative keywords, and, for alt text, no closing period on a single sentence. Length is
/// fitted separately ([`fit_to_length`]), after this.
pub fn tidy(text: &str, is_alt_text: bool, keywords: &[String], never: &[String]) -> String {
    // The rules copy the text for each removal: a bound keeps a runaway answer cheap.
    let bounded = fit_to_length(&text.replace(words::CUT, ""), TIDY_INPUT_CHARS);
    let mut text = unquote(&bounded).to_string();
    text = without_medium_opening(&text);
    text = words::keywords_once(&text, keywords);
    text = words::without_keyword_lists(&text, keywords);
    text = words::without_words(&text, never);
    text = words::settle_cuts(&text);
    if is_alt_text {
        text = without_lone_period(&text);
    }
    capitalised(&text)
}

fn unquote(text: &str) -> &str {
    let pairs = [
        ('"', '"'),
        ('\'', '\''),
        ('“', '”'),
        ('‘', '’'),
        ('«', '»'),
        ('„', '“'),
    ];
    for (open, close) in pairs {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            if !inner.contains(open) && !inner.contains(close) {
                return inner.trim();
            }
        }
    }
    text
}

/// The opening of `text` that names the medium ("Image of", "Photo de"…), when it has one
/// followed by more words.
pub fn medium_opening(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    // Lower-casing keeps these ASCII-and-Latin openings the same length in bytes.
    if lower.len() != text.len() {
        return None;
    }
    MEDIUM_OPENINGS.iter().copied().find(|opening| {
        lower.strip_prefix(opening).is_some_and(|rest| {
            (rest.starts_with(char::is_whitespace) || rest.starts_with(':'))
                && !rest.trim_start_matches([':', ' ']).trim().is_empty()
        })
    })
}

/// Whether `text` lists keywords (three or more in a row): keyword stuffing.
pub fn lists_keywords(text: &str, keywords: &[String]) -> bool {
    words::without_keyword_lists(text, keywords).contains(words::CUT)
}

fn without_medium_opening(text: &str) -> String {
    match medium_opening(text).and_then(|opening| text.get(opening.len()..)) {
        Some(rest) => rest.trim_start_matches([':', ' ']).trim_start().to_string(),
        None => text.to_string(),
    }
}

/// One sentence ends without a period (alt text is read as a phrase); several keep theirs.
fn without_lone_period(text: &str) -> String {
    let body = text.strip_suffix('.').filter(|b| !b.ends_with('.'));
    match body {
        Some(body) if !body.contains(". ") && !body.contains("! ") && !body.contains("? ") => {
            body.to_string()
        }
        _ => text.to_string(),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_quotes_go() {
        assert_eq!(tidy("\"A red apple\"", true, &[], &[]), "A red apple");
        assert_eq!(tidy("“A red apple”", true, &[], &[]), "A red apple");
        assert_eq!(
            tidy("\"Big\" and \"small\"", false, &[], &[]),
            "\"Big\" and \"small\""
        );
    }

    #[test]
    fn openings_that_name_the_medium_go_in_each_covered_language() {
        assert_eq!(
            tidy("Image of a red apple on a table", true, &[], &[]),
            "A red apple on a table"
        );
        assert_eq!(tidy("a photo of two dogs", true, &[], &[]), "Two dogs");
        assert_eq!(tidy("Photo de deux chiens", true, &[], &[]), "Deux chiens");
        assert_eq!(tidy("Bild von einem Hund", true, &[], &[]), "Einem Hund");
        assert_eq!(tidy("Imagen de un perro", true, &[], &[]), "Un perro");
        // Not an opening: the word goes on.
        assert_eq!(
            tidy("Photographers at work", true, &[], &[]),
            "Photographers at work"
        );
        assert_eq!(tidy("Image of", true, &[], &[]), "Image of");
    }

    #[test]
    fn alt_text_drops_a_lone_closing_period_but_keeps_several_sentences() {
        assert_eq!(tidy("A red apple.", true, &[], &[]), "A red apple");
        assert_eq!(
            tidy("A red apple. It is ripe.", true, &[], &[]),
            "A red apple. It is ripe."
        );
        assert_eq!(tidy("A caption.", false, &[], &[]), "A caption.");
        assert_eq!(tidy("Wait...", true, &[], &[]), "Wait...");
    }

    #[test]
    fn a_keyword_appears_once() {
        let keywords = vec!["organic".to_string(), "tomato".to_string()];
        assert_eq!(
            tidy(
                "Organic tomato seedlings, organic soil and tomato plants",
                true,
                &keywords,
                &[]
            ),
            "Organic tomato seedlings",
            "a repeat in a list goes with its item"
        );
        let seeds = vec!["tomato seeds".to_string()];
        assert_eq!(
            tidy(
                "Hands sowing tomato seeds in raised beds. The tomato seeds are small.",
                false,
                &seeds,
                &[]
            ),
            "Hands sowing tomato seeds in raised beds.",
            "a repeat elsewhere goes with the rest of its sentence, and an emptied sentence goes"
        );
        assert_eq!(
            tidy(
                "Tomato seeds beside more tomato seeds, on a table",
                true,
                &seeds,
                &[]
            ),
            "Tomato seeds beside more"
        );
        assert_eq!(
            tidy("Tomatoes and a tomato", true, &keywords, &[]),
            "Tomatoes and a tomato"
        );
    }

    #[test]
    fn negative_keywords_never_appear() {
        let never = vec!["cheap".to_string(), "Acme".to_string()];
        assert_eq!(
            tidy(
                "A cheap red kettle by Acme, cheap and cheerful",
                true,
                &[],
                &never
            ),
            "A red kettle and cheerful",
            "no word is left dangling"
        );
        assert_eq!(
            tidy("Tomato seeds from Acme.", true, &[], &never),
            "Tomato seeds"
        );
        assert_eq!(
            tidy("Kettles by Acme, Brand and Other", false, &[], &never),
            "Kettles, Brand and Other"
        );
        assert_eq!(tidy("Cheap tea", true, &[], &never), "Tea");
        assert_eq!(
            tidy("Cheapside market", true, &[], &never),
            "Cheapside market"
        );
    }

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(fit_to_length("  A red apple ", 20), "A red apple");
    }

    #[test]
    fn long_text_is_cut_at_a_word_boundary() {
        let s = "Hands planting organic tomato seeds in rich dark soil";
        let cut = fit_to_length(s, 30);
        assert_eq!(cut, "Hands planting organic tomato");
        assert!(cut.chars().count() <= 30);
    }

    #[test]
    fn a_cut_exactly_before_a_space_keeps_the_last_word() {
        assert_eq!(fit_to_length("one two three", 7), "one two");
    }

    #[test]
    fn a_single_long_word_is_cut_hard() {
        assert_eq!(fit_to_length("abcdefghijklmnop", 10), "abcdefghij");
    }

    #[test]
    fn dangling_punctuation_is_dropped() {
        assert_eq!(fit_to_length("red, green, blue and more", 12), "red, green");
    }

    #[test]
    fn multibyte_characters_are_counted_not_split() {
        let s = "Ein schönes Gebäude über dem Fluß";
        let cut = fit_to_length(s, 13);
        assert_eq!(cut, "Ein schönes");
        assert_eq!(fit_to_length("日本語のテキスト", 3), "日本語");
    }

    #[test]
    fn a_list_of_keywords_keeps_only_its_first() {
        let keywords: Vec<String> = [
            "tomato seeds",
            "organic gardening",
            "raised beds",
            "compost",
        ]
        .iter()
        .map(|k| k.to_string())
        .collect();
        assert_eq!(
            tidy(
                "Tomato seeds, organic gardening, raised beds and compost",
                false,
                &keywords,
                &[]
            ),
            "Tomato seeds"
        );
        assert_eq!(
            tidy(
                "Hands sowing tomato seeds; organic gardening | raised beds in spring",
                true,
                &keywords,
                &[]
            ),
            "Hands sowing tomato seeds in spring"
        );
        assert_eq!(
            tidy(
                "Hands sowing tomato seeds for organic gardening in raised beds",
                true,
                &keywords,
                &[]
            ),
            "Hands sowing tomato seeds for organic gardening in raised beds",
            "keywords in a sentence are not a list"
        );
        assert_eq!(
            tidy("Tomato seeds and organic gardening", true, &keywords, &[]),
            "Tomato seeds and organic gardening",
            "two are a phrase, not a list"
        );
    }

    #[test]
    fn a_removal_tidies_only_where_it_happened() {
        let never = vec!["Acme".to_string()];
        assert_eq!(tidy("Sign in with Acme", true, &[], &never), "Sign in");
        assert_eq!(tidy("Vitamin E and Acme", true, &[], &never), "Vitamin E");
        assert_eq!(
            tidy("Acme sells to the U.S. and Canada", false, &[], &never),
            "Sells to the U.S. and Canada"
        );
        assert_eq!(tidy("Plan A from Acme.", true, &[], &never), "Plan A");
        assert_eq!(
            tidy("Log in or sign up", true, &[], &never),
            "Log in or sign up"
        );
    }

    #[test]
    fn text_without_a_removal_keeps_its_lines_and_spaces() {
        let text = "Two dogs.\nOne cat .  A bird.";
        assert_eq!(tidy(text, false, &["dogs".to_string()], &[]), text);
    }

    #[test]
    fn a_keyword_ending_in_a_separator_is_handled() {
        let keywords = vec!["red,".to_string(), "rock and".to_string()];
        assert_eq!(tidy("red, red,", false, &keywords, &[]), "Red");
        assert_eq!(
            tidy("rock and rock and roll", false, &keywords, &[]),
            "Rock"
        );
    }

    proptest::proptest! {
        /// Whatever the model and the caller send, tidying never panics, never leaves its
        /// marks, and never lengthens the text.
        #[test]
        fn tidy_never_panics(
            text in "[a-cA-C ,.;&|/!?é—\u{E000}]{0,60}",
            keywords in proptest::collection::vec("[a-c ,.;&é]{0,6}", 0..4),
            never in proptest::collection::vec("[a-c ,&é]{0,4}", 0..3),
            alt in proptest::bool::ANY,
        ) {
            let out = tidy(&text, alt, &keywords, &never);
            proptest::prop_assert!(!out.contains(words::CUT));
            proptest::prop_assert!(out.chars().count() <= text.chars().count());
        }
    }
}
