//! Programmes and projects made and edited in the staff workspace. A project is stored exactly
//! as an imported activity is: the form becomes the reader's [`Activity`] and goes through the
//! import's own writer (`import.rs`) inside the workspace's saving transaction, with an import
//! run of its own that says where it came from, so its ledger entries, the portfolio rollup and
//! the search index follow as they do for a file, and every figure, page, download and export
//! sees it at once. Its budgets are converted to US dollars in that transaction, as an
//! agreement's amounts are.
//!
//! An activity read from a publisher's file keeps its XML as published; one made here has none
//! (it is rebuilt from the tables wherever XML is asked for). That is how the workspace tells
//! them apart: the core fields of an imported activity belong to its publisher's file, which a
//! new import would bring back, so only what the organisation adds (policy areas, markers) is
//! edited here.

use coopfolio_core::partnership::{ProjectExtras, ProjectMarkers};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_iati::model::{
    Activity, ActivityDate, Budget, Description, Narrative, OrganisationRef, ParticipatingOrg,
    RecipientCountry, RelatedActivity, Sector, Value,
};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::figures::ORGANISATION_REF;
use crate::import::{write_activities, write_ledger, BEGIN_RUN_SQL, FINISH_RUN_SQL};
use crate::partnership::{for_backend, PartnershipRecords};
use crate::rates::Converter;
use crate::records::{Alongside, Before, PlannedAudit, SaveMode};
use crate::rollup::{refresh_budget_facts, ActivitySelection, BudgetDelta, PortfolioDelta};
use crate::sql::{dispatch, Conn, StatementCache};
use crate::stats::parse_decimal;
use crate::{clock, Pool, Store, StoreError};

/// The reporting organisation of the workspace's projects when the `organisation_ref` setting
/// is not set: the same default `coopfolio export iati` uses.
pub const DEFAULT_ORGANISATION_REF: &str = "XI-DEMO-COOPFOLIO";

/// The reporting organisation's IATI OrganisationType when no stored activity gives it.
const ORGANISATION_TYPE: &str = "40";

/// How deep a chain of parent programmes is followed when looking for a loop.
const MAX_PARENT_CHAIN: usize = 64;

/// A programme or project as the workspace makes and edits it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffProject {
    /// The full IATI identifier: the organisation's identifier, a hyphen and a suffix.
    pub identifier: String,
    /// The title in English (required), French and Spanish (empty: not given).
    pub title: Names,
    /// The description in each language, empty where not given.
    pub description: Names,
    /// An IATI ActivityStatus code.
    pub status: String,
    pub planned_start: String,
    pub planned_end: Option<String>,
    /// The IATI identifier of the stored programme this project belongs to.
    pub parent: Option<String>,
    pub countries: Vec<Share>,
    /// DAC 5-digit sector codes.
    pub sectors: Vec<Share>,
    /// The keys of the partners that fund it, named as its funding organisations.
    pub funders: Vec<String>,
    pub budgets: Vec<ProjectBudget>,
    pub policy_areas: Vec<PolicyArea>,
    pub markers: ProjectMarkers,
}

/// A code with its share in per cent, where one is given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub code: String,
    #[serde(serialize_with = "optional_decimal_text")]
    pub percentage: Option<Decimal>,
}

/// One budget line: its period, an exact amount in its currency, and whether it is the
/// original budget or a revision (which replaces the original of the same period in figures).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectBudget {
    pub period_start: String,
    pub period_end: String,
    #[serde(serialize_with = "decimal_text")]
    pub amount: Decimal,
    pub currency: CurrencyCode,
    pub revised: bool,
}

/// A stored programme or project as the workspace shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredProject {
    pub project: StaffProject,
    /// Read from a publisher's IATI file: its core fields are not edited in the workspace.
    pub imported: bool,
    pub synthetic: bool,
}

/// A programme or project to write in a saving transaction (see [`Alongside`]).
pub(crate) struct WorkspaceActivity {
    activity: Activity,
    parent: Option<String>,
    mode: SaveMode,
    /// What the import run of the save is called, for the list of runs.
    label: String,
}

impl Store {
    /// The identifier every new programme or project starts with: the reporting organisation
    /// the IATI export uses (the `organisation_ref` setting).
    pub async fn project_identifier_prefix(&self) -> Result<String, StoreError> {
        Ok(self
            .setting(ORGANISATION_REF)
            .await?
            .unwrap_or_else(|| DEFAULT_ORGANISATION_REF.to_owned()))
    }

