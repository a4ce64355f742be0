//! The word rules of [`super::tidy`]: keywords at most once and never as a list, negative
//! keywords never, and no word left dangling by a removal. They remove text and never add
//! any, so what is left reads as the model wrote it.

/// Words that cannot end a phrase (articles, prepositions, conjunctions) in the languages the
/// medium-opening rule covers: a removal can leave one before a sentence's end.
const DANGLING: &[&str] = &[
    "a", "an", "the", "of", "from", "by", "with", "for", "in", "on", "at", "to", "and", "or", "de",
    "du", "des", "le", "la", "les", "un", "une", "par", "avec", "pour", "et", "del", "el", "los",
    "las", "una", "por", "con", "para", "y", "di", "il", "lo", "gli", "per", "e", "do", "da", "o",
    "os", "um", "uma", "von", "der", "die", "das", "ein", "eine", "mit", "für", "und", "van",
    "het", "een", "met", "voor", "en",
];

/// Each keyword once. A later whole-word repeat goes with the list item it stands in (from
/// the separator before it to the next), or, when it is not in a list, with the rest of its
/// sentence.
pub(super) fn keywords_once(text: &str, keywords: &[String]) -> String {
    let mut out = text.to_string();
    for keyword in keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
        let Some(first) = find_word(&out, keyword) else {
            continue;
        };
        let after_first = first + keyword.len();
        while let Some(found) = find_word(&out[after_first..], keyword) {
            let at = after_first + found;
            out = match separator_before(&out, at) {
                Some(item_start) => {
                    let item_end = item_end(&out, at + keyword.len());
                    format!("{}{}", &out[..item_start], &out[item_end..])
                }
                None => {
                    let stop = sentence_end(&out, at + keyword.len());
                    format!("{}{}", &out[..at], &out[stop..])
                }
            };
        }
        out = spaced(&out);
    }
    out
}

/// Every whole-word occurrence of each of `never` goes: a list item that is only the word goes
/// with its separator, any other occurrence alone.
pub(super) fn without_words(text: &str, never: &[String]) -> String {
    let mut out = text.to_string();
    for word in never.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        while let Some(at) = find_word(&out, word) {
            let end = at + word.len();
            let whole_item = item_end(&out, end) == end;
            out = match separator_before(&out, at) {
                Some(item_start) if whole_item => format!("{}{}", &out[..item_start], &out[end..]),
                _ => format!("{}{}", &out[..at], &out[end..]),
            };
        }
        out = spaced(&out);
    }
    out
}

/// Cleans up after removals: a dangling word before a separator or a sentence's end goes,
/// separators left at the start or end of a sentence go, and a sentence left empty goes.
pub(super) fn without_dangling_words(text: &str) -> String {
    let mut sentences = Vec::new();
    for (body, end) in sentences_of(text) {
        let mut words: Vec<&str> = body.split_whitespace().collect();
        loop {
            let before = words.len();
            trim_separators(&mut words);
            while words.last().is_some_and(|w| is_dangling(w)) {
                words.pop();
            }
            if words.len() == before {
                break;
            }
        }
        let mut kept: Vec<String> = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let next_is_separator = words
                .get(i + 1)
                .is_some_and(|n| is_separator_word(n) || n.starts_with(','));
            let ends_item = word.ends_with([',', ';']);
            match kept.last_mut() {
                // "by, Brand": the word goes, its comma stays with the word before.
                Some(last) if is_dangling(word) && ends_item => {
                    last.push_str(&word[word.len() - 1..]);
                }
                Some(_) if is_dangling(word) && next_is_separator => {}
                _ => kept.push(word.to_string()),
            }
        }
        if !kept.is_empty() {
            sentences.push(format!("{}{end}", kept.join(" ")));
        }
    }
    sentences.join(" ").replace(" ,", ",")
}

/// The sentences of `text`, each with its terminator ("." "!" "?" or nothing at the end).
fn sentences_of(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = sentence_end(text, start);
        let terminator_len = text[end..].chars().next().map_or(0, char::len_utf8);
        out.push((&text[start..end], &text[end..end + terminator_len]));
        start = end + terminator_len;
    }
    out
}

/// Where the sentence holding byte `from` ends: its terminator, or the text's end.
fn sentence_end(text: &str, from: usize) -> usize {
    text[from..]
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '.' | '!' | '?')
                && text[from + i + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })
        .map_or(text.len(), |(i, _)| from + i)
}

/// Where the list separator right before byte `at` starts, when one is there.
fn separator_before(text: &str, at: usize) -> Option<usize> {
    let before = text[..at].trim_end();
    let lower = before.to_ascii_lowercase();
    [",", ";", " and", " &", " |", " /"]
        .iter()
        .find(|s| lower.ends_with(**s))
        .map(|s| {
            let start = before.len() - s.len();
            // ", and": the comma goes too.
            before[..start].strip_suffix(',').map_or(start, |b| b.len())
        })
}

/// Where the list item or phrase that continues at byte `from` ends: the next separator, or
/// its sentence's end.
fn item_end(text: &str, from: usize) -> usize {
    let stop = sentence_end(text, from);
    let lower = text[from..stop].to_ascii_lowercase();
    LIST_SEPARATORS
        .iter()
        .chain(&[",", ";"])
        .filter_map(|s| lower.find(s))
        .min()
        .map_or(stop, |i| from + i)
}

fn trim_separators(words: &mut Vec<&str>) {
    while words
        .first()
        .is_some_and(|w| is_separator_word(w) || *w == ",")
    {
        words.remove(0);
    }
    if let Some(first) = words.first_mut() {
        *first = first.trim_start_matches([',', ';']);
    }
    while words.last().is_some_and(|w| is_separator_word(w)) {
        words.pop();
    }
    if let Some(last) = words.last_mut() {
        *last = last.trim_end_matches([',', ';', ':']);
        if last.is_empty() {
            words.pop();
        }
    }
}

fn is_separator_word(word: &str) -> bool {
    matches!(word, "&" | "|" | "/" | ";" | ",") || word.eq_ignore_ascii_case("and")
}

fn is_dangling(word: &str) -> bool {
    let word = word.trim_end_matches([',', ';']);
    DANGLING
        .iter()
        .any(|d| d.eq_ignore_ascii_case(word) || d.to_lowercase() == word.to_lowercase())
}

/// Single spaces, none before a comma or a period.
fn spaced(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" ,", ",")
        .replace(" .", ".")
}

/// Keywords listed one after another this many times or more are a list (keyword stuffing),
/// not a description.
const KEYWORD_LIST_LEN: usize = 3;

/// Separators of a list, longest first so ", and " wins over ",".
const LIST_SEPARATORS: &[&str] = &[", and ", ", & ", ", ", " and ", " & ", "; ", " | ", " / "];

/// A run of [`KEYWORD_LIST_LEN`] or more keywords joined only by list separators keeps its
/// first keyword; the rest of the run goes.
pub(super) fn without_keyword_lists(text: &str, keywords: &[String]) -> String {
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
