//! One function per command: open what it needs, do the work, print the result for a person or,
//! with `--json`, for a script.

use std::fmt;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use coopfolio::import::{self, FileReport, ImportTotals};
use coopfolio::sample::IATI_SAMPLE;
use coopfolio_core::codelists::Codelists;
use coopfolio_iati::Severity;
use coopfolio_store::Store;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{Cli, CodelistsCommand, Command, DemoArgs, ImportCommand, ImportIatiArgs, StatsArgs};

/// A mistake in how the program was called, as opposed to a failure while running: exit 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Warnings shown per file unless `--warnings` asks for all of them: real files carry hundreds.
const WARNINGS_SHOWN_PER_FILE: usize = 5;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let store = Store::connect(&cli.database_url)
        .await
        .context("opening the database")?;
    let result = match cli.command {
        Command::Demo(args) => demo(&store, args).await,
        Command::Import(ImportCommand::Iati(args)) => import_iati(&store, args).await,
        Command::Stats(args) => stats(&store, args).await,
        Command::Codelists(CodelistsCommand::Update { dir }) => {
            codelists_update(&store, &dir).await
        }
        Command::Codelists(CodelistsCommand::List { json }) => codelists_list(&store, json).await,
    };
    store.close().await;
    result
}

/// The bundled codelists, with any that `codelists update` stored in the database in their place.
async fn codelists_in_use(store: &Store) -> anyhow::Result<Arc<Codelists>> {
    let overrides = store
        .codelist_overrides()
        .await
        .context("reading updated codelists")?;
    if overrides.is_empty() {
        return Ok(Codelists::bundled());
    }
    let codelists = Codelists::with_overrides(&overrides).context("reading updated codelists")?;
    Ok(Arc::new(codelists))
}

async fn demo(store: &Store, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let codelists = codelists_in_use(store).await?;
    let mut totals = ImportTotals::default();
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
        totals.add(&report);
    }
    println!(
        "Loaded the real IATI sample: {} files, {} activities, {} organisations, {} transactions, {} budgets.",
        totals.files, totals.activities, totals.organisations, totals.transactions, totals.budgets
    );
    print_stats(store).await?;
    if !args.load_only {
        println!();
        println!("The portal is not part of this version yet; the data above is in the database for `coopfolio stats` and `coopfolio import`.");
    }
    Ok(ExitCode::SUCCESS)
}

