//! An API key: issued to an account, revoked for good. The secret itself is never recorded;
//! events hold its SHA-256 and a short prefix that lets a person recognise it.
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::ids::AccountId;

#[derive(Debug, Clone, PartialEq)]
pub enum ApiKeyCommand {
    IssueApiKey {
        account_id: AccountId,
        name: String,
        key_hash: String,
        key_prefix: String,
        at: DateTime<Utc>,
    },
    RevokeApiKey {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApiKeyEvent {
    ApiKeyIssued {
        account_id: AccountId,
        name: String,
        key_hash: String,
        key_prefix: String,
        at: DateTime<Utc>,
    },
    ApiKeyRevoked {
        account_id: AccountId,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for ApiKeyEvent {
    fn event_type(&self) -> String {
        match self {
            ApiKeyEvent::ApiKeyIssued { .. } => "ApiKeyIssued",
            ApiKeyEvent::ApiKeyRevoked { .. } => "ApiKeyRevoked",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("API key already issued")]
    AlreadyIssued,
    #[error("API key does not exist")]
    NotIssued,
    #[error("API key is already revoked")]
    AlreadyRevoked,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    account_id: Option<AccountId>,
    revoked: bool,
}

impl ApiKey {
    pub fn account_id(&self) -> Option<&AccountId> {
        self.account_id.as_ref()
    }
}

impl Aggregate for ApiKey {
    const TYPE: &'static str = "ApiKey";
    type Command = ApiKeyCommand;
    type Event = ApiKeyEvent;
    type Error = ApiKeyError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ApiKeyCommand::IssueApiKey {
                account_id,
                name,
                key_hash,
                key_prefix,
                at,
            } => {
                if self.account_id.is_some() {
                    return Err(ApiKeyError::AlreadyIssued);
                }
                ApiKeyEvent::ApiKeyIssued {
                    account_id,
                    name,
                    key_hash,
                    key_prefix,
                    at,
                }
            }
            ApiKeyCommand::RevokeApiKey { at } => {
                let account_id = self.account_id.clone().ok_or(ApiKeyError::NotIssued)?;
                if self.revoked {
                    return Err(ApiKeyError::AlreadyRevoked);
                }
                ApiKeyEvent::ApiKeyRevoked { account_id, at }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ApiKeyEvent::ApiKeyIssued { account_id, .. } => self.account_id = Some(account_id),
            ApiKeyEvent::ApiKeyRevoked { .. } => self.revoked = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    fn at() -> DateTime<Utc> {
        "2025-07-10T12:00:00Z".parse().unwrap()
    }

    fn issued() -> ApiKeyEvent {
        ApiKeyEvent::ApiKeyIssued {
            account_id: crate::AccountId::new("acct_1"),
            name: "default".into(),
            key_hash: "ab".repeat(32),
            key_prefix: "af_live_abcd".into(),
            at: at(),
        }
    }

    #[test]
    fn issuing_records_the_hash_not_the_secret() {
        TestFramework::<ApiKey>::with(())
            .given_no_previous_events()
            .when(ApiKeyCommand::IssueApiKey {
                account_id: crate::AccountId::new("acct_1"),
                name: "default".into(),
                key_hash: "ab".repeat(32),
                key_prefix: "af_live_abcd".into(),
                at: at(),
            })
            .then_expect_events(vec![issued()]);
    }

    #[test]
    fn a_key_is_issued_once() {
        TestFramework::<ApiKey>::with(())
            .given(vec![issued()])
            .when(ApiKeyCommand::IssueApiKey {
                account_id: crate::AccountId::new("acct_2"),
                name: "other".into(),
                key_hash: "cd".repeat(32),
                key_prefix: "af_live_cdcd".into(),
                at: at(),
            })
            .then_expect_error(ApiKeyError::AlreadyIssued);
    }

    #[test]
    fn revoking_is_final() {
        let revoked = ApiKeyEvent::ApiKeyRevoked {
            account_id: crate::AccountId::new("acct_1"),
            at: at(),
        };
        TestFramework::<ApiKey>::with(())
            .given(vec![issued()])
            .when(ApiKeyCommand::RevokeApiKey { at: at() })
            .then_expect_events(vec![revoked.clone()]);
        TestFramework::<ApiKey>::with(())
            .given(vec![issued(), revoked])
            .when(ApiKeyCommand::RevokeApiKey { at: at() })
            .then_expect_error(ApiKeyError::AlreadyRevoked);
    }

    #[test]
    fn an_unknown_key_cannot_be_revoked() {
        TestFramework::<ApiKey>::with(())
            .given_no_previous_events()
            .when(ApiKeyCommand::RevokeApiKey { at: at() })
            .then_expect_error(ApiKeyError::NotIssued);
    }
}
