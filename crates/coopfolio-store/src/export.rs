//! What an IATI export reads: activities page by page, and the organisation file's totals.
//!
//! [`ActivityExport`] walks the `activity` table in keyset pages of [`EXPORT_PAGE`] rows, so
//! that an export of any size holds one page in memory, never the table. Each activity comes out
//! either as the XML the importer kept ([`ExportedActivity::Raw`], for `--all`, where the
//! published bytes are the faithful record) or rebuilt from the tables as the reader's
//! [`Activity`] ([`ExportedActivity::Model`], for the organisation's own portfolio, whose tables
//! are what the organisation maintains). The children of a page are read with one query per
//! table over the page's id range, not one per activity.
//!
//! [`Store::organisation_totals`] gives the organisation file its total budget and total
//! expenditure per calendar year, in US dollars from the funding ledger, under the rules the
//! portal's figures follow: a revised budget replaces the original of the same period, and a
//! project whose parent programme is stored is left to the parent.

use std::collections::{BTreeMap, HashMap};

use coopfolio_iati::model::{
    Activity, ActivityDate, AidType, Budget, Description, Narrative, OrganisationRef,
    ParticipatingOrg, RecipientCountry, RecipientRegion, RelatedActivity, Sector, Transaction,
    Value,
};
use rust_decimal::Decimal;

use crate::sql::dispatch;
use crate::stats::parse_decimal;
use crate::{Pool, Store, StoreError};

/// Activities per page of an export.
pub const EXPORT_PAGE: i64 = 200;

/// Which activities an export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportSelection {
    /// The activities whose reporting organisation has this IATI identifier, rebuilt from the
    /// tables.
    ReportedBy(String),
    /// Every activity, as its kept XML where there is some.
    All,
}

/// One activity of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportedActivity {
    /// The `<iati-activity>` element exactly as it was imported.
    Raw { identifier: String, xml: Vec<u8> },
    /// The activity as the tables hold it.
    Model(Box<Activity>),
}

impl ExportedActivity {
    pub fn identifier(&self) -> &str {
        match self {
            ExportedActivity::Raw { identifier, .. } => identifier,
            ExportedActivity::Model(activity) => &activity.identifier,
        }
    }
}

/// A cursor over the activities of an export; see [`Store::export_activities`].
pub struct ActivityExport<'s> {
    store: &'s Store,
    selection: ExportSelection,
    after_id: i64,
    finished: bool,
}

/// The organisation file's figures: total budget and total expenditure per calendar year.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationTotals {
    /// The organisation's name as its activities give it, if they do.
    pub name: Option<String>,
    /// Its IATI OrganisationType, as its activities give it.
    pub organisation_type: Option<String>,
    /// Year and US dollars, by year.
    pub budgets: Vec<(i32, Decimal)>,
    pub expenditures: Vec<(i32, Decimal)>,
    /// Ledger entries without a US dollar amount, left out of the totals.
    pub entries_without_rate: u64,
}

