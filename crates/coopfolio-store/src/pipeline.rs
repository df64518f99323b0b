//! The inquiry pipeline as staff work it: the board by stage, one inquiry with its history,
//! and the changes (move to a stage, annotate, assign, link to a partner or make one from the
//! inquiry), each written with its `inquiry_event` where it is a step of the pipeline and with
//! its audit event, in one transaction. Also the pipeline's figures: the median time to first
//! response and the conversion from each stage to the next.
//!
//! An annotation is an `inquiry_event` whose from and to stages are the same: the history of
//! an inquiry reads as one list, and the conversion figures count only moves.

use coopfolio_core::partnership::{InquiryStage, Partner};
use coopfolio_core::reference::Names;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::json;

use crate::partnership::{classify, for_backend};
use crate::sql::dispatch;
use crate::staff::{write_audit, AuditRecord};
use crate::{clock, Pool, Store, StoreError};

/// The stages an inquiry climbs on its way to an agreement, in order. Declined and closed are
/// ways out, not steps, so they have no place on the ladder.
pub const LADDER: [InquiryStage; 7] = [
    InquiryStage::Received,
    InquiryStage::Triaged,
    InquiryStage::InDialogue,
    InquiryStage::ConceptNote,
    InquiryStage::Appraisal,
    InquiryStage::Agreement,
    InquiryStage::Won,
];

/// An inquiry as a card on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InquiryCard {
    pub key: String,
    pub kind: String,
    pub name: String,
    pub organisation: String,
    pub stage: String,
    pub received_at: String,
    pub assigned_to: Option<String>,
    pub synthetic: bool,
}

/// One inquiry with everything staff see of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffInquiry {
    pub key: String,
    pub kind: String,
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub partner_group: Option<String>,
    pub country: Option<String>,
    pub message: String,
    pub consent: bool,
    pub received_at: String,
    pub stage: String,
    pub first_response_at: Option<String>,
    pub assigned_to: Option<String>,
    /// The linked partner's key and English name.
    pub partner: Option<(String, String)>,
    pub agreement_key: Option<String>,
    pub policy_areas: Vec<String>,
    pub events: Vec<StoredInquiryEvent>,
    pub synthetic: bool,
}

/// A move or an annotation, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredInquiryEvent {
    pub at: String,
    pub by_user: String,
    pub from_stage: String,
    pub to_stage: String,
    pub note: String,
}

/// The pipeline's figures over every stored inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineFigures {
    pub inquiries: u64,
    /// Inquiries with a first response whose time could be measured.
    pub responded: u64,
    /// Inquiries with no first response yet.
    pub awaiting_response: u64,
    /// The median of the times from receipt to first response, in hours to one decimal.
    pub median_first_response_hours: Option<Decimal>,
    /// From each step of the ladder to the next.
    pub conversions: Vec<StageConversion>,
    /// Synthetic inquiries among `inquiries`, for the method note.
    pub synthetic: u64,
}

/// How many inquiries reached a stage, how many of those went on to reach the next, and the
/// share in percent to one decimal (None when none reached the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageConversion {
    pub from_stage: InquiryStage,
    pub to_stage: InquiryStage,
    pub reached_from: u64,
    pub reached_to: u64,
    pub percent: Option<Decimal>,
}

/// The longest note kept with a move or an annotation.
pub const MAX_NOTE_CHARS: usize = 4000;