    /// One stored programme or project as the workspace edits it, if stored.
    pub async fn staff_project(
        &self,
        identifier: &str,
    ) -> Result<Option<StoredProject>, StoreError> {
        let mut connection = self.pooled("reading a programme or project").await?;
        Store::read_project(connection.conn(), identifier).await
    }

    /// Saves a programme or project made or changed in the workspace: its activity records,
    /// ledger entries, rollups, search entry, policy areas and markers, and its audit event, in
    /// one transaction. An activity imported from a publisher's file is refused.
    pub async fn save_staff_project(
        &self,
        project: &StaffProject,
        mode: SaveMode,
        actor: &str,
    ) -> Result<(), StoreError> {
        let (activity, extras) = self.workspace_activity(project, mode, actor).await?;
        self.save_audited_records(
            PartnershipRecords {
                project_extras: std::slice::from_ref(&extras),
                ..PartnershipRecords::default()
            },
            &[project.planned_audit(mode, actor)],
            &Alongside {
                activity: Some(activity),
                ..Alongside::default()
            },
        )
        .await
        .map(|_| ())
    }

    /// The activity and extras a project is stored as. The reporting organisation is named and
    /// typed as the organisation's other activities name it (else by its identifier alone),
    /// and each funder by its IATI identifier, type and English name.
    pub(crate) async fn workspace_activity(
        &self,
        project: &StaffProject,
        mode: SaveMode,
        actor: &str,
    ) -> Result<(WorkspaceActivity, ProjectExtras), StoreError> {
        let prefix = self.project_identifier_prefix().await?;
        // An activity stored before from code (the demo, a test) keeps the identifier it has.
        if mode == SaveMode::Create && !project.identifier.starts_with(&format!("{prefix}-")) {
            return Err(StoreError::Invalid {
                field: "identifier_suffix",
                message: format!("the identifier must start with the organisation's {prefix}-"),
            });
        }
        let mut totals = self.organisation_totals_head(&prefix).await?;
        // The IATI schema requires the reporting organisation's type. Before the organisation
        // has any activity to take it from, it is the type of the international organisations
        // this product serves: 40, multilateral.
        totals.1 = totals.1.or_else(|| Some(ORGANISATION_TYPE.to_owned()));
        let mut participating_orgs = Vec::new();
        for key in &project.funders {
            let partner = self
                .staff_partner(key)
                .await?
                .ok_or_else(|| StoreError::Invalid {
                    field: "funder_0_partner",
                    message: format!("no partner has the key '{key}'"),
                })?;
            participating_orgs.push(ParticipatingOrg {
                reference: partner.partner.iati_ref.clone(),
                kind: partner.partner.organisation_type.clone(),
                role: Some("1".to_owned()),
                names: vec![english(&partner.partner.names.en)],
                ..ParticipatingOrg::default()
            });
        }
        let reporting = OrganisationRef {
            reference: Some(prefix.clone()),
            kind: totals.1.clone(),
            names: vec![english(totals.0.as_deref().unwrap_or(&prefix))],
            activity_identifier: None,
        };
        // The organisation is accountable for what it reports: the IATI schema asks for at
        // least one participating organisation, and this one is always true.
        participating_orgs.push(ParticipatingOrg {
            reference: Some(prefix.clone()),
            kind: totals.1,
            role: Some("2".to_owned()),
            names: reporting.names.clone(),
            ..ParticipatingOrg::default()
        });
        let narratives = |names: &Names| -> Vec<Narrative> {
            [("en", &names.en), ("fr", &names.fr), ("es", &names.es)]
                .into_iter()
                .filter(|(_, text)| !text.trim().is_empty())
                .map(|(lang, text)| Narrative {
                    lang: Some(lang.to_owned()),
                    text: text.clone(),
                })
                .collect()
        };
        let description = narratives(&project.description);
        let mut dates = vec![ActivityDate {
            kind: "1".to_owned(),
            date: project.planned_start.clone(),
        }];
        if let Some(end) = &project.planned_end {
            dates.push(ActivityDate {
                kind: "3".to_owned(),
                date: end.clone(),
            });
        }
        let activity = Activity {
            identifier: project.identifier.clone(),
            default_currency: project
                .budgets
                .first()
                .map(|budget| budget.currency.as_str().to_owned()),
            default_lang: Some("en".to_owned()),
            last_updated: Some(clock::utc_now()),
            hierarchy: Some(if project.parent.is_some() { 2 } else { 1 }),
            reporting_org: Some(reporting),
            titles: narratives(&project.title),
            descriptions: if description.is_empty() {
                Vec::new()
            } else {
                vec![Description {
                    kind: Some("1".to_owned()),
                    narratives: description,
                }]
            },
            participating_orgs,
            status: Some(project.status.clone()),
            dates,
            recipient_countries: project
                .countries
                .iter()
                .map(|share| RecipientCountry {
                    code: share.code.clone(),
                    percentage: share.percentage,
                })
                .collect(),
            sectors: project
                .sectors
                .iter()
                .map(|share| Sector {
                    code: share.code.clone(),
                    vocabulary: Some("1".to_owned()),
                    percentage: share.percentage,
                })
                .collect(),
            budgets: project
                .budgets
                .iter()
                .map(|budget| Budget {
                    kind: Some(if budget.revised { "2" } else { "1" }.to_owned()),
                    status: Some("1".to_owned()),
                    period_start: Some(budget.period_start.clone()),
                    period_end: Some(budget.period_end.clone()),
                    value: Some(Value {
                        amount: budget.amount,
                        currency: Some(budget.currency.as_str().to_owned()),
                        value_date: Some(budget.period_start.clone()),
                    }),
                })
                .collect(),
            related_activities: project
                .parent
                .iter()
                .map(|parent| RelatedActivity {
                    identifier: parent.clone(),
                    kind: Some("1".to_owned()),
                })
                .collect(),
            ..Activity::default()
        };
        // A demo project keeps its label when an officer edits it.
        let synthetic = self
            .staff_project_extras(&project.identifier)
            .await?
            .synthetic;
        let extras = ProjectExtras {
            activity_identifier: project.identifier.clone(),
            policy_areas: project.policy_areas.clone(),
            markers: project.markers,
            synthetic,
        };
        Ok((
            WorkspaceActivity {
                activity,
                parent: project.parent.clone(),
                mode,
                label: format!("staff workspace: {} saved by {actor}", project.identifier),
            },
            extras,
        ))
    }

