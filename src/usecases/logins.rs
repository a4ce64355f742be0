//! Owners' logins and their sessions: an operator creates a login for an account (or anyone
//! signs up, when signup is open); its owner signs in with e-mail and password and gets a
//! session, which every `serve` process honours because it lives in the shared database.
//!
//! Failed sign-ins are counted per e-mail and per client address; past a limit, sign-in is
//! refused for the rest of the window without checking the password.
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use altframe_domain::AccountId;
use chrono::Duration;

use super::accounts::{self, AccountsError, Requester};
use super::{App, Failure};
use crate::adapters::passwords::{self, PasswordError};
use crate::adapters::sessions::{self, SessionRow};
use crate::adapters::{ids, logins, sign_in_limits};

/// How long a session lasts from sign-in.
pub const SESSION_LIFETIME: Duration = Duration::days(7);
/// Failed sign-ins allowed per e-mail, and per client address, in one window.
pub const FAILURES_PER_EMAIL: i64 = 5;
pub const FAILURES_PER_ADDRESS: i64 = 20;
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("enter an e-mail address like name@example.com")]
    BadEmail,
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD_CHARS} characters")]
    PasswordTooLong,
    #[error("{0} already has a login")]
    EmailTaken(String),
    #[error("{0} has no login")]
    NoSuchLogin(String),
    #[error("the e-mail or password is not right")]
    WrongCredentials,
    #[error("the current password is not right")]
    WrongCurrentPassword,
    #[error("too many failed sign-ins; try again in {minutes} minutes")]
    TooManyAttempts { minutes: i64 },
    #[error("too many accounts were opened from your address; try again in {minutes} minutes")]
    TooManySignUps { minutes: i64 },
    #[error("too many sign-ins are being checked at once; try again in a moment")]
    Busy,
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<sqlx::Error> for LoginError {
    fn from(e: sqlx::Error) -> Self {
        LoginError::Failure(e.into())
    }
}

impl From<PasswordError> for LoginError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => LoginError::Busy,
            e => LoginError::Failure(Failure::Password(e)),
        }
    }
}

/// An e-mail as logins are keyed: trimmed and lower-case, one `@` with text on both sides.
pub fn normalise_email(raw: &str) -> Result<String, LoginError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.contains('@')
               && !domain.starts_with('.') && !domain.ends_with('.'));
    valid.then_some(email).ok_or(LoginError::BadEmail)
}

fn check_password(password: &str) -> Result<(), LoginError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(LoginError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(LoginError::PasswordTooLong);
    }
    Ok(())
}

/// Gives `email` a login to `account_id` (the operator's `logins create`).
pub async fn create_login(
    app: &App,
    account_id: &AccountId,
    email: &str,
    password: String,
) -> Result<String, LoginError> {
    let email = normalise_email(email)?;
    check_password(&password)?;
    // The account may have been opened a moment ago, by another process.
    app.read_your_writes().await;
    accounts::requester(app, account_id).await?;
    let hash = passwords::hash(password).await?;
    if !logins::create(
        &app.store.db,
        &email,
        account_id.as_str(),
        &hash,
        app.clock.now(),
    )
    .await?
    {
        return Err(LoginError::EmailTaken(email));
    }
    Ok(email)
}

/// Sets a new password (the operator's `logins reset-password`) and ends every session of
/// the login. Returns how many sessions ended.
pub async fn reset_password(app: &App, email: &str, password: String) -> Result<u64, LoginError> {
    let email = normalise_email(email)?;
    check_password(&password)?;
    let hash = passwords::hash(password).await?;
    if !logins::set_password(&app.store.db, &email, &hash, app.clock.now()).await? {
        return Err(LoginError::NoSuchLogin(email));
    }
    Ok(sessions::delete_for_email(&app.store.db, &email).await?)
}

/// A signed-in owner, as a request's session cookie shows them.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    pub requester: Requester,
    /// The token every form of this session carries.
    pub csrf_token: String,
}

/// What a browser keeps: the cookie's secret and the session it opens.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub secret: String,
    pub session: Session,
}

