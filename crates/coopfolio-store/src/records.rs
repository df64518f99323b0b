//! The records as the staff workspace keeps them: partners, agreements (with their links to
//! documents), multi-stakeholder partnerships and what the organisation adds to a programme or
//! project, read for the lists and forms, and saved with their audit events.
//!
//! Every save goes through the same path as [`Store::save_partnership_records`], so that an
//! agreement saved from a form writes its ledger entries and moves the rollups exactly as a
//! loaded one does, and a re-saved agreement first takes back what it had added. The audit
//! event (who, when, what, before and after) is written in that same transaction, and the record
//! "before" is read inside it once the record is locked ([`PlannedAudit`]), so that of two
//! officers saving the same record at the same instant, the second records the first's edit as
//! the state before its own.

use std::collections::HashMap;

use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{
    Agreement, AgreementPartner, Earmark, EarmarkTarget, Instalment, Partner, Partnership,
    PartnershipMember, ProjectExtras, ProjectMarkers,
};
use coopfolio_core::reference::Names;
use coopfolio_core::rollup::Rollups;
use coopfolio_core::value::CurrencyCode;
use serde::Serialize;
use serde_json::json;

use crate::partnership::PartnershipRecords;
use crate::sql::{dispatch, Conn};
use crate::staff::AuditRecord;
use crate::staff_projects::{StaffProject, WorkspaceActivity};
use crate::{Backend, Pool, Store, StoreError};

/// A partner as the list and the form show it: the record, and the group in force with the
/// rule that gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffPartner {
    pub partner: Partner,
    pub partner_group: String,
    pub group_rule: String,
    pub rollup_code: Option<String>,
    /// The roll-up set by hand: None when the rules decide, `Some("")` when the partner counts
    /// as itself, else the contributor code.
    pub rollup_override: Option<String>,
}

