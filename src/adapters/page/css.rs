//! Background images declared in an inline `style`: every `url(...)` of a `background` or
//! `background-image` declaration, quoted or not, several per declaration (layers). Semicolons
//! and parentheses inside quotes or inside a `url(...)` (a `data:` URI has both) do not end
//! anything; comments are skipped.

/// The URLs, as written, in the order the style gives them.
pub fn background_urls(style: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for declaration in declarations(&strip_comments(style)) {
        let Some((property, value)) = declaration.split_once(':') else {
            continue;
        };
        let property = property.trim().to_ascii_lowercase();
        if property == "background" || property == "background-image" {
            urls.extend(urls_in(value));
        }
    }
    urls
}

fn strip_comments(style: &str) -> String {
    let mut out = String::with_capacity(style.len());
    let mut rest = style;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start + 2..]
            .find("*/")
            .map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// The declarations: split at semicolons outside quotes and parentheses.
fn declarations(style: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None, 0);
    for (i, c) in style.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ';') if depth == 0 => {
                found.push(&style[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    found.push(&style[start..]);
    found
}

/// Every `url(...)` in a value: `url(a.png)`, `url("a b.png")`, `url('a.png')`, any case.
fn urls_in(value: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let lower = value.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("url(") {
        let open = from + at + 4;
        // `xurl(` is another function.
        let named_url = value[..from + at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'));
        let inside = value[open..].trim_start();
        let skipped = value.len() - open - inside.len();
        let (url, consumed) = match inside.chars().next() {
            Some(q @ ('"' | '\'')) => match inside[1..].find(q) {
                Some(end) => (&inside[1..1 + end], 1 + end + 1),
                None => break,
            },
            _ => match inside.find(')') {
                Some(end) => (inside[..end].trim_end(), end),
                None => break,
            },
        };
        if named_url && !url.trim().is_empty() {
            urls.push(url.trim().to_string());
        }
        from = open + skipped + consumed;
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_and_background_image_urls_are_read_quoted_or_not() {
        assert_eq!(
            background_urls("background-image: url(/img/hero.jpg)"),
            ["/img/hero.jpg"]
        );
        assert_eq!(
            background_urls(
                "color: red; BACKGROUND: #fff URL( \"../a b.png\" ) no-repeat; padding: 0"
            ),
            ["../a b.png"]
        );
        assert_eq!(
            background_urls(
                "background-image: url('x.png'), linear-gradient(red, blue), url(y.webp)"
            ),
            ["x.png", "y.webp"]
        );
    }

    #[test]
    fn other_properties_comments_and_empty_urls_are_left_out() {
        assert!(background_urls("mask-image: url(m.png); border-image: url(b.png) 30").is_empty());
        assert!(background_urls("background: url()").is_empty());
        assert!(background_urls("/* background: url(old.png); */ color: red").is_empty());
        assert!(background_urls("background-image: xurl(a.png)").is_empty());
        assert!(background_urls("background: url(unclosed.png").is_empty());
    }

    #[test]
    fn semicolons_inside_a_data_uri_or_quotes_do_not_end_the_declaration() {
        assert_eq!(
            background_urls(
                "background:url(data:image/png;base64,iVBO=);background-image:url(\"a;b.png\")"
            ),
            ["data:image/png;base64,iVBO=", "a;b.png"]
        );
    }
}
