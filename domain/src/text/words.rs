//! The word rules of [`super::tidy`]: keywords at most once and never as a list, negative
//! keywords never, and no word left dangling where one of them removed text. They remove text
//! and never add any. Each removal leaves a [`CUT`] mark; [`settle_cuts`] tidies around the
//! marks, and only there, then takes them out.

/// Marks where a rule removed text (a private-use character, taken out of the input first).
pub(super) const CUT: char = '\u{E000}';

/// Separators between the items of a list, longest first so ", and " wins over ",".
const SEPARATORS: &[&str] = &[", and ", ", & ", " and ", " & ", ", ", "; ", " | ", " / "];

/// Articles, in the languages the medium-opening rule covers: one left before a removal goes,
/// however many there are.
const ARTICLES: &[&str] = &[
    "a", "an", "the", "le", "la", "les", "un", "une", "des", "el", "los", "las", "una", "il", "lo",
    "gli", "os", "um", "uma", "der", "die", "das", "ein", "eine", "het", "een",
];

/// Prepositions and conjunctions: the one right before a removal at a phrase's end goes.
const LINKS: &[&str] = &[
    "of", "from", "by", "with", "for", "in", "on", "at", "to", "and", "or", "de", "du", "par",
    "avec", "pour", "et", "del", "por", "con", "para", "di", "per", "do", "da", "von", "mit",
    "für", "und", "van", "met", "voor", "en",
];

/// The caller's words, trimmed, without empty ones or any holding the mark.
fn usable(words: &[String]) -> impl Iterator<Item = &str> {
    words
        .iter()
        .map(|w| w.trim())
        .filter(|w| !w.is_empty() && !w.contains(CUT))
}

/// Each keyword once. A later whole-word repeat goes with the list item it stands in (from
/// the separator before it to the next), or, when it is not in a list, with the rest of its
/// sentence.
pub(super) fn keywords_once(text: &str, keywords: &[String]) -> String {
    let mut out = text.to_string();
    for keyword in usable(keywords) {
        while let Some(first) = find_word(&out, keyword) {
            let after_first = first + keyword.len();
            let Some(found) = find_word(&out[after_first..], keyword) else {
                break;
            };
            let at = after_first + found;
            let end = at + keyword.len();
            out = match separator_before(&out, at) {
                // Never into the first occurrence (a keyword may end in a separator).
                Some(start) if start >= after_first => cut(&out, start, item_end(&out, end)),
                _ => cut(&out, at, sentence_end(&out, end)),
            };
        }
    }
    out
}

/// Every whole-word occurrence of each of `never` goes: a list item that is only the word goes
/// with the separator before it, any other occurrence alone.
pub(super) fn without_words(text: &str, never: &[String]) -> String {
    let mut out = text.to_string();
    for word in usable(never) {
        while let Some(at) = find_word(&out, word) {
            let end = at + word.len();
            out = match separator_before(&out, at) {
                Some(start) if item_end(&out, end) == end => cut(&out, start, end),
                _ => cut(&out, at, end),
            };
        }
    }
    out
}

/// `text` with `from..to` replaced by a [`CUT`] mark.
fn cut(text: &str, from: usize, to: usize) -> String {
    let mut out = String::with_capacity(text.len() + CUT.len_utf8());
    out.push_str(&text[..from]);
    out.push(CUT);
    out.push_str(&text[to..]);
    out
}

/// Tidies around each [`CUT`] mark and takes the marks out. Where a removal ended a phrase (a
/// sentence end, a separator or the text's end follows it), the articles before it go and so
/// does one preposition or conjunction ("from" in "seeds from [Acme]."); a separator doubled
/// or left at a sentence's start goes; a sentence left empty goes. Text away from the marks
/// is left as it was.
pub(super) fn settle_cuts(text: &str) -> String {
    if !text.contains(CUT) {
        return text.to_string();
    }
    let mut out = text.to_string();
    while let Some(at) = out.find(CUT) {
        let mut before = out[..at].trim_end().to_string();
        let mut after = out[at + CUT.len_utf8()..].trim_start().to_string();
        let after_starts_list = separator_at_start(&after).is_some();
        let closes = after.is_empty()
            || after.starts_with(CUT)
            || after.starts_with(['.', '!', '?', ',', ';', ':'])
            || after_starts_list;
        if closes {
            drop_dangling(&mut before);
        }
        let before_ends_list = separator_at_end(&before).is_some();
        let sentence_start = before.is_empty() || before.ends_with(['.', '!', '?']);
        if sentence_start && after.starts_with(['.', '!', '?']) {
            // The removal emptied its sentence: its terminator goes too.
            after = after[1..].trim_start().to_string();
        }
        if let Some(len) = separator_at_start(&after) {
            if before_ends_list || sentence_start {
                after = after[len..].trim_start().to_string();
            }
        } else if before_ends_list && (after.is_empty() || after.starts_with(['.', '!', '?'])) {
            if let Some(len) = separator_at_end(&before) {
                before.truncate(before.len() - len);
            }
        }
        out = joined(before.trim_end(), &after);
    }
    without_empty_sentences(&out)
}

