//! Reading a page's markup (already decoded) into the images it shows, in document order:
//! every `<img>` (one inside a `<picture>` is one image, its `<source>` candidates with it),
//! and every background image declared in an inline `style`. Each comes with its address
//! resolved as a browser would (against `<base href>` or the page's own URL), its alt text as
//! written (absent is not empty), and what the markup around it says of its role.
//!
//! Pure: the HTML parser (html5ever, through scraper) and URL resolution, nothing else.
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::{css, srcset};

/// Images listed at most; a page with more is listed up to here and counted whole.
pub const MAX_IMAGES: usize = 1_000;
/// The longest text kept from the markup around an image (a caption, a link's text).
const TEXT_CHARS: usize = 300;

/// The images of one page.
#[derive(Debug, Clone, PartialEq)]
pub struct Markup {
    /// What relative addresses were resolved against.
    pub base: Url,
    /// At most [`MAX_IMAGES`], in document order.
    pub images: Vec<FoundImage>,
    /// Every image the page has, listed or not.
    pub found: usize,
    /// The `lang` of its `<html>` element as written, trimmed; `None` when absent or blank.
    pub lang: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FoundImage {
    pub element: Kind,
    pub source: Source,
    /// Every readable candidate of its `srcset` and of its `<picture>`'s `<source>`s, resolved,
    /// in document order.
    pub candidates: Vec<String>,
    /// The `alt` attribute as written; `None` when it is absent. A background's is its
    /// `aria-label` when its element says it is an image (`role="img"`).
    pub alt: Option<String>,
    /// Why the markup marks it as decorative, if it does.
    pub decorative: Option<Decorative>,
    pub hints: Hints,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Img,
    /// An `<img>` inside a `<picture>`.
    Picture,
    /// A `background`/`background-image` in an inline `style`.
    Background,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Img, Kind::Picture, Kind::Background];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Img => "img",
            Kind::Picture => "picture",
            Kind::Background => "background",
        }
    }
}

/// Where the image's picture comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// An `http` or `https` URL, resolved.
    Url(Url),
    /// A `data:` URI: the picture is inside the page.
    Data,
    /// An address that is not an http(s) URL, as written.
    Invalid(String),
    /// Nothing to read: no `src`, no `srcset` candidate.
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decorative {
    /// `alt=""`.
    EmptyAlt,
    /// `role="presentation"` or `role="none"`.
    Presentation,
    /// `aria-hidden="true"` on it or an element around it.
    AriaHidden,
    /// A CSS background whose element does not say it is an image.
    Background,
}

impl Decorative {
    pub const ALL: [Decorative; 4] = [
        Decorative::EmptyAlt,
        Decorative::Presentation,
        Decorative::AriaHidden,
        Decorative::Background,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Decorative::EmptyAlt => "empty_alt",
            Decorative::Presentation => "presentation",
            Decorative::AriaHidden => "aria_hidden",
            Decorative::Background => "background",
        }
    }
}

/// The image's role, read from the elements around it: the nearest link or button wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Content,
    Link,
    Button,
    Background,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Content, Role::Link, Role::Button, Role::Background];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Content => "content",
            Role::Link => "link",
            Role::Button => "button",
            Role::Background => "background",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hints {
    pub role: Role,
    /// The `href` of the link around it, resolved.
    pub link_url: Option<String>,
    /// The text of the link or button around it.
    pub link_text: Option<String>,
    /// Its `title`.
    pub title: Option<String>,
    /// The `<figcaption>` of the `<figure>` around it.
    pub caption: Option<String>,
    /// The nearest heading before it.
    pub heading: Option<String>,
}

/// Reads the images of `html`, a document served at `page_url`.
pub fn read(html: &str, page_url: &Url) -> Markup {
    let document = Html::parse_document(html);
    let base = base_url(&document, page_url);
    let lang = document
        .root_element()
        .attr("lang")
        .map(str::trim)
        .filter(|lang| !lang.is_empty())
        .map(str::to_string);
    let mut markup = Markup {
        base,
        images: Vec::new(),
        found: 0,
        lang,
    };
    let mut heading: Option<String> = None;
    for element in document.root_element().descendent_elements() {
        let name = element.value().name();
        if matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
            heading = text_of(element).or(heading);
        }
        if name == "img" {
            markup.push(image(element, &markup.base, &heading));
        }
        if let Some(style) = element.attr("style") {
            for url in css::background_urls(style) {
                markup.push(background(element, &url, &markup.base, &heading));
            }
        }
    }
    markup
}

impl Markup {
    fn push(&mut self, image: FoundImage) {
        self.found += 1;
        if self.images.len() < MAX_IMAGES {
            self.images.push(image);
        }
    }
}

