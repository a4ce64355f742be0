//! `altframe logins`: the operator sets up owners' sign-in. Passwords come from standard
//! input, so they stay out of shell history and process listings.
use std::io::{BufRead, IsTerminal};

use altframe_domain::AccountId;
use serde_json::json;

use super::{print_json, CliError, LoginsCommand};
use crate::usecases::{logins, App};

pub async fn logins(command: LoginsCommand, app: &App) -> Result<(), CliError> {
    match command {
        LoginsCommand::Create {
            account,
            email,
            json,
        } => {
            let password = read_password()?;
            let account = AccountId::new(account);
            let email = logins::create_login(app, &account, &email, password).await?;
            if json {
                return print_json(&json!({ "email": email, "account_id": account }));
            }
            println!("{email} can now sign in to account {account} at /dashboard");
            Ok(())
        }
        LoginsCommand::ResetPassword { email, json } => {
            let password = read_password()?;
            let ended = logins::reset_password(app, &email, password).await?;
            if json {
                return print_json(&json!({ "email": email, "sessions_ended": ended }));
            }
            println!("New password set for {email}; {ended} session(s) signed out");
            Ok(())
        }
    }
}

/// Asks on a terminal (without echo, twice); otherwise reads the first line of stdin.
fn read_password() -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(CliError::BadArgument("the two passwords differ".into()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