impl Store {
    /// Every inquiry, newest first.
    pub async fn inquiry_board(&self) -> Result<Vec<InquiryCard>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            bool,
        );
        let rows: Vec<Row> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT key, kind, name, organisation, stage, received_at, assigned_to, synthetic \
                 FROM inquiry ORDER BY received_at DESC, key",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("reading the inquiry board"))?;
        Ok(rows
            .into_iter()
            .map(
                |(key, kind, name, organisation, stage, received_at, assigned_to, synthetic)| {
                    InquiryCard {
                        key,
                        kind,
                        name,
                        organisation,
                        stage,
                        received_at,
                        assigned_to,
                        synthetic,
                    }
                },
            )
            .collect())
    }

    /// One inquiry with its history, if stored.
    pub async fn staff_inquiry(&self, key: &str) -> Result<Option<StaffInquiry>, StoreError> {
        let operation = "reading an inquiry";
        dispatch!(&self.pool, Pool, pool => {
            let row: Option<InquiryRow> = sqlx::query_as(
                "SELECT i.id, i.key, i.kind, i.name, i.email, i.organisation, i.partner_group, \
                 i.country, i.message, i.consent, i.received_at, i.stage, i.first_response_at, \
                 i.assigned_to, p.key AS partner_key, p.name_en AS partner_name, \
                 a.key AS agreement_key, i.synthetic FROM inquiry i \
                 LEFT JOIN partner p ON p.id = i.partner_id \
                 LEFT JOIN agreement a ON a.id = i.agreement_id WHERE i.key = $1",
            )
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let Some(row) = row else {
                return Ok(None);
            };
            let policy_areas: Vec<String> = sqlx::query_scalar(
                "SELECT policy_area FROM inquiry_policy_area WHERE inquiry_id = $1 ORDER BY policy_area",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let events: Vec<(String, String, String, String, String)> = sqlx::query_as(
                "SELECT at, by_user, from_stage, to_stage, note FROM inquiry_event \
                 WHERE inquiry_id = $1 ORDER BY position",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            Ok(Some(StaffInquiry {
                key: row.key,
                kind: row.kind,
                name: row.name,
                email: row.email,
                organisation: row.organisation,
                partner_group: row.partner_group,
                country: row.country,
                message: row.message,
                consent: row.consent,
                received_at: row.received_at,
                stage: row.stage,
                first_response_at: row.first_response_at,
                assigned_to: row.assigned_to,
                partner: row.partner_key.zip(row.partner_name),
                agreement_key: row.agreement_key,
                policy_areas,
                events: events
                    .into_iter()
                    .map(|(at, by_user, from_stage, to_stage, note)| StoredInquiryEvent {
                        at,
                        by_user,
                        from_stage,
                        to_stage,
                        note,
                    })
                    .collect(),
                synthetic: row.synthetic,
            }))
        })
    }

    /// Moves an inquiry to another stage, recording who, when and why in its history. The
    /// first move or annotation of an inquiry is its first response.
    pub async fn move_inquiry(
        &self,
        key: &str,
        to_stage: InquiryStage,
        note: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.add_inquiry_event(key, Some(to_stage), note, actor)
            .await
    }

    /// Adds a note to an inquiry's history without moving it.
    pub async fn annotate_inquiry(
        &self,
        key: &str,
        note: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        if note.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "note",
                message: "an annotation needs some text".to_owned(),
            });
        }
        self.add_inquiry_event(key, None, note, actor).await
    }

    /// Assigns an inquiry to a staff user (by e-mail address), or to no one.
    pub async fn assign_inquiry(
        &self,
        key: &str,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let operation = "assigning an inquiry";
        let assignee = assignee.map(|email| email.trim().to_lowercase());
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let before: Option<(i64, Option<String>)> =
                sqlx::query_as("SELECT id, assigned_to FROM inquiry WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
            let Some((id, before)) = before else {
                return Err(not_found(key));
            };
            if let Some(email) = &assignee {
                let known: Option<i64> = sqlx::query_scalar("SELECT id FROM staff_user WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
                if known.is_none() {
                    return Err(StoreError::Invalid {
                        field: "assignee",
                        message: "no staff user has that address".to_owned(),
                    });
                }
            }
            sqlx::query("UPDATE inquiry SET assigned_to = $1 WHERE id = $2")
                .bind(assignee.as_deref())
                .bind(id)
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "inquiry",
                entity_key: key,
                action: "assign",
                before: Some(json!({ "assigned_to": before })),
                after: Some(json!({ "assigned_to": assignee })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })
    }

    /// Links an inquiry to a stored partner.
    pub async fn link_inquiry_partner(
        &self,
        key: &str,
        partner_key: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let operation = "linking an inquiry to a partner";
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let before: Option<(i64, Option<String>)> = sqlx::query_as(
                "SELECT i.id, p.key FROM inquiry i LEFT JOIN partner p ON p.id = i.partner_id \
                 WHERE i.key = $1",
            )
            .bind(key)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            let Some((id, before)) = before else {
                return Err(not_found(key));
            };
            let partner: Option<i64> = sqlx::query_scalar("SELECT id FROM partner WHERE key = $1")
                .bind(partner_key)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            let Some(partner) = partner else {
                return Err(StoreError::Invalid {
                    field: "partner",
                    message: "no partner has that key".to_owned(),
                });
            };
            sqlx::query("UPDATE inquiry SET partner_id = $1 WHERE id = $2")
                .bind(partner)
                .bind(id)
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "inquiry",
                entity_key: key,
                action: "link_partner",
                before: Some(json!({ "partner": before })),
                after: Some(json!({ "partner": partner_key })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })
    }

    /// Makes a partner from what the inquiry says of the sender's organisation (its name in
    /// every language until someone translates it, country, the group the sender chose) and
    /// links the inquiry to it. Returns the new partner's key, made from the organisation's
    /// name.
    pub async fn create_partner_from_inquiry(
        &self,
        key: &str,
        actor: &str,
    ) -> Result<String, StoreError> {
        let operation = "making a partner from an inquiry";
        let backend = self.backend();
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let inquiry: Option<SenderRow> =
                sqlx::query_as(
                    "SELECT id, organisation, country, partner_group, partner_id FROM inquiry WHERE key = $1",
                )
                .bind(key)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            let Some((inquiry_id, organisation, country, group, linked)) = inquiry else {
                return Err(not_found(key));
            };
            if linked.is_some() {
                return Err(StoreError::Invalid {
                    field: "partner",
                    message: "the inquiry is already linked to a partner".to_owned(),
                });
            }
            let base = slug(&organisation);
            let mut partner_key = base.clone();
            let mut suffix = 2;
            loop {
                let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM partner WHERE key = $1")
                    .bind(&partner_key)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
                if taken.is_none() {
                    break;
                }
                partner_key = format!("{base}-{suffix}");
                suffix += 1;
            }
            let partner = Partner {
                key: partner_key.clone(),
                names: Names {
                    en: organisation.clone(),
                    fr: organisation.clone(),
                    es: organisation.clone(),
                },
                iati_ref: None,
                organisation_type: None,
                country: country.clone(),
                group_override: group.as_deref().and_then(|code| code.parse().ok()),
                synthetic: false,
            };
            let classified = classify(&partner);
            let partner_id: i64 = sqlx::query_scalar(&for_backend(
                backend,
                "INSERT INTO partner (key, name_en, name_fr, name_es, iati_ref, organisation_type, \
                 country, partner_group, group_override, group_rule, rollup_code, synthetic) \
                 VALUES ($1, $2, $2, $2, NULL, NULL, $3, $4, $5, $6, $7, $8) RETURNING id",
            ))
            .bind(&partner_key)
            .bind(&organisation)
            .bind(country.as_deref())
            .bind(classified.group)
            .bind(partner.group_override.map(|group| group.code()))
            .bind(&classified.rule)
            .bind(classified.rollup_code.as_deref())
            .bind(false)
            .fetch_one(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            sqlx::query("UPDATE inquiry SET partner_id = $1 WHERE id = $2")
                .bind(partner_id)
                .bind(inquiry_id)
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "partner",
                entity_key: &partner_key,
                action: "create",
                before: None,
                after: Some(json!({
                    "name": organisation,
                    "country": country,
                    "partner_group": classified.group,
                    "group_rule": classified.rule,
                    "from_inquiry": key,
                })),
            }, operation)?;
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "inquiry",
                entity_key: key,
                action: "link_partner",
                before: Some(json!({ "partner": null })),
                after: Some(json!({ "partner": partner_key })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok(partner_key)
        })
    }

    /// Partners to link an inquiry to: key and English name, by name.
    pub async fn partner_choices(&self) -> Result<Vec<(String, String)>, StoreError> {
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as("SELECT key, name_en FROM partner ORDER BY name_en, key")
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("listing partners"))
    }

    /// The median time to first response and the conversion from stage to stage, over every
    /// stored inquiry.
    pub async fn pipeline_figures(&self) -> Result<PipelineFigures, StoreError> {
        let operation = "computing the pipeline figures";
        let (inquiries, events): (Vec<FigureRow>, Vec<(i64, String, String)>) = dispatch!(&self.pool, Pool, pool => {
            let inquiries = sqlx::query_as(
                "SELECT id, stage, received_at, first_response_at, synthetic FROM inquiry",
            )
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let events = sqlx::query_as(
                "SELECT inquiry_id, from_stage, to_stage FROM inquiry_event",
            )
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            Ok::<_, StoreError>((inquiries, events))
        })?;
        let mut furthest: std::collections::HashMap<i64, usize> = inquiries
            .iter()
            .map(|(id, stage, ..)| (*id, ladder_step(stage).unwrap_or(0)))
            .collect();
        for (inquiry_id, from_stage, to_stage) in &events {
            if from_stage == to_stage {
                continue;
            }
            if let (Some(step), Some(best)) = (ladder_step(to_stage), furthest.get_mut(inquiry_id))
            {
                *best = (*best).max(step);
            }
        }
        let reached = |step: usize| furthest.values().filter(|best| **best >= step).count() as u64;
        let conversions = LADDER
            .windows(2)
            .enumerate()
            .map(|(step, pair)| {
                let reached_from = reached(step);
                let reached_to = reached(step + 1);
                StageConversion {
                    from_stage: pair[0],
                    to_stage: pair[1],
                    reached_from,
                    reached_to,
                    percent: (reached_from > 0).then(|| {
                        (Decimal::from(reached_to * 100) / Decimal::from(reached_from))
                            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
                    }),
                }
            })
            .collect();
        let mut minutes: Vec<i64> = inquiries
            .iter()
            .filter_map(|(_, _, received, first, _)| {
                let first = parse_utc_millis(first.as_deref()?)?;
                let received = parse_utc_millis(received)?;
                (first >= received).then_some((first - received) / 60_000)
            })
            .collect();
        minutes.sort_unstable();
        let median_minutes = match minutes.len() {
            0 => None,
            count if count % 2 == 1 => Some(Decimal::from(minutes[count / 2])),
            count => {
                Some(Decimal::from(minutes[count / 2 - 1] + minutes[count / 2]) / Decimal::TWO)
            }
        };
        Ok(PipelineFigures {
            inquiries: inquiries.len() as u64,
            responded: minutes.len() as u64,
            awaiting_response: inquiries.iter().filter(|row| row.3.is_none()).count() as u64,
            median_first_response_hours: median_minutes.map(|minutes| {
                (minutes / Decimal::from(60))
                    .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
            }),
            conversions,
            synthetic: inquiries.iter().filter(|row| row.4).count() as u64,
        })
    }

    async fn add_inquiry_event(
        &self,
        key: &str,
        to_stage: Option<InquiryStage>,
        note: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let operation = "recording an inquiry event";
        let note = note.trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(StoreError::Invalid {
                field: "note",
                message: format!("a note has at most {MAX_NOTE_CHARS} characters"),
            });
        }
        let now = clock::utc_now();
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let row: Option<(i64, String, Option<String>)> =
                sqlx::query_as("SELECT id, stage, first_response_at FROM inquiry WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(StoreError::query(operation))?;
            let Some((id, from_stage, first_response_at)) = row else {
                return Err(not_found(key));
            };
            let to = to_stage.map(|stage| stage.code()).unwrap_or(from_stage.as_str()).to_owned();
            if to_stage.is_some() && to == from_stage {
                return Err(StoreError::Invalid {
                    field: "stage",
                    message: format!("the inquiry is already at the stage {to}"),
                });
            }
            let position: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM inquiry_event WHERE inquiry_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            sqlx::query(
                "INSERT INTO inquiry_event (inquiry_id, position, at, by_user, from_stage, to_stage, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(position)
            .bind(&now)
            .bind(actor)
            .bind(&from_stage)
            .bind(&to)
            .bind(note)
            .execute(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            let responded_now = first_response_at.is_none();
            sqlx::query(
                "UPDATE inquiry SET stage = $1, first_response_at = COALESCE(first_response_at, $2) \
                 WHERE id = $3",
            )
            .bind(&to)
            .bind(&now)
            .bind(id)
            .execute(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            let mut after = json!({ "stage": to, "note": note });
            if responded_now {
                after["first_response_at"] = json!(now);
            }
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "inquiry",
                entity_key: key,
                action: if to_stage.is_some() { "move" } else { "annotate" },
                before: Some(json!({ "stage": from_stage, "first_response_at": first_response_at })),
                after: Some(after),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })
    }
}

