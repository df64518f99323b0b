//! The partnership records: partners with their derived group and roll-up, agreements with their
//! shares, instalments and earmarking, multi-stakeholder partnerships, inquiries and what the
//! organisation adds to its activities, saved together in one transaction.
//!
//! Saving an agreement writes its funding-ledger entries: one per partner share at the signature
//! date (a `commitment` when the status counts as approved, a `pledge` while pledged or under
//! negotiation, nothing when cancelled) and one `receipt` per partner share of every instalment
//! received, at the received date. Each is converted to US dollars at its own date, and one that
//! cannot be is stored `no_rate` with no US dollar value, never as zero.

use std::collections::HashMap;

use coopfolio_core::partner_group::PartnerGroupRules;
use coopfolio_core::partnership::{
    Agreement, AgreementStatus, EarmarkTarget, Inquiry, Partner, Partnership, ProjectExtras,
};
use coopfolio_core::rates::Conversion;
use coopfolio_core::rollup::Rollups;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::records::{
    begin_writing, set_rollup_override, write_documents, Alongside, PlannedAudit,
};
use crate::rollup::{ActivityFacts, ContributionDelta, ContributionEntry, PortfolioDelta};
use crate::sql::{dispatch, Conn};
use crate::staff::write_audit;
use crate::{Backend, Pool, Store, StoreError};

/// The partnership records to save; any slice may be empty. Records refer to one another by
/// key, and a key that is neither in these records nor already stored is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct PartnershipRecords<'a> {
    pub partners: &'a [Partner],
    pub agreements: &'a [Agreement],
    pub partnerships: &'a [Partnership],
    pub inquiries: &'a [Inquiry],
    pub project_extras: &'a [ProjectExtras],
}

/// What a save wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PartnershipSummary {
    pub partners: u64,
    pub agreements: u64,
    pub partnerships: u64,
    pub inquiries: u64,
    pub project_extras: u64,
    pub ledger_entries: u64,
    /// Ledger entries that could not be converted to US dollars.
    pub ledger_entries_without_rate: u64,
}

/// The PostgreSQL text of a statement in the SQLite dialect: the store writes `$n::numeric`
/// where an exact decimal is bound as text, a cast PostgreSQL needs and SQLite (whose money
/// columns are TEXT) must not make.
pub(crate) fn for_backend(backend: Backend, sql: &str) -> String {
    match backend {
        Backend::Postgres => sql.to_owned(),
        Backend::Sqlite => sql.replace("::numeric", ""),
    }
}

impl Store {
    /// Saves partnership records in one transaction. A record whose key is already stored is
    /// replaced (a partner keeps its row; an agreement's shares, instalments, earmarks and
    /// ledger entries are written anew), so that saving the same records twice changes nothing.
    pub async fn save_partnership_records(
        &self,
        records: PartnershipRecords<'_>,
    ) -> Result<PartnershipSummary, StoreError> {
        self.save_audited_records(records, &[], &Alongside::default())
            .await
    }

