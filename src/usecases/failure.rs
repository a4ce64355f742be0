//! A failure of ours rather than the caller's: the store did not answer, a read model could
//! not be read, a command the use case counted on was refused. Every use case's error has a
//! variant that holds one; the API answers it with a 500 that says nothing inside and logs the
//! whole chain.
use std::error::Error;

use crate::adapters::image::IntakeError;
use crate::adapters::queue::QueueError;
use crate::adapters::store::CommandError;

type Source = Box<dyn Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The event store failed, or refused a command that the use case counted on.
    #[error("command on {aggregate} failed")]
    Command {
        aggregate: &'static str,
        #[source]
        source: Source,
    },
    /// A query failed: of a read model, the events, or the queue's tables.
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
    #[error("a value could not be serialised")]
    Serialise(#[from] serde_json::Error),
    #[error("the read models could not catch up")]
    Projection(#[from] altframe_projections::ProjectionError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// Image work that failed on our side (a decoding task that died, say), not the image's.
    #[error("image intake failed")]
    Intake(#[source] IntakeError),
    /// Work handed to a blocking thread that ended without an answer (the process is
    /// stopping).
    #[error("{what} stopped before it answered")]
    Stopped {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
    #[error("password hashing failed")]
    Password(#[source] crate::adapters::passwords::PasswordError),
    /// What the store holds contradicts what the use case knows (a read model row missing
    /// for an account that exists, say).
    #[error("{0}")]
    Inconsistent(String),
}

impl Failure {
    /// A command's failure, naming the aggregate it was for.
    pub fn command<E>(aggregate: &'static str, e: CommandError<E>) -> Failure
    where
        E: Error + Send + Sync + 'static,
    {
        Failure::Command {
            aggregate,
            source: Box::new(e),
        }
    }
}

/// `?` on a command's result: a refusal the use case did not handle is a failure of ours.
macro_rules! from_command_error {
    ($($error:ty => $aggregate:literal),* $(,)?) => {$(
        impl From<CommandError<$error>> for Failure {
            fn from(e: CommandError<$error>) -> Failure {
                Failure::command($aggregate, e)
            }
        }
    )*};
}

from_command_error!(
    altframe_domain::account::AccountError => "Account",
    altframe_domain::api_key::ApiKeyError => "ApiKey",
    altframe_domain::job::JobError => "Job",
    altframe_domain::batch::BatchError => "Batch",
);

/// An error and all its sources, `: `-separated, for a log line.
pub fn error_chain(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        // `#[error(transparent)]` and "x: {0}" messages already hold their source's text.
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_names_every_cause_once() {
        let io = std::io::Error::other("disk full");
        let failure = Failure::Command {
            aggregate: "Account",
            source: Box::new(io),
        };
        assert_eq!(
            error_chain(&failure),
            "command on Account failed: disk full"
        );
    }
}
