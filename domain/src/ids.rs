//! Typed identifiers. Each is a string underneath (`serde(transparent)`), so events and
//! snapshots store exactly what they stored when ids were plain strings; the type only keeps
//! an account id from being passed where a job id belongs. Ids are made outside the domain
//! (it has no randomness); here they are only carried and compared.
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id!(
    /// An account: `acct_` and 16 base62 characters, or `acct_default`.
    AccountId
);
string_id!(
    /// One image's generation: `job_`, its creation time and 20 random base62 characters.
    JobId
);
string_id!(
    /// A bulk submission: a UUID v4, as the contract has it.
    BatchId
);
string_id!(
    /// Credits held for a job: `res_`, its creation time and 20 random base62 characters.
    ReservationId
);
string_id!(
    /// An API key's id (`key_` and 16 base62 characters), never its secret.
    KeyId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_their_plain_string() {
        let id = JobId::new("job_0VbzZNSsKy9Pf34qY6Nb3wWD25RQ");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"job_0VbzZNSsKy9Pf34qY6Nb3wWD25RQ\"");
        assert_eq!(serde_json::from_str::<JobId>(&json).unwrap(), id);
        let mut map = std::collections::BTreeMap::new();
        map.insert(ReservationId::new("res_1"), 1);
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"res_1":1}"#);
    }
}