/// Drops the articles at the end of `before`, then one preposition or conjunction.
fn drop_dangling(before: &mut String) {
    let drop_last_if = |before: &mut String, words: &[&str]| -> bool {
        let last = before.rsplit(' ').next().unwrap_or_default();
        let bare = last.trim_end_matches([',', ';']);
        let dangling = !bare.is_empty() && words.iter().any(|w| w.eq_ignore_ascii_case(bare));
        if dangling {
            let keep = before.len() - last.len();
            before.truncate(keep);
            let trimmed = before.trim_end().len();
            before.truncate(trimmed);
        }
        dangling
    };
    while drop_last_if(before, ARTICLES) {}
    drop_last_if(before, LINKS);
}

/// The length of the separator `text` starts with, without the space before it.
fn separator_at_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    SEPARATORS
        .iter()
        .map(|s| s.trim_start())
        .find(|s| lower.starts_with(s))
        .map(str::len)
}

/// The length of the separator `text` ends with (its trailing space optional).
fn separator_at_end(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    SEPARATORS
        .iter()
        .map(|s| s.trim_end())
        .find(|s| lower.ends_with(s))
        .map(str::len)
}

/// Two pieces of text with one space between, none before punctuation.
fn joined(before: &str, after: &str) -> String {
    if before.is_empty() {
        after.to_string()
    } else if after.is_empty() || after.starts_with(['.', '!', '?', ',', ';', ':']) {
        format!("{before}{after}")
    } else {
        format!("{before} {after}")
    }
}

/// `text` without sentences that hold nothing but their terminator.
fn without_empty_sentences(text: &str) -> String {
    let mut kept: Vec<String> = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = sentence_end(text, start);
        let terminator = text[end..].chars().next().map_or(0, char::len_utf8);
        let sentence = text[start..end + terminator].trim();
        if sentence.trim_end_matches(['.', '!', '?']).trim().is_empty() {
            if let (Some(last), Some(t)) = (kept.last_mut(), sentence.chars().last()) {
                // "Seeds: [gone]." keeps the first sentence's own ending.
                if !last.ends_with(['.', '!', '?']) {
                    last.push(t);
                }
            }
        } else {
            kept.push(sentence.to_string());
        }
        start = end + terminator;
    }
    kept.join(" ")
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
                    .is_none_or(|n| n.is_whitespace() || n == CUT)
        })
        .map_or(text.len(), |(i, _)| from + i)
}

/// Where the list separator right before byte `at` starts, when one is there.
fn separator_before(text: &str, at: usize) -> Option<usize> {
    let lower = text[..at].to_ascii_lowercase();
    SEPARATORS
        .iter()
        .find(|s| lower.ends_with(**s))
        .map(|s| at - s.len())
}

/// Where the list item that continues at byte `from` ends: the next separator, or its
/// sentence's end.
fn item_end(text: &str, from: usize) -> usize {
    let stop = sentence_end(text, from);
    let lower = text[from..stop].to_ascii_lowercase();
    SEPARATORS
        .iter()
        .filter_map(|s| lower.find(s))
        .min()
        .map_or(stop, |i| from + i)
}

/// Keywords listed one after another this many times or more are a list (keyword stuffing),
/// not a description.
const KEYWORD_LIST_LEN: usize = 3;

/// A run of [`KEYWORD_LIST_LEN`] or more keywords joined only by list separators keeps its
/// first keyword; the rest of the run goes.
pub(super) fn without_keyword_lists(text: &str, keywords: &[String]) -> String {
    let keywords: Vec<&str> = usable(keywords).collect();
    if keywords.len() < KEYWORD_LIST_LEN {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        match keyword_run(text, at, &keywords) {
            Some((first_end, run_end, items)) if items >= KEYWORD_LIST_LEN => {
                out.push_str(&text[at..first_end]);
                out.push(CUT);
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
        let Some(separator) = SEPARATORS.iter().find(|s| lower.starts_with(**s)) else {
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