/// The first `<base href>` resolved against the page's URL, when it is an http(s) URL.
fn base_url(document: &Html, page_url: &Url) -> Url {
    let Ok(selector) = Selector::parse("base[href]") else {
        return page_url.clone();
    };
    document
        .select(&selector)
        .next()
        .and_then(|base| base.attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .unwrap_or_else(|| page_url.clone())
}

fn image(img: ElementRef<'_>, base: &Url, heading: &Option<String>) -> FoundImage {
    let picture = img
        .parent()
        .and_then(ElementRef::wrap)
        .filter(|p| p.value().name() == "picture");
    // Lazy loading keeps the real address in data-src while src holds a placeholder.
    let src = attr(img, "src")
        .filter(|s| !is_data(s))
        .or_else(|| attr(img, "data-src"))
        .or_else(|| attr(img, "src"));
    let own_set = attr(img, "srcset").or_else(|| attr(img, "data-srcset"));
    let source_sets: Vec<&str> = picture
        .into_iter()
        .flat_map(|p| p.child_elements())
        .filter(|c| c.value().name() == "source")
        .filter_map(|s| attr(s, "srcset"))
        .collect();

    let own = own_set.map(srcset::parse).unwrap_or_default();
    // The picture's sources come before the img in the markup and in a browser's choice.
    let mut candidates: Vec<String> = Vec::new();
    for set in source_sets.iter().copied().chain(own_set) {
        candidates.extend(
            srcset::parse(set)
                .iter()
                .filter_map(|c| http_url(base, c.url))
                .map(String::from),
        );
    }
    let written = src
        .or_else(|| srcset::largest(&own).map(|c| c.url))
        .or_else(|| {
            source_sets
                .first()
                .and_then(|set| srcset::largest(&srcset::parse(set)).map(|c| c.url))
        });
    let alt = img.value().attr("alt").map(str::to_string);
    let hints = hints(img, Role::Content, base, heading);
    let decorative = if aria_hidden(img) {
        Some(Decorative::AriaHidden)
    } else if is_presentation(img) {
        Some(Decorative::Presentation)
    } else if alt.as_deref().is_some_and(|a| a.trim().is_empty()) {
        Some(Decorative::EmptyAlt)
    } else {
        None
    };
    FoundImage {
        element: if picture.is_some() {
            Kind::Picture
        } else {
            Kind::Img
        },
        source: written.map_or(Source::Missing, |w| source(base, w)),
        candidates,
        alt,
        decorative,
        hints,
    }
}

fn background(
    element: ElementRef<'_>,
    url: &str,
    base: &Url,
    heading: &Option<String>,
) -> FoundImage {
    let is_image = element
        .attr("role")
        .is_some_and(|r| r.trim().eq_ignore_ascii_case("img"));
    let decorative = if aria_hidden(element) {
        Some(Decorative::AriaHidden)
    } else if !is_image {
        Some(Decorative::Background)
    } else {
        None
    };
    FoundImage {
        element: Kind::Background,
        source: source(base, url),
        candidates: Vec::new(),
        alt: if is_image {
            element.attr("aria-label").map(str::to_string)
        } else {
            None
        },
        decorative,
        hints: hints(element, Role::Background, base, heading),
    }
}

/// What the element and those around it say: the nearest link or button, a figure's caption.
fn hints(element: ElementRef<'_>, own_role: Role, base: &Url, heading: &Option<String>) -> Hints {
    let mut hints = Hints {
        role: own_role,
        link_url: None,
        link_text: None,
        title: attr(element, "title").and_then(|t| bounded(t.split_whitespace())),
        caption: None,
        heading: heading.clone(),
    };
    let mut holder_found = false;
    for around in element.ancestors().filter_map(ElementRef::wrap) {
        let name = around.value().name();
        let is_button = name == "button"
            || around
                .attr("role")
                .is_some_and(|r| r.trim().eq_ignore_ascii_case("button"));
        if !holder_found && name == "a" && around.attr("href").is_some() {
            holder_found = true;
            hints.role = Role::Link;
            hints.link_url = around
                .attr("href")
                .and_then(|href| base.join(href.trim()).ok())
                .map(String::from);
            hints.link_text = text_of(around);
        } else if !holder_found && is_button {
            holder_found = true;
            hints.role = Role::Button;
            hints.link_text =
                text_of(around).or_else(|| attr(around, "aria-label").map(String::from));
        }
        if hints.caption.is_none() && name == "figure" {
            hints.caption = around
                .child_elements()
                .find(|c| c.value().name() == "figcaption")
                .and_then(text_of);
        }
    }
    hints
}

fn aria_hidden(element: ElementRef<'_>) -> bool {
    std::iter::once(*element)
        .chain(element.ancestors())
        .filter_map(ElementRef::wrap)
        .any(|e| {
            e.attr("aria-hidden")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        })
}

fn is_presentation(element: ElementRef<'_>) -> bool {
    element.attr("role").is_some_and(|r| {
        // The first role a browser knows is the one it takes.
        r.split_ascii_whitespace().next().is_some_and(|first| {
            matches!(first.to_ascii_lowercase().as_str(), "presentation" | "none")
        })
    })
}

/// A present, non-empty attribute, trimmed.
fn attr<'a>(element: ElementRef<'a>, name: &str) -> Option<&'a str> {
    element.attr(name).map(str::trim).filter(|v| !v.is_empty())
}

fn is_data(address: &str) -> bool {
    address
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
}

fn source(base: &Url, written: &str) -> Source {
    match base.join(written) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Source::Url(url),
        Ok(url) if url.scheme() == "data" => Source::Data,
        _ => Source::Invalid(written.to_string()),
    }
}

fn http_url(base: &Url, written: &str) -> Option<Url> {
    base.join(written)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
}

/// The element's text, its spaces collapsed, at most [`TEXT_CHARS`]; `None` when it has none.
fn text_of(element: ElementRef<'_>) -> Option<String> {
    bounded(element.text().flat_map(str::split_whitespace))
}

fn bounded<'a>(words: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut text = String::new();
    for word in words {
        if text.chars().count() + word.chars().count() + 1 > TEXT_CHARS {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
    }
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests;
