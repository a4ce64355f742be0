use serde::{Deserialize, Serialize};

use crate::image::ImageFormat;

/// A whole number of credits. Balances never go below zero, so it is unsigned.
pub type Credits = u32;

/// What one generation reserves: the contract charges by image format, plus one credit for
/// each "additional language", a language beyond the first in one call (`languages`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditCost {
    pub format: Credits,
    pub language: Credits,
}

impl CreditCost {
    pub fn of(format: ImageFormat, extra_languages: usize) -> Self {
        CreditCost {
            format: format.credit_cost(),
            language: Self::languages(extra_languages),
        }
    }

    /// One credit per language beyond the first.
    pub fn languages(extra_languages: usize) -> Credits {
        Credits::try_from(extra_languages).unwrap_or(Credits::MAX)
    }

    pub fn total(self) -> Credits {
        self.format + self.language
    }
}

/// What a completed job is charged out of its reservation. The default charges the whole
/// reservation, none of it for languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Charge {
    /// Reserved credits not charged: one for each language the provider did not deliver.
    pub unused: Credits,
    /// The charged credits that paid for languages beyond the first.
    pub language_credits: Credits,
}

impl Charge {
    /// The charge of a job that reserved `language_credits` for its extra languages and whose
    /// provider did not deliver `failed` of them.
    pub fn for_delivery(language_credits: Credits, failed: usize) -> Charge {
        let unused = CreditCost::languages(failed).min(language_credits);
        Charge {
            unused,
            language_credits: language_credits - unused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_formats_cost_one_and_advanced_two() {
        for f in [
            ImageFormat::Jpeg,
            ImageFormat::Png,
            ImageFormat::Webp,
            ImageFormat::Gif,
        ] {
            assert_eq!(CreditCost::of(f, 0).total(), 1, "{f:?}");
        }
        for f in [ImageFormat::Avif, ImageFormat::Heic, ImageFormat::Tiff] {
            assert_eq!(CreditCost::of(f, 0).total(), 2, "{f:?}");
        }
    }

    #[test]
    fn each_language_beyond_the_first_adds_one_credit() {
        assert_eq!(CreditCost::of(ImageFormat::Jpeg, 1).total(), 2);
        assert_eq!(CreditCost::of(ImageFormat::Heic, 2).total(), 4);
    }
}