/// A partner's roll-up as a save sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupChoice {
    /// Leave what is stored.
    Keep,
    /// The roll-up rules decide (a roll-up set by hand is reset).
    ByRule,
    /// The partner counts as itself, whatever the rules say.
    Itself,
    /// The partner counts as this contributor (a code of the bundled roll-up targets).
    Into(String),
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
        let mut connection = self.pooled("reading a partner").await?;
        Store::read_partner(connection.conn(), key).await
    }

    /// [`Store::staff_partner`] on a given connection.
    pub(crate) async fn read_partner(
        conn: Conn<'_>,
        key: &str,
    ) -> Result<Option<StaffPartner>, StoreError> {
        let row: Option<PartnerRow> = dispatch!(conn, Conn, connection => {
            sqlx::query_as(&format!("{PARTNER_SELECT} WHERE key = $1"))
                .bind(key)
                .fetch_optional(&mut *connection)
                .await
        })
        .map_err(StoreError::query("reading a partner"))?;
        Ok(row.map(staff_partner))
    }

    /// Saves a partner made or changed in the workspace, with its audit event; a roll-up set
    /// by hand stays as it was.
    pub async fn save_staff_partner(
        &self,
        partner: &Partner,
        mode: SaveMode,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.save_staff_partner_with_rollup(partner, &RollupChoice::Keep, mode, actor)
            .await
    }

    /// Saves a partner made or changed in the workspace with its roll-up (set by hand, or
    /// reset to the rules), and its audit event. The roll-up in force changes in the same
    /// transaction, so the contributor ranking reads the new one at once; the contribution
    /// rollup is kept by partner, not by roll-up, and needs no change.
    pub async fn save_staff_partner_with_rollup(
        &self,
        partner: &Partner,
        rollup: &RollupChoice,
        mode: SaveMode,
        actor: &str,
    ) -> Result<(), StoreError> {
        let rollup_override = match rollup {
            RollupChoice::Keep => None,
            RollupChoice::ByRule => Some(None),
            RollupChoice::Itself => Some(Some(String::new())),
            RollupChoice::Into(code) => {
                if Rollups::bundled().target(code).is_none() {
                    return Err(StoreError::Invalid {
                        field: "rollup_override",
                        message: format!("'{code}' is not a contributor of the roll-up rules"),
                    });
                }
                Some(Some(code.clone()))
            }
        };
        let mut after = json!(partner);
        if let Some(stored) = &rollup_override {
            after["rollup_override"] = json!(stored);
        }
        let audit =
            PlannedAudit::new(actor, "partner", &partner.key, Before::Partner, after).checked(mode);
        self.save_audited_records(
            PartnershipRecords {
                partners: std::slice::from_ref(partner),
                ..PartnershipRecords::default()
            },
            &[audit],
            &Alongside {
                rollup_override: rollup_override.map(|stored| (partner.key.as_str(), stored)),
                ..Alongside::default()
            },
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
        let mut connection = self.pooled("reading an agreement").await?;
        Store::read_agreement(connection.conn(), key).await
    }

    /// [`Store::staff_agreement`] on a given connection, so that a save reads it in its own
    /// transaction.
    pub(crate) async fn read_agreement(
        conn: Conn<'_>,
        key: &str,
    ) -> Result<Option<StaffAgreement>, StoreError> {
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
        dispatch!(conn, Conn, connection => {
            let head: Option<Head> = sqlx::query_as(
                "SELECT id, title_en, title_fr, title_es, modality, status, signature_date, \
                 start_date, end_date, currency, CAST(amount AS TEXT), confidential, inquiry_key, \
                 synthetic FROM agreement WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(&mut *connection)
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
            .fetch_all(&mut *connection)
            .await
            .map_err(StoreError::query(operation))?;
            let instalments: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT due_date, CAST(amount AS TEXT), received_date, CAST(received_amount AS TEXT) \
                 FROM instalment WHERE agreement_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(&mut *connection)
            .await
            .map_err(StoreError::query(operation))?;
            let earmarks: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT target_kind, target, CAST(amount AS TEXT) FROM earmark \
                 WHERE agreement_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(&mut *connection)
            .await
            .map_err(StoreError::query(operation))?;
            let documents: Vec<(String, String)> = sqlx::query_as(
                "SELECT url, label FROM agreement_document WHERE agreement_key = $1 ORDER BY position",
            )
            .bind(key)
            .fetch_all(&mut *connection)
            .await
            .map_err(StoreError::query(operation))?;
            let inquiries: Vec<String> = sqlx::query_scalar(
                "SELECT key FROM inquiry WHERE agreement_id = $1 ORDER BY key",
            )
            .bind(id)
            .fetch_all(&mut *connection)
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
        if let Some(inquiry_key) = &agreement.inquiry_key {
            self.check_inquiry_free(inquiry_key, &agreement.key).await?;
        }
        let audit = PlannedAudit::new(
            actor,
            "agreement",
            &agreement.key,
            Before::Agreement,
            json!({ "agreement": agreement, "documents": documents }),
        )
        .checked(mode);
        self.save_audited_records(
            PartnershipRecords {
                agreements: std::slice::from_ref(agreement),
                ..PartnershipRecords::default()
            },
            &[audit],
            &Alongside {
                documents: &[(agreement.key.as_str(), documents)],
                ..Alongside::default()
            },
        )
        .await
        .map(|_| ())
        .map_err(unique_to_field)
    }

    /// Turns a won inquiry into an agreement: saves the agreement with `inquiry_key` set (the
    /// inquiry then points back at it), the extras of a project it earmarks and, when one is
    /// given, a new programme or project made from the inquiry (stored as
    /// [`Store::save_staff_project`] stores one), with audit events for each, in one
    /// transaction.
    pub async fn agreement_from_inquiry(
        &self,
        agreement: &Agreement,
        documents: &[AgreementDocument],
        project: Option<&ProjectExtras>,
        new_project: Option<&StaffProject>,
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
        let mut audits = vec![
            PlannedAudit::new(
                actor,
                "agreement",
                &agreement.key,
                Before::Agreement,
                json!({ "agreement": agreement, "documents": documents }),
            )
            .checked(SaveMode::Create),
            PlannedAudit {
                action: "link_agreement",
                ..PlannedAudit::new(
                    actor,
                    "inquiry",
                    inquiry_key,
                    Before::Known(Some(json!({ "agreement": null }))),
                    json!({ "agreement": agreement.key }),
                )
            },
        ];
        if let Some(extras) = project {
            audits.push(PlannedAudit {
                action: "edit",
                ..PlannedAudit::new(
                    actor,
                    "project",
                    &extras.activity_identifier,
                    Before::ProjectExtras,
                    json!(extras),
                )
            });
        }
        let mut extras_list: Vec<ProjectExtras> = project.into_iter().cloned().collect();
        let activity = match new_project {
            Some(new_project) => {
                let (activity, extras) = self
                    .workspace_activity(new_project, SaveMode::Create, actor)
                    .await?;
                audits.push(new_project.planned_audit(SaveMode::Create, actor));
                extras_list.push(extras);
                Some(activity)
            }
            None => None,
        };
        self.save_audited_records(
            PartnershipRecords {
                agreements: std::slice::from_ref(agreement),
                project_extras: &extras_list,
                ..PartnershipRecords::default()
            },
            &audits,
            &Alongside {
                documents: &[(agreement.key.as_str(), documents)],
                activity,
                ..Alongside::default()
            },
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
        let mut connection = self.pooled("reading a partnership").await?;
        Store::read_partnership(connection.conn(), key).await
    }

    /// [`Store::staff_partnership`] on a given connection.
    pub(crate) async fn read_partnership(
        conn: Conn<'_>,
        key: &str,
    ) -> Result<Option<Partnership>, StoreError> {
        let operation = "reading a partnership";
        dispatch!(conn, Conn, connection => {
            let head: Option<(i64, String, String, String, String, bool)> = sqlx::query_as(
                "SELECT id, name_en, name_fr, name_es, level, synthetic FROM partnership WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(&mut *connection)
            .await
            .map_err(StoreError::query(operation))?;
            let Some((id, en, fr, es, level, synthetic)) = head else {
                return Ok(None);
            };
            let areas: Vec<String> = sqlx::query_scalar(
                "SELECT policy_area FROM partnership_policy_area WHERE partnership_id = $1 ORDER BY policy_area",
            )
            .bind(id)
            .fetch_all(&mut *connection)
            .await
            .map_err(StoreError::query(operation))?;
            let members: Vec<(String, String)> = sqlx::query_as(
                "SELECT p.key, m.role FROM partnership_member m JOIN partner p ON p.id = m.partner_id \
                 WHERE m.partnership_id = $1 ORDER BY m.position",
            )
            .bind(id)
            .fetch_all(&mut *connection)
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
        let audit = PlannedAudit::new(
            actor,
            "partnership",
            &partnership.key,
            Before::Partnership,
            json!(partnership),
        )
        .checked(mode);
        self.save_audited_records(
            PartnershipRecords {
                partnerships: std::slice::from_ref(partnership),
                ..PartnershipRecords::default()
            },
            &[audit],
            &Alongside::default(),
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
        let audit = PlannedAudit {
            action: "edit",
            ..PlannedAudit::new(
                actor,
                "project",
                &extras.activity_identifier,
                Before::ProjectExtras,
                json!(extras),
            )
        };
        self.save_audited_records(
            PartnershipRecords {
                project_extras: std::slice::from_ref(extras),
                ..PartnershipRecords::default()
            },
            &[audit],
            &Alongside::default(),
        )
        .await
        .map(|_| ())
        .map_err(unique_to_field)
    }

    async fn stored_extras(&self, identifier: &str) -> Result<Option<ProjectExtras>, StoreError> {
        let mut connection = self.pooled("reading a project's extras").await?;
        Store::read_extras(connection.conn(), identifier).await
    }

    /// What the organisation adds to an activity, read on a given connection.
    pub(crate) async fn read_extras(
        conn: Conn<'_>,
        identifier: &str,
    ) -> Result<Option<ProjectExtras>, StoreError> {
        let operation = "reading a project's extras";
        dispatch!(conn, Conn, connection => {
            let row: Option<(bool, bool, bool, bool, bool)> = sqlx::query_as(
                "SELECT south_south, triangular, joint_un, mptf, synthetic FROM activity_extra \
                 WHERE activity_identifier = $1",
            )
            .bind(identifier)
            .fetch_optional(&mut *connection)
            .await
            .map_err(StoreError::query(operation))?;
            let Some((south_south, triangular, joint_un, mptf, synthetic)) = row else {
                return Ok(None);
            };
            let areas: Vec<String> = sqlx::query_scalar(
                "SELECT policy_area FROM activity_policy_area WHERE activity_identifier = $1 ORDER BY policy_area",
            )
            .bind(identifier)
            .fetch_all(&mut *connection)
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
     country, partner_group, group_override, group_rule, rollup_code, synthetic, rollup_override \
     FROM partner";

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
    Option<String>,
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
        rollup_override,
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
        rollup_override,
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

/// A connection taken from the pool, for the readers that also run inside a saving
/// transaction.
pub(crate) enum PooledConn {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl PooledConn {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(connection) => Conn::Sqlite(connection),
            PooledConn::Postgres(connection) => Conn::Postgres(connection),
        }
    }
}

impl Store {
    pub(crate) async fn pooled(&self, operation: &'static str) -> Result<PooledConn, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => pool.acquire().await.map(PooledConn::Sqlite),
            Pool::Postgres(pool) => pool.acquire().await.map(PooledConn::Postgres),
        }
        .map_err(StoreError::query(operation))
    }
}

/// An audit event to write with a save, whose record "before" is read inside the saving
/// transaction ([`PlannedAudit::read`]) rather than ahead of it.
pub(crate) struct PlannedAudit<'a> {
    pub(crate) actor: &'a str,
    pub(crate) entity_kind: &'static str,
    pub(crate) entity_key: &'a str,
    pub(crate) action: &'static str,
    /// A save that makes a record (whose key must then be free) or changes one (which must be
    /// stored), checked against what the transaction reads; None checks nothing.
    pub(crate) mode: Option<SaveMode>,
    pub(crate) before: Before,
    pub(crate) after: serde_json::Value,
    /// The form field a taken key is said beside.
    pub(crate) key_field: &'static str,
}

/// Where the record "before" of an audit event comes from.
pub(crate) enum Before {
    /// Known without reading: a link that was empty.
    Known(Option<serde_json::Value>),
    Partner,
    Agreement,
    Partnership,
    /// The policy areas and markers of an activity.
    ProjectExtras,
    /// A programme or project as the workspace edits it.
    Project,
}

impl<'a> PlannedAudit<'a> {
    pub(crate) fn new(
        actor: &'a str,
        entity_kind: &'static str,
        entity_key: &'a str,
        before: Before,
        after: serde_json::Value,
    ) -> PlannedAudit<'a> {
        PlannedAudit {
            actor,
            entity_kind,
            entity_key,
            action: "edit",
            mode: None,
            before,
            after,
            key_field: "key",
        }
    }

    /// The event of a save in `mode`, checked against what is stored.
    pub(crate) fn checked(self, mode: SaveMode) -> PlannedAudit<'a> {
        PlannedAudit {
            action: mode.action(),
            mode: Some(mode),
            ..self
        }
    }

    /// Locks the record (PostgreSQL; a SQLite writer holds the whole database already), reads
    /// it as it stands, checks the save's mode against it and gives the event to write.
    pub(crate) async fn read(&self, mut conn: Conn<'_>) -> Result<AuditRecord<'a>, StoreError> {
        let operation = "reading the record before the change";
        let lock = match self.before {
            Before::Known(_) => None,
            Before::Partner => Some("SELECT id FROM partner WHERE key = $1 FOR UPDATE"),
            Before::Agreement => Some("SELECT id FROM agreement WHERE key = $1 FOR UPDATE"),
            Before::Partnership => Some("SELECT id FROM partnership WHERE key = $1 FOR UPDATE"),
            Before::ProjectExtras | Before::Project => {
                Some("SELECT id FROM activity WHERE iati_identifier = $1 FOR UPDATE")
            }
        };
        if let (Some(lock), Conn::Postgres(connection)) = (lock, conn.reborrow()) {
            sqlx::query(lock)
                .bind(self.entity_key)
                .execute(&mut *connection)
                .await
                .map_err(StoreError::query(operation))?;
        }
        let key = self.entity_key;
        let before = match &self.before {
            Before::Known(value) => value.clone(),
            Before::Partner => Store::read_partner(conn, key).await?.map(|stored| {
                let mut value = json!(stored.partner);
                value["rollup_override"] = json!(stored.rollup_override);
                value
            }),
            Before::Agreement => Store::read_agreement(conn, key).await?.map(
                |stored| json!({ "agreement": stored.agreement, "documents": stored.documents }),
            ),
            Before::Partnership => Store::read_partnership(conn, key).await?.map(|p| json!(p)),
            Before::ProjectExtras => Store::read_extras(conn, key).await?.map(|e| json!(e)),
            Before::Project => Store::read_project(conn, key)
                .await?
                .map(|stored| json!(stored.project)),
        };
        if let Some(mode) = self.mode {
            check_mode(
                mode,
                before.is_some(),
                self.entity_kind,
                key,
                self.key_field,
            )?;
        }
        Ok(AuditRecord {
            actor: self.actor,
            entity_kind: self.entity_kind,
            entity_key: self.entity_key,
            action: self.action,
            before,
            after: Some(self.after.clone()),
        })
    }
}

/// What a save writes beside the partnership records, in the same transaction.
#[derive(Default)]
pub(crate) struct Alongside<'a> {
    /// The document links of each agreement saved, replacing those it had.
    pub(crate) documents: &'a [(&'a str, &'a [AgreementDocument])],
    /// A partner's roll-up set by hand (`Some("")`: itself) or reset to the rules (`None`).
    pub(crate) rollup_override: Option<(&'a str, Option<String>)>,
    /// A programme or project made or edited in the workspace.
    pub(crate) activity: Option<WorkspaceActivity>,
}

/// The statement that opens a saving transaction: on SQLite it takes the write lock at once,
/// so that what the transaction reads first (the record "before") cannot change under it.
pub(crate) fn begin_writing(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

/// Stores a partner's roll-up set by hand, or resets it, and the roll-up in force that
/// follows: the code set, none for "itself", or the rules' answer.
pub(crate) async fn set_rollup_override(
    mut conn: Conn<'_>,
    partner_key: &str,
    rollup_override: Option<&str>,
) -> Result<(), StoreError> {
    let operation = "setting a partner's roll-up";
    let stored: Option<(Option<String>, String)> = dispatch!(conn.reborrow(), Conn, connection => {
        sqlx::query_as("SELECT iati_ref, partner_group FROM partner WHERE key = $1")
            .bind(partner_key)
            .fetch_optional(&mut *connection)
            .await
    })
    .map_err(StoreError::query(operation))?;
    let Some((iati_ref, group)) = stored else {
        return Err(StoreError::NotFound {
            what: "partner",
            key: partner_key.to_owned(),
        });
    };
    let in_force = match rollup_override {
        None => group.parse::<PartnerGroup>().ok().and_then(|group| {
            Rollups::bundled()
                .roll_up(iati_ref.as_deref(), group)
                .map(|target| target.code.clone())
        }),
        Some("") => None,
        Some(code) => Some(code.to_owned()),
    };
    dispatch!(conn, Conn, connection => {
        sqlx::query("UPDATE partner SET rollup_override = $1, rollup_code = $2 WHERE key = $3")
            .bind(rollup_override)
            .bind(in_force)
            .bind(partner_key)
            .execute(&mut *connection)
            .await
            .map(|_| ())
    })
    .map_err(StoreError::query(operation))?;
    Ok(())
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

fn taken(what: &str, field: &'static str) -> StoreError {
    StoreError::Invalid {
        field,
        message: format!("another {what} already has this key"),
    }
}

fn check_mode(
    mode: SaveMode,
    stored: bool,
    what: &'static str,
    key: &str,
    key_field: &'static str,
) -> Result<(), StoreError> {
    match (mode, stored) {
        (SaveMode::Create, true) => Err(taken(what, key_field)),
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
