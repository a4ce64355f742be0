//! What a provider wrote, finished: the requested fields tidied and fitted, the decorative
//! verdict, and each other language delivered or failed.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{limits, Field, GenerationOptions, Language, Mode, Role};
use crate::text::{fit_to_length, tidy};

/// Generated text for the requested fields. Absent fields were not asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeneratedText {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub og_description: Option<String>,
    /// Our addition, for `role: "chart"` only: the chart's data and trend, for
    /// `aria-describedby` or a `<details>` element.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
    /// Our addition, for `mode: "auto"` only: whether the image is decorative (its alt text
    /// is then empty, WCAG's `alt=""`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decorative: Option<bool>,
    /// Our addition, for `mode: "auto"` only: why the image is, or is not, decorative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decorative_reason: Option<String>,
}

impl GeneratedText {
    pub fn get(&self, field: Field) -> Option<&str> {
        match field {
            Field::AltText => self.alt_text.as_deref(),
            Field::Title => self.title.as_deref(),
            Field::Caption => self.caption.as_deref(),
            Field::OgDescription => self.og_description.as_deref(),
        }
    }

    pub fn set(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::AltText => &mut self.alt_text,
            Field::Title => &mut self.title,
            Field::Caption => &mut self.caption,
            Field::OgDescription => &mut self.og_description,
        };
        *slot = Some(value);
    }

    /// Whether the alt text must be empty: the caller said the image is decorative, or, in
    /// `auto` mode, the provider judged it so.
    pub fn is_decorative(&self, options: &GenerationOptions) -> bool {
        match options.mode {
            Mode::Decorative => true,
            Mode::Auto => self.verdict(options).0,
            Mode::Standard | Mode::Ecommerce => false,
        }
    }

    /// The `auto` mode verdict and its reason. A role with a purpose (link, button, logo,
    /// chart) is never decorative, whatever the provider said; a provider that gave no verdict
    /// leaves the image as content.
    fn verdict(&self, options: &GenerationOptions) -> (bool, String) {
        if let Some(purpose) = options.role.and_then(Role::purpose) {
            return (false, purpose.to_string());
        }
        let Some(decorative) = self.decorative else {
            return (
                false,
                "The model gave no verdict, so the image is treated as content.".to_string(),
            );
        };
        let reason = self
            .decorative_reason
            .as_deref()
            .map(|r| tidy(r, false, &[], &options.negative_keywords))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "The model gave no reason.".to_string());
        (
            decorative,
            fit_to_length(&reason, limits::DECORATIVE_REASON_CHARS),
        )
    }

    /// Keeps exactly the requested fields, each tidied and within its length, and applies the
    /// WCAG rule for decorative images. Every provider's answer goes through here.
    pub fn finish(&self, options: &GenerationOptions) -> GeneratedText {
        let decorative = self.is_decorative(options);
        let mut out = self.finish_text(options, decorative);
        if options.mode == Mode::Auto {
            let (decorative, reason) = self.verdict(options);
            out.decorative = Some(decorative);
            out.decorative_reason = Some(reason);
        }
        out
    }

    /// The requested fields (and a chart's long description), tidied and fitted; the alt text
    /// is empty when `decorative`.
    fn finish_text(&self, options: &GenerationOptions, decorative: bool) -> GeneratedText {
        let mut out = GeneratedText::default();
        for field in options.fields.iter() {
            let text = if field == Field::AltText && decorative {
                String::new()
            } else {
                let raw = self.get(field).unwrap_or_default();
                let tidied = tidy(
                    raw,
                    field == Field::AltText,
                    &options.keywords,
                    &options.negative_keywords,
                );
                fit_to_length(&tidied, field.max_chars(options.max_length))
            };
            out.set(field, text);
        }
        if options.wants_long_description() {
            let raw = self.long_description.as_deref().unwrap_or_default();
            let tidied = tidy(raw, false, &options.keywords, &options.negative_keywords);
            out.long_description = Some(fit_to_length(&tidied, limits::LONG_DESCRIPTION_CHARS))
                .filter(|t| !t.is_empty());
        }
        out
    }

    /// Whether every requested text is there: each field (the alt text only when the image is
    /// not decorative) and a chart's long description.
    fn is_complete(&self, options: &GenerationOptions, decorative: bool) -> bool {
        let fields_written = options.fields.iter().all(|field| {
            (field == Field::AltText && decorative)
                || self.get(field).is_some_and(|t| !t.is_empty())
        });
        fields_written && (!options.wants_long_description() || self.long_description.is_some())
    }
}

