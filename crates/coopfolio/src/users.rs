//! `coopfolio user`: staff accounts from the command line. The first administrator can only be
//! made here, since the workspace lets no one in before there is one. Each change is written to
//! the audit log with the operating-system user who ran the command as its author.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use coopfolio_store::staff::Role;
use coopfolio_store::staff_links::IssuedLink;
use coopfolio_store::Store;

use crate::commands::UsageError;
use crate::UserCommand;

pub async fn run(store: &Store, command: UserCommand) -> anyhow::Result<ExitCode> {
    let actor = command_line_actor();
    match command {
        UserCommand::Add {
            email,
            role,
            invite: true,
            ..
        } => {
            let role = parse_role(&role)?;
            let (account, link) = store
                .invite_staff_user(&email, role, &actor)
                .await
                .map_err(|error| usage_or(error, "inviting the staff user"))?;
            println!(
                "Added {} as {}, without a password.",
                account.email, account.role
            );
            print_link(&link);
        }
        UserCommand::Add {
            email,
            role,
            password_stdin,
            invite: false,
        } => {
            let role = parse_role(&role)?;
            let password = read_password(password_stdin)?;
            let account = store
                .add_staff_user(&email, role, &password, &actor)
                .await
                .map_err(|error| match error {
                    coopfolio_store::StoreError::Invalid { .. } => {
                        anyhow::Error::new(UsageError(error.to_string()))
                    }
                    other => anyhow::Error::new(other).context("adding the staff user"),
                })?;
            println!("Added {} as {}.", account.email, account.role);
        }
        UserCommand::List => {
            let users = store.staff_users().await.context("listing staff users")?;
            if users.is_empty() {
                println!(
                    "No staff users yet: add one with `coopfolio user add --email E --role admin`."
                );
            }
            for user in users {
                let locked = match &user.locked_until {
                    Some(until) => format!("  (locked until {until})"),
                    None => String::new(),
                };
                println!(
                    "{:<40} {:<8} since {}{locked}",
                    user.email, user.role, user.created_at
                );
            }
        }
        UserCommand::SetRole { email, role } => {
            let role = parse_role(&role)?;
            let account = store
                .set_staff_role(&email, role, &actor)
                .await
                .map_err(|error| match error {
                    coopfolio_store::StoreError::NotFound { .. } => {
                        anyhow::Error::new(UsageError(error.to_string()))
                    }
                    other => anyhow::Error::new(other).context("changing the role"),
                })?;
            println!("{} is now {}.", account.email, account.role);
        }
        UserCommand::ResetLink { email } => {
            let link = store
                .issue_password_reset(&email, &actor)
                .await
                .map_err(|error| usage_or(error, "issuing the reset link"))?;
            print_link(&link);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A store error as the command reports it: a usage error for what the person typed wrong
/// (an address in use or unknown), else the error with what the command was doing.
fn usage_or(error: coopfolio_store::StoreError, doing: &'static str) -> anyhow::Error {
    match error {
        coopfolio_store::StoreError::Invalid { .. }
        | coopfolio_store::StoreError::NotFound { .. } => {
            anyhow::Error::new(UsageError(error.to_string()))
        }
        other => anyhow::Error::new(other).context(doing),
    }
}

/// The link, the only time it is shown: the command does not know the server's address, so
/// it prints the path to open on it.
fn print_link(link: &IssuedLink) {
    println!(
        "One-time link for {} (shown only now; it works once, until {}):\n  {}\n\
         Put the workspace's address before it, such as https://coopfolio.example.org.",
        link.email,
        link.expires_at,
        link.path()
    );
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::from_code(role).ok_or_else(|| {
        UsageError(format!(
            "--role: expected viewer, officer or admin, not '{role}'"
        ))
        .into()
    })
}

/// The password from standard input's first line, or asked twice on the terminal without
/// echo. Without `--password-stdin` and without a terminal there is no one to ask.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "no terminal to ask for the password on: pass --password-stdin and pipe it in".into(),
        )
        .into());
    }
    let password = rpassword::prompt_password("Password (12 characters or more): ")
        .context("reading the password")?;
    let again =
        rpassword::prompt_password("The same password again: ").context("reading the password")?;
    if password != again {
        return Err(UsageError("the two passwords differ; nothing was changed".into()).into());
    }
    Ok(password)
}

/// Who ran the command, as the audit log names them.
pub(crate) fn command_line_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("command line ({user})")
}
