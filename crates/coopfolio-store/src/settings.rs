//! The settings an administrator changes from the workspace, each one that the code reads:
//! the period rule (whether a biennium's first year is even), the organisation whose
//! activities make the portfolio and the IATI exports (its identifier), how many inquiries one
//! address may send in an hour, and how long a staff session may sit idle.
//!
//! They live in the `setting` table as text, so every server reads the same values. A setting
//! never written reads as its default. Saving checks every value first (an error names its
//! field) and then writes each changed one with an audit event holding its value before and
//! after, all in one transaction.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::figures::{BIENNIUM_STARTS_EVEN, ORGANISATION_REF};
use crate::inquiry::SendLimit;
use crate::sql::dispatch;
use crate::staff::{write_audit, AuditRecord};
use crate::{Pool, Store, StoreError};

/// The setting: inquiries one client address may send in an hour.
pub const INQUIRY_SENDS_PER_HOUR: &str = "inquiry_sends_per_hour";
/// The setting: minutes a staff session may sit idle before it ends.
pub const SESSION_IDLE_MINUTES: &str = "staff_session_idle_minutes";

/// The bounds of the numeric settings, inclusive.
pub const INQUIRY_SENDS_RANGE: (u32, u32) = (1, 1_000);
pub const SESSION_IDLE_RANGE: (u32, u32) = (5, 720);

/// The settings as they are in force. `None` for a number means its default, which the code
/// that reads it holds (the inquiry form's limit, the workspace's login policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub biennium_starts_even: bool,
    /// The IATI organisation identifier of the organisation; `None`: every stored activity
    /// counts and exports fall back to the bundled organisation.
    pub organisation_ref: Option<String>,
    pub inquiry_sends_per_hour: Option<u32>,
    pub session_idle_minutes: Option<u32>,
}

impl Store {
    /// The settings in force.
    pub async fn settings(&self) -> Result<Settings, StoreError> {
        let rows: Vec<(String, String)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as("SELECT key, value FROM setting WHERE key IN ($1, $2, $3, $4)")
                .bind(BIENNIUM_STARTS_EVEN)
                .bind(ORGANISATION_REF)
                .bind(INQUIRY_SENDS_PER_HOUR)
                .bind(SESSION_IDLE_MINUTES)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("reading the settings"))?;
        let value = |key: &str| {
            rows.iter()
                .find(|(found, _)| found == key)
                .map(|(_, value)| value.as_str())
        };
        Ok(Settings {
            // As `period_rule` reads it: anything but "false" is the even-start default.
            biennium_starts_even: value(BIENNIUM_STARTS_EVEN) != Some("false"),
            organisation_ref: value(ORGANISATION_REF)
                .filter(|reference| !reference.is_empty())
                .map(str::to_owned),
            inquiry_sends_per_hour: value(INQUIRY_SENDS_PER_HOUR).and_then(|v| v.parse().ok()),
            session_idle_minutes: value(SESSION_IDLE_MINUTES).and_then(|v| v.parse().ok()),
        })
    }

    /// Saves the settings that differ from those in force, each with its audit event, after
    /// checking them all; returns the keys changed.
    pub async fn save_settings(
        &self,
        settings: &Settings,
        actor: &str,
    ) -> Result<Vec<&'static str>, StoreError> {
        check(settings)?;
        let before = self.settings().await?;
        let number = |value: Option<u32>| value.map(|n| n.to_string());
        let changes: Vec<(&'static str, Option<String>, Option<String>)> = [
            (
                BIENNIUM_STARTS_EVEN,
                Some(before.biennium_starts_even.to_string()),
                Some(settings.biennium_starts_even.to_string()),
            ),
            (
                ORGANISATION_REF,
                before.organisation_ref.clone(),
                settings.organisation_ref.clone(),
            ),
            (
                INQUIRY_SENDS_PER_HOUR,
                number(before.inquiry_sends_per_hour),
                number(settings.inquiry_sends_per_hour),
            ),
            (
                SESSION_IDLE_MINUTES,
                number(before.session_idle_minutes),
                number(settings.session_idle_minutes),
            ),
        ]
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .collect();
        let operation = "saving the settings";
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            for (key, before, after) in &changes {
                match after {
                    Some(value) => sqlx::query(
                        "INSERT INTO setting (key, value) VALUES ($1, $2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(*key)
                    .bind(value),
                    // Back to the default: the row goes, so the code's default applies again.
                    None => sqlx::query("DELETE FROM setting WHERE key = $1").bind(*key),
                }
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
                write_audit!(transaction, &AuditRecord {
                    actor,
                    entity_kind: "setting",
                    entity_key: key,
                    action: "update",
                    before: Some(json!({ "value": before })),
                    after: Some(json!({ "value": after })),
                }, operation)?;
            }
            transaction.commit().await.map_err(StoreError::query(operation))
        })?;
        Ok(changes.into_iter().map(|(key, _, _)| key).collect())
    }

    /// How many inquiries one address may send in an hour: the setting, else `default`.
    pub async fn inquiry_send_limit(&self, default: SendLimit) -> Result<SendLimit, StoreError> {
        Ok(match self.settings().await?.inquiry_sends_per_hour {
            Some(sends) => SendLimit {
                sends,
                window: Duration::from_secs(3600),
            },
            None => default,
        })
    }
}

/// Every value within its rules, or the first that is not, by field.
fn check(settings: &Settings) -> Result<(), StoreError> {
    if let Some(reference) = &settings.organisation_ref {
        // An IATI organisation identifier: a registration agency's prefix and a number, such
        // as "XM-DAC-41302", in letters, digits and "-", "_", ".", "/" (IATI's guidance).
        let valid = reference.contains('-')
            && reference.len() <= 100
            && reference
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
        if !valid {
            return Err(StoreError::Invalid {
                field: "organisation_ref",
                message: format!(
                    "'{reference}' is not an IATI organisation identifier such as XM-DAC-41302 \
                     (letters, digits, '-', '_', '.', '/'; at most 100 characters)"
                ),
            });
        }
    }
    for (field, value, (low, high)) in [
        (
            INQUIRY_SENDS_PER_HOUR,
            settings.inquiry_sends_per_hour,
            INQUIRY_SENDS_RANGE,
        ),
        (
            SESSION_IDLE_MINUTES,
            settings.session_idle_minutes,
            SESSION_IDLE_RANGE,
        ),
    ] {
        if value.is_some_and(|value| !(low..=high).contains(&value)) {
            return Err(StoreError::Invalid {
                field,
                message: format!("expected a whole number from {low} to {high}"),
            });
        }
    }
    Ok(())
}