    /// [`Store::save_partnership_records`] with audit events written in the same transaction,
    /// the one path by which the staff workspace changes partnership records.
    ///
    /// Each audit event's record "before" is read inside the transaction, after the record is
    /// locked (its row `FOR UPDATE` on PostgreSQL; on SQLite the transaction takes the
    /// database's one write lock as it begins): of two saves of one record at once, the second
    /// waits for the first and records the first's result as its "before".
    pub(crate) async fn save_audited_records(
        &self,
        records: PartnershipRecords<'_>,
        audits: &[PlannedAudit<'_>],
        alongside: &Alongside<'_>,
    ) -> Result<PartnershipSummary, StoreError> {
        let converter = self.converter().await?;
        let backend = self.backend();
        let sql = |text: &str| for_backend(backend, text);
        let mut summary = PartnershipSummary::default();
        dispatch!(&self.pool, Pool, pool => {
            let operation = "saving partnership records";
            let failed = StoreError::query(operation);
            let mut tx = pool
                .begin_with(begin_writing(backend))
                .await
                .map_err(StoreError::query(operation))?;
            let mut audit_records = Vec::with_capacity(audits.len());
            for plan in audits {
                audit_records.push(plan.read(Conn::from(&mut *tx)).await?);
            }

            let mut partner_ids: HashMap<String, i64> = HashMap::new();
            let upsert_partner = sql(
                "INSERT INTO partner (key, name_en, name_fr, name_es, iati_ref, organisation_type, \
                 country, partner_group, group_override, group_rule, rollup_code, synthetic) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (key) DO UPDATE SET name_en = excluded.name_en, \
                 name_fr = excluded.name_fr, name_es = excluded.name_es, \
                 iati_ref = excluded.iati_ref, organisation_type = excluded.organisation_type, \
                 country = excluded.country, partner_group = excluded.partner_group, \
                 group_override = excluded.group_override, group_rule = excluded.group_rule, \
                 rollup_code = CASE WHEN partner.rollup_override IS NULL THEN excluded.rollup_code \
                 ELSE NULLIF(partner.rollup_override, '') END, \
                 synthetic = excluded.synthetic RETURNING id",
            );
            for partner in records.partners {
                let classified = classify(partner);
                let id: i64 = sqlx::query_scalar(&upsert_partner)
                    .bind(&partner.key)
                    .bind(&partner.names.en)
                    .bind(&partner.names.fr)
                    .bind(&partner.names.es)
                    .bind(partner.iati_ref.as_deref())
                    .bind(partner.organisation_type.as_deref())
                    .bind(partner.country.as_deref())
                    .bind(classified.group)
                    .bind(partner.group_override.map(|group| group.code()))
                    .bind(&classified.rule)
                    .bind(classified.rollup_code.as_deref())
                    .bind(partner.synthetic)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
                partner_ids.insert(partner.key.clone(), id);
                summary.partners += 1;
            }
            // Keys the records refer to but do not carry are looked up among stored partners.
            let mut referenced: Vec<&str> = records
                .agreements
                .iter()
                .flat_map(|a| a.partners.iter().map(|p| p.partner_key.as_str()))
                .chain(records.partnerships.iter().flat_map(|p| p.members.iter().map(|m| m.partner_key.as_str())))
                .chain(records.inquiries.iter().filter_map(|i| i.partner_key.as_deref()))
                .filter(|key| !partner_ids.contains_key(*key))
                .collect();
            referenced.sort_unstable();
            referenced.dedup();
            // A stored partner's IATI identifier goes into its ledger entries as a saved one's does.
            let mut stored_refs: HashMap<String, Option<String>> = HashMap::new();
            for key in referenced {
                let row: Option<(i64, Option<String>)> =
                    sqlx::query_as("SELECT id, iati_ref FROM partner WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                if let Some((id, iati_ref)) = row {
                    partner_ids.insert(key.to_owned(), id);
                    stored_refs.insert(key.to_owned(), iati_ref);
                }
            }
            let partner_id = |key: &str, referenced_by: String| {
                partner_ids.get(key).copied().ok_or_else(|| StoreError::UnknownKey {
                    what: "partner",
                    key: key.to_owned(),
                    referenced_by,
                })
            };

            let mut agreement_ids: HashMap<String, i64> = HashMap::new();
            let insert_agreement = sql(
                "INSERT INTO agreement (key, title_en, title_fr, title_es, modality, status, \
                 signature_date, start_date, end_date, currency, amount, confidential, inquiry_key, \
                 synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::numeric, $12, $13, $14) \
                 RETURNING id",
            );
            let insert_share = sql(
                "INSERT INTO agreement_partner (agreement_id, position, partner_id, amount) \
                 VALUES ($1, $2, $3, $4::numeric) RETURNING id",
            );
            let insert_instalment = sql(
                "INSERT INTO instalment (agreement_id, position, due_date, amount, received_date, \
                 received_amount) VALUES ($1, $2, $3, $4::numeric, $5, $6::numeric) RETURNING id",
            );
            let insert_earmark = sql(
                "INSERT INTO earmark (agreement_id, position, target_kind, target, amount) \
                 VALUES ($1, $2, $3, $4, $5::numeric)",
            );
            let insert_ledger = sql(
                "INSERT INTO ledger_entry (activity_id, source_table, source_id, kind, direction, \
                 partner_ref, modality, date, amount, currency, usd_amount, usd_rate, rate_date, \
                 rate_source, conversion_status, agreement_id, partner_id) \
                 VALUES (NULL, $1, $2, $3, 'incoming', $4, $5, $6, $7::numeric, $8, $9::numeric, \
                 $10::numeric, $11, $12, $13, $14, $15)",
            );
            // The rollups change with the records, in this same transaction.
            let mut contributions = ContributionDelta::default();
            let mut portfolio = PortfolioDelta::default();
            let partner_refs: HashMap<&str, Option<&str>> = records
                .partners
                .iter()
                .map(|p| (p.key.as_str(), p.iati_ref.as_deref()))
                .chain(stored_refs.iter().map(|(key, iati_ref)| (key.as_str(), iati_ref.as_deref())))
                .collect();
            for agreement in records.agreements {
                // What the agreement stored before leaves the contribution rollup with it.
                type StoredEntry = (String, Option<String>, Option<String>, i64, Option<String>, Option<String>, String);
                let replaced: Vec<StoredEntry> = sqlx::query_as(
                    "SELECT l.kind, l.date, l.modality, l.partner_id, CAST(l.usd_amount AS TEXT), \
                     l.rate_source, l.conversion_status FROM ledger_entry l \
                     JOIN agreement a ON a.id = l.agreement_id WHERE a.key = $1",
                )
                .bind(&agreement.key)
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::query(operation))?;
                for (kind, date, modality, partner_id, usd, rate_source, status) in &replaced {
                    let usd = usd
                        .as_deref()
                        .map(|usd| crate::stats::parse_decimal(usd, operation))
                        .transpose()?;
                    contributions.entry(
                        &ContributionEntry {
                            kind,
                            date: date.as_deref(),
                            modality: modality.as_deref().unwrap_or_default(),
                            partner_id: *partner_id,
                            conversion_status: status,
                            rate_source: rate_source.as_deref(),
                            usd,
                        },
                        -1,
                    );
                }
                // Deleting the agreement would unlink the inquiries that led to it (ON DELETE SET
                // NULL); they are linked again to the new row below.
                let linked_inquiries: Vec<i64> = sqlx::query_scalar(
                    "SELECT i.id FROM inquiry i JOIN agreement a ON a.id = i.agreement_id WHERE a.key = $1",
                )
                .bind(&agreement.key)
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::query(operation))?;
                sqlx::query("DELETE FROM agreement WHERE key = $1")
                    .bind(&agreement.key)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
                let agreement_id: i64 = sqlx::query_scalar(&insert_agreement)
                    .bind(&agreement.key)
                    .bind(&agreement.title.en)
                    .bind(&agreement.title.fr)
                    .bind(&agreement.title.es)
                    .bind(agreement.modality.code())
                    .bind(agreement.status.code())
                    .bind(agreement.signature_date.as_deref())
                    .bind(agreement.start_date.as_deref())
                    .bind(agreement.end_date.as_deref())
                    .bind(agreement.currency.as_str())
                    .bind(agreement.amount.to_string())
                    .bind(agreement.confidential)
                    .bind(agreement.inquiry_key.as_deref())
                    .bind(agreement.synthetic)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
                agreement_ids.insert(agreement.key.clone(), agreement_id);
                summary.agreements += 1;
                for inquiry_id in linked_inquiries {
                    sqlx::query("UPDATE inquiry SET agreement_id = $1 WHERE id = $2")
                        .bind(agreement_id)
                        .bind(inquiry_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                }
                // The inquiry an agreement came from points back at it, so that the link reads
                // both ways; an inquiry saved with these records sets its own link below.
                if let Some(inquiry_key) = &agreement.inquiry_key {
                    sqlx::query("UPDATE inquiry SET agreement_id = $1 WHERE key = $2")
                        .bind(agreement_id)
                        .bind(inquiry_key)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                }

                let mut shares: Vec<(i64, i64, Decimal, Option<&str>)> = Vec::new();
                for (position, share) in agreement.partners.iter().enumerate() {
                    let partner = partner_id(&share.partner_key, format!("agreement {}", agreement.key))?;
                    let share_id: i64 = sqlx::query_scalar(&insert_share)
                        .bind(agreement_id)
                        .bind(position as i64)
                        .bind(partner)
                        .bind(share.amount.to_string())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                    let iati_ref = partner_refs.get(share.partner_key.as_str()).copied().flatten();
                    shares.push((share_id, partner, share.amount, iati_ref));
                }
                let entries = agreement_ledger(agreement, &shares);
                let mut instalment_ids = Vec::new();
                for (position, instalment) in agreement.instalments.iter().enumerate() {
                    let id: i64 = sqlx::query_scalar(&insert_instalment)
                        .bind(agreement_id)
                        .bind(position as i64)
                        .bind(&instalment.due_date)
                        .bind(instalment.amount.to_string())
                        .bind(instalment.received_date.as_deref())
                        .bind(instalment.received_amount.map(|amount| amount.to_string()))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                    instalment_ids.push(id);
                }
                for (position, earmark) in agreement.earmarking.iter().enumerate() {
                    let (kind, target) = match &earmark.target {
                        EarmarkTarget::Project(identifier) => ("project", identifier.clone()),
                        EarmarkTarget::Country(code) => ("country", code.clone()),
                        EarmarkTarget::PolicyArea(area) => ("policy_area", area.code().to_owned()),
                    };
                    sqlx::query(&insert_earmark)
                        .bind(agreement_id)
                        .bind(position as i64)
                        .bind(kind)
                        .bind(target)
                        .bind(earmark.amount.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                }
                for entry in entries {
                    let source_id = match entry.source {
                        EntrySource::Share(share_id) => share_id,
                        EntrySource::Instalment(index) => instalment_ids[index],
                    };
                    let conversion = converter.to_usd(entry.amount, agreement.currency.as_str(), entry.date.unwrap_or(""));
                    let (usd, rate, rate_period, source, status) = match conversion {
                        Conversion::Converted { usd, rate, rate_period, source, .. } => (
                            Some(usd),
                            Some(rate.to_string()),
                            Some(rate_period.to_string()),
                            Some(source.to_string()),
                            "converted",
                        ),
                        Conversion::NoRate { .. } => {
                            summary.ledger_entries_without_rate += 1;
                            (None, None, None, None, "no_rate")
                        }
                    };
                    contributions.entry(
                        &ContributionEntry {
                            kind: entry.kind,
                            date: entry.date,
                            modality: agreement.modality.code(),
                            partner_id: entry.partner_id,
                            conversion_status: status,
                            rate_source: source.as_deref(),
                            usd,
                        },
                        1,
                    );
                    sqlx::query(&insert_ledger)
                        .bind(entry.source_table())
                        .bind(source_id)
                        .bind(entry.kind)
                        .bind(entry.partner_ref)
                        .bind(agreement.modality.code())
                        .bind(entry.date)
                        .bind(entry.amount.to_string())
                        .bind(agreement.currency.as_str())
                        .bind(usd.map(|usd| usd.to_string()))
                        .bind(rate)
                        .bind(rate_period)
                        .bind(source)
                        .bind(status)
                        .bind(agreement_id)
                        .bind(entry.partner_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                    summary.ledger_entries += 1;
                }
            }

            for partnership in records.partnerships {
                sqlx::query("DELETE FROM partnership WHERE key = $1")
                    .bind(&partnership.key)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO partnership (key, name_en, name_fr, name_es, level, synthetic) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&partnership.key)
                .bind(&partnership.name.en)
                .bind(&partnership.name.fr)
                .bind(&partnership.name.es)
                .bind(partnership.level.code())
                .bind(partnership.synthetic)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::query(operation))?;
                let mut areas: Vec<&str> = partnership.policy_areas.iter().map(|a| a.code()).collect();
                areas.sort_unstable();
                areas.dedup();
                for area in areas {
                    sqlx::query("INSERT INTO partnership_policy_area (partnership_id, policy_area) VALUES ($1, $2)")
                        .bind(id)
                        .bind(area)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                }
                for (position, member) in partnership.members.iter().enumerate() {
                    let partner = partner_id(&member.partner_key, format!("partnership {}", partnership.key))?;
                    sqlx::query(
                        "INSERT INTO partnership_member (partnership_id, position, partner_id, role) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(id)
                    .bind(position as i64)
                    .bind(partner)
                    .bind(&member.role)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
                }
                summary.partnerships += 1;
            }

            for inquiry in records.inquiries {
                let partner = match &inquiry.partner_key {
                    Some(key) => Some(partner_id(key, format!("inquiry {}", inquiry.key))?),
                    None => None,
                };
                let agreement = match &inquiry.agreement_key {
                    Some(key) => match agreement_ids.get(key) {
                        Some(id) => Some(*id),
                        None => {
                            let stored: Option<i64> = sqlx::query_scalar("SELECT id FROM agreement WHERE key = $1")
                                .bind(key)
                                .fetch_optional(&mut *tx)
                                .await
                                .map_err(StoreError::query(operation))?;
                            Some(stored.ok_or_else(|| StoreError::UnknownKey {
                                what: "agreement",
                                key: key.clone(),
                                referenced_by: format!("inquiry {}", inquiry.key),
                            })?)
                        }
                    },
                    None => None,
                };
                sqlx::query("DELETE FROM inquiry WHERE key = $1")
                    .bind(&inquiry.key)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO inquiry (key, kind, name, email, organisation, partner_group, country, \
                     message, consent, received_at, stage, first_response_at, partner_id, agreement_id, \
                     synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                     RETURNING id",
                )
                .bind(&inquiry.key)
                .bind(inquiry.kind.code())
                .bind(&inquiry.name)
                .bind(&inquiry.email)
                .bind(&inquiry.organisation)
                .bind(inquiry.partner_group.map(|group| group.code()))
                .bind(inquiry.country.as_deref())
                .bind(&inquiry.message)
                .bind(inquiry.consent)
                .bind(&inquiry.received_at)
                .bind(inquiry.stage.code())
                .bind(inquiry.first_response_at.as_deref())
                .bind(partner)
                .bind(agreement)
                .bind(inquiry.synthetic)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::query(operation))?;
                let mut areas: Vec<&str> = inquiry.policy_areas.iter().map(|a| a.code()).collect();
                areas.sort_unstable();
                areas.dedup();
                for area in areas {
                    sqlx::query("INSERT INTO inquiry_policy_area (inquiry_id, policy_area) VALUES ($1, $2)")
                        .bind(id)
                        .bind(area)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                }
                for (position, event) in inquiry.events.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO inquiry_event (inquiry_id, position, at, by_user, from_stage, \
                         to_stage, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(id)
                    .bind(position as i64)
                    .bind(&event.at)
                    .bind(&event.by)
                    .bind(event.from_stage.code())
                    .bind(event.to_stage.code())
                    .bind(&event.note)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
                }
                summary.inquiries += 1;
            }

            if let Some(activity) = &alongside.activity {
                activity
                    .write(Conn::from(&mut *tx), &converter, &mut portfolio)
                    .await?;
            }
            for extras in records.project_extras {
                sqlx::query("DELETE FROM activity_extra WHERE activity_identifier = $1")
                    .bind(&extras.activity_identifier)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
                sqlx::query(
                    "INSERT INTO activity_extra (activity_identifier, south_south, triangular, \
                     joint_un, mptf, synthetic) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&extras.activity_identifier)
                .bind(extras.markers.south_south)
                .bind(extras.markers.triangular)
                .bind(extras.markers.joint_un)
                .bind(extras.markers.mptf)
                .bind(extras.synthetic)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(operation))?;
                let mut areas: Vec<&str> = extras.policy_areas.iter().map(|a| a.code()).collect();
                areas.sort_unstable();
                areas.dedup();
                for area in &areas {
                    sqlx::query("INSERT INTO activity_policy_area (activity_identifier, policy_area) VALUES ($1, $2)")
                        .bind(&extras.activity_identifier)
                        .bind(*area)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                }
                // Policy areas set by hand replace the mapped ones in the portfolio rollup.
                let stored: Option<Option<String>> =
                    sqlx::query_scalar("SELECT rollup_facts FROM activity WHERE iati_identifier = $1")
                        .bind(&extras.activity_identifier)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                if let Some(Some(stored)) = stored {
                    let old = ActivityFacts::from_json(&stored, operation)?;
                    let mut new = old.clone();
                    new.hand_set_areas = (!areas.is_empty())
                        .then(|| areas.iter().map(|area| (*area).to_owned()).collect());
                    if new != old {
                        portfolio.subtract(&old);
                        portfolio.add(&new);
                        sqlx::query("UPDATE activity SET rollup_facts = $1 WHERE iati_identifier = $2")
                            .bind(new.to_json())
                            .bind(&extras.activity_identifier)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::query(operation))?;
                    }
                }
                summary.project_extras += 1;
            }
            if let Some((partner_key, rollup_override)) = &alongside.rollup_override {
                set_rollup_override(Conn::from(&mut *tx), partner_key, rollup_override.as_deref()).await?;
            }
            contributions.apply(Conn::from(&mut *tx)).await?;
            portfolio.apply(Conn::from(&mut *tx)).await?;
            write_documents!(tx, alongside.documents, operation)?;
            for audit in &audit_records {
                write_audit!(tx, audit, operation)?;
            }
            tx.commit().await.map_err(failed)?;
            Ok::<(), StoreError>(())
        })?;
        Ok(summary)
    }

    /// Whether the database holds a synthetic workspace (any synthetic agreement or partner).
    pub async fn has_synthetic_workspace(&self) -> Result<bool, StoreError> {
        let count: i64 = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM agreement WHERE synthetic = $1) \
                 + (SELECT COUNT(*) FROM partner WHERE synthetic = $1)",
            )
            .bind(true)
            .fetch_one(pool)
            .await
        })
        .map_err(StoreError::query("looking for a synthetic workspace"))?;
        Ok(count > 0)
    }

    /// The stored partners: key, group in force, the rule that gave it, roll-up code.
    pub async fn partner_groups(&self) -> Result<Vec<PartnerGroupRow>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>)> =
            dispatch!(&self.pool, Pool, pool => {
                sqlx::query_as(
                    "SELECT key, partner_group, group_rule, rollup_code FROM partner ORDER BY key",
                )
                .fetch_all(pool)
                .await
            })
            .map_err(StoreError::query("reading partner groups"))?;
        Ok(rows
            .into_iter()
            .map(
                |(key, partner_group, group_rule, rollup_code)| PartnerGroupRow {
                    key,
                    partner_group,
                    group_rule,
                    rollup_code,
                },
            )
            .collect())
    }
}

