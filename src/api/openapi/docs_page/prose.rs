//! Text from the spec as the page shows it: `backticks` become code, everything else stays
//! text. Kept as segments so that the template escapes every piece; no HTML is ever built
//! from spec text here.

/// A piece of prose: plain text, or text the spec marked as code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub code: bool,
}

/// A description, split at its backticks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prose {
    pub segments: Vec<Segment>,
}

impl Prose {
    pub fn new(text: &str) -> Prose {
        let segments = text
            .split('`')
            .enumerate()
            .filter(|(_, piece)| !piece.is_empty())
            .map(|(n, piece)| Segment {
                text: piece.to_string(),
                code: n % 2 == 1,
            })
            .collect();
        Prose { segments }
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }
}

pub use crate::api::text::thousands as number;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_mark_code() {
        let prose = Prose::new("Every error is `{\"error\"}`; see `x-request-id`.");
        let pieces: Vec<(&str, bool)> = prose
            .segments
            .iter()
            .map(|s| (s.text.as_str(), s.code))
            .collect();
        assert_eq!(
            pieces,
            [
                ("Every error is ", false),
                ("{\"error\"}", true),
                ("; see ", false),
                ("x-request-id", true),
                (".", false),
            ]
        );
        assert!(Prose::new("").is_empty());
    }

    #[test]
    fn numbers_are_grouped_in_thousands() {
        assert_eq!(number(0), "0");
        assert_eq!(number(125), "125");
        assert_eq!(number(2048), "2,048");
        assert_eq!(number(1_000_000), "1,000,000");
        assert_eq!(number(-31_536_000), "-31,536,000");
    }
}
