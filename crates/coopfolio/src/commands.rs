//! One function per command: open what it needs, do the work, print the result for a person or,
//! with `--json`, for a script.

use std::fmt;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use coopfolio::demo::load_demo;
use coopfolio::import::{self, FileReport, ImportTotals};
use coopfolio_core::codelists::Codelists;
use coopfolio_core::period::Period;
use coopfolio_demo::DemoOptions;
use coopfolio_iati::Severity;
use coopfolio_store::figures::Basis;
use coopfolio_store::Store;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    Cli, CodelistsCommand, Command, DemoArgs, ExportCommand, ExportIatiArgs, ImportCommand,
    ImportIatiArgs, RatesCommand, ReportArgs, StatsArgs, ValidateArgs,
};

/// A mistake in how the program was called, as opposed to a failure while running: exit 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The average file size from which an import loads a new SQLite database with a rollback
/// journal rather than in WAL mode. The journal writes each new page once where WAL writes it
/// to the log and again at the checkpoint, but it syncs the disk four times per file (the
/// journal twice, its folder, the database) where a WAL commit syncs nothing. Measured on
/// this project's machine (`BENCHMARKS.md`): the WAL's second write cost about 1.3 ms per MB
/// (49 MB in one file: 0.42 s in WAL mode, 0.36 s with the journal), the journal's syncs about
/// 1.9 ms per file (43 files of 1.15 MB: 0.52 s in WAL mode, 0.60 s with the journal); the two
/// balance near 1.5 MB per file, and near 2.5 MB on a slower day's disk.
const ROLLBACK_JOURNAL_FILE_BYTES: u64 = 2_000_000;

/// Warnings shown per file unless `--warnings` asks for all of them: real files carry hundreds.
const WARNINGS_SHOWN_PER_FILE: usize = 5;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Validating a file needs no database; it should not create one either.
    if let Command::Validate(args) = &cli.command {
        return validate(args);
    }
    // An import reads the bundled codelists before its first record, and parsing them takes
    // some 20 ms: begun on a thread of their own, they are ready when the database is, which
    // for a new database means when its schema has been created.
    if matches!(cli.command, Command::Import(_) | Command::Demo(_)) {
        std::thread::spawn(Codelists::bundled);
    }
    // An import's files are listed before the database is opened: a path that does not exist
    // is a usage error that leaves no new database behind, and their sizes choose how a new
    // one is loaded: large files with each page written once (see `Store::connect_to_load`).
    if let Command::Import(ImportCommand::Iati(args)) = cli.command {
        let files = import::FileList::list(&args.paths)
            .map_err(|error| UsageError(format!("{error:#}")))?;
        let store = if files.average_bytes() >= ROLLBACK_JOURNAL_FILE_BYTES {
            Store::connect_to_load(&cli.database_url).await
        } else {
            Store::connect(&cli.database_url).await
        }
        .context("opening the database")?;
        let result = import_iati(&store, args, files).await;
        store.close().await;
        return result;
    }
    // Every other command, `demo` too since it goes on to serve, opens the database in WAL
    // mode.
    let store = Store::connect(&cli.database_url)
        .await
        .context("opening the database")?;
    let result = match cli.command {
        Command::Demo(args) => demo(&store, args).await,
        Command::Report(args) => report(&store, args).await,
        Command::Serve(args) => {
            let mail = match (args.smtp_url, args.mail_from) {
                (Some(url), Some(from)) => Some(coopfolio_web::SmtpSettings { url: url.0, from }),
                _ => None,
            };
            let options = ServeOptions {
                behind_proxy: args.behind_proxy,
                mail,
                upload_limit_bytes: args.upload_limit_mb.saturating_mul(1024 * 1024),
            };
            serve(&store, args.bind, options).await
        }
        Command::Rates(RatesCommand::Import { file, source }) => {
            rates_import(&store, &file, source).await
        }
        Command::Import(_) => unreachable!("an import runs before the other commands' store opens"),
        Command::Stats(args) => stats(&store, args).await,
        Command::Codelists(CodelistsCommand::Update { dir }) => {
            codelists_update(&store, &dir).await
        }
        Command::Codelists(CodelistsCommand::List { json }) => codelists_list(&store, json).await,
        Command::Export(ExportCommand::Iati(args)) => export_iati(&store, args).await,
        Command::Validate(_) => unreachable!("validate runs before the database is opened"),
        Command::User(command) => crate::users::run(&store, command).await,
        Command::Token(command) => crate::tokens::run(&store, command).await,
    };
    store.close().await;
    result
}

