//! The outbox: e-mails the product owes someone, kept in the database until they are delivered.
//!
//! A notification is written here in the same transaction as the change it tells of (a new
//! inquiry, say), so that it exists exactly when the change does and survives a mail server
//! that is down. Delivery is a separate step that any number of servers may run at once: a
//! sender claims a few due rows for a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! two senders never wait on or take the same row; one conditional UPDATE on SQLite, whose
//! writers are serialised anyway), sends them, and marks each sent or records its error and
//! when to try again. A sender that dies mid-way only lets its lease run out: the rows become
//! due again and another sender picks them up. Without SMTP nothing claims the rows, and
//! administrators read them in the workspace.

use std::time::Duration;

use serde::Serialize;

use crate::clock;
use crate::inquiry::NewInquiry;
use crate::sql::dispatch;
use crate::{Pool, Store, StoreError};

/// A message as the outbox page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub created_at: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// The record the message is about, such as an inquiry's key.
    pub about: String,
    /// `pending` or `sent`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
}

/// A message a sender has claimed and must now deliver, then report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMessage {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// How long a claimed message is kept from other senders: longer than one SMTP exchange takes,
/// short enough that a message claimed by a server that died goes out soon after.
pub const CLAIM_LEASE: Duration = Duration::from_secs(120);

/// Writes one notification per officer and administrator whose account is enabled, on a
/// transaction of either backend (the body of a `dispatch!`). One statement, so that the list
/// of recipients is the one the transaction sees.
macro_rules! notify_officers {
    ($transaction:expr, $about:expr, $subject:expr, $body:expr, $operation:expr) => {{
        let now = $crate::clock::utc_now();
        sqlx::query(
            "INSERT INTO outbox_message (created_at, recipient, subject, body, about, state, \
             attempts, next_attempt_at) \
             SELECT $1, email, $2, $3, $4, 'pending', 0, $1 FROM staff_user \
             WHERE (role = 'officer' OR role = 'admin') AND disabled_at IS NULL",
        )
        .bind(&now)
        .bind($subject)
        .bind($body)
        .bind($about)
        .execute(&mut *$transaction)
        .await
        .map_err($crate::StoreError::query($operation))
    }};
}
pub(crate) use notify_officers;

/// The subject and body of the notice of a new inquiry. Only the reference goes into the
/// subject: the sender's own words stay in the body, which is plain text, so nothing they
/// typed can become a header.
pub(crate) fn inquiry_notice(reference: &str, inquiry: &NewInquiry) -> (String, String) {
    let subject = format!("New inquiry {reference}");
    // A message is at most a few thousand characters; the notice quotes its start.
    let excerpt: String = inquiry.message.chars().take(2000).collect();
    let body = format!(
        "A new inquiry arrived through the portal's contact form.\n\n\
         Reference: {reference}\n\
         Kind: {kind}\n\
         From: {name} <{email}>\n\
         Organisation: {organisation}\n\n\
         {excerpt}\n\n\
         Open it in the staff workspace at /staff/inquiries/{reference}\n",
        kind = inquiry.kind.code(),
        name = inquiry.name,
        email = inquiry.email,
        organisation = inquiry.organisation,
    );
    (subject, body)
}

