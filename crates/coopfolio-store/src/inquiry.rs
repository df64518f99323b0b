//! Inquiries as they arrive through the portal's contact form: stored at the `received` stage
//! of the staff pipeline under a reference the sender is shown (`INQ-2026-000123`), read back by
//! that reference, and the per-address limit on how many a client may send.
//!
//! The limit is kept in the database (`inquiry_attempt`) rather than in a server's memory, so
//! that any number of servers behind one address count the same sends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{InquiryKind, InquiryStage};
use coopfolio_core::policy_area::PolicyArea;

use crate::clock::utc_now;
use crate::sql::dispatch;
use crate::{Pool, Store, StoreError};

/// An inquiry as the contact form hands it over, already checked by the portal. The sender
/// gave their consent, or the form would not have come this far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInquiry {
    pub kind: InquiryKind,
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub partner_group: Option<PartnerGroup>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub policy_areas: Vec<PolicyArea>,
    pub message: String,
}

/// A stored inquiry as its reference finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedInquiry {
    /// The key of the inquiry, which is the reference the sender was shown.
    pub reference: String,
    pub kind: InquiryKind,
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub partner_group: Option<PartnerGroup>,
    pub country: Option<String>,
    /// In code order.
    pub policy_areas: Vec<PolicyArea>,
    pub message: String,
    pub consent: bool,
    /// RFC 3339, UTC.
    pub received_at: String,
    pub stage: InquiryStage,
}

/// How many inquiries one client address may send within a sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimit {
    pub sends: u32,
    pub window: Duration,
}

/// Whether a client may send an inquiry now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The send is counted; go ahead.
    Admitted,
    /// The client has used up its sends; the oldest of them leaves the window after this long.
    Refused { retry_after: Duration },
}