/// A partner's group in force and its roll-up, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerGroupRow {
    pub key: String,
    pub partner_group: String,
    pub group_rule: String,
    pub rollup_code: Option<String>,
}

/// A partner's group (set by hand, else derived by the rules), the rule that gave it, and the
/// contributor it rolls up into.
pub(crate) struct Classified {
    pub(crate) group: &'static str,
    pub(crate) rule: String,
    pub(crate) rollup_code: Option<String>,
}

pub(crate) fn classify(partner: &Partner) -> Classified {
    let (group, rule) = match partner.group_override {
        Some(group) => (group, "set by hand".to_owned()),
        None => {
            let derivation = PartnerGroupRules::bundled().derive(
                partner.iati_ref.as_deref(),
                partner.organisation_type.as_deref(),
            );
            (derivation.group, derivation.rule)
        }
    };
    let rollup_code = Rollups::bundled()
        .roll_up(partner.iati_ref.as_deref(), group)
        .map(|target| target.code.clone());
    Classified {
        group: group.code(),
        rule,
        rollup_code,
    }
}

enum EntrySource {
    /// The agreement_partner row.
    Share(i64),
    /// The instalment's place in the agreement's schedule.
    Instalment(usize),
}

struct LedgerDraft<'a> {
    source: EntrySource,
    kind: &'static str,
    partner_id: i64,
    partner_ref: Option<&'a str>,
    date: Option<&'a str>,
    amount: Decimal,
}