impl Store {
    /// The latest `limit` messages of the outbox, newest first.
    pub async fn outbox_messages(&self, limit: i64) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows: Vec<OutboxRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, created_at, recipient, subject, body, about, state, attempts, \
                 next_attempt_at, sent_at, last_error FROM outbox_message \
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("reading the outbox"))?;
        Ok(rows.into_iter().map(OutboxRow::into_message).collect())
    }

    /// Claims up to `limit` messages that are due, oldest first, for [`CLAIM_LEASE`]; each
    /// claim counts as an attempt. Messages another sender holds are skipped, not waited for.
    pub async fn claim_due_messages(&self, limit: i64) -> Result<Vec<ClaimedMessage>, StoreError> {
        let now_millis = clock::now_millis();
        let now = clock::format_utc(now_millis);
        let lease_end = clock::format_utc(now_millis + CLAIM_LEASE.as_millis() as i64);
        const DUE: &str = "state = 'pending' AND next_attempt_at <= $2 \
            AND (claimed_until IS NULL OR claimed_until <= $2)";
        let rows: Vec<(i64, String, String, String, i64)> = match &self.pool {
            Pool::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "UPDATE outbox_message SET claimed_until = $1, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox_message WHERE {DUE} ORDER BY id LIMIT $3 \
                 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, recipient, subject, body, attempts"
                ))
                .bind(&lease_end)
                .bind(&now)
                .bind(limit)
                .fetch_all(pool)
                .await
            }
            // The condition is checked again by the UPDATE itself, which SQLite runs alone.
            Pool::Sqlite(pool) => {
                sqlx::query_as(&format!(
                    "UPDATE outbox_message SET claimed_until = $1, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox_message WHERE {DUE} ORDER BY id LIMIT $3) \
                 AND {DUE} \
                 RETURNING id, recipient, subject, body, attempts"
                ))
                .bind(&lease_end)
                .bind(&now)
                .bind(limit)
                .fetch_all(pool)
                .await
            }
        }
        .map_err(StoreError::query("claiming outbox messages"))?;
        let mut messages: Vec<ClaimedMessage> = rows
            .into_iter()
            .map(|(id, recipient, subject, body, attempts)| ClaimedMessage {
                id,
                recipient,
                subject,
                body,
                attempts,
            })
            .collect();
        messages.sort_by_key(|message| message.id);
        Ok(messages)
    }

    /// Marks a claimed message delivered.
    pub async fn mark_message_sent(&self, id: i64) -> Result<(), StoreError> {
        let now = clock::utc_now();
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query(
                "UPDATE outbox_message SET state = 'sent', sent_at = $1, claimed_until = NULL, \
                 last_error = NULL WHERE id = $2",
            )
            .bind(&now)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("marking an outbox message sent"))
    }

    /// Records why a claimed message could not be delivered and releases it until the next
    /// attempt, which waits longer after each failure (one minute, doubling, at most six hours).
    pub async fn mark_message_failed(
        &self,
        id: i64,
        attempts: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        let next_attempt_at = clock::format_utc(clock::now_millis() + retry_delay_millis(attempts));
        // An error text comes from a remote server; it is kept short.
        let error: String = error.chars().take(1000).collect();
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query(
                "UPDATE outbox_message SET next_attempt_at = $1, last_error = $2, \
                 claimed_until = NULL WHERE id = $3",
            )
            .bind(&next_attempt_at)
            .bind(&error)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("recording an outbox failure"))
    }
}

/// The wait before the next attempt after `attempts` failed ones.
fn retry_delay_millis(attempts: i64) -> i64 {
    const MINUTE: i64 = 60_000;
    const LONGEST: i64 = 6 * 60 * MINUTE;
    let doublings = attempts.clamp(1, 20) - 1;
    (MINUTE << doublings).min(LONGEST)
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    created_at: String,
    recipient: String,
    subject: String,
    body: String,
    about: String,
    state: String,
    attempts: i64,
    next_attempt_at: String,
    sent_at: Option<String>,
    last_error: Option<String>,
}

impl OutboxRow {
    fn into_message(self) -> OutboxMessage {
        OutboxMessage {
            id: self.id,
            created_at: self.created_at,
            recipient: self.recipient,
            subject: self.subject,
            body: self.body,
            about: self.about,
            state: self.state,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            sent_at: self.sent_at,
            last_error: self.last_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_delay_millis;

    #[test]
    fn retries_wait_longer_each_time_up_to_six_hours() {
        assert_eq!(retry_delay_millis(1), 60_000);
        assert_eq!(retry_delay_millis(2), 120_000);
        assert_eq!(retry_delay_millis(4), 480_000);
        assert_eq!(retry_delay_millis(50), 6 * 3_600_000);
    }
}
