//! Length rules for generated text. A model may overshoot; the API never does.

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

/// Model text as it may be pasted: no wrapping quotes, no opening that names the medium
/// ("Image of …"), each keyword at most once and never a list of keywords, none of the
/// negative keywords, and, for alt text, no closing period on a single sentence. Length is
/// fitted separately ([`fit_to_length`]), after this.
pub fn tidy(text: &str, is_alt_text: bool, keywords: &[String], never: &[String]) -> String {
    let mut text = unquote(text.trim()).to_string();
    text = without_medium_opening(&text);
    text = keywords_once(&text, keywords);
    text = without_keyword_lists(&text, keywords);
    text = without_words(&text, never);
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

fn without_medium_opening(text: &str) -> String {
    let lower = text.to_lowercase();
    for opening in MEDIUM_OPENINGS {
        let rest_starts_word = lower
            .strip_prefix(opening)
            .is_some_and(|rest| rest.starts_with(char::is_whitespace) || rest.starts_with(':'));
        // Lower-casing keeps these ASCII-and-Latin openings the same length in bytes.
        if rest_starts_word && lower.len() == text.len() {
            let rest = text[opening.len()..]
                .trim_start_matches([':', ' '])
                .trim_start();
            if !rest.is_empty() {
                return rest.to_string();
            }
        }
    }
    text.to_string()
}

/// Each keyword once: a later whole-word repeat (any case) goes, with the comma or "and"
/// that listed it.
fn keywords_once(text: &str, keywords: &[String]) -> String {
    let mut out = text.to_string();
    for keyword in keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
        let mut seen = false;
        let mut kept = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = find_word(rest, keyword) {
            let end = at + keyword.len();
            if seen {
                let before = rest[..at].trim_end();
                let before = before
                    .strip_suffix(',')
                    .or_else(|| before.strip_suffix(" and"))
                    .unwrap_or(before);
                kept.push_str(before);
            } else {
                kept.push_str(&rest[..end]);
                seen = true;
            }
            rest = &rest[end..];
        }
        kept.push_str(rest);
        out = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    out
}

/// Keywords listed one after another this many times or more are a list (keyword stuffing),
/// not a description.
const KEYWORD_LIST_LEN: usize = 3;

/// Separators of a list, longest first so ", and " wins over ",".
const LIST_SEPARATORS: &[&str] = &[", and ", ", & ", ", ", " and ", " & ", "; ", " | ", " / "];

/// A run of [`KEYWORD_LIST_LEN`] or more keywords joined only by list separators keeps its
/// first keyword; the rest of the run goes.
fn without_keyword_lists(text: &str, keywords: &[String]) -> String {
    let keywords: Vec<&str> = keywords
        .iter()
        .map(|k| k.trim())
        .filter(|k| !k.is_empty())
        .collect();
    if keywords.len() < KEYWORD_LIST_LEN {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        match keyword_run(text, at, &keywords) {
            Some((first_end, run_end, items)) if items >= KEYWORD_LIST_LEN => {
                out.push_str(&text[at..first_end]);
                at = run_end;
            }
            _ => {
                let step = text[at..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[at..at + step]);
                at += step;
            }
        }
    }
    out
}

/// The keyword run starting at byte `at` (at a word start): where its first keyword ends,
/// where the run ends, and how many keywords it holds.
fn keyword_run(text: &str, at: usize, keywords: &[&str]) -> Option<(usize, usize, usize)> {
    let starts_word = text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric());
    if !starts_word {
        return None;
    }
    let keyword_at = |from: usize| -> Option<usize> {
        keywords.iter().find_map(|k| {
            let end = from + k.len();
            let candidate = text.get(from..end)?;
            let ends_word = text[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            (candidate.eq_ignore_ascii_case(k) && ends_word).then_some(end)
        })
    };
    let first_end = keyword_at(at)?;
    let (mut run_end, mut items) = (first_end, 1);
    loop {
        let lower = text[run_end..].to_ascii_lowercase();
        let Some(separator) = LIST_SEPARATORS.iter().find(|s| lower.starts_with(**s)) else {
            break;
        };
        match keyword_at(run_end + separator.len()) {
            Some(end) => (run_end, items) = (end, items + 1),
            None => break,
        }
    }
    Some((first_end, run_end, items))
}

/// Every whole-word occurrence of each of `never` goes, with the comma or "and" that listed
/// it; spaces are tidied after.
fn without_words(text: &str, never: &[String]) -> String {
    let mut out = text.to_string();
    for word in never.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        while let Some(at) = find_word(&out, word) {
            let before = out[..at].trim_end();
            let listed = before
                .strip_suffix(',')
                .or_else(|| before.strip_suffix(" and"));
            let mut after = out[at + word.len()..].trim_start();
            // The word's own connector goes with it: the one before it, else the one after.
            if listed.is_none() {
                after = after
                    .strip_prefix(',')
                    .or_else(|| after.strip_prefix("and "))
                    .unwrap_or(after)
                    .trim_start();
            }
            out = format!("{} {after}", listed.unwrap_or(before));
        }
        out = out.split_whitespace().collect::<Vec<_>>().join(" ");
        out = out.replace(" ,", ",").replace(" .", ".");
    }
    out.trim_start_matches([',', ' ']).to_string()
}

/// Where `word` first stands as a whole word in `text`, ignoring ASCII case.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let (hay, needle) = (text.to_ascii_lowercase(), word.to_ascii_lowercase());
    let mut from = 0;
    while let Some(found) = hay[from..].find(&needle) {
        let at = from + found;
        let end = at + needle.len();
        let boundary_before = hay[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let boundary_after = hay[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if boundary_before && boundary_after {
            return Some(at);
        }
        from = at + needle.len().max(1);
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    None
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
            "Organic tomato seedlings soil plants"
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
            "A red kettle by cheerful"
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
}