    /// The reporting organisation's name and type as its stored activities give them.
    async fn organisation_totals_head(
        &self,
        organisation_ref: &str,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let head: Option<(Option<String>, Option<String>)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT reporting_org_name, reporting_org_type FROM activity \
                 WHERE reporting_org_ref = $1 AND reporting_org_name IS NOT NULL ORDER BY id LIMIT 1",
            )
            .bind(organisation_ref)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query("reading the reporting organisation"))?;
        Ok(head.unwrap_or_default())
    }

    /// A stored activity as the workspace edits it, read on a given connection (inside a
    /// saving transaction, for the audit event's "before").
    pub(crate) async fn read_project(
        mut conn: Conn<'_>,
        identifier: &str,
    ) -> Result<Option<StoredProject>, StoreError> {
        let operation = "reading a programme or project";
        type Rows = (
            Vec<(String, Option<String>, String)>,
            Vec<(String, String)>,
            Vec<String>,
            Vec<(String, Option<String>)>,
            Vec<(String, Option<String>)>,
            Vec<String>,
            Vec<(
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            )>,
        );
        let head: Option<(i64, Option<String>, i64)> =
            dispatch!(conn.reborrow(), Conn, connection => {
                sqlx::query_as(
                    "SELECT a.id, a.status, (SELECT COUNT(*) FROM activity_xml x \
                     WHERE x.activity_id = a.id AND length(x.raw_xml) > 0) \
                     FROM activity a WHERE a.iati_identifier = $1",
                )
                .bind(identifier)
                .fetch_optional(&mut *connection)
                .await
            })
            .map_err(StoreError::query(operation))?;
        let Some((id, status, kept_xml)) = head else {
            return Ok(None);
        };
        let (narratives, dates, parents, countries, sectors, funders, budgets): Rows = dispatch!(conn.reborrow(), Conn, connection => {
            let narratives = sqlx::query_as(
                "SELECT element, lang, text FROM activity_narrative \
                 WHERE activity_id = $1 AND element_index = 0 ORDER BY position",
            )
            .bind(id).fetch_all(&mut *connection).await.map_err(StoreError::query(operation))?;
            let dates = sqlx::query_as(
                "SELECT type, date FROM activity_date WHERE activity_id = $1 ORDER BY position",
            )
            .bind(id).fetch_all(&mut *connection).await.map_err(StoreError::query(operation))?;
            let parents = sqlx::query_scalar(
                "SELECT iati_identifier FROM related_activity WHERE activity_id = $1 AND type = '1' \
                 ORDER BY position",
            )
            .bind(id).fetch_all(&mut *connection).await.map_err(StoreError::query(operation))?;
            let countries = sqlx::query_as(
                "SELECT code, CAST(percentage AS TEXT) FROM recipient_country \
                 WHERE activity_id = $1 ORDER BY position",
            )
            .bind(id).fetch_all(&mut *connection).await.map_err(StoreError::query(operation))?;
            let sectors = sqlx::query_as(
                "SELECT code, CAST(percentage AS TEXT) FROM sector WHERE activity_id = $1 \
                 AND (vocabulary IS NULL OR vocabulary = '1') ORDER BY position",
            )
            .bind(id).fetch_all(&mut *connection).await.map_err(StoreError::query(operation))?;
            // A funder is known by its IATI identifier, else by its English name.
            let funders = sqlx::query_scalar(
                "SELECT p.key FROM participating_org o JOIN partner p \
                 ON p.iati_ref = o.ref OR (o.ref IS NULL AND p.name_en = o.name) \
                 WHERE o.activity_id = $1 AND o.role = '1' ORDER BY o.position, p.key",
            )
            .bind(id).fetch_all(&mut *connection).await.map_err(StoreError::query(operation))?;
            let budgets = sqlx::query_as(
                "SELECT type, period_start, period_end, CAST(value AS TEXT), currency FROM budget \
                 WHERE activity_id = $1 ORDER BY id",
            )
            .bind(id).fetch_all(&mut *connection).await.map_err(StoreError::query(operation))?;
            (narratives, dates, parents, countries, sectors, funders, budgets)
        });
        let extras = Store::read_extras(conn, identifier).await?;
        let blank = || Names {
            en: String::new(),
            fr: String::new(),
            es: String::new(),
        };
        let mut title = blank();
        let mut description = blank();
        for (element, lang, text) in narratives {
            let names = if element == "title" {
                &mut title
            } else {
                &mut description
            };
            let slot = match lang.as_deref() {
                Some("fr") => &mut names.fr,
                Some("es") => &mut names.es,
                _ => &mut names.en,
            };
            if slot.is_empty() {
                *slot = text;
            }
        }
        let date_of = |kind: &str| {
            dates
                .iter()
                .find(|(date_kind, _)| date_kind == kind)
                .map(|(_, date)| date.clone())
        };
        let shares = |rows: Vec<(String, Option<String>)>| -> Result<Vec<Share>, StoreError> {
            rows.into_iter()
                .map(|(code, percentage)| {
                    Ok(Share {
                        code,
                        percentage: percentage
                            .as_deref()
                            .map(|text| parse_decimal(text, operation))
                            .transpose()?,
                    })
                })
                .collect()
        };
        let mut funder_keys: Vec<String> = Vec::new();
        for key in funders {
            if !funder_keys.contains(&key) {
                funder_keys.push(key);
            }
        }
        let mut project_budgets = Vec::new();
        for (kind, start, end, value, currency) in budgets {
            // A budget line without a period, a value or a known currency is not one the
            // workspace form can show; the activity's own pages still show it.
            let (Some(start), Some(end), Some(value), Some(currency)) =
                (start, end, value, currency)
            else {
                continue;
            };
            let Ok(currency) = CurrencyCode::parse(&currency) else {
                continue;
            };
            project_budgets.push(ProjectBudget {
                period_start: start,
                period_end: end,
                amount: parse_decimal(&value, operation)?,
                currency,
                revised: kind.as_deref() == Some("2"),
            });
        }
        let project = StaffProject {
            identifier: identifier.to_owned(),
            title,
            description,
            status: status.unwrap_or_default(),
            planned_start: date_of("1").or_else(|| date_of("2")).unwrap_or_default(),
            planned_end: date_of("3").or_else(|| date_of("4")),
            parent: parents.into_iter().next(),
            countries: shares(countries)?,
            sectors: shares(sectors)?,
            funders: funder_keys,
            budgets: project_budgets,
            policy_areas: extras
                .as_ref()
                .map(|e| e.policy_areas.clone())
                .unwrap_or_default(),
            markers: extras.as_ref().map(|e| e.markers).unwrap_or_default(),
        };
        Ok(Some(StoredProject {
            project,
            imported: kept_xml > 0,
            synthetic: extras.is_some_and(|e| e.synthetic),
        }))
    }
}

