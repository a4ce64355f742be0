//! `srcset`: the candidate images of an `<img>` or a `<source>`, each with its width (`400w`)
//! or pixel density (`2x`), read as the HTML standard reads them: a URL may hold commas (an
//! image CDN's `w_400,h_300`), and a descriptor list ends at a comma outside parentheses.

/// One candidate, its URL as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub url: &'a str,
    pub descriptor: Descriptor,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Descriptor {
    /// `400w`: the image's width in pixels.
    Width(u32),
    /// `2x`, or no descriptor (`1x`).
    Density(f32),
}

/// Every candidate of a `srcset`, in order; one whose descriptors cannot be read is dropped,
/// as a browser drops it.
pub fn parse(srcset: &str) -> Vec<Candidate<'_>> {
    let mut candidates = Vec::new();
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return candidates;
        }
        let url_end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (url, after) = rest.split_at(url_end);
        // A URL that ends in commas ends the candidate there, without descriptors.
        let trimmed = url.trim_end_matches(',');
        if trimmed.len() < url.len() {
            candidates.push(Candidate {
                url: trimmed,
                descriptor: Descriptor::Density(1.0),
            });
            rest = after;
            continue;
        }
        let (descriptors, next) = split_descriptors(after);
        if let Some(descriptor) = descriptor(descriptors) {
            candidates.push(Candidate { url, descriptor });
        }
        rest = next;
    }
}

/// The candidate a wide screen would take: the widest by `w`, else the densest by `x`.
pub fn largest<'c, 'a>(candidates: &'c [Candidate<'a>]) -> Option<&'c Candidate<'a>> {
    let widest = candidates
        .iter()
        .filter_map(|c| match c.descriptor {
            Descriptor::Width(w) => Some((w, c)),
            Descriptor::Density(_) => None,
        })
        .max_by_key(|(w, _)| *w)
        .map(|(_, c)| c);
    widest.or_else(|| {
        candidates.iter().max_by(|a, b| {
            let density = |c: &Candidate| match c.descriptor {
                Descriptor::Density(d) => d,
                Descriptor::Width(_) => 0.0,
            };
            density(a).total_cmp(&density(b))
        })
    })
}

/// The descriptors up to the comma that ends the candidate (one inside parentheses does not),
/// and what follows that comma.
fn split_descriptors(s: &str) -> (&str, &str) {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return (&s[..i], &s[i + 1..]),
            _ => {}
        }
    }
    (s, "")
}

/// One width or one density (a height, `100h`, may come with a width and is ignored); none
/// means `1x`; anything else makes the candidate unreadable.
fn descriptor(descriptors: &str) -> Option<Descriptor> {
    let mut found = None;
    for token in descriptors.split_ascii_whitespace() {
        let unit = token.chars().next_back()?;
        let number = &token[..token.len() - unit.len_utf8()];
        let this = match unit {
            'w' => Descriptor::Width(number.parse().ok().filter(|w| *w > 0)?),
            'x' => Descriptor::Density(
                number
                    .parse()
                    .ok()
                    .filter(|d: &f32| d.is_finite() && *d > 0.0)?,
            ),
            'h' if number.parse::<u32>().is_ok() => continue,
            _ => return None,
        };
        if found.replace(this).is_some() {
            return None;
        }
    }
    Some(found.unwrap_or(Descriptor::Density(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls<'a>(candidates: &[Candidate<'a>]) -> Vec<&'a str> {
        candidates.iter().map(|c| c.url).collect()
    }

    #[test]
    fn widths_and_densities_are_read_and_the_largest_is_chosen() {
        let widths = parse("a-400.jpg 400w, a-1200.jpg 1200w,a-800.jpg 800w");
        assert_eq!(urls(&widths), ["a-400.jpg", "a-1200.jpg", "a-800.jpg"]);
        assert_eq!(largest(&widths).unwrap().url, "a-1200.jpg");

        let densities = parse("logo.png, logo@2x.png 2x, logo@1.5x.png 1.5x");
        assert_eq!(densities[0].descriptor, Descriptor::Density(1.0));
        assert_eq!(largest(&densities).unwrap().url, "logo@2x.png");
        assert!(largest(&[]).is_none());
    }

    #[test]
    fn commas_inside_a_url_or_parentheses_do_not_split_it() {
        let candidates = parse(
            "https://cdn.example/w_400,h_300/a.jpg 400w,\n  https://cdn.example/w_800,h_600/a.jpg 800w",
        );
        assert_eq!(
            urls(&candidates),
            [
                "https://cdn.example/w_400,h_300/a.jpg",
                "https://cdn.example/w_800,h_600/a.jpg"
            ]
        );
        // A URL ending in commas ends its candidate; a comma inside it does not, even with
        // no space after it (as a browser reads it).
        assert_eq!(urls(&parse("a.jpg,, b.jpg 2x")), ["a.jpg", "b.jpg"]);
        assert_eq!(urls(&parse("a.jpg,b.jpg 2x")), ["a.jpg,b.jpg"]);
        assert_eq!(
            parse("a.jpg 400w 300h, b.jpg (x, y) 2x")[0].descriptor,
            Descriptor::Width(400)
        );
    }

    #[test]
    fn unreadable_candidates_are_dropped() {
        let candidates =
            parse("a.jpg 2q, b.jpg 400w 2x, c.jpg -1w, d.jpg 0x, f.jpg 2é, e.jpg 600w, ,");
        assert_eq!(urls(&candidates), ["e.jpg"]);
        assert!(parse("  ").is_empty());
    }
}
