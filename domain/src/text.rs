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

#[cfg(test)]
mod tests {
    use super::*;

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
}