/// An inquiry's row, the sender's organisation, country and group, and its linked partner.
type SenderRow = (i64, String, Option<String>, Option<String>, Option<i64>);
/// An inquiry's row, stage, received and first response instants, and synthetic flag.
type FigureRow = (i64, String, String, Option<String>, bool);

#[derive(sqlx::FromRow)]
struct InquiryRow {
    id: i64,
    key: String,
    kind: String,
    name: String,
    email: String,
    organisation: String,
    partner_group: Option<String>,
    country: Option<String>,
    message: String,
    consent: bool,
    received_at: String,
    stage: String,
    first_response_at: Option<String>,
    assigned_to: Option<String>,
    partner_key: Option<String>,
    partner_name: Option<String>,
    agreement_key: Option<String>,
    synthetic: bool,
}

fn not_found(key: &str) -> StoreError {
    StoreError::NotFound {
        what: "inquiry",
        key: key.to_owned(),
    }
}

fn ladder_step(stage: &str) -> Option<usize> {
    LADDER.iter().position(|step| step.code() == stage)
}

/// A partner key from an organisation's name: lower-case letters and digits joined by single
/// hyphens, at most 60 characters; "partner" when nothing of the name is left.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for character in name.to_lowercase().chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "partner".to_owned()
    } else {
        slug.to_owned()
    }
}

