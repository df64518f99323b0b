//! The records as the staff workspace keeps them: partners, agreements (with their links to
//! documents), multi-stakeholder partnerships and what the organisation adds to a programme or
//! project, read for the lists and forms, and saved with their audit events.
//!
//! Every save goes through the same path as [`Store::save_partnership_records`], so that an
//! agreement saved from a form writes its ledger entries and moves the rollups exactly as a
//! loaded one does, and a re-saved agreement first takes back what it had added. The audit
//! event (who, when, what, before and after) is written in that same transaction. The record
//! "before" is read just ahead of the transaction: two officers saving the same record at the
//! same instant would each see the other's edit as the state before theirs, which the log then
//! shows plainly.

use std::collections::HashMap;

use coopfolio_core::partnership::{
    Agreement, AgreementPartner, Earmark, EarmarkTarget, Instalment, Partner, Partnership,
    PartnershipMember, ProjectExtras, ProjectMarkers,
};
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use serde::Serialize;
use serde_json::json;

use crate::partnership::PartnershipRecords;
use crate::sql::dispatch;
use crate::staff::AuditRecord;
use crate::{Pool, Store, StoreError};

/// A partner as the list and the form show it: the record, and the group in force with the
/// rule that gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffPartner {
    pub partner: Partner,
    pub partner_group: String,
    pub group_rule: String,
    pub rollup_code: Option<String>,
}

/// Which partners to list; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerFilter {
    /// A partner group code, as stored (the group in force).
    pub group: Option<String>,
    /// Part of the key, a name in any language or the IATI identifier, case ignored.
    pub text: Option<String>,
}

/// An agreement as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementListRow {
    pub key: String,
    pub title: String,
    /// Each funder's key and English name, in the agreement's order.
    pub partners: Vec<(String, String)>,
    pub modality: String,
    pub status: String,
    pub signature_date: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub currency: String,
    /// The exact decimal, as stored.
    pub amount: String,
    pub confidential: bool,
    pub inquiry_key: Option<String>,
    pub synthetic: bool,
}

/// Which agreements to list; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgreementFilter {
    /// A partner's key: agreements it funds.
    pub partner: Option<String>,
    pub modality: Option<String>,
    pub status: Option<String>,
    /// A year: agreements whose start-to-end span (or signature date, when they have no span)
    /// touches it.
    pub year: Option<i32>,
}

/// A link to a document of an agreement, kept as a URL and the label to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementDocument {
    pub url: String,
    pub label: String,
}

/// An agreement with what only the workspace keeps of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffAgreement {
    pub agreement: Agreement,
    pub documents: Vec<AgreementDocument>,
    /// The inquiries that point at this agreement (normally the one of `inquiry_key`).
    pub inquiries: Vec<String>,
}

/// What the organisation adds to a programme or project, as stored, if anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffProjectExtras {
    pub policy_areas: Vec<String>,
    pub markers: ProjectMarkers,
    pub synthetic: bool,
    /// The agreements that earmark the project: key and English title.
    pub agreements: Vec<(String, String)>,
}

/// Whether a save makes a new record or changes a stored one. A new record's key must be
/// free; a changed record's must be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    Create,
    Edit,
}

