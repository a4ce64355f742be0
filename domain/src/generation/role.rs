//! The image's role on its page (our addition).
use serde::{Deserialize, Serialize};

use super::{invalid, Invalid};

/// Where the image stands on its page (our addition). It decides what the alt text is for,
/// following the W3C alt decision tree: a link's or button's alt text names where it goes or
/// what it does, a logo's names its organisation, a chart's is short and gets a
/// `long_description`, a background's is usually empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Content,
    Link,
    Button,
    Logo,
    Chart,
    Background,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Content,
        Role::Link,
        Role::Button,
        Role::Logo,
        Role::Chart,
        Role::Background,
    ];

    pub fn parse(s: &str) -> Result<Role, Invalid> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            invalid(format!(
                "role must be one of \"content\", \"link\", \"button\", \"logo\", \"chart\", \"background\"; got \"{s}\""
            ))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Content => "content",
            Role::Link => "link",
            Role::Button => "button",
            Role::Logo => "logo",
            Role::Chart => "chart",
            Role::Background => "background",
        }
    }

    /// A link or a button: its alt text names the destination or the action, not the picture.
    pub fn is_functional(self) -> bool {
        matches!(self, Role::Link | Role::Button)
    }

    /// Why an image in this role is never decorative, whatever a model says: a link or button
    /// does something, a logo or chart informs. `None` for the roles the image decides.
    pub fn purpose(self) -> Option<&'static str> {
        match self {
            Role::Link => {
                Some("It is a link, so it is functional and its alt text must say where it goes.")
            }
            Role::Button => {
                Some("It is a button, so it is functional and its alt text must say what it does.")
            }
            Role::Logo => Some("It is a logo, which is informative: it names an organisation."),
            Role::Chart => Some("It is a chart, which is informative: it carries data."),
            Role::Content | Role::Background => None,
        }
    }
}