impl StaffProject {
    /// The audit event of saving this project, its "before" read in the saving transaction.
    pub(crate) fn planned_audit<'a>(&'a self, mode: SaveMode, actor: &'a str) -> PlannedAudit<'a> {
        PlannedAudit {
            key_field: "identifier_suffix",
            ..PlannedAudit::new(
                actor,
                "project",
                &self.identifier,
                Before::Project,
                json!(self),
            )
            .checked(mode)
        }
    }
}

impl WorkspaceActivity {
    /// Writes the activity in the saving transaction as an import of one activity would:
    /// refuses to change an imported activity and a parent that is missing or would make a
    /// loop, then stores it under an import run of its own with its ledger entries (converted
    /// where a rate is known), its share of the portfolio rollup and, on SQLite, its search
    /// entry.
    pub(crate) async fn write(
        &self,
        mut conn: Conn<'_>,
        converter: &Converter,
        portfolio: &mut PortfolioDelta,
    ) -> Result<(), StoreError> {
        let operation = "saving a programme or project";
        let identifier = self.activity.identifier.as_str();
        if self.mode == SaveMode::Edit {
            let imported: Option<i64> = dispatch!(conn.reborrow(), Conn, connection => {
                sqlx::query_scalar(
                    "SELECT a.id FROM activity a JOIN activity_xml x ON x.activity_id = a.id \
                     WHERE a.iati_identifier = $1 AND length(x.raw_xml) > 0",
                )
                .bind(identifier)
                .fetch_optional(&mut *connection)
                .await
            })
            .map_err(StoreError::query(operation))?;
            if imported.is_some() {
                return Err(StoreError::Invalid {
                    field: "identifier",
                    message: "this activity comes from a publisher's IATI file; only its policy \
                              areas and markers are edited here"
                        .to_owned(),
                });
            }
        }
        if let Some(parent) = &self.parent {
            check_parent(conn.reborrow(), identifier, parent).await?;
        }
        let import_run_id: i64 = dispatch!(conn.reborrow(), Conn, connection => {
            sqlx::query_scalar(BEGIN_RUN_SQL)
                .bind(&self.label)
                .bind(clock::utc_now())
                .bind(0_i64)
                .fetch_one(&mut *connection)
                .await
        })
        .map_err(StoreError::query(operation))?;
        let mut statements = StatementCache::default();
        let mut budget = BudgetDelta::default();
        let replaced = write_activities(
            conn.reborrow(),
            &mut statements,
            (portfolio, &mut budget),
            import_run_id,
            vec![self.activity.clone()],
        )
        .await?;
        write_ledger(conn.reborrow(), import_run_id).await?;
        convert_run_ledger(conn.reborrow(), import_run_id, converter).await?;
        // The budget facts the writer kept counted only what was in US dollars; the budgets
        // just converted are read back into them before the rollup takes its share.
        let written: Vec<i64> = dispatch!(conn.reborrow(), Conn, connection => {
            sqlx::query_scalar("SELECT id FROM activity WHERE import_run_id = $1")
                .bind(import_run_id)
                .fetch_all(&mut *connection)
                .await
        })
        .map_err(StoreError::query(operation))?;
        refresh_budget_facts(
            conn.reborrow(),
            ActivitySelection::Ids(&written),
            false,
            &mut budget,
        )
        .await?;
        if let Conn::Sqlite(connection) = conn.reborrow() {
            sqlx::query(crate::search::INDEX_IMPORT_RUN_SQL)
                .bind(import_run_id)
                .execute(&mut *connection)
                .await
                .map_err(StoreError::query(
                    "indexing titles and descriptions for search",
                ))?;
        }
        let _counts: (i64, i64, i64, i64) = dispatch!(conn.reborrow(), Conn, connection => {
            sqlx::query_as(FINISH_RUN_SQL)
                .bind(import_run_id)
                .bind(clock::utc_now())
                .bind(0_i64)
                .bind(replaced as i64)
                .bind(0_i64)
                .fetch_one(&mut *connection)
                .await
        })
        .map_err(StoreError::query(operation))?;
        budget.settle_and_apply(conn, import_run_id).await
    }
}