use coopfolio::import::codelists_in_use;

async fn demo(store: &Store, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let codelists = codelists_in_use(store).await?;
    let options = DemoOptions {
        seed: args.seed,
        scale: args.scale,
    };
    let loaded = load_demo(store, &options, codelists).await?;
    match &loaded.synthetic {
        None => {
            println!("The synthetic demo workspace is already loaded; it is not loaded again.")
        }
        Some(synthetic) => println!(
            "Loaded the synthetic demo workspace (seed {}, scale {}; synthetic data, labelled so): {} programmes and projects, {} partners, {} agreements ({} ledger entries, {} without a rate), {} partnerships, {} inquiries.",
            args.seed,
            args.scale,
            synthetic.activities.activities,
            synthetic.records.partners,
            synthetic.records.agreements,
            synthetic.records.ledger_entries,
            synthetic.records.ledger_entries_without_rate,
            synthetic.records.partnerships,
            synthetic.records.inquiries
        ),
    }
    let totals = &loaded.sample;
    println!(
        "Loaded the real IATI sample (real data, beside the synthetic workspace): {} files, {} activities, {} organisations, {} transactions, {} budgets.",
        totals.files, totals.activities, totals.organisations, totals.transactions, totals.budgets
    );
    print_stats(store).await?;
    println!();
    let period = default_period(store).await?;
    print_report(store, period).await?;
    if !args.load_only {
        println!();
        serve(store, args.bind, ServeOptions::default()).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A setting whose value is a secret, such as a URL with a password: `Debug` never shows it.
#[derive(Clone)]
pub struct SecretUrl(pub String);

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SecretUrl(***)")
    }
}

impl std::str::FromStr for SecretUrl {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<SecretUrl, Self::Err> {
        Ok(SecretUrl(text.to_owned()))
    }
}

/// How `serve` runs beyond its address.
#[derive(Debug)]
pub struct ServeOptions {
    pub behind_proxy: bool,
    /// The mail server for notices; without it they stay in the outbox.
    pub mail: Option<coopfolio_web::SmtpSettings>,
    pub upload_limit_bytes: u64,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            behind_proxy: false,
            mail: None,
            upload_limit_bytes: coopfolio_web::UPLOAD_LIMIT_BYTES,
        }
    }
}

/// Serves the portal on `bind` until Ctrl-C, with the background work (the outbox's delivery,
/// pruning old sessions and login attempts) beside it.
async fn serve(store: &Store, bind: SocketAddr, options: ServeOptions) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("listening on {bind}"))?;
    let address = listener.local_addr().context("reading the bound address")?;
    notice(format_args!(
        "The portal is at http://{address}/ (Ctrl-C stops it)."
    ));
    let mut state = coopfolio_web::AppState::new(store.clone())
        .behind_proxy(options.behind_proxy)
        .with_importer(Arc::new(import::PipelineImporter))
        .with_upload_limit(options.upload_limit_bytes);
    match &options.mail {
        Some(settings) => {
            let mailer = coopfolio_web::Mailer::new(settings)
                .map_err(|error| UsageError(error.to_string()))?;
            notice(format_args!(
                "Notices of new inquiries go out by e-mail through {mailer:?}."
            ));
            state = state.with_mailer(mailer);
        }
        None => notice(format_args!(
            "No mail server is set (COOPFOLIO_SMTP_URL): notices of new inquiries wait in the outbox at /staff/outbox."
        )),
    }
    let background = tokio::spawn(coopfolio_web::run_background(
        state.clone(),
        std::future::pending::<()>(),
    ));
    let shutdown = async {
        // If the signal cannot be watched, the server runs until the process is killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    coopfolio_web::serve(listener, state, shutdown)
        .await
        .context("serving the portal")?;
    background.abort();
    notice(format_args!("The portal stopped."));
    Ok(ExitCode::SUCCESS)
}