impl LedgerDraft<'_> {
    fn source_table(&self) -> &'static str {
        match self.source {
            EntrySource::Share(_) => "agreement_partner",
            EntrySource::Instalment(_) => "instalment",
        }
    }
}

/// The ledger entries of one agreement, given its shares as (share row, partner row, amount,
/// partner's IATI identifier).
fn agreement_ledger<'a>(
    agreement: &'a Agreement,
    shares: &[(i64, i64, Decimal, Option<&'a str>)],
) -> Vec<LedgerDraft<'a>> {
    let mut entries = Vec::new();
    let kind = match agreement.status {
        status if status.counts_as_approved() => Some("commitment"),
        AgreementStatus::Pledged | AgreementStatus::Negotiating => Some("pledge"),
        _ => None,
    };
    if let Some(kind) = kind {
        // A pledge has no signature yet; it is dated by the start of the work it would fund.
        let date = agreement
            .signature_date
            .as_deref()
            .or(agreement.start_date.as_deref());
        for (share_id, partner_id, amount, partner_ref) in shares {
            entries.push(LedgerDraft {
                source: EntrySource::Share(*share_id),
                kind,
                partner_id: *partner_id,
                partner_ref: *partner_ref,
                date,
                amount: *amount,
            });
        }
    }
    for (index, instalment) in agreement.instalments.iter().enumerate() {
        let (Some(date), Some(received)) = (&instalment.received_date, instalment.received_amount)
        else {
            continue;
        };
        for (partner_id, partner_ref, amount) in split_by_shares(received, shares) {
            entries.push(LedgerDraft {
                source: EntrySource::Instalment(index),
                kind: "receipt",
                partner_id,
                partner_ref,
                date: Some(date),
                amount,
            });
        }
    }
    entries
}

