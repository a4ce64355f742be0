//! A page's bytes as text, in the encoding a browser would pick: a byte order mark, else the
//! `charset` of its `Content-Type`, else a `<meta charset>` in its first 1,024 bytes, else
//! UTF-8. Bytes the encoding cannot read become U+FFFD rather than refusing the page.
use encoding_rs::{Encoding, UTF_8};

/// How far the `<meta>` prescan looks, as the HTML standard has it.
const PRESCAN_BYTES: usize = 1024;

pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let declared = content_type
        .and_then(charset_parameter)
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    let encoding = declared
        .or_else(|| {
            // A page cannot say it is UTF-16 in a tag it wrote in ASCII: such a claim means UTF-8.
            meta_charset(&body[..body.len().min(PRESCAN_BYTES)])
                .and_then(|label| Encoding::for_label(label.as_bytes()))
                .map(Encoding::output_encoding)
        })
        .unwrap_or(UTF_8);
    // `decode` lets a byte order mark win over the declared encoding.
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

/// `text/html; charset="ISO-8859-1"` → `ISO-8859-1`.
fn charset_parameter(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']))
            .filter(|v| !v.is_empty())
    })
}

/// The `charset=` of the first `<meta>` tag that has one: `<meta charset="utf-8">` or
/// `<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">`.
fn meta_charset(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("<meta") {
        let tag = &rest[at..];
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if let Some(found) = tag.find("charset=") {
            let value = tag[found + "charset=".len()..].trim_start_matches(['"', '\'', ' ']);
            let end = value
                .find(|c: char| c == '"' || c == '\'' || c == ';' || c == '/' || c.is_whitespace())
                .unwrap_or(value.len());
            if end > 0 {
                return Some(value[..end].to_string());
            }
        }
        rest = &rest[at + 5..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_type_charset_is_used() {
        let latin1 = b"<p>Caf\xe9</p>";
        assert_eq!(
            decode(latin1, Some("text/html; charset=ISO-8859-1")),
            "<p>Café</p>"
        );
        assert_eq!(
            decode(latin1, Some("text/html;Charset=\"windows-1252\"")),
            "<p>Café</p>"
        );
    }

    #[test]
    fn a_meta_charset_is_used_when_the_header_has_none() {
        let page = b"<html><head><meta charset='windows-1252'><title>Caf\xe9</title>";
        assert!(decode(page, Some("text/html")).contains("Café"));
        let http_equiv =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-15\"><p>\xa4";
        assert!(decode(http_equiv, None).ends_with('€'));
        // A meta claiming UTF-16 is read as UTF-8.
        assert_eq!(
            decode("<meta charset=utf-16>é".as_bytes(), None),
            "<meta charset=utf-16>é"
        );
    }

    #[test]
    fn utf8_is_the_default_and_bad_bytes_do_not_refuse_the_page() {
        assert_eq!(decode("<p>Café</p>".as_bytes(), None), "<p>Café</p>");
        assert_eq!(decode(b"<p>\xff</p>", Some("text/html")), "<p>\u{fffd}</p>");
        // A byte order mark wins.
        assert_eq!(
            decode(
                b"\xef\xbb\xbf<p>ok</p>",
                Some("text/html; charset=iso-8859-1")
            ),
            "<p>ok</p>"
        );
        assert_eq!(
            decode(b"<p>x</p>", Some("text/html; charset=klingon")),
            "<p>x</p>"
        );
    }
}