impl Store {
    /// The partners, by English name, filtered.
    pub async fn staff_partners(
        &self,
        filter: &PartnerFilter,
    ) -> Result<Vec<StaffPartner>, StoreError> {
        let rows: Vec<PartnerRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(&format!("{PARTNER_SELECT} ORDER BY name_en, key"))
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("listing partners"))?;
        let text = filter
            .text
            .as_deref()
            .map(|text| text.trim().to_lowercase())
            .filter(|text| !text.is_empty());
        Ok(rows
            .into_iter()
            .map(staff_partner)
            .filter(|row| {
                filter
                    .group
                    .as_deref()
                    .is_none_or(|g| row.partner_group == g)
            })
            .filter(|row| {
                let Some(text) = &text else { return true };
                let partner = &row.partner;
                [
                    Some(&partner.key),
                    Some(&partner.names.en),
                    Some(&partner.names.fr),
                    Some(&partner.names.es),
                    partner.iati_ref.as_ref(),
                ]
                .into_iter()
                .flatten()
                .any(|value| value.to_lowercase().contains(text.as_str()))
            })
            .collect())
    }

    /// One partner, if stored.
    pub async fn staff_partner(&self, key: &str) -> Result<Option<StaffPartner>, StoreError> {
        let row: Option<PartnerRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(&format!("{PARTNER_SELECT} WHERE key = $1"))
                .bind(key)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("reading a partner"))?;
        Ok(row.map(staff_partner))
    }

    /// Saves a partner made or changed in the workspace, with its audit event.
    pub async fn save_staff_partner(
        &self,
        partner: &Partner,
        mode: SaveMode,
        actor: &str,
    ) -> Result<(), StoreError> {
        let before = self.staff_partner(&partner.key).await?;
        check_mode(mode, before.is_some(), "partner", &partner.key)?;
        let audit = AuditRecord {
            actor,
            entity_kind: "partner",
            entity_key: &partner.key,
            action: mode.action(),
            before: before.map(|stored| json!(stored.partner)),
            after: Some(json!(partner)),
        };
        self.save_audited_records(
            PartnershipRecords {
                partners: std::slice::from_ref(partner),
                ..PartnershipRecords::default()
            },
            &[audit],
            &[],
        )
        .await
        .map(|_| ())
        .map_err(unique_to_field)
    }

    /// The agreements, by key, filtered.
    pub async fn staff_agreements(
        &self,
        filter: &AgreementFilter,
    ) -> Result<Vec<AgreementListRow>, StoreError> {
        let operation = "listing agreements";
        type Row = (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            bool,
            Option<String>,
            bool,
        );
        let (rows, shares): (Vec<Row>, Vec<(String, String, String)>) = dispatch!(&self.pool, Pool, pool => {
            let rows = sqlx::query_as(
                "SELECT key, title_en, modality, status, signature_date, start_date, end_date, \
                 currency, CAST(amount AS TEXT), confidential, inquiry_key, synthetic \
                 FROM agreement ORDER BY key",
            )
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let shares = sqlx::query_as(
                "SELECT a.key, p.key, p.name_en FROM agreement_partner s \
                 JOIN agreement a ON a.id = s.agreement_id JOIN partner p ON p.id = s.partner_id \
                 ORDER BY a.key, s.position",
            )
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            (rows, shares)
        });
        let mut partners: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (agreement, key, name) in shares {
            partners.entry(agreement).or_default().push((key, name));
        }
        Ok(rows
            .into_iter()
            .map(
                |(
                    key,
                    title,
                    modality,
                    status,
                    signature_date,
                    start_date,
                    end_date,
                    currency,
                    amount,
                    confidential,
                    inquiry_key,
                    synthetic,
                )| AgreementListRow {
                    partners: partners.remove(&key).unwrap_or_default(),
                    key,
                    title,
                    modality,
                    status,
                    signature_date,
                    start_date,
                    end_date,
                    currency,
                    amount,
                    confidential,
                    inquiry_key,
                    synthetic,
                },
            )
            .filter(|row| {
                filter
                    .partner
                    .as_deref()
                    .is_none_or(|partner| row.partners.iter().any(|(key, _)| key == partner))
                    && filter.modality.as_deref().is_none_or(|m| row.modality == m)
                    && filter.status.as_deref().is_none_or(|s| row.status == s)
                    && filter.year.is_none_or(|year| touches_year(row, year))
            })
            .collect())
    }

    /// One agreement with its shares, instalments, earmarking, documents and inquiries.
    pub async fn staff_agreement(&self, key: &str) -> Result<Option<StaffAgreement>, StoreError> {
        let operation = "reading an agreement";
        type Head = (
            i64,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            bool,
            Option<String>,
            bool,
        );
        dispatch!(&self.pool, Pool, pool => {
            let head: Option<Head> = sqlx::query_as(
                "SELECT id, title_en, title_fr, title_es, modality, status, signature_date, \
                 start_date, end_date, currency, CAST(amount AS TEXT), confidential, inquiry_key, \
                 synthetic FROM agreement WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let Some((id, en, fr, es, modality, status, signature_date, start_date, end_date, currency, amount, confidential, inquiry_key, synthetic)) = head else {
                return Ok(None);
            };
            let shares: Vec<(String, String)> = sqlx::query_as(
                "SELECT p.key, CAST(s.amount AS TEXT) FROM agreement_partner s \
                 JOIN partner p ON p.id = s.partner_id WHERE s.agreement_id = $1 ORDER BY s.position",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let instalments: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT due_date, CAST(amount AS TEXT), received_date, CAST(received_amount AS TEXT) \
                 FROM instalment WHERE agreement_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let earmarks: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT target_kind, target, CAST(amount AS TEXT) FROM earmark \
                 WHERE agreement_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let documents: Vec<(String, String)> = sqlx::query_as(
                "SELECT url, label FROM agreement_document WHERE agreement_key = $1 ORDER BY position",
            )
            .bind(key)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let inquiries: Vec<String> = sqlx::query_scalar(
                "SELECT key FROM inquiry WHERE agreement_id = $1 ORDER BY key",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let decimal = |text: &str| crate::stats::parse_decimal(text, operation);
            let code_error = |what: &str, code: &str| StoreError::Invalid {
                field: "agreement",
                message: format!("the stored {what} '{code}' is not known"),
            };
            let agreement = Agreement {
                key: key.to_owned(),
                title: Names { en, fr, es },
                modality: modality.parse().map_err(|_| code_error("modality", &modality))?,
                status: status.parse().map_err(|_| code_error("status", &status))?,
                partners: shares
                    .iter()
                    .map(|(partner_key, amount)| {
                        Ok(AgreementPartner { partner_key: partner_key.clone(), amount: decimal(amount)? })
                    })
                    .collect::<Result<_, StoreError>>()?,
                signature_date,
                start_date,
                end_date,
                currency: CurrencyCode::parse(&currency).map_err(|_| code_error("currency", &currency))?,
                amount: decimal(&amount)?,
                instalments: instalments
                    .iter()
                    .map(|(due_date, amount, received_date, received_amount)| {
                        Ok(Instalment {
                            due_date: due_date.clone(),
                            amount: decimal(amount)?,
                            received_date: received_date.clone(),
                            received_amount: received_amount.as_deref().map(decimal).transpose()?,
                        })
                    })
                    .collect::<Result<_, StoreError>>()?,
                earmarking: earmarks
                    .iter()
                    .map(|(kind, target, amount)| {
                        let target = match kind.as_str() {
                            "project" => EarmarkTarget::Project(target.clone()),
                            "country" => EarmarkTarget::Country(target.clone()),
                            _ => EarmarkTarget::PolicyArea(
                                target.parse().map_err(|_| code_error("policy area", target))?,
                            ),
                        };
                        Ok(Earmark { target, amount: decimal(amount)? })
                    })
                    .collect::<Result<_, StoreError>>()?,
                confidential,
                inquiry_key,
                synthetic,
            };
            Ok(Some(StaffAgreement {
                agreement,
                documents: documents
                    .into_iter()
                    .map(|(url, label)| AgreementDocument { url, label })
                    .collect(),
                inquiries,
            }))
        })
    }

    /// Saves an agreement made or changed in the workspace, with its documents, ledger entries
    /// and rollups, and its audit event.
    pub async fn save_staff_agreement(
        &self,
        agreement: &Agreement,
        documents: &[AgreementDocument],
        mode: SaveMode,
        actor: &str,
    ) -> Result<(), StoreError> {
        let before = self.staff_agreement(&agreement.key).await?;
        check_mode(mode, before.is_some(), "agreement", &agreement.key)?;
        if let Some(inquiry_key) = &agreement.inquiry_key {
            self.check_inquiry_free(inquiry_key, &agreement.key).await?;
        }
        let audit = AuditRecord {
            actor,
            entity_kind: "agreement",
            entity_key: &agreement.key,
            action: mode.action(),
            before: before.map(
                |stored| json!({ "agreement": stored.agreement, "documents": stored.documents }),
            ),
            after: Some(json!({ "agreement": agreement, "documents": documents })),
        };
        self.save_audited_records(
            PartnershipRecords {
                agreements: std::slice::from_ref(agreement),
                ..PartnershipRecords::default()
            },
            &[audit],
            &[(agreement.key.as_str(), documents)],
        )
        .await
        .map(|_| ())
        .map_err(unique_to_field)
    }

    /// Turns a won inquiry into an agreement: saves the agreement with `inquiry_key` set (the
    /// inquiry then points back at it) and, when the inquiry names a project, the project's
    /// extras, with audit events for the agreement and for the inquiry, in one transaction.
    pub async fn agreement_from_inquiry(
        &self,
        agreement: &Agreement,
        documents: &[AgreementDocument],
        project: Option<&ProjectExtras>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let Some(inquiry_key) = agreement.inquiry_key.as_deref() else {
            return Err(StoreError::Invalid {
                field: "inquiry",
                message: "the agreement names no inquiry".to_owned(),
            });
        };
        let inquiry =
            self.staff_inquiry(inquiry_key)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "inquiry",
                    key: inquiry_key.to_owned(),
                })?;
        if inquiry.stage != "won" {
            return Err(StoreError::Invalid {
                field: "inquiry",
                message: "only a won inquiry becomes an agreement; move it to won first".to_owned(),
            });
        }
        if let Some(existing) = &inquiry.agreement_key {
            return Err(StoreError::Invalid {
                field: "inquiry",
                message: format!("the inquiry already led to agreement {existing}"),
            });
        }
        if self.staff_agreement(&agreement.key).await?.is_some() {
            return Err(taken("agreement"));
        }
        let mut audits = vec![
            AuditRecord {
                actor,
                entity_kind: "agreement",
                entity_key: &agreement.key,
                action: "create",
                before: None,
                after: Some(json!({ "agreement": agreement, "documents": documents })),
            },
            AuditRecord {
                actor,
                entity_kind: "inquiry",
                entity_key: inquiry_key,
                action: "link_agreement",
                before: Some(json!({ "agreement": null })),
                after: Some(json!({ "agreement": agreement.key })),
            },
        ];
        let extras_before = match project {
            Some(extras) => Some(self.stored_extras(&extras.activity_identifier).await?),
            None => None,
        };
        if let (Some(extras), Some(before)) = (project, extras_before) {
            audits.push(AuditRecord {
                actor,
                entity_kind: "project",
                entity_key: &extras.activity_identifier,
                action: "edit",
                before: before.map(|stored| json!(stored)),
                after: Some(json!(extras)),
            });
        }
        self.save_audited_records(
            PartnershipRecords {
                agreements: std::slice::from_ref(agreement),
                project_extras: project.map(std::slice::from_ref).unwrap_or_default(),
                ..PartnershipRecords::default()
            },
            &audits,
            &[(agreement.key.as_str(), documents)],
        )
        .await
        .map(|_| ())
        .map_err(unique_to_field)
    }

    /// The multi-stakeholder partnerships, by English name.
    pub async fn staff_partnerships(&self) -> Result<Vec<Partnership>, StoreError> {
        let keys: Vec<String> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar("SELECT key FROM partnership ORDER BY name_en, key")
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("listing partnerships"))?;
        let mut partnerships = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(partnership) = self.staff_partnership(&key).await? {
                partnerships.push(partnership);
            }
        }
        Ok(partnerships)
    }

    /// One multi-stakeholder partnership with its policy areas and members.
    pub async fn staff_partnership(&self, key: &str) -> Result<Option<Partnership>, StoreError> {
        let operation = "reading a partnership";
        dispatch!(&self.pool, Pool, pool => {
            let head: Option<(i64, String, String, String, String, bool)> = sqlx::query_as(
                "SELECT id, name_en, name_fr, name_es, level, synthetic FROM partnership WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let Some((id, en, fr, es, level, synthetic)) = head else {
                return Ok(None);
            };
            let areas: Vec<String> = sqlx::query_scalar(
                "SELECT policy_area FROM partnership_policy_area WHERE partnership_id = $1 ORDER BY policy_area",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let members: Vec<(String, String)> = sqlx::query_as(
                "SELECT p.key, m.role FROM partnership_member m JOIN partner p ON p.id = m.partner_id \
                 WHERE m.partnership_id = $1 ORDER BY m.position",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            Ok(Some(Partnership {
                key: key.to_owned(),
                name: Names { en, fr, es },
                level: level.parse().map_err(|_| StoreError::Invalid {
                    field: "level",
                    message: format!("the stored level '{level}' is not known"),
                })?,
                policy_areas: areas.iter().filter_map(|area| area.parse().ok()).collect(),
                members: members
                    .into_iter()
                    .map(|(partner_key, role)| PartnershipMember { partner_key, role })
                    .collect(),
                synthetic,
            }))
        })
    }

    /// Saves a multi-stakeholder partnership made or changed in the workspace, with its audit
    /// event.
    pub async fn save_staff_partnership(
        &self,
        partnership: &Partnership,
        mode: SaveMode,
        actor: &str,
    ) -> Result<(), StoreError> {
        let before = self.staff_partnership(&partnership.key).await?;
        check_mode(mode, before.is_some(), "partnership", &partnership.key)?;
        let audit = AuditRecord {
            actor,
            entity_kind: "partnership",
            entity_key: &partnership.key,
            action: mode.action(),
            before: before.map(|stored| json!(stored)),
            after: Some(json!(partnership)),
        };
        self.save_audited_records(
            PartnershipRecords {
                partnerships: std::slice::from_ref(partnership),
                ..PartnershipRecords::default()
            },
            &[audit],
            &[],
        )
        .await
        .map(|_| ())
        .map_err(unique_to_field)
    }

    /// What the organisation adds to a programme or project, if anything was ever added, and
    /// the agreements that earmark it.
    pub async fn staff_project_extras(
        &self,
        identifier: &str,
    ) -> Result<StaffProjectExtras, StoreError> {
        let stored = self.stored_extras(identifier).await?;
        let agreements: Vec<(String, String)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT DISTINCT a.key, a.title_en FROM earmark e JOIN agreement a ON a.id = e.agreement_id \
                 WHERE e.target_kind = 'project' AND e.target = $1 ORDER BY a.key",
            )
            .bind(identifier)
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("reading a project's agreements"))?;
        Ok(match stored {
            Some(extras) => StaffProjectExtras {
                policy_areas: extras
                    .policy_areas
                    .iter()
                    .map(|a| a.code().to_owned())
                    .collect(),
                markers: extras.markers,
                synthetic: extras.synthetic,
                agreements,
            },
            None => StaffProjectExtras {
                policy_areas: Vec::new(),
                markers: ProjectMarkers::default(),
                synthetic: false,
                agreements,
            },
        })
    }

    /// Saves the policy areas and markers of a programme or project, with the portfolio rollup
    /// and the audit event.
    pub async fn save_staff_project_extras(
        &self,
        extras: &ProjectExtras,
        actor: &str,
    ) -> Result<(), StoreError> {
        let before = self.stored_extras(&extras.activity_identifier).await?;
        let audit = AuditRecord {
            actor,
            entity_kind: "project",
            entity_key: &extras.activity_identifier,
            action: "edit",
            before: before.map(|stored| json!(stored)),
            after: Some(json!(extras)),
        };
        self.save_audited_records(
            PartnershipRecords {
                project_extras: std::slice::from_ref(extras),
                ..PartnershipRecords::default()
            },
            &[audit],
            &[],
        )
        .await
        .map(|_| ())
        .map_err(unique_to_field)
    }

    async fn stored_extras(&self, identifier: &str) -> Result<Option<ProjectExtras>, StoreError> {
        let operation = "reading a project's extras";
        dispatch!(&self.pool, Pool, pool => {
            let row: Option<(bool, bool, bool, bool, bool)> = sqlx::query_as(
                "SELECT south_south, triangular, joint_un, mptf, synthetic FROM activity_extra \
                 WHERE activity_identifier = $1",
            )
            .bind(identifier)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let Some((south_south, triangular, joint_un, mptf, synthetic)) = row else {
                return Ok(None);
            };
            let areas: Vec<String> = sqlx::query_scalar(
                "SELECT policy_area FROM activity_policy_area WHERE activity_identifier = $1 ORDER BY policy_area",
            )
            .bind(identifier)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            Ok(Some(ProjectExtras {
                activity_identifier: identifier.to_owned(),
                policy_areas: areas.iter().filter_map(|area| area.parse().ok()).collect(),
                markers: ProjectMarkers { south_south, triangular, joint_un, mptf },
                synthetic,
            }))
        })
    }

    /// Refuses an inquiry that already led to another agreement.
    async fn check_inquiry_free(
        &self,
        inquiry_key: &str,
        agreement_key: &str,
    ) -> Result<(), StoreError> {
        let inquiry =
            self.staff_inquiry(inquiry_key)
                .await?
                .ok_or_else(|| StoreError::Invalid {
                    field: "inquiry_key",
                    message: "no inquiry has that reference".to_owned(),
                })?;
        match inquiry.agreement_key {
            Some(other) if other != agreement_key => Err(StoreError::Invalid {
                field: "inquiry_key",
                message: format!("that inquiry already led to agreement {other}"),
            }),
            _ => Ok(()),
        }
    }
}

