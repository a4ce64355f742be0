//! Words and numbers as our pages print them (the dashboard and /docs share these).

/// A whole number as people read it: 4832 → "4,832".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if n < 0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// The first letter in upper case: "pro" → "Pro".
pub fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A use case's message as a sentence on a page: capitalised, with a full stop.
pub fn sentence(message: &str) -> String {
    let mut out = capitalised(message);
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sentences_read_as_people_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4832), "4,832");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(-25_000), "-25,000");
        assert_eq!(capitalised("bearer"), "Bearer");
        assert_eq!(sentence("the label is too long"), "The label is too long.");
        assert_eq!(sentence("Done."), "Done.");
    }
}
