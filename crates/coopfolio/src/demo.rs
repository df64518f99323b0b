//! Loading the demo: the synthetic workspace (once) and the bundled real IATI sample beside it.
//! `coopfolio demo` calls this, and so do the tests of the crates that need a realistic database
//! (the portal's), so that there is one way to build the demo database.

use std::sync::Arc;

use anyhow::Context;
use coopfolio_core::codelists::Codelists;
use coopfolio_demo::DemoOptions;
use coopfolio_store::figures;
use coopfolio_store::{
    ImportRunSummary, ImportSession, PartnershipRecords, PartnershipSummary, Store,
};

use crate::import::{self, ImportTotals};
use crate::sample::IATI_SAMPLE;

/// What [`load_demo`] stored.
#[derive(Debug)]
pub struct DemoLoad {
    /// `None` when the synthetic workspace was already there and was not loaded again.
    pub synthetic: Option<SyntheticLoad>,
    pub sample: ImportTotals,
}

/// The synthetic workspace just stored.
#[derive(Debug)]
pub struct SyntheticLoad {
    pub activities: ImportRunSummary,
    pub records: PartnershipSummary,
}

/// Loads the synthetic workspace unless the database holds it already, then imports the real
/// IATI sample (an import replaces the same activities, so this is safe to repeat) and converts
/// the ledger entries that the rates now can.
pub async fn load_demo(
    store: &Store,
    options: &DemoOptions,
    codelists: Arc<Codelists>,
) -> anyhow::Result<DemoLoad> {
    let synthetic = if store
        .has_synthetic_workspace()
        .await
        .context("looking for the demo workspace")?
    {
        None
    } else {
        Some(load_synthetic_workspace(store, options).await?)
    };
    let mut sample = ImportTotals::default();
    for (label, bytes) in IATI_SAMPLE {
        let report = import::import_source(
            store,
            label,
            *bytes,
            bytes.len() as u64,
            codelists.clone(),
            |_| {},
        )
        .await?;
        sample.add(&report);
    }
    // Imported amounts in other currencies than US dollars wait for a rate; the bundled and
    // stored rates convert what they can now.
    store
        .reconvert_ledger()
        .await
        .context("converting ledger entries to US dollars")?;
    Ok(DemoLoad { synthetic, sample })
}

/// Generates the synthetic workspace and stores it: the programmes and projects through the
/// import path, one at a time, then partners, agreements, partnerships, inquiries and project
/// extras in one transaction.
async fn load_synthetic_workspace(
    store: &Store,
    options: &DemoOptions,
) -> anyhow::Result<SyntheticLoad> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(256);
    let generator_options = *options;
    // The generator is synchronous; a thread of its own feeds the import as it goes, so that
    // memory stays that of a few activities whatever the scale.
    let generator = std::thread::spawn(move || {
        coopfolio_demo::generate_activities_streaming(&generator_options, |activity, extras| {
            // A closed channel means the import failed; its error is reported below.
            let _ = sender.blocking_send((activity, extras));
        });
    });
    // The activities go in as several import runs of a bounded size: one transaction for the
    // whole portfolio would grow the write-ahead log to the size of the data at large scales.
    let mut activities = ImportRunSummary {
        import_run_id: 0,
        activities: 0,
        organisations: 0,
        transactions: 0,
        budgets: 0,
        diagnostics: 0,
        activities_replaced: 0,
    };
    let mut session: Option<ImportSession> = None;
    let mut in_session = 0;
    let mut part = 0;
    let mut project_extras = Vec::new();
    while let Some((activity, extras)) = receiver.recv().await {
        let current = match session.as_mut() {
            Some(current) => current,
            None => {
                part += 1;
                let label = format!("demo workspace (synthetic), part {part}");
                session.insert(
                    store
                        .begin_import(&label, 0)
                        .await
                        .context("starting the demo import")?,
                )
            }
        };
        current
            .add_activity(activity)
            .await
            .context("storing a demo activity")?;
        project_extras.push(extras);
        in_session += 1;
        if in_session == ACTIVITIES_PER_IMPORT_RUN {
            let summary = session
                .take()
                .expect("a session is open")
                .commit(0)
                .await
                .context("committing the demo import")?;
            add_summary(&mut activities, &summary);
            in_session = 0;
        }
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("the demo generator stopped unexpectedly"))?;
    if let Some(session) = session {
        let summary = session
            .commit(0)
            .await
            .context("committing the demo import")?;
        add_summary(&mut activities, &summary);
    }
    // Agreements, partners, partnerships and inquiries are the same at any scale.
    let workspace = coopfolio_demo::generate(&DemoOptions {
        seed: options.seed,
        scale: 1,
    });
    let records = store
        .save_partnership_records(PartnershipRecords {
            partners: &workspace.partners,
            agreements: &workspace.agreements,
            partnerships: &workspace.partnerships,
            inquiries: &workspace.inquiries,
            project_extras: &project_extras,
        })
        .await
        .context("storing the demo partners and agreements")?;
    store
        .set_setting(figures::ORGANISATION_REF, coopfolio_demo::ORGANISATION_REF)
        .await
        .context("saving the organisation setting")?;
    Ok(SyntheticLoad {
        activities,
        records,
    })
}

/// Activities per import run of the demo: small enough to keep each transaction's write-ahead
/// log modest, large enough that scale 1 is a single run.
const ACTIVITIES_PER_IMPORT_RUN: usize = 20_000;

fn add_summary(total: &mut ImportRunSummary, part: &ImportRunSummary) {
    total.import_run_id = part.import_run_id;
    total.activities += part.activities;
    total.organisations += part.organisations;
    total.transactions += part.transactions;
    total.budgets += part.budgets;
    total.diagnostics += part.diagnostics;
    total.activities_replaced += part.activities_replaced;
}