/// Milliseconds since 1970 of an RFC 3339 instant in UTC as the store and the demo write them
/// ("2024-03-05T14:30:00Z", "2024-03-05T14:30:00.123Z", or "+00:00" for "Z"); None for any other.
fn parse_utc_millis(text: &str) -> Option<i64> {
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: i64 = date_parts.next()?.parse().ok()?;
    let day: i64 = date_parts.next()?.parse().ok()?;
    let (time, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut time_parts = time.splitn(3, ':');
    let hour: i64 = time_parts.next()?.parse().ok()?;
    let minute: i64 = time_parts.next()?.parse().ok()?;
    let second: i64 = time_parts.next()?.parse().ok()?;
    let millis: i64 = format!("{fraction:0<3}").get(..3)?.parse().ok()?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Howard Hinnant's days-from-civil, the inverse of the store's clock.
    let year_of_march = if month <= 2 { year - 1 } else { year };
    let era = year_of_march.div_euclid(400);
    let year_of_era = year_of_march - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_parse_as_the_clock_writes_them() {
        for millis in [0, 1_709_251_199_999, 951_782_400_000, 1_800_000_123_456] {
            assert_eq!(parse_utc_millis(&clock::format_utc(millis)), Some(millis));
        }
        assert_eq!(
            parse_utc_millis("2024-03-05T00:01:00Z"),
            parse_utc_millis("2024-03-05T00:00:00.000Z").map(|millis| millis + 60_000)
        );
        assert_eq!(parse_utc_millis("2024-03-05"), None);
        assert_eq!(parse_utc_millis("2024-13-05T00:00:00Z"), None);
    }

    #[test]
    fn partner_keys_are_slugs() {
        assert_eq!(
            slug("Fondation  Rurale (Sénégal)"),
            "fondation-rurale-s-n-gal"
        );
        assert_eq!(slug("<script>"), "script");
        assert_eq!(slug("—"), "partner");
        assert!(slug(&"a".repeat(500)).len() <= 60);
    }
}