/// Writes one line of a running server's notices to standard output. A server outlives whoever
/// started it: when its standard output is closed (the reader went away), the line is dropped,
/// where `println!` would panic and take the serving process down with it.
fn notice(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// The latest biennium with contributions, else 2022-23.
async fn default_period(store: &Store) -> anyhow::Result<Period> {
    Ok(store
        .latest_biennium_with_contributions()
        .await
        .context("finding the latest period with data")?
        .unwrap_or(Period::Biennium(2022)))
}

async fn report(store: &Store, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let period = match &args.period {
        Some(text) => {
            let rule = store
                .period_rule()
                .await
                .context("reading the period rule")?;
            rule.parse_period(text)
                .map_err(|error| UsageError(format!("--period: {error}")))?
        }
        None => default_period(store).await?,
    };
    if args.json {
        let contributions = store
            .contributions(period, Basis::Approved)
            .await
            .context("computing contributions")?;
        let portfolio = store
            .portfolio(period)
            .await
            .context("computing the portfolio")?;
        let synthetic = store
            .has_synthetic_workspace()
            .await
            .context("looking for the demo workspace")?;
        let usd = |amount: &rust_decimal::Decimal| format!("{:.2}", amount.round_dp(2));
        let value = serde_json::json!({
            "period": period.to_string(),
            "synthetic_data_included": synthetic,
            "voluntary_contributions_usd": usd(&contributions.value.total_usd),
            "by_modality": contributions.value.by_modality.iter()
                .map(|a| serde_json::json!({"modality": a.code, "usd": usd(&a.usd)}))
                .collect::<Vec<_>>(),
            "by_partner_group": contributions.value.by_partner_group.iter()
                .map(|a| serde_json::json!({"partner_group": a.code, "usd": usd(&a.usd)}))
                .collect::<Vec<_>>(),
            "by_modality_and_partner_group": contributions.value.by_modality_and_partner_group.iter()
                .map(|a| {
                    let (modality, group) = a.code.split_once('/').unwrap_or((a.code.as_str(), ""));
                    serde_json::json!({"modality": modality, "partner_group": group, "usd": usd(&a.usd)})
                })
                .collect::<Vec<_>>(),
            "ranking": contributions.value.ranking.iter()
                .map(|c| serde_json::json!({"rank": c.rank, "contributor": c.names.en, "code": c.code, "usd": usd(&c.usd)}))
                .collect::<Vec<_>>(),
            "programmes_active": portfolio.value.programmes_active,
            "countries": portfolio.value.countries,
            "countries_by_region": portfolio.value.countries_by_region,
            "programmes_by_region": portfolio.value.programmes_by_region,
            "programmes_by_policy_area": portfolio.value.programmes_by_policy_area,
            "method": {
                "contributions": contributions.method,
                "portfolio": portfolio.method,
            },
        });
        println!("{}", serde_json::to_string(&value)?);
    } else {
        print_report(store, period).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The headline figures of a period for a person, each followed by its method in short.
async fn print_report(store: &Store, period: Period) -> anyhow::Result<()> {
    let contributions = store
        .contributions(period, Basis::Approved)
        .await
        .context("computing contributions")?;
    let portfolio = store
        .portfolio(period)
        .await
        .context("computing the portfolio")?;
    let method = &contributions.method;
    println!(
        "Headline figures, {period} ({} to {}){}",
        method.first_day,
        method.last_day,
        if store.has_synthetic_workspace().await? {
            "; the synthetic demo workspace is included"
        } else {
            ""
        }
    );
    println!(
        "  Voluntary contributions (approved): US${:.2}",
        contributions.value.total_usd.round_dp(2)
    );
    for amount in &contributions.value.by_modality {
        println!(
            "    {:<28} US${:>18.2}",
            amount.code,
            amount.usd.round_dp(2)
        );
    }
    println!("  By partner group:");
    for amount in &contributions.value.by_partner_group {
        println!(
            "    {:<28} US${:>18.2}",
            amount.code,
            amount.usd.round_dp(2)
        );
    }
    println!("  Largest contributors:");
    for contributor in contributions.value.ranking.iter().take(10) {
        println!(
            "    {:>2}. {:<40} US${:>18.2}",
            contributor.rank,
            contributor.names.en,
            contributor.usd.round_dp(2)
        );
    }
    println!(
        "  Method: {}; modalities {}; {}; conversion: {}; withheld: {}.",
        method.basis,
        method.modalities.join(", "),
        method.hierarchy_rule,
        method.conversion.rule,
        method.withheld.note
    );
    println!(
        "  Programmes and projects active: {}; countries reached: {}",
        portfolio.value.programmes_active, portfolio.value.countries
    );
    for count in &portfolio.value.countries_by_region {
        println!("    {:<28} {:>4} countries", count.code, count.count);
    }
    println!("  Method: {}.", portfolio.method.basis);
    Ok(())
}

async fn rates_import(
    store: &Store,
    file: &std::path::Path,
    source: Option<String>,
) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let source = source.unwrap_or_else(|| format!("imported from {}", file.display()));
    let rates = coopfolio_store::parse_rates_csv(&text, &source)
        .map_err(|error| UsageError(format!("{}: {error}; nothing stored", file.display())))?;
    let converted = store
        .import_rates(&rates)
        .await
        .context("storing the rates")?;
    println!(
        "Stored {} rates from {}; {} ledger entries that had no rate are now converted.",
        rates.len(),
        file.display(),
        converted
    );
    Ok(ExitCode::SUCCESS)
}

async fn import_iati(
    store: &Store,
    args: ImportIatiArgs,
    files: import::FileList,
) -> anyhow::Result<ExitCode> {
    if files.files.is_empty() {
        return Err(UsageError("no .xml files found in the paths given".into()).into());
    }
    let codelists = codelists_in_use(store).await?;
    let total_bytes = files.bytes;

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
    let mut paths = files.files.iter();
    let mut next = paths
        .next()
        .map(|file| import::FileReading::start(file, codelists.clone()))
        .transpose()?;
    while let Some(mut reading) = next {
        // The next file's reader parses its first records while this file is stored, once
        // this file's reader is done.
        next = paths
            .next()
            .map(|file| import::FileReading::start_after(file, codelists.clone(), &mut reading))
            .transpose()?;
        progress.set_message(reading.label().to_owned());
        let report = reading.store(store, |bytes| progress.inc(bytes)).await?;
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
    let warnings = report.warnings;
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
    let shown = if all_warnings {
        warnings_shown
    } else {
        warnings_shown.min(WARNINGS_SHOWN_PER_FILE)
    };
    if warnings > shown as u64 {
        println!(
            "  ... and {} more warnings ({})",
            warnings - shown as u64,
            if all_warnings {
                "all are stored with the import run"
            } else {
                "--warnings lists more; all are stored with the import run"
            }
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

async fn export_iati(store: &Store, args: ExportIatiArgs) -> anyhow::Result<ExitCode> {
    let progress = ProgressBar::with_draw_target(
        None,
        if args.json || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} activities",
        )
        .expect("the progress template is valid"),
    );
    let options = coopfolio::export::ExportOptions {
        out: args.out,
        all: args.all,
        organisation_file: args.organisation_file,
    };
    let summary = coopfolio::export::export_iati(
        store,
        &options,
        |total| progress.set_length(total),
        || progress.inc(1),
    )
    .await?;
    progress.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "{}: {} activities ({} as imported, {} rebuilt from the tables{}), {:.1} MB in {:.2} s",
            summary.file,
            summary.activities,
            summary.activities_raw,
            summary.activities_rebuilt,
            if summary.parts_left_out > 0 {
                format!(
                    "; {} parts the schema cannot hold left out",
                    summary.parts_left_out
                )
            } else {
                String::new()
            },
            summary.bytes as f64 / 1e6,
            summary.seconds,
        );
        if let Some(file) = &summary.organisation_file {
            println!(
                "{file}: organisation {}, total budget for {} years and expenditure for {} years in US dollars ({} ledger entries without a rate left out)",
                summary.organisation_ref,
                summary.budget_years,
                summary.expenditure_years,
                summary.entries_without_rate,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let report = coopfolio::validate::validate_file(&args.file)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        coopfolio::validate::print_report(&report);
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
