//! `coopfolio token`: API tokens from the command line. A token is printed once, when made;
//! the database keeps only its SHA-256, so a lost token is revoked and replaced, never shown
//! again. Making and revoking a token are written to the audit log with the operating-system
//! user who ran the command as their author.

use std::process::ExitCode;

use anyhow::Context;
use coopfolio_store::{Store, StoreError};

use crate::commands::UsageError;
use crate::users::command_line_actor;
use crate::TokenCommand;

pub async fn run(store: &Store, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let actor = command_line_actor();
    match command {
        TokenCommand::Create { email, name } => {
            let made = store
                .create_api_token(&email, name.as_deref(), &actor)
                .await
                .map_err(usage_or("making the API token"))?;
            println!("{}", made.secret);
            eprintln!(
                "Token {} ({}) for {} as {}. It is shown only now: keep it somewhere safe. \
                 Send it as `Authorization: Bearer TOKEN`.",
                made.token.id, made.token.name, made.token.email, made.token.role
            );
        }
        TokenCommand::List { json } => {
            let tokens = store.api_tokens().await.context("listing API tokens")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
                return Ok(ExitCode::SUCCESS);
            }
            if tokens.is_empty() {
                println!("No API tokens yet: make one with `coopfolio token create --email E`.");
            }
            for token in tokens {
                let state = match (&token.revoked_at, &token.last_used_at) {
                    (Some(revoked), _) => format!("revoked {revoked}"),
                    (None, Some(used)) => format!("last used {used}"),
                    (None, None) => "never used".to_owned(),
                };
                println!(
                    "{:>4}  {:<32} {:<8} {:<14} {:<24} made {}  {state}",
                    token.id, token.email, token.role, token.shown, token.name, token.created_at
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let token = store
                .revoke_api_token(id, &actor)
                .await
                .map_err(usage_or("revoking the API token"))?;
            println!(
                "Token {} ({}, {}) is revoked since {}.",
                token.id,
                token.name,
                token.email,
                token.revoked_at.as_deref().unwrap_or("now")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A store refusal the caller can fix (no such user or token, a name too long) is a usage
/// error, exit 2; anything else is a failure with its context.
fn usage_or(context: &'static str) -> impl FnOnce(StoreError) -> anyhow::Error {
    move |error| match error {
        StoreError::NotFound { .. } | StoreError::Invalid { .. } => {
            anyhow::Error::new(UsageError(error.to_string()))
        }
        other => anyhow::Error::new(other).context(context),
    }
}