impl Store {
    /// Stores an inquiry at the `received` stage and returns its reference, `INQ-` with the
    /// year received and the row's id in six or more digits. The id makes the reference unique
    /// on every backend and under any number of servers without a counter of our own.
    pub async fn receive_inquiry(&self, inquiry: &NewInquiry) -> Result<String, StoreError> {
        let operation = "storing an inquiry";
        let received_at = utc_now();
        let year = &received_at[..4];
        // The row needs a unique key before its id is known; this one is replaced within the
        // same transaction, so no other connection ever sees it.
        let provisional_key = provisional_key();
        let mut areas: Vec<&str> = inquiry
            .policy_areas
            .iter()
            .map(|area| area.code())
            .collect();
        areas.sort_unstable();
        areas.dedup();
        dispatch!(&self.pool, Pool, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(operation))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO inquiry (key, kind, name, email, organisation, partner_group, country, \
                 message, consent, received_at, stage, synthetic) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(&provisional_key)
            .bind(inquiry.kind.code())
            .bind(&inquiry.name)
            .bind(&inquiry.email)
            .bind(&inquiry.organisation)
            .bind(inquiry.partner_group.map(|group| group.code()))
            .bind(inquiry.country.as_deref())
            .bind(&inquiry.message)
            .bind(true)
            .bind(&received_at)
            .bind(InquiryStage::Received.code())
            .bind(false)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(operation))?;
            let reference = format!("INQ-{year}-{id:06}");
            sqlx::query("UPDATE inquiry SET key = $1 WHERE id = $2")
                .bind(&reference)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(operation))?;
            for area in &areas {
                sqlx::query("INSERT INTO inquiry_policy_area (inquiry_id, policy_area) VALUES ($1, $2)")
                    .bind(id)
                    .bind(*area)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
            }
            // The officers hear of it through the outbox, written in this transaction so that
            // an inquiry is never stored without its notice, nor a notice sent for none.
            let (subject, body) = crate::outbox::inquiry_notice(&reference, inquiry);
            crate::outbox::notify_officers!(tx, &reference, &subject, &body, operation)?;
            tx.commit().await.map_err(StoreError::query(operation))?;
            Ok(reference)
        })
    }

    /// The inquiry stored under `reference`, if there is one.
    pub async fn inquiry_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<ReceivedInquiry>, StoreError> {
        let operation = "reading an inquiry";
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            bool,
            String,
            String,
        );
        let (row, areas): (Option<Row>, Vec<String>) = dispatch!(&self.pool, Pool, pool => {
            let row: Option<Row> = sqlx::query_as(
                "SELECT id, kind, name, email, organisation, partner_group, country, message, \
                 consent, received_at, stage FROM inquiry WHERE key = $1",
            )
            .bind(reference)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let areas = match &row {
                Some(row) => sqlx::query_scalar(
                    "SELECT policy_area FROM inquiry_policy_area WHERE inquiry_id = $1 \
                     ORDER BY policy_area",
                )
                .bind(row.0)
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(operation))?,
                None => Vec::new(),
            };
            (row, areas)
        });
        let Some((_, kind, name, email, organisation, group, country, message, consent, at, stage)) =
            row
        else {
            return Ok(None);
        };
        let invalid = |detail: String| StoreError::InvalidStoredValue { operation, detail };
        Ok(Some(ReceivedInquiry {
            reference: reference.to_owned(),
            kind: InquiryKind::from_code(&kind)
                .ok_or_else(|| invalid(format!("inquiry kind '{kind}'")))?,
            name,
            email,
            organisation,
            partner_group: group
                .map(|code| {
                    PartnerGroup::from_code(&code)
                        .ok_or_else(|| invalid(format!("partner group '{code}'")))
                })
                .transpose()?,
            country,
            policy_areas: areas
                .iter()
                .map(|code| {
                    PolicyArea::from_code(code)
                        .ok_or_else(|| invalid(format!("policy area '{code}'")))
                })
                .collect::<Result<_, _>>()?,
            message,
            consent,
            received_at: at,
            stage: InquiryStage::from_code(&stage)
                .ok_or_else(|| invalid(format!("inquiry stage '{stage}'")))?,
        }))
    }

    /// How many inquiries are stored, from the form and the demo alike.
    pub async fn inquiry_count(&self) -> Result<u64, StoreError> {
        let count: i64 = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM inquiry")
                .fetch_one(pool)
                .await
                .map_err(StoreError::query("counting inquiries"))?
        });
        Ok(count as u64)
    }

    /// Counts a send from `client_address` if it is within `limit`, and says whether it was.
    ///
    /// The check and the count are one statement, so two sends racing on SQLite cannot both
    /// take the last place. On PostgreSQL, whose default isolation lets two concurrent
    /// statements each see the other's row missing, a burst across servers may pass the limit
    /// by the number of sends in flight at once; the limit is a brake on floods, not a quota.
    pub async fn admit_inquiry_send(
        &self,
        client_address: &str,
        limit: SendLimit,
    ) -> Result<Admission, StoreError> {
        self.admit_inquiry_send_at(client_address, limit, SystemTime::now())
            .await
    }

    /// [`admit_inquiry_send`](Store::admit_inquiry_send) as if the time were `now`, so that a
    /// test can step past a window instead of waiting for it to pass.
    pub async fn admit_inquiry_send_at(
        &self,
        client_address: &str,
        limit: SendLimit,
        now: SystemTime,
    ) -> Result<Admission, StoreError> {
        let operation = "counting inquiries sent from an address";
        let now = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        let window = limit.window.as_millis() as i64;
        let window_start = now - window;
        dispatch!(&self.pool, Pool, pool => {
            // Sends older than the window count for no one any more.
            sqlx::query("DELETE FROM inquiry_attempt WHERE at_millis <= $1")
                .bind(window_start)
                .execute(pool)
                .await
                .map_err(StoreError::query(operation))?;
            let counted = sqlx::query(
                "INSERT INTO inquiry_attempt (client_address, at_millis) \
                 SELECT $1, $2 WHERE (SELECT COUNT(*) FROM inquiry_attempt \
                 WHERE client_address = $1 AND at_millis > $3) < $4",
            )
            .bind(client_address)
            .bind(now)
            .bind(window_start)
            .bind(i64::from(limit.sends))
            .execute(pool)
            .await
            .map_err(StoreError::query(operation))?
            .rows_affected();
            if counted == 1 {
                return Ok(Admission::Admitted);
            }
            let oldest: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(at_millis) FROM inquiry_attempt \
                 WHERE client_address = $1 AND at_millis > $2",
            )
            .bind(client_address)
            .bind(window_start)
            .fetch_one(pool)
            .await
            .map_err(StoreError::query(operation))?;
            // Never less than a second: "try again in 0 seconds" would only bring the same answer.
            let wait = oldest.map_or(window, |oldest| oldest + window - now).max(1_000);
            Ok(Admission::Refused {
                retry_after: Duration::from_millis(wait as u64),
            })
        })
    }
}

/// A key no other row holds, for the moment between an inquiry's insert and its reference:
/// the process, the time in nanoseconds and a counter, so that neither two servers nor two
/// requests of one server can pick the same.
fn provisional_key() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!(
        "provisional-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