impl Store {
    /// Starts an export; call [`ActivityExport::next_page`] until it returns `None`.
    pub fn export_activities(&self, selection: ExportSelection) -> ActivityExport<'_> {
        ActivityExport {
            store: self,
            selection,
            after_id: 0,
            finished: false,
        }
    }

    /// How many activities an export of `selection` will hold, for a progress bar.
    pub async fn export_count(&self, selection: &ExportSelection) -> Result<u64, StoreError> {
        let count: i64 = dispatch!(&self.pool, Pool, pool => {
            match selection {
                ExportSelection::All => sqlx::query_scalar("SELECT COUNT(*) FROM activity")
                    .fetch_one(pool).await,
                ExportSelection::ReportedBy(reference) => sqlx::query_scalar(
                    "SELECT COUNT(*) FROM activity WHERE reporting_org_ref = $1")
                    .bind(reference).fetch_one(pool).await,
            }
        })
        .map_err(StoreError::query("counting the activities to export"))?;
        Ok(count.max(0) as u64)
    }

    /// Total budget and expenditure per year of the activities `organisation_ref` reports.
    pub async fn organisation_totals(
        &self,
        organisation_ref: &str,
    ) -> Result<OrganisationTotals, StoreError> {
        let operation = "totalling the organisation's budgets and expenditure";
        let head: Option<(Option<String>, Option<String>)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT reporting_org_name, reporting_org_type FROM activity \
                 WHERE reporting_org_ref = $1 AND reporting_org_name IS NOT NULL ORDER BY id LIMIT 1",
            )
            .bind(organisation_ref)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        let (name, organisation_type) = head.unwrap_or_default();
        let mut budgets = BTreeMap::new();
        let mut expenditures = BTreeMap::new();
        let mut entries_without_rate = 0;
        // Budgets by the year their period starts; transactions by their date.
        let budget_sql = format!(
            "SELECT l.id, b.period_start, CAST(l.usd_amount AS TEXT) FROM ledger_entry l \
             JOIN budget b ON b.id = l.source_id JOIN activity a ON a.id = l.activity_id \
             WHERE l.kind = 'budget' AND l.source_table = 'budget' AND a.reporting_org_ref = $1 \
             AND l.id > $2 \
             AND NOT (COALESCE(b.type, '1') <> '2' AND EXISTS (SELECT 1 FROM budget revised \
                 WHERE revised.activity_id = b.activity_id AND revised.type = '2' \
                 AND revised.period_start = b.period_start)) \
             AND {NO_STORED_PARENT} ORDER BY l.id LIMIT $3"
        );
        let expenditure_sql = format!(
            "SELECT l.id, l.date, CAST(l.usd_amount AS TEXT) FROM ledger_entry l \
             JOIN activity a ON a.id = l.activity_id \
             WHERE (l.kind = 'disbursement' OR l.kind = 'expenditure') \
             AND a.reporting_org_ref = $1 AND l.id > $2 AND {NO_STORED_PARENT} \
             ORDER BY l.id LIMIT $3"
        );
        for (sql, totals) in [
            (&budget_sql, &mut budgets),
            (&expenditure_sql, &mut expenditures),
        ] {
            let mut after_id = 0_i64;
            loop {
                let page: Vec<(i64, Option<String>, Option<String>)> =
                    dispatch!(&self.pool, Pool, pool => {
                        sqlx::query_as(sql)
                            .bind(organisation_ref)
                            .bind(after_id)
                            .bind(LEDGER_PAGE)
                            .fetch_all(pool)
                            .await
                    })
                    .map_err(StoreError::query(operation))?;
                let Some(last) = page.last() else { break };
                after_id = last.0;
                let full = page.len() as i64 == LEDGER_PAGE;
                for (_, date, usd) in page {
                    let year = date
                        .as_deref()
                        .and_then(|date| date.get(..4))
                        .and_then(|year| year.parse::<i32>().ok());
                    match (year, usd) {
                        (Some(year), Some(usd)) => {
                            let total: &mut Decimal = totals.entry(year).or_default();
                            *total += parse_decimal(&usd, operation)?;
                        }
                        _ => entries_without_rate += 1,
                    }
                }
                if !full {
                    break;
                }
            }
        }
        Ok(OrganisationTotals {
            name,
            organisation_type,
            budgets: budgets.into_iter().collect(),
            expenditures: expenditures.into_iter().collect(),
            entries_without_rate,
        })
    }
}