/// Checks an owner's e-mail and password and opens a new session (a new id every time, so a
/// session id planted before sign-in is worth nothing). `client` is the address the request
/// came from, for the per-address limit.
pub async fn sign_in(
    app: &App,
    email: &str,
    password: String,
    client: &str,
    replacing: Option<&str>,
) -> Result<SignedIn, LoginError> {
    let email = normalise_email(email).map_err(|_| LoginError::WrongCredentials)?;
    // The address first: a client already past its own limit spends none of an e-mail's.
    let attempt = Attempt::count(
        app,
        &[
            (format!("address:{client}"), FAILURES_PER_ADDRESS),
            (format!("email:{email}"), FAILURES_PER_EMAIL),
        ],
        Limited::SignIn,
    )
    .await?;
    let checked = check_credentials(app, &email, password).await;
    let login = attempt.settle(app, checked).await?;
    if let Some(old) = replacing {
        // The browser's session from before this sign-in ends with it.
        sessions::delete(&app.store.db, &ids::sha256_hex(old.as_bytes())).await?;
    }
    let account_id = AccountId::new(login.account_id);
    let requester = accounts::requester(app, &account_id).await?;
    open_session(app, login.email, requester).await
}

/// The login whose password `password` is, or `WrongCredentials`.
async fn check_credentials(
    app: &App,
    email: &str,
    password: String,
) -> Result<logins::LoginRow, LoginError> {
    let login = logins::find(&app.store.db, email).await?;
    let matches = match &login {
        // A password no login can have is not worth the hashing.
        _ if password.chars().count() > MAX_PASSWORD_CHARS => false,
        Some(login) => passwords::verify(password, login.password_hash.clone()).await?,
        None => {
            passwords::verify_nothing(password).await?;
            false
        }
    };
    login
        .filter(|_| matches)
        .ok_or(LoginError::WrongCredentials)
}

/// Sign-ups from one client address allowed in a window of the sign-in limits.
pub const SIGNUPS_PER_ADDRESS: i64 = 5;

/// Opens a free account with a login, for a visitor (only when signup is open, which the
/// door checks), and signs it in. The login is written first: it is what makes an e-mail
/// sign up once, so two sign-ups racing leave one account, not an orphan.
pub async fn sign_up(
    app: &App,
    email: &str,
    password: String,
    client: &str,
) -> Result<SignedIn, LoginError> {
    let email = normalise_email(email)?;
    check_password(&password)?;
    // Every sign-up counts, successful or not: this is what stops a script opening accounts.
    // Only a refusal of ours (busy, a failure) is taken back.
    let attempt = Attempt::count(
        app,
        &[(format!("signup:{client}"), SIGNUPS_PER_ADDRESS)],
        Limited::SignUp,
    )
    .await?;
    let (app_for_task, email_for_task) = (app.clone(), email.clone());
    // In a task of its own, so that a request that goes away cannot leave a login without
    // its account.
    let opened =
        tokio::spawn(
            async move { open_with_login(&app_for_task, &email_for_task, password).await },
        )
        .await
        .map_err(|e| LoginError::Failure(Failure::Inconsistent(format!("sign-up task: {e}"))))
        .and_then(|r| r);
    let requester = match opened {
        Ok(requester) => requester,
        Err(e @ LoginError::EmailTaken(_)) => return Err(e),
        Err(e) => {
            attempt.forgive(app).await?;
            return Err(e);
        }
    };
    open_session(app, email, requester).await
}

/// Writes the login, then opens its free account; the login goes again if the account
/// cannot be opened.
async fn open_with_login(
    app: &App,
    email: &str,
    password: String,
) -> Result<Requester, LoginError> {
    let hash = passwords::hash(password).await?;
    let id = ids::account_id();
    if !logins::create(&app.store.db, email, id.as_str(), &hash, app.clock.now()).await? {
        return Err(LoginError::EmailTaken(email.to_string()));
    }
    let (plan, language) = (Plan::Free, Language::english());
    if let Err(e) = accounts::open_account(app, &id, email, plan, language.clone()).await {
        logins::delete(&app.store.db, email).await?;
        return Err(e.into());
    }
    // The session's next request finds its account in the read models.
    app.events_committed();
    app.read_your_writes().await;
    Ok(Requester {
        account_id: id,
        plan,
        default_language: language,
    })
}

/// Which limit an attempt is under, for the words of its refusal.
#[derive(Clone, Copy)]
enum Limited {
    SignIn,
    SignUp,
}