async fn import_iati(store: &Store, args: ImportIatiArgs) -> anyhow::Result<ExitCode> {
    let files =
        import::expand_paths(&args.paths).map_err(|error| UsageError(format!("{error:#}")))?;
    if files.is_empty() {
        return Err(UsageError("no .xml files found in the paths given".into()).into());
    }
    let codelists = codelists_in_use(store).await?;
    let total_bytes: u64 = files
        .iter()
        .filter_map(|file| std::fs::metadata(file).ok())
        .map(|metadata| metadata.len())
        .sum();

    let progress = ProgressBar::with_draw_target(
        Some(total_bytes),
        if args.json || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .expect("the progress template is valid"),
    );

    let started = Instant::now();
    let mut totals = ImportTotals::default();
    for file in &files {
        progress.set_message(file.display().to_string());
        let report =
            import::import_path(store, file, codelists.clone(), |bytes| progress.inc(bytes))
                .await?;
        if !args.json {
            progress.suspend(|| print_file_report(&report, args.warnings));
        }
        totals.add(&report);
    }
    progress.finish_and_clear();
    totals.seconds = started.elapsed().as_secs_f64();

    if args.json {
        println!("{}", serde_json::to_string(&totals)?);
    } else {
        println!(
            "{} files ({} failed), {} activities ({} skipped), {} organisations, {} transactions, {} budgets, {} diagnostics; {:.1} MB in {:.2} s ({:.1} MB/s)",
            totals.files,
            totals.files_failed,
            totals.activities,
            totals.activities_skipped,
            totals.organisations,
            totals.transactions,
            totals.budgets,
            totals.diagnostics,
            totals.bytes as f64 / 1e6,
            totals.seconds,
            totals.bytes as f64 / 1e6 / totals.seconds.max(1e-9),
        );
    }
    Ok(if totals.all_went_in() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_file_report(report: &FileReport, all_warnings: bool) {
    if let Some(fatal) = &report.fatal {
        println!("FAILED {}: nothing stored", report.label);
        println!("  {fatal}");
        return;
    }
    let warnings = report
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.severity == Severity::Warning)
        .count();
    println!(
        "ok {}: {} activities, {} organisations, {} transactions, {} budgets, {} skipped, {} warnings",
        report.label,
        report.summary.activities,
        report.summary.organisations,
        report.summary.transactions,
        report.summary.budgets,
        report.records_skipped,
        warnings,
    );
    let mut warnings_shown = 0;
    for diagnostic in &report.diagnostics {
        if diagnostic.severity == Severity::Warning {
            warnings_shown += 1;
            if !all_warnings && warnings_shown > WARNINGS_SHOWN_PER_FILE {
                continue;
            }
        }
        println!("  {diagnostic}");
    }
    if !all_warnings && warnings > WARNINGS_SHOWN_PER_FILE {
        println!(
            "  ... and {} more warnings (--warnings lists them all)",
            warnings - WARNINGS_SHOWN_PER_FILE
        );
    }
}

async fn stats(store: &Store, args: StatsArgs) -> anyhow::Result<ExitCode> {
    if args.json {
        let stats = store
            .stats()
            .await
            .context("counting what the database holds")?;
        println!("{}", serde_json::to_string(&stats)?);
    } else {
        print_stats(store).await?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn print_stats(store: &Store) -> anyhow::Result<()> {
    let stats = store
        .stats()
        .await
        .context("counting what the database holds")?;
    println!(
        "{} activities, {} transactions, {} budgets, {} organisations",
        stats.activities, stats.transactions, stats.budgets, stats.organisations
    );
    if !stats.transaction_sums.is_empty() {
        println!("Transactions by type and currency, amounts as given (not converted):");
        println!(
            "  {:<5} {:<8} {:>8} {:>28}",
            "type", "currency", "count", "sum"
        );
        for sum in &stats.transaction_sums {
            println!(
                "  {:<5} {:<8} {:>8} {:>28}",
                sum.kind.as_deref().unwrap_or("-"),
                sum.currency.as_deref().unwrap_or("-"),
                sum.count,
                sum.sum.to_string()
            );
        }
    }
    Ok(())
}

async fn codelists_update(store: &Store, dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        return Err(UsageError(format!("{} is not a folder", dir.display())).into());
    }
    let lists = Codelists::read_dir(dir)
        .with_context(|| format!("reading codelists from {}", dir.display()))?;
    if lists.is_empty() {
        return Err(UsageError(format!("no codelist XML files in {}", dir.display())).into());
    }
    let overrides: Vec<(String, Vec<u8>)> = lists
        .into_iter()
        .map(|(codelist, bytes)| (codelist.name.clone(), bytes))
        .collect();
    // Check the whole set before storing any of it, so a bad file changes nothing.
    Codelists::with_overrides(&overrides).context("checking the new codelists")?;
    store
        .save_codelists(&overrides)
        .await
        .context("storing the new codelists")?;
    println!("Updated {} codelists:", overrides.len());
    for (name, _) in &overrides {
        println!("  {name}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn codelists_list(store: &Store, json: bool) -> anyhow::Result<ExitCode> {
    let overrides = store.codelist_overrides().await?;
    let codelists = codelists_in_use(store).await?;
    let mut rows: Vec<(String, usize, bool)> = codelists
        .names()
        .map(|name| {
            let items = codelists.get(name).map_or(0, |list| list.items.len());
            let updated = overrides.iter().any(|(overridden, _)| overridden == name);
            (name.to_owned(), items, updated)
        })
        .collect();
    rows.sort();
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(name, items, updated)| {
                serde_json::json!({"name": name, "items": items, "source": if *updated { "updated" } else { "bundled" }})
            })
            .collect();
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        for (name, items, updated) in rows {
            let source = if updated { "updated" } else { "bundled" };
            println!("{name:<36} {items:>5} items  {source}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
