//! Role-aware text, after the W3C alt decision tree: a link's or button's alt text says where
//! it goes or what it does, not what it looks like; a logo's names its organisation; a chart's
//! is short, with what the builtin can honestly say of it in `long_description`. Content, a
//! background or no role keep the text written from the look.
use altframe_domain::generation::{GeneratedText, GenerationOptions, Role};

use super::address::{destination, organisation_name};
use super::{article, capitalise, look, non_empty, subject, Analysis};

/// The longest `page_context` taken as an organisation's name for a logo; longer text is a
/// sentence about the page, not a name.
const LOGO_NAME_MAX_CHARS: usize = 60;

/// Rewrites the alt text (and the title, where the role gives a better one) for the role.
pub(super) fn apply(text: &mut GeneratedText, a: &Analysis, o: &GenerationOptions) {
    match o.role {
        Some(role @ (Role::Link | Role::Button)) => functional(text, a, o, role),
        Some(Role::Logo) => logo(text, a, o),
        Some(Role::Chart) => chart(text, a, o),
        Some(Role::Content | Role::Background) | None => {}
    }
}

/// A link or a button: what it is for when anything says so, else honestly that nothing does.
fn functional(text: &mut GeneratedText, a: &Analysis, o: &GenerationOptions, role: Role) {
    match purpose(o, role) {
        Some(purpose) => {
            text.title = Some(purpose.clone());
            text.alt_text = Some(purpose);
        }
        None => text.alt_text = Some(unknown_purpose(a, o, role)),
    }
}

/// Where a link goes or what a button does: the text near it ("Add to cart"), else what its
/// link's address says.
fn purpose(o: &GenerationOptions, role: Role) -> Option<String> {
    if let Some(context) = non_empty(o.page_context.as_deref()) {
        return Some(context.to_string());
    }
    let link = non_empty(o.link_url.as_deref())?;
    destination(link, o.page_url.as_deref(), role)
}

/// Says that nothing tells where the link goes (or what the button does), then what it shows.
fn unknown_purpose(a: &Analysis, o: &GenerationOptions, role: Role) -> String {
    let shows = subject(o).unwrap_or_else(|| look(a));
    match role {
        Role::Button => format!("Button whose action is not known: {shows}"),
        _ => format!("Link whose destination is not known: {shows}"),
    }
}

/// "<Name> logo" when the context names the organisation, else "Logo" and the look.
fn logo(text: &mut GeneratedText, a: &Analysis, o: &GenerationOptions) {
    match organisation(o) {
        Some(name) => {
            let alt = logo_of(&name);
            text.title = Some(alt.clone());
            text.alt_text = Some(alt);
        }
        None => {
            text.title = Some("Logo".to_string());
            text.alt_text = Some(format!("Logo: {}", look(a)));
        }
    }
}

/// Whose logo it is: the product's name, else short text near the image, else the name in the
/// link's or the page's address.
fn organisation(o: &GenerationOptions) -> Option<String> {
    let short_context =
        non_empty(o.page_context.as_deref()).filter(|c| c.chars().count() <= LOGO_NAME_MAX_CHARS);
    non_empty(o.product.name.as_deref())
        .or(short_context)
        .map(str::to_string)
        .or_else(|| {
            [o.link_url.as_deref(), o.page_url.as_deref()]
                .into_iter()
                .flatten()
                .find_map(organisation_name)
        })
}

/// "<Name> logo", without saying "logo" twice.
fn logo_of(name: &str) -> String {
    let says_logo = name
        .split_whitespace()
        .last()
        .is_some_and(|w| w.eq_ignore_ascii_case("logo"));
    if says_logo {
        name.to_string()
    } else {
        format!("{name} logo")
    }
}

/// A short alt text naming the chart's subject, and a long description of what can be known.
fn chart(text: &mut GeneratedText, a: &Analysis, o: &GenerationOptions) {
    let topic = non_empty(o.page_context.as_deref())
        .or_else(|| o.keywords.first().map(String::as_str))
        .map(str::to_string);
    if let Some(topic) = &topic {
        text.title = Some(format!("Chart: {topic}"));
    }
    let about = topic.unwrap_or_else(|| look(a));
    text.alt_text = Some(format!("Chart: {about}"));
    text.long_description = Some(chart_long_description(a, o));
}

/// The chart's size, colours and kind, that its values are not read (before the page context,
/// so that no fitting to length drops it), and the text shown with it.
fn chart_long_description(a: &Analysis, o: &GenerationOptions) -> String {
    let mut s = format!(
        "{} {} chart, {}×{} pixels: {}. Its values cannot be read by the builtin describer, \
         so give the data in the surrounding text.",
        capitalise(article(a.orientation)),
        a.orientation,
        a.width,
        a.height,
        look(a)
    );
    if let Some(context) = non_empty(o.page_context.as_deref()) {
        s.push_str(&format!(" Shown with: “{context}”."));
    }
    s
}

#[cfg(test)]
mod tests;
