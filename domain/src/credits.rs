use serde::{Deserialize, Serialize};

use crate::image::ImageFormat;

/// A whole number of credits. Balances never go below zero, so it is unsigned.
pub type Credits = u32;

/// What one generation costs: the contract charges by image format, plus one credit when the
/// text is written in a language other than the account's default ("additional language").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditCost {
    pub format: Credits,
    pub language: Credits,
}

impl CreditCost {
    pub fn of(format: ImageFormat, additional_language: bool) -> Self {
        CreditCost {
            format: format.credit_cost(),
            language: u32::from(additional_language),
        }
    }

    pub fn total(self) -> Credits {
        self.format + self.language
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
            assert_eq!(CreditCost::of(f, false).total(), 1, "{f:?}");
        }
        for f in [ImageFormat::Avif, ImageFormat::Heic, ImageFormat::Tiff] {
            assert_eq!(CreditCost::of(f, false).total(), 2, "{f:?}");
        }
    }

    #[test]
    fn another_language_adds_one_credit() {
        assert_eq!(CreditCost::of(ImageFormat::Jpeg, true).total(), 2);
        assert_eq!(CreditCost::of(ImageFormat::Heic, true).total(), 3);
    }
}
