//! Delivering the outbox by SMTP, and the background work every server does: sending due
//! messages when a mail server is configured, and removing ended sessions and old login
//! attempts.
//!
//! The messages themselves are written by the store, in the transaction of the change they
//! tell of (see `coopfolio_store::outbox`); this module only moves them from the table to the
//! mail server. Any number of servers may run it at once: each claims rows before sending them,
//! so a message goes out once, and a failed one waits longer before each new attempt.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use coopfolio_store::{Store, StoreError};
use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use crate::AppState;

/// Where and as whom to send mail: `smtp://user:password@host:587` (add `?tls=required` for
/// STARTTLS) or `smtps://user:password@host:465`, and the sender's address. The password never
/// appears in `Debug` output or in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub url: String,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpSettings")
            .field("url", &redact_password(&self.url))
            .field("from", &self.from)
            .finish()
    }
}

/// A mail server to deliver the outbox to.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// For logs and `Debug`, without the password.
    redacted_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Mailer")
            .field("url", &self.redacted_url)
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// A mail setting that cannot be used; the text names the setting.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct MailSettingError {
    pub setting: &'static str,
    pub message: String,
}

impl Mailer {
    /// Checks the settings and prepares the connection; nothing is sent yet.
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, MailSettingError> {
        let redacted_url = redact_password(&settings.url);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|error| MailSettingError {
                setting: "COOPFOLIO_SMTP_URL",
                message: format!("{redacted_url} cannot be used: {error}"),
            })?
            // One slow server must not hold a sender's claim past its lease.
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|error| MailSettingError {
                setting: "COOPFOLIO_MAIL_FROM",
                message: format!("'{}' is not an e-mail address: {error}", settings.from),
            })?;
        Ok(Mailer {
            transport,
            from,
            redacted_url,
        })
    }

    async fn send(&self, recipient: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = recipient
            .parse()
            .map_err(|error| format!("the recipient '{recipient}' is not an address: {error}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|error| format!("the message could not be built: {error}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|error| format!("{}: {error}", self.redacted_url))
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: u64,
    pub failed: u64,
}

/// Messages claimed in one go: a few, so that a slow mail server leaves the rest to others.
const BATCH: i64 = 20;

/// Sends every message that is due, a batch at a time, until none is left; each is marked sent
/// or keeps its error for the next attempt. Only a failure of the database is an `Err`.
pub async fn deliver_outbox(store: &Store, mailer: &Mailer) -> Result<Delivery, StoreError> {
    let mut delivery = Delivery::default();
    loop {
        let claimed = store.claim_due_messages(BATCH).await?;
        if claimed.is_empty() {
            return Ok(delivery);
        }
        for message in claimed {
            match mailer
                .send(&message.recipient, &message.subject, &message.body)
                .await
            {
                Ok(()) => {
                    store.mark_message_sent(message.id).await?;
                    delivery.sent += 1;
                }
                Err(error) => {
                    tracing::warn!(id = message.id, %error, "an outbox message was not delivered");
                    store
                        .mark_message_failed(message.id, message.attempts, &error)
                        .await?;
                    delivery.failed += 1;
                }
            }
        }
    }
}

/// Starts delivering the outbox now, in the background, when a mail server is configured: a
/// new inquiry's notice need not wait for the next periodic round.
pub(crate) fn deliver_soon(state: &AppState) {
    if let Some(mailer) = state.mailer.clone() {
        let store = state.store.clone();
        tokio::spawn(async move {
            if let Err(error) = deliver_outbox(&store, &mailer).await {
                tracing::error!(?error, "delivering the outbox failed");
            }
        });
    }
}

/// How often the background work runs.
pub const BACKGROUND_PERIOD: Duration = Duration::from_secs(30);

/// Runs the background work every [`BACKGROUND_PERIOD`] until `shutdown` completes: delivers
/// the outbox when a mail server is configured, prunes ended sessions and old login
/// attempts, and marks failed the import jobs whose server stopped (the first round runs at
/// once, so a server that starts again clears what it left). A failure is logged and the next
/// round tries again.
pub async fn run_background(state: AppState, shutdown: impl Future<Output = ()>) {
    let rounds = async {
        let mut ticker = tokio::time::interval(BACKGROUND_PERIOD);
        loop {
            ticker.tick().await;
            background_round(&state.store, state.mailer.as_ref()).await;
        }
    };
    tokio::select! {
        () = rounds => {}
        () = shutdown => {}
    }
}

async fn background_round(store: &Store, mailer: Option<&Arc<Mailer>>) {
    if let Some(mailer) = mailer {
        if let Err(error) = deliver_outbox(store, mailer).await {
            tracing::error!(?error, "delivering the outbox failed");
        }
    }
    if let Err(error) = store
        .prune_staff_records(&crate::staff::login_policy())
        .await
    {
        tracing::error!(?error, "pruning sessions and login attempts failed");
    }
    match store
        .fail_stale_import_jobs(coopfolio_store::import_job::STALE_AFTER)
        .await
    {
        Ok(failed) if !failed.is_empty() => {
            tracing::warn!(
                ?failed,
                "import jobs whose server stopped were marked failed"
            );
        }
        Ok(_) => {}
        Err(error) => tracing::error!(?error, "checking for import jobs cut off failed"),
    }
}

/// The URL with its password, if any, replaced by `***`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            let hidden = if credentials.contains(':') {
                ":***"
            } else {
                ""
            };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_debug_output() {
        let settings = SmtpSettings {
            url: "smtps://notices:s3cret-pass@mail.example.org:465?x=1".to_owned(),
            from: "Coopfolio <notices@example.org>".to_owned(),
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret-pass"), "{shown}");
        assert!(
            shown.contains("smtps://notices:***@mail.example.org:465?x=1"),
            "{shown}"
        );
        let mailer = Mailer::new(&settings).expect("usable settings");
        assert!(!format!("{mailer:?}").contains("s3cret-pass"));
        assert_eq!(
            redact_password("smtp://relay.example.org:25"),
            "smtp://relay.example.org:25"
        );
    }

    #[test]
    fn unusable_settings_name_the_setting() {
        let error = Mailer::new(&SmtpSettings {
            url: "ftp://mail.example.org".to_owned(),
            from: "notices@example.org".to_owned(),
        })
        .unwrap_err();
        assert_eq!(error.setting, "COOPFOLIO_SMTP_URL");
        let error = Mailer::new(&SmtpSettings {
            url: "smtp://mail.example.org:25".to_owned(),
            from: "not an address".to_owned(),
        })
        .unwrap_err();
        assert_eq!(error.setting, "COOPFOLIO_MAIL_FROM");
    }
}