impl Store {
    /// One activity by its IATI identifier, as `export_by_ids` gives it: the project page's
    /// IATI download. `None` when no activity has that identifier.
    pub async fn export_by_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<ExportedActivity>, StoreError> {
        let id: Option<i64> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar("SELECT id FROM activity WHERE iati_identifier = $1")
                .bind(identifier)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("finding the activity to export"))?;
        match id {
            Some(id) => Ok(self.export_by_ids(&[id]).await?.pop()),
            None => Ok(None),
        }
    }

    /// The activities with these ids, in the order given: each as its kept XML where the
    /// importer kept some, else rebuilt from the tables. An id whose activity is gone (replaced
    /// since the ids were read) is left out. The portal's IATI download reads a view this way,
    /// a page of ids at a time.
    pub async fn export_by_ids(&self, ids: &[i64]) -> Result<Vec<ExportedActivity>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = crate::portal::id_list(ids);
        let rows: Vec<(i64, String, Option<Vec<u8>>)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(&format!(
                "SELECT a.id, a.iati_identifier, x.raw_xml FROM activity a \
                 LEFT JOIN activity_xml x ON x.activity_id = a.id WHERE a.id IN ({list})"
            ))
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("reading activities to export"))?;
        // Kept XML that is empty (an activity stored from code rather than read from a file)
        // is no XML at all: such an activity is rebuilt from the tables like the others.
        let rows = rows
            .into_iter()
            .map(|(id, identifier, xml)| {
                let xml = xml.map(crate::import::unpack_raw_xml).transpose()?;
                Ok((
                    id,
                    identifier,
                    xml.filter(|xml| !xml.trim_ascii().is_empty()),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut to_rebuild: Vec<i64> = rows
            .iter()
            .filter(|row| row.2.is_none())
            .map(|row| row.0)
            .collect();
        to_rebuild.sort_unstable();
        let mut rebuilt = self.rebuild_activities(&to_rebuild).await?;
        let mut found: HashMap<i64, ExportedActivity> = HashMap::with_capacity(rows.len());
        for (id, identifier, xml) in rows {
            let activity = match xml {
                Some(xml) => ExportedActivity::Raw { identifier, xml },
                None => match rebuilt.remove(&id) {
                    Some(activity) => ExportedActivity::Model(Box::new(activity)),
                    None => continue,
                },
            };
            found.insert(id, activity);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}

/// Ledger rows per page when the organisation's totals are summed.
const LEDGER_PAGE: i64 = 5_000;

/// Leaves out a project whose parent programme is stored, as the portal's figures do.
const NO_STORED_PARENT: &str = "NOT EXISTS (SELECT 1 FROM related_activity r \
     JOIN activity parent ON parent.iati_identifier = r.iati_identifier \
     WHERE r.activity_id = a.id AND r.type = '1')";

impl ActivityExport<'_> {
    /// The next page of activities, in the order they were stored; `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<Vec<ExportedActivity>>, StoreError> {
        if self.finished {
            return Ok(None);
        }
        let operation = "reading activities to export";
        let rows: Vec<(i64, String, Option<Vec<u8>>)> = dispatch!(&self.store.pool, Pool, pool => {
            match &self.selection {
                ExportSelection::All => sqlx::query_as(
                    "SELECT a.id, a.iati_identifier, x.raw_xml FROM activity a \
                     LEFT JOIN activity_xml x ON x.activity_id = a.id \
                     WHERE a.id > $1 ORDER BY a.id LIMIT $2")
                    .bind(self.after_id).bind(EXPORT_PAGE).fetch_all(pool).await,
                ExportSelection::ReportedBy(reference) => sqlx::query_as::<_, (i64, String)>(
                    "SELECT id, iati_identifier FROM activity \
                     WHERE id > $1 AND reporting_org_ref = $3 ORDER BY id LIMIT $2")
                    .bind(self.after_id).bind(EXPORT_PAGE).bind(reference).fetch_all(pool).await
                    .map(|rows| rows.into_iter().map(|(id, identifier)| (id, identifier, None)).collect()),
            }
        })
        .map_err(StoreError::query(operation))?;
        // As in `export_by_ids`: empty kept XML (a project made in the staff workspace) is
        // no XML, and the activity is rebuilt from the tables.
        let rows = rows
            .into_iter()
            .map(|(id, identifier, xml)| {
                let xml = xml.map(crate::import::unpack_raw_xml).transpose()?;
                Ok((
                    id,
                    identifier,
                    xml.filter(|xml| !xml.trim_ascii().is_empty()),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let Some(last) = rows.last() else {
            self.finished = true;
            return Ok(None);
        };
        self.after_id = last.0;
        if (rows.len() as i64) < EXPORT_PAGE {
            self.finished = true;
        }
        let to_rebuild: Vec<i64> = rows
            .iter()
            .filter(|row| row.2.is_none())
            .map(|row| row.0)
            .collect();
        let mut rebuilt = self.store.rebuild_activities(&to_rebuild).await?;
        Ok(Some(
            rows.into_iter()
                .filter_map(|(id, identifier, xml)| match xml {
                    Some(xml) => Some(ExportedActivity::Raw { identifier, xml }),
                    None => rebuilt
                        .remove(&id)
                        .map(|activity| ExportedActivity::Model(Box::new(activity))),
                })
                .collect(),
        ))
    }
}

/// The columns of `activity` an export reads.
#[derive(sqlx::FromRow)]
struct ActivityRow {
    id: i64,
    iati_identifier: String,
    reporting_org_ref: Option<String>,
    reporting_org_type: Option<String>,
    reporting_org_name: Option<String>,
    default_currency: Option<String>,
    default_lang: Option<String>,
    hierarchy: Option<i64>,
    status: Option<String>,
    collaboration_type: Option<String>,
    default_flow_type: Option<String>,
    default_finance_type: Option<String>,
    default_tied_status: Option<String>,
    humanitarian: Option<bool>,
    last_updated: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TransactionRow {
    activity_id: i64,
    reference: Option<String>,
    kind: Option<String>,
    kind_as_written: Option<String>,
    date: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    value_date: Option<String>,
    provider_org_ref: Option<String>,
    provider_org_type: Option<String>,
    provider_org_name: Option<String>,
    provider_activity_identifier: Option<String>,
    receiver_org_ref: Option<String>,
    receiver_org_type: Option<String>,
    receiver_org_name: Option<String>,
    receiver_activity_identifier: Option<String>,
    description: Option<String>,
    flow_type: Option<String>,
    finance_type: Option<String>,
    tied_status: Option<String>,
    aid_type: Option<String>,
    aid_type_vocabulary: Option<String>,
    humanitarian: Option<bool>,
}

type NarrativeRow = (i64, String, i64, Option<String>, Option<String>, String);
type CodeRow = (i64, String, Option<String>);
type ShareRow = (i64, String, Option<String>, Option<String>);
type OrgRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
type BudgetRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Everything the tables hold of a page's activities, one query per table.
struct PageRows {
    activities: Vec<ActivityRow>,
    narratives: Vec<NarrativeRow>,
    aid_types: Vec<CodeRow>,
    orgs: Vec<OrgRow>,
    dates: Vec<(i64, String, String)>,
    countries: Vec<(i64, String, Option<String>)>,
    regions: Vec<ShareRow>,
    sectors: Vec<ShareRow>,
    related: Vec<(i64, Option<String>, String)>,
    budgets: Vec<BudgetRow>,
    transactions: Vec<TransactionRow>,
}

impl Store {
    /// Rebuilds the activities with these ids (sorted ascending) from the tables.
    async fn rebuild_activities(&self, ids: &[i64]) -> Result<HashMap<i64, Activity>, StoreError> {
        let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
            return Ok(HashMap::new());
        };
        // A page of the whole table is a dense run of ids, read as a range; the ids of a
        // filtered view are scattered, and a range over them could span the whole table, so
        // they are listed. Ids are integers from the database, safe to write inline.
        let within = if last - first < 2 * ids.len() as i64 {
            format!("BETWEEN {first} AND {last}")
        } else {
            format!("IN ({})", crate::portal::id_list(ids))
        };
        let rows: PageRows = dispatch!(&self.pool, Pool, pool => async {
            Ok::<_, sqlx::Error>(PageRows {
                activities: sqlx::query_as(&format!(
                    "SELECT id, iati_identifier, reporting_org_ref, reporting_org_type, \
                     reporting_org_name, default_currency, default_lang, hierarchy, status, \
                     collaboration_type, default_flow_type, default_finance_type, \
                     default_tied_status, humanitarian, last_updated FROM activity \
                     WHERE id {within} ORDER BY id"))
                    .fetch_all(pool).await?,
                narratives: sqlx::query_as(&format!("SELECT activity_id, element, element_index, description_type, \
                     lang, text FROM activity_narrative WHERE activity_id {within} ORDER BY activity_id, position"))
                    .fetch_all(pool).await?,
                aid_types: sqlx::query_as(&format!("SELECT activity_id, code, vocabulary FROM activity_default_aid_type \
                     WHERE activity_id {within} ORDER BY activity_id, position"))
                    .fetch_all(pool).await?,
                orgs: sqlx::query_as(&format!("SELECT activity_id, role, type, ref, activity_identifier, \
                     crs_channel_code, name FROM participating_org WHERE activity_id {within} ORDER BY activity_id, position"))
                    .fetch_all(pool).await?,
                dates: sqlx::query_as(&format!("SELECT activity_id, type, date FROM activity_date \
                     WHERE activity_id {within} ORDER BY activity_id, position"))
                    .fetch_all(pool).await?,
                countries: sqlx::query_as(&format!("SELECT activity_id, code, CAST(percentage AS TEXT) \
                     FROM recipient_country WHERE activity_id {within} \
                     ORDER BY activity_id, position"))
                    .fetch_all(pool).await?,
                regions: sqlx::query_as(&format!("SELECT activity_id, code, vocabulary, CAST(percentage AS TEXT) \
                     FROM recipient_region WHERE activity_id {within} \
                     ORDER BY activity_id, position"))
                    .fetch_all(pool).await?,
                sectors: sqlx::query_as(&format!("SELECT activity_id, code, vocabulary, CAST(percentage AS TEXT) \
                     FROM sector WHERE activity_id {within} \
                     ORDER BY activity_id, position"))
                    .fetch_all(pool).await?,
                related: sqlx::query_as(&format!("SELECT activity_id, type, iati_identifier FROM related_activity \
                     WHERE activity_id {within} ORDER BY activity_id, position"))
                    .fetch_all(pool).await?,
                budgets: sqlx::query_as(&format!("SELECT activity_id, type, status, period_start, period_end, \
                     CAST(value AS TEXT), currency, value_date FROM budget \
                     WHERE activity_id {within} ORDER BY activity_id, id"))
                    .fetch_all(pool).await?,
                transactions: sqlx::query_as(&format!(
                    "SELECT activity_id, ref AS reference, type AS kind, \
                     type_as_written AS kind_as_written, date, CAST(value AS TEXT) AS amount, \
                     currency, value_date, provider_org_ref, provider_org_type, \
                     provider_org_name, provider_activity_identifier, receiver_org_ref, \
                     receiver_org_type, receiver_org_name, receiver_activity_identifier, \
                     description, flow_type, finance_type, tied_status, aid_type, \
                     aid_type_vocabulary, humanitarian FROM \"transaction\" \
                     WHERE activity_id {within} ORDER BY activity_id, id"))
                    .fetch_all(pool).await?,
            })
        }.await)
        .map_err(StoreError::query("reading the activities to export"))?;
        assemble(ids, rows)
    }
}

/// Puts a page's rows together into activities; rows of activities outside `ids` (those in the
/// id range that the selection left out) are dropped.
fn assemble(ids: &[i64], rows: PageRows) -> Result<HashMap<i64, Activity>, StoreError> {
    let operation = "rebuilding activities to export";
    let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let mut activities: HashMap<i64, Activity> = HashMap::with_capacity(ids.len());
    for row in rows.activities {
        if !wanted.contains(&row.id) {
            continue;
        }
        let lang = row.default_lang.clone();
        let reporting_org = (row.reporting_org_ref.is_some()
            || row.reporting_org_type.is_some()
            || row.reporting_org_name.is_some())
        .then(|| OrganisationRef {
            reference: row.reporting_org_ref,
            kind: row.reporting_org_type,
            names: one_name(row.reporting_org_name, &lang),
            activity_identifier: None,
        });
        activities.insert(
            row.id,
            Activity {
                identifier: row.iati_identifier,
                default_currency: row.default_currency,
                default_lang: row.default_lang,
                last_updated: row.last_updated,
                hierarchy: row.hierarchy,
                humanitarian: row.humanitarian,
                reporting_org,
                status: row.status,
                collaboration_type: row.collaboration_type,
                default_flow_type: row.default_flow_type,
                default_finance_type: row.default_finance_type,
                default_tied_status: row.default_tied_status,
                ..Activity::default()
            },
        );
    }
    for (id, element, index, description_type, lang, text) in rows.narratives {
        let Some(activity) = activities.get_mut(&id) else {
            continue;
        };
        let narrative = Narrative { lang, text };
        if element == "title" {
            activity.titles.push(narrative);
            continue;
        }
        let index = index.max(0) as usize;
        while activity.descriptions.len() <= index {
            activity.descriptions.push(Description::default());
        }
        activity.descriptions[index].kind = description_type;
        activity.descriptions[index].narratives.push(narrative);
    }
    for (id, code, vocabulary) in rows.aid_types {
        if let Some(activity) = activities.get_mut(&id) {
            activity
                .default_aid_types
                .push(AidType { code, vocabulary });
        }
    }
    for (id, role, kind, reference, activity_identifier, crs_channel_code, name) in rows.orgs {
        if let Some(activity) = activities.get_mut(&id) {
            let names = one_name(name, &activity.default_lang);
            activity.participating_orgs.push(ParticipatingOrg {
                reference,
                kind,
                role,
                activity_identifier,
                crs_channel_code,
                names,
            });
        }
    }
    for (id, kind, date) in rows.dates {
        if let Some(activity) = activities.get_mut(&id) {
            activity.dates.push(ActivityDate { kind, date });
        }
    }
    for (id, code, percentage) in rows.countries {
        if let Some(activity) = activities.get_mut(&id) {
            let percentage = decimal(percentage, operation)?;
            activity
                .recipient_countries
                .push(RecipientCountry { code, percentage });
        }
    }
    for (id, code, vocabulary, percentage) in rows.regions {
        if let Some(activity) = activities.get_mut(&id) {
            let percentage = decimal(percentage, operation)?;
            activity.recipient_regions.push(RecipientRegion {
                code,
                vocabulary,
                percentage,
            });
        }
    }
    for (id, code, vocabulary, percentage) in rows.sectors {
        if let Some(activity) = activities.get_mut(&id) {
            let percentage = decimal(percentage, operation)?;
            activity.sectors.push(Sector {
                code,
                vocabulary,
                percentage,
            });
        }
    }
    for (id, kind, identifier) in rows.related {
        if let Some(activity) = activities.get_mut(&id) {
            activity
                .related_activities
                .push(RelatedActivity { identifier, kind });
        }
    }
    for (id, kind, status, period_start, period_end, amount, currency, value_date) in rows.budgets {
        if let Some(activity) = activities.get_mut(&id) {
            let value = money(amount, currency, value_date, operation)?;
            activity.budgets.push(Budget {
                kind,
                status,
                period_start,
                period_end,
                value,
            });
        }
    }
    for row in rows.transactions {
        let Some(activity) = activities.get_mut(&row.activity_id) else {
            continue;
        };
        let lang = activity.default_lang.clone();
        let organisation = |reference: Option<String>,
                            kind: Option<String>,
                            name: Option<String>,
                            activity_identifier: Option<String>| {
            (reference.is_some()
                || kind.is_some()
                || name.is_some()
                || activity_identifier.is_some())
            .then(|| OrganisationRef {
                reference,
                kind,
                names: one_name(name, &lang),
                activity_identifier,
            })
        };
        activity.transactions.push(Transaction {
            reference: row.reference,
            kind: row.kind,
            kind_as_written: row.kind_as_written,
            date: row.date,
            value: money(row.amount, row.currency, row.value_date, operation)?,
            description: one_name(row.description, &lang),
            provider_org: organisation(
                row.provider_org_ref,
                row.provider_org_type,
                row.provider_org_name,
                row.provider_activity_identifier,
            ),
            receiver_org: organisation(
                row.receiver_org_ref,
                row.receiver_org_type,
                row.receiver_org_name,
                row.receiver_activity_identifier,
            ),
            humanitarian: row.humanitarian,
            flow_type: row.flow_type,
            finance_type: row.finance_type,
            tied_status: row.tied_status,
            aid_types: row
                .aid_type
                .map(|code| AidType {
                    code,
                    vocabulary: row.aid_type_vocabulary,
                })
                .into_iter()
                .collect(),
            recipient_countries: Vec::new(),
            sectors: Vec::new(),
        });
    }
    Ok(activities)
}

/// A name the tables keep as one text, in the activity's language (which is how the reader
/// resolved a narrative without its own).
fn one_name(text: Option<String>, lang: &Option<String>) -> Vec<Narrative> {
    text.map(|text| Narrative {
        lang: lang.clone(),
        text,
    })
    .into_iter()
    .collect()
}

fn decimal(text: Option<String>, operation: &'static str) -> Result<Option<Decimal>, StoreError> {
    text.map(|text| parse_decimal(&text, operation)).transpose()
}

fn money(
    amount: Option<String>,
    currency: Option<String>,
    value_date: Option<String>,
    operation: &'static str,
) -> Result<Option<Value>, StoreError> {
    Ok(decimal(amount, operation)?.map(|amount| Value {
        amount,
        currency,
        value_date,
    }))
}

/// Now, as an xsd:dateTime in UTC, for `generated-datetime` and `last-updated-datetime`.
pub fn utc_now() -> String {
    crate::clock::utc_now()
}