/// A project's parent must be a stored activity other than the project, and following parents
/// up from it must never come back to the project: a loop would leave every budget in it to a
/// parent that is itself left to another, and the figures would count none of them.
async fn check_parent(
    mut conn: Conn<'_>,
    identifier: &str,
    parent: &str,
) -> Result<(), StoreError> {
    let operation = "checking a parent programme";
    let invalid = |message: &str| StoreError::Invalid {
        field: "parent",
        message: message.to_owned(),
    };
    if parent == identifier {
        return Err(invalid("a programme or project cannot be its own parent"));
    }
    let stored: Option<i64> = dispatch!(conn.reborrow(), Conn, connection => {
        sqlx::query_scalar("SELECT id FROM activity WHERE iati_identifier = $1")
            .bind(parent)
            .fetch_optional(&mut *connection)
            .await
    })
    .map_err(StoreError::query(operation))?;
    if stored.is_none() {
        return Err(invalid("no stored programme has this identifier"));
    }
    let mut current = parent.to_owned();
    for _ in 0..MAX_PARENT_CHAIN {
        let next: Option<String> = dispatch!(conn.reborrow(), Conn, connection => {
            sqlx::query_scalar(
                "SELECT r.iati_identifier FROM related_activity r \
                 JOIN activity a ON a.id = r.activity_id \
                 WHERE a.iati_identifier = $1 AND r.type = '1' ORDER BY r.position LIMIT 1",
            )
            .bind(&current)
            .fetch_optional(&mut *connection)
            .await
        })
        .map_err(StoreError::query(operation))?;
        match next {
            Some(next) if next == identifier => {
                return Err(invalid(
                    "this programme belongs to the project already: the two would be each other's parent",
                ))
            }
            Some(next) => current = next,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// Converts the ledger entries of an import run that wait for a rate, with the rates at hand:
/// the import leaves currencies other than US dollars to `reconvert_ledger`, and a project
/// saved from the workspace should count at once.
async fn convert_run_ledger(
    mut conn: Conn<'_>,
    import_run_id: i64,
    converter: &Converter,
) -> Result<(), StoreError> {
    let operation = "converting a project's budgets to US dollars";
    let backend = conn.backend();
    let rows: Vec<(i64, String, Option<String>, Option<String>)> =
        dispatch!(conn.reborrow(), Conn, connection => {
            sqlx::query_as(
                "SELECT l.id, CAST(l.amount AS TEXT), l.currency, l.date FROM ledger_entry l \
                 JOIN activity a ON a.id = l.activity_id \
                 WHERE a.import_run_id = $1 AND l.conversion_status = 'no_rate'",
            )
            .bind(import_run_id)
            .fetch_all(&mut *connection)
            .await
        })
        .map_err(StoreError::query(operation))?;
    let update = for_backend(
        backend,
        "UPDATE ledger_entry SET usd_amount = $1::numeric, usd_rate = $2::numeric, \
         rate_date = $3, rate_source = $4, conversion_status = 'converted' WHERE id = $5",
    );
    for (id, amount, currency, date) in rows {
        let (Some(currency), Some(date)) = (currency, date) else {
            continue;
        };
        let amount = parse_decimal(&amount, operation)?;
        if let coopfolio_core::rates::Conversion::Converted {
            usd,
            rate,
            rate_period,
            source,
            ..
        } = converter.to_usd(amount, &currency, &date)
        {
            dispatch!(conn.reborrow(), Conn, connection => {
                sqlx::query(&update)
                    .bind(usd.to_string())
                    .bind(rate.to_string())
                    .bind(rate_period.to_string())
                    .bind(source.to_string())
                    .bind(id)
                    .execute(&mut *connection)
                    .await
                    .map(|_| ())
            })
            .map_err(StoreError::query(operation))?;
        }
    }
    Ok(())
}

fn english(text: &str) -> Narrative {
    Narrative {
        lang: Some("en".to_owned()),
        text: text.to_owned(),
    }
}

fn decimal_text<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(amount)
}

fn optional_decimal_text<S: Serializer>(
    amount: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match amount {
        Some(amount) => serializer.collect_str(amount),
        None => serializer.serialize_none(),
    }
}