/// One attempt, counted against each of its subjects' limits before the password is checked:
/// each subject with the window it was counted in.
struct Attempt {
    counted: Vec<(String, i64)>,
}

impl Attempt {
    /// Counts the attempt; refuses it when any subject is past its limit (and then takes back
    /// what it counted against the subjects before, which did not refuse it).
    async fn count(
        app: &App,
        limits: &[(String, i64)],
        kind: Limited,
    ) -> Result<Attempt, LoginError> {
        let now = app.clock.now();
        let mut attempt = Attempt {
            counted: Vec::new(),
        };
        for (subject, limit) in limits {
            let (attempts, window_start) =
                sign_in_limits::count_attempt(&app.store.db, subject, now).await?;
            if attempts > *limit {
                attempt.forgive(app).await?;
                let ends = window_start + sign_in_limits::WINDOW_SECS;
                let minutes = (((ends - now.timestamp()) + 59) / 60).max(1);
                return Err(match kind {
                    Limited::SignIn => LoginError::TooManyAttempts { minutes },
                    Limited::SignUp => LoginError::TooManySignUps { minutes },
                });
            }
            attempt.counted.push((subject.clone(), window_start));
        }
        Ok(attempt)
    }

    /// Keeps the attempt counted only when it failed on the credentials; anything else (a
    /// success, our own failure, a busy answer) is taken back.
    async fn settle<T>(self, app: &App, outcome: Result<T, LoginError>) -> Result<T, LoginError> {
        match outcome {
            Err(e @ (LoginError::WrongCredentials | LoginError::WrongCurrentPassword)) => Err(e),
            other => {
                self.forgive(app).await?;
                other
            }
        }
    }

    async fn forgive(self, app: &App) -> Result<(), LoginError> {
        for (subject, window_start) in &self.counted {
            sign_in_limits::forgive(&app.store.db, subject, *window_start).await?;
        }
        Ok(())
    }
}

async fn open_session(
    app: &App,
    email: String,
    requester: Requester,
) -> Result<SignedIn, LoginError> {
    let now = app.clock.now();
    let account_id = &requester.account_id;
    let secret = ids::session_secret();
    let row = SessionRow {
        email: email.clone(),
        account_id: account_id.to_string(),
        csrf_token: ids::csrf_token(),
        expires_at: (now + SESSION_LIFETIME).timestamp(),
    };
    sessions::create(
        &app.store.db,
        &ids::sha256_hex(secret.as_bytes()),
        &row,
        now,
    )
    .await?;
    Ok(SignedIn {
        secret,
        session: Session {
            email,
            requester,
            csrf_token: row.csrf_token,
        },
    })
}

/// The session a cookie's secret opens, unless it ended or expired.
pub async fn session(app: &App, secret: &str) -> Result<Option<Session>, LoginError> {
    let id_hash = ids::sha256_hex(secret.as_bytes());
    let Some(row) = sessions::find(&app.store.db, &id_hash, app.clock.now()).await? else {
        return Ok(None);
    };
    let requester = accounts::requester(app, &AccountId::new(row.account_id)).await?;
    Ok(Some(Session {
        email: row.email,
        requester,
        csrf_token: row.csrf_token,
    }))
}

/// Ends the session the secret opens, in every process (it is deleted from the database).
pub async fn sign_out(app: &App, secret: &str) -> Result<(), LoginError> {
    let id_hash = ids::sha256_hex(secret.as_bytes());
    Ok(sessions::delete(&app.store.db, &id_hash).await?)
}

/// An owner changes their own password: the current one must match. Every session of the
/// login ends, this one included; the caller signs the browser in again.
pub async fn change_password(
    app: &App,
    session: &Session,
    current: String,
    new: String,
) -> Result<SignedIn, LoginError> {
    check_password(&new)?;
    // Guesses through a session someone left open count like sign-in failures.
    let attempt = Attempt::count(
        app,
        &[(format!("email:{}", session.email), FAILURES_PER_EMAIL)],
        Limited::SignIn,
    )
    .await?;
    let checked = check_credentials(app, &session.email, current)
        .await
        .map_err(|e| match e {
            LoginError::WrongCredentials => LoginError::WrongCurrentPassword,
            other => other,
        });
    let login = attempt.settle(app, checked).await?;
    reset_password(app, &session.email, new).await?;
    open_session(app, login.email, session.requester.clone()).await
}