/// Writes the documents of each agreement saved, replacing those it had, on a transaction of
/// either backend (the body of a `dispatch!`).
macro_rules! write_documents {
    ($transaction:expr, $documents:expr, $operation:expr) => {{
        let documents: &[(&str, &[$crate::records::AgreementDocument])] = $documents;
        let mut result: Result<(), $crate::StoreError> = Ok(());
        for (agreement_key, links) in documents {
            if let Err(error) = sqlx::query("DELETE FROM agreement_document WHERE agreement_key = $1")
                .bind(*agreement_key)
                .execute(&mut *$transaction)
                .await
            {
                result = Err($crate::StoreError::query($operation)(error));
                break;
            }
            for (position, link) in links.iter().enumerate() {
                if let Err(error) = sqlx::query(
                    "INSERT INTO agreement_document (agreement_key, position, url, label) VALUES ($1, $2, $3, $4)",
                )
                .bind(*agreement_key)
                .bind(position as i64)
                .bind(&link.url)
                .bind(&link.label)
                .execute(&mut *$transaction)
                .await
                {
                    result = Err($crate::StoreError::query($operation)(error));
                    break;
                }
            }
            if result.is_err() {
                break;
            }
        }
        result
    }};
}
pub(crate) use write_documents;

const PARTNER_SELECT: &str = "SELECT key, name_en, name_fr, name_es, iati_ref, organisation_type, \
     country, partner_group, group_override, group_rule, rollup_code, synthetic FROM partner";

type PartnerRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
    bool,
);

fn staff_partner(row: PartnerRow) -> StaffPartner {
    let (
        key,
        en,
        fr,
        es,
        iati_ref,
        organisation_type,
        country,
        group,
        group_override,
        rule,
        rollup,
        synthetic,
    ) = row;
    StaffPartner {
        partner: Partner {
            key,
            names: Names { en, fr, es },
            iati_ref,
            organisation_type,
            country,
            group_override: group_override.and_then(|code| code.parse().ok()),
            synthetic,
        },
        partner_group: group,
        group_rule: rule,
        rollup_code: rollup,
    }
}

impl SaveMode {
    fn action(self) -> &'static str {
        match self {
            SaveMode::Create => "create",
            SaveMode::Edit => "edit",
        }
    }
}

/// A unique constraint the database enforced (two saves of the same new key at once) is the
/// key's fault, said beside the key, not a failure of the server.
fn unique_to_field(error: StoreError) -> StoreError {
    match error {
        StoreError::Query {
            source: sqlx::Error::Database(database),
            ..
        } if database.is_unique_violation() => StoreError::Invalid {
            field: "key",
            message: "another record already has this key".to_owned(),
        },
        other => other,
    }
}

fn taken(what: &str) -> StoreError {
    StoreError::Invalid {
        field: "key",
        message: format!("another {what} already has this key"),
    }
}

fn check_mode(
    mode: SaveMode,
    stored: bool,
    what: &'static str,
    key: &str,
) -> Result<(), StoreError> {
    match (mode, stored) {
        (SaveMode::Create, true) => Err(taken(what)),
        (SaveMode::Edit, false) => Err(StoreError::NotFound {
            what,
            key: key.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Whether an agreement's span (start to end, else its signature date) touches a year.
fn touches_year(row: &AgreementListRow, year: i32) -> bool {
    let year_of = |date: &Option<String>| {
        date.as_deref()
            .and_then(|d| d.get(..4)?.parse::<i32>().ok())
    };
    match (year_of(&row.start_date), year_of(&row.end_date)) {
        (Some(start), Some(end)) => start <= year && year <= end,
        (Some(start), None) => start <= year,
        (None, Some(end)) => year <= end,
        (None, None) => year_of(&row.signature_date) == Some(year),
    }
}