/// Splits a received amount across the partners in proportion to their shares, each part
/// rounded to the cent and the remainder given to the last, so that the parts add up exactly.
fn split_by_shares<'a>(
    received: Decimal,
    shares: &[(i64, i64, Decimal, Option<&'a str>)],
) -> Vec<(i64, Option<&'a str>, Decimal)> {
    let total: Decimal = shares.iter().map(|share| share.2).sum();
    let mut parts = Vec::with_capacity(shares.len());
    let mut given = Decimal::ZERO;
    for (index, (_, partner_id, amount, partner_ref)) in shares.iter().enumerate() {
        let part = if index + 1 == shares.len() {
            received - given
        } else if total.is_zero() {
            Decimal::ZERO
        } else {
            (received * amount / total)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        };
        given += part;
        parts.push((*partner_id, *partner_ref, part));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_is_split_by_shares_to_the_cent_with_the_remainder_last() {
        let shares = [
            (1, 10, Decimal::new(1, 0), None),
            (2, 20, Decimal::new(1, 0), None),
            (3, 30, Decimal::new(1, 0), None),
        ];
        let parts = split_by_shares(Decimal::new(10000, 2), &shares);
        let amounts: Vec<String> = parts.iter().map(|p| p.2.to_string()).collect();
        assert_eq!(amounts, ["33.33", "33.33", "33.34"]);
        assert_eq!(
            parts.iter().map(|p| p.2).sum::<Decimal>(),
            Decimal::new(100, 0)
        );
    }

    #[test]
    fn sqlite_statements_lose_the_numeric_casts() {
        assert_eq!(
            for_backend(Backend::Sqlite, "VALUES ($1::numeric)"),
            "VALUES ($1)"
        );
        assert_eq!(
            for_backend(Backend::Postgres, "VALUES ($1::numeric)"),
            "VALUES ($1::numeric)"
        );
    }
}
