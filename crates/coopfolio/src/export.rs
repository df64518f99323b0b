//! `coopfolio export iati`: the organisation's portfolio (or every activity) as an IATI 2.03
//! activity file, and optionally the organisation file with its yearly totals.
//!
//! Activities stream from the store a page at a time into the writer, so an export of any size
//! holds one page in memory. Each file is written beside its destination under a `.partial`
//! name and renamed when complete, so that a failed export never leaves half a file where a
//! publisher might pick it up.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::Context;
use coopfolio_iati::model::{Narrative, Organisation, OrganisationBudget, OrganisationRef, Value};
use coopfolio_iati::IatiWriter;
use coopfolio_store::export::{ExportSelection, ExportedActivity};
use coopfolio_store::figures::ORGANISATION_REF;
use coopfolio_store::Store;
use serde::Serialize;

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub out: PathBuf,
    /// Every activity, as kept XML where there is some, instead of the organisation's own.
    pub all: bool,
    pub organisation_file: Option<PathBuf>,
}

/// What an export wrote, for people and for `--json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportSummary {
    pub file: String,
    /// The organisation whose portfolio was exported (its IATI identifier).
    pub organisation_ref: String,
    pub activities: u64,
    /// Activities written as the XML that was imported.
    pub activities_raw: u64,
    /// Activities rebuilt from the tables.
    pub activities_rebuilt: u64,
    /// Parts of rebuilt activities that the schema could not hold (a transaction without a
    /// date, say), left out so the file stays valid.
    pub parts_left_out: u64,
    pub bytes: u64,
    pub organisation_file: Option<String>,
    /// Years with a total budget, and with a total expenditure, in the organisation file.
    pub budget_years: u64,
    pub expenditure_years: u64,
    /// Ledger entries without a US dollar amount, left out of the organisation file's totals.
    pub entries_without_rate: u64,
    pub seconds: f64,
}

/// The organisation whose portfolio is the default export: the `organisation_ref` setting,
/// else the demo's reporting organisation.
pub async fn organisation_ref(store: &Store) -> anyhow::Result<String> {
    Ok(store
        .setting(ORGANISATION_REF)
        .await
        .context("reading the organisation setting")?
        .unwrap_or_else(|| coopfolio_demo::ORGANISATION_REF.to_owned()))
}

/// Runs an export; `on_activity` is called after each activity written (for a progress bar),
/// `total` receives how many there will be before the first.
pub async fn export_iati(
    store: &Store,
    options: &ExportOptions,
    mut total: impl FnMut(u64),
    mut on_activity: impl FnMut(),
) -> anyhow::Result<ExportSummary> {
    let started = std::time::Instant::now();
    let organisation_ref = organisation_ref(store).await?;
    let selection = if options.all {
        ExportSelection::All
    } else {
        ExportSelection::ReportedBy(organisation_ref.clone())
    };
    total(
        store
            .export_count(&selection)
            .await
            .context("counting the activities to export")?,
    );
    let generated = coopfolio_store::export::utc_now();
    let mut summary = ExportSummary {
        file: options.out.display().to_string(),
        organisation_ref: organisation_ref.clone(),
        ..ExportSummary::default()
    };

    let partial = partial_path(&options.out);
    let file = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let mut writer = IatiWriter::activities(BufWriter::new(file), &generated)
        .with_context(|| format!("writing {}", partial.display()))?;
    let mut export = store.export_activities(selection);
    while let Some(page) = export
        .next_page()
        .await
        .context("reading activities to export")?
    {
        for activity in page {
            match &activity {
                ExportedActivity::Raw { identifier, xml } => {
                    writer
                        .write_raw_activity(xml)
                        .with_context(|| format!("writing activity {identifier}"))?;
                    summary.activities_raw += 1;
                }
                ExportedActivity::Model(model) => {
                    let omissions = writer
                        .write_activity(model)
                        .with_context(|| format!("writing activity {}", model.identifier))?;
                    summary.parts_left_out += omissions.parts.len() as u64;
                    summary.activities_rebuilt += 1;
                }
            }
            summary.activities += 1;
            on_activity();
        }
    }
    writer
        .finish()
        .with_context(|| format!("finishing {}", partial.display()))?;
    summary.bytes = finish_file(&partial, &options.out)?;

    if let Some(path) = &options.organisation_file {
        let totals = store
            .organisation_totals(&organisation_ref)
            .await
            .context("totalling the organisation's budgets and expenditure")?;
        summary.budget_years = totals.budgets.len() as u64;
        summary.expenditure_years = totals.expenditures.len() as u64;
        summary.entries_without_rate = totals.entries_without_rate;
        let line = |element: &str, year: i32, usd| OrganisationBudget {
            element: element.to_owned(),
            status: None,
            period_start: Some(format!("{year:04}-01-01")),
            period_end: Some(format!("{year:04}-12-31")),
            value: Some(Value {
                amount: usd,
                currency: Some("USD".to_owned()),
                value_date: Some(format!("{year:04}-01-01")),
            }),
            recipient: None,
        };
        let name = vec![Narrative {
            lang: Some("en".to_owned()),
            text: totals
                .name
                .clone()
                .unwrap_or_else(|| organisation_ref.clone()),
        }];
        let organisation = Organisation {
            identifier: organisation_ref.clone(),
            default_currency: Some("USD".to_owned()),
            default_lang: Some("en".to_owned()),
            last_updated: Some(generated.clone()),
            names: name.clone(),
            reporting_org: Some(OrganisationRef {
                reference: Some(organisation_ref.clone()),
                // The schema requires a type; 90 is IATI's "Other" when no activity gives one.
                kind: Some(
                    totals
                        .organisation_type
                        .clone()
                        .unwrap_or_else(|| "90".to_owned()),
                ),
                names: name,
                activity_identifier: None,
            }),
            budgets: totals
                .budgets
                .iter()
                .map(|(year, usd)| line("total-budget", *year, *usd))
                .collect(),
            expenditures: totals
                .expenditures
                .iter()
                .map(|(year, usd)| line("total-expenditure", *year, *usd))
                .collect(),
            ..Organisation::default()
        };
        let partial = partial_path(path);
        let file =
            File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let mut writer = IatiWriter::organisations(BufWriter::new(file), &generated)
            .with_context(|| format!("writing {}", partial.display()))?;
        writer
            .write_organisation(&organisation)
            .with_context(|| format!("writing {}", partial.display()))?;
        writer
            .finish()
            .with_context(|| format!("finishing {}", partial.display()))?;
        finish_file(&partial, path)?;
        summary.organisation_file = Some(path.display().to_string());
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Moves a complete file into place and returns its size.
fn finish_file(partial: &Path, path: &Path) -> anyhow::Result<u64> {
    std::fs::rename(partial, path)
        .with_context(|| format!("moving {} to {}", partial.display(), path.display()))?;
    Ok(std::fs::metadata(path)
        .with_context(|| format!("reading the size of {}", path.display()))?
        .len())
}