/// A provider's text in every requested language, finished: the primary language's, each
/// other language's that was delivered whole, and the languages that were not (not charged).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FinishedText {
    pub results: GeneratedText,
    pub translations: BTreeMap<Language, GeneratedText>,
    pub failed_languages: Vec<Language>,
}

/// Finishes the primary text and each of `options.extra_languages` from `translations`. A
/// translation shares the primary's decorative verdict, and counts as delivered only when it
/// holds every requested text.
pub fn finish_all(
    primary: &GeneratedText,
    translations: &BTreeMap<Language, GeneratedText>,
    options: &GenerationOptions,
) -> FinishedText {
    let results = primary.finish(options);
    let decorative = results.is_decorative(options);
    let mut finished = FinishedText {
        results,
        ..FinishedText::default()
    };
    for language in &options.extra_languages {
        let text = translations
            .get(language)
            .map(|raw| raw.finish_text(options, decorative))
            .filter(|text| text.is_complete(options, decorative));
        match text {
            Some(text) => {
                finished.translations.insert(language.clone(), text);
            }
            None => finished.failed_languages.push(language.clone()),
        }
    }
    finished
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generation::{Fields, MaxLength};
    fn options(fields: &[&str], mode: Mode, max: i64) -> GenerationOptions {
        GenerationOptions {
            mode,
            max_length: MaxLength::new(max).unwrap(),
            fields: Fields::parse(&fields.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap(),
            ..GenerationOptions::defaults(Language::english())
        }
    }

    fn full_text() -> GeneratedText {
        GeneratedText {
            alt_text: Some("A long description of a red bicycle leaning on a wall".into()),
            title: Some("Red bicycle".into()),
            caption: Some("A caption".into()),
            og_description: Some("An OG description".into()),
            ..GeneratedText::default()
        }
    }

    #[test]
    fn finish_keeps_only_requested_fields() {
        let out = full_text().finish(&options(&["title", "alt_text"], Mode::Standard, 125));
        assert!(out.alt_text.is_some() && out.title.is_some());
        assert!(out.caption.is_none() && out.og_description.is_none());
    }

    #[test]
    fn finish_fits_alt_text_to_max_length() {
        let out = full_text().finish(&options(&["alt_text"], Mode::Standard, 20));
        let alt = out.alt_text.unwrap();
        assert!(alt.chars().count() <= 20, "{alt}");
        assert_eq!(alt, "A long description");
    }

    #[test]
    fn decorative_images_get_empty_alt_text() {
        let out = full_text().finish(&options(&["alt_text", "title"], Mode::Decorative, 125));
        assert_eq!(out.alt_text.as_deref(), Some(""));
        assert_eq!(out.title.as_deref(), Some("Red bicycle"));
    }

    fn language(code: &str) -> Language {
        Language::parse(code).unwrap()
    }

    #[test]
    fn a_translation_missing_a_field_is_a_failed_language() {
        let mut o = options(&["alt_text", "title"], Mode::Standard, 125);
        o.extra_languages = vec![language("fr"), language("de"), language("es")];
        let translations = BTreeMap::from([
            (
                language("fr"),
                GeneratedText {
                    alt_text: Some("Un vélo rouge".into()),
                    title: Some("Vélo rouge".into()),
                    ..GeneratedText::default()
                },
            ),
            (
                language("de"),
                GeneratedText {
                    alt_text: Some("Ein rotes Fahrrad".into()),
                    title: Some("  ".into()),
                    ..GeneratedText::default()
                },
            ),
        ]);
        let done = finish_all(&full_text(), &translations, &o);
        assert_eq!(
            done.translations.keys().collect::<Vec<_>>(),
            vec![&language("fr")]
        );
        assert_eq!(done.failed_languages, vec![language("de"), language("es")]);
        assert!(done.results.caption.is_none(), "only the requested fields");
    }

    #[test]
    fn auto_mode_empties_alt_text_of_a_decorative_image_in_every_language() {
        let mut o = options(&["alt_text", "title"], Mode::Auto, 125);
        o.extra_languages = vec![language("fr")];
        let mut primary = full_text();
        primary.decorative = Some(true);
        primary.decorative_reason = Some("A flat beige divider with no content".into());
        let translations = BTreeMap::from([(
            language("fr"),
            GeneratedText {
                alt_text: Some("Un séparateur".into()),
                title: Some("Séparateur".into()),
                ..GeneratedText::default()
            },
        )]);
        let done = finish_all(&primary, &translations, &o);
        assert_eq!(done.results.alt_text.as_deref(), Some(""));
        assert_eq!(done.results.title.as_deref(), Some("Red bicycle"));
        assert_eq!(done.results.decorative, Some(true));
        assert_eq!(
            done.results.decorative_reason.as_deref(),
            Some("A flat beige divider with no content")
        );
        assert_eq!(
            done.translations[&language("fr")].alt_text.as_deref(),
            Some("")
        );
        assert!(done.failed_languages.is_empty());
    }

    #[test]
    fn the_verdict_appears_only_in_auto_mode_and_defaults_to_not_decorative() {
        let mut text = full_text();
        text.decorative = Some(true);
        let standard = text.finish(&options(&["alt_text"], Mode::Standard, 125));
        assert!(standard.decorative.is_none() && standard.decorative_reason.is_none());
        assert!(!standard.alt_text.unwrap().is_empty());
        let undecided = full_text().finish(&options(&["alt_text"], Mode::Auto, 125));
        assert_eq!(undecided.decorative, Some(false));
        assert!(undecided.decorative_reason.is_some());
    }

    #[test]
    fn an_image_with_a_purpose_is_never_decorative_whatever_the_model_says() {
        let mut text = full_text();
        text.decorative = Some(true);
        text.decorative_reason = Some("It is just an arrow".into());
        let mut o = options(&["alt_text"], Mode::Auto, 125);
        for role in [Role::Link, Role::Button, Role::Logo, Role::Chart] {
            o.role = Some(role);
            let out = text.finish(&o);
            assert_eq!(out.decorative, Some(false), "{role:?}");
            assert!(!out.alt_text.unwrap().is_empty(), "{role:?}");
            assert!(out.decorative_reason.unwrap().contains(role.as_str()));
        }
        o.role = Some(Role::Background);
        assert_eq!(text.finish(&o).decorative, Some(true));
        o.negative_keywords = vec!["arrow".into()];
        assert_eq!(
            text.finish(&o).decorative_reason.as_deref(),
            Some("It is just"),
            "the reason is tidied like any text"
        );
    }

    #[test]
    fn only_a_chart_gets_a_long_description() {
        let mut text = full_text();
        text.long_description = Some("Sales rose from 10 in January to 40 in June.".into());
        let mut o = options(&["alt_text"], Mode::Standard, 125);
        assert!(text.finish(&o).long_description.is_none());
        o.role = Some(Role::Chart);
        assert_eq!(
            text.finish(&o).long_description.as_deref(),
            Some("Sales rose from 10 in January to 40 in June.")
        );
        assert!(Role::parse("chart").is_ok());
        assert!(Role::parse("hero").unwrap_err().0.contains("\"hero\""));
    }
}
