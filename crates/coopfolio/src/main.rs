//! The `coopfolio` command: parses the command line, opens the store and runs one command.
//!
//! Exit status: 0 when everything went in, 1 when something was skipped or failed, 2 on a usage
//! error (clap's own convention for bad arguments, kept for ours).

#![forbid(unsafe_code)]

mod commands;
mod tokens;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "coopfolio",
    version,
    about = "Development-cooperation partnerships, portfolio and funding ledger, with IATI import"
)]
struct Cli {
    /// Where the data lives: `sqlite://FILE` (created if missing) or `postgres://...`.
    #[arg(
        long,
        global = true,
        env = "COOPFOLIO_DATABASE_URL",
        default_value = "sqlite://coopfolio.db",
        hide_env_values = true
    )]
    database_url: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load the synthetic demo workspace (once) and the bundled real IATI sample, show the
    /// headline figures, and serve the portal over them.
    Demo(DemoArgs),
    /// Serve the public portal.
    Serve(ServeArgs),
    /// The headline figures of a period, each with its method note.
    Report(ReportArgs),
    /// Import data into the store.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Show what the database holds.
    Stats(StatsArgs),
    /// Exchange rates to US dollars, used before the bundled ones.
    #[command(subcommand)]
    Rates(RatesCommand),
    /// The IATI codelists used to check and name codes.
    #[command(subcommand)]
    Codelists(CodelistsCommand),
    /// Export data from the store.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Check an IATI file against the 2.03 schema (xmllint) and the IATI Standard ruleset;
    /// exit 1 when anything fails.
    Validate(ValidateArgs),
    /// Staff accounts of the workspace under /staff.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens: each acts in the JSON API (/api/v1) with its staff user's role.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// An IATI 2.03 activity file of the organisation's portfolio (the activities whose
    /// reporting organisation is the `organisation_ref` setting), or of every activity.
    Iati(ExportIatiArgs),
}

#[derive(Debug, Args)]
struct ExportIatiArgs {
    /// The activity file to write.
    #[arg(long)]
    out: PathBuf,
    /// Every activity in the store, as the XML that was imported where it was kept.
    #[arg(long)]
    all: bool,
    /// Also write the organisation file: total budget and expenditure per year, from the ledger.
    #[arg(long)]
    organisation_file: Option<PathBuf>,
    /// Print one JSON summary object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    /// An IATI activity or organisation file.
    file: PathBuf,
    /// Print one JSON object with every failure.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Load the data and exit instead of serving the portal.
    #[arg(long)]
    load_only: bool,
    /// Where the portal listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// The seed of the synthetic workspace: the same seed gives the same workspace.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// How many copies of the 770-activity portfolio to generate.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    scale: u32,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// The server is behind a reverse proxy that sets X-Forwarded-For to the client's address
    /// (replacing any the client sent) and X-Forwarded-Host to the public host.
    #[arg(long, env = "COOPFOLIO_BEHIND_PROXY")]
    behind_proxy: bool,
    /// The mail server that new inquiries' notices go to, such as
    /// smtp://user:password@host:587?tls=required or smtps://user:password@host:465. Without
    /// it, notices wait in the outbox that administrators read at /staff/outbox.
    #[arg(
        long,
        env = "COOPFOLIO_SMTP_URL",
        hide_env_values = true,
        requires = "mail_from"
    )]
    smtp_url: Option<commands::SecretUrl>,
    /// The sender of notices, such as "Coopfolio <notices@example.org>".
    #[arg(long, env = "COOPFOLIO_MAIL_FROM")]
    mail_from: Option<String>,
    /// The largest upload the imports page takes, all files together, in megabytes.
    #[arg(long, env = "COOPFOLIO_UPLOAD_LIMIT_MB", default_value_t = 256)]
    upload_limit_mb: u64,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// A year (2023) or a biennium (2022-23); the default is the latest biennium with
    /// contributions, else 2022-23.
    #[arg(long)]
    period: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import IATI activity and organisation files (2.01-2.03), or every .xml file in folders.
    Iati(ImportIatiArgs),
}

#[derive(Debug, Args)]
struct ImportIatiArgs {
    /// Files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print one JSON summary object instead of the report.
    #[arg(long)]
    json: bool,
    /// List the warnings of each file (up to 1,000), not only the first few; all are stored with the import run.
    #[arg(long)]
    warnings: bool,
}

#[derive(Debug, Args)]
struct StatsArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum RatesCommand {
    /// Import monthly or yearly rates from a CSV file laid out as
    /// data/rates/usd_to_xxx_by_month.csv (DATE,AED,AFN,...; rows YYYY-MM or YYYY), then convert
    /// the ledger entries that had no rate.
    Import {
        file: PathBuf,
        /// Where the rates come from, for method notes; the file's name when not given.
        #[arg(long)]
        source: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum CodelistsCommand {
    /// Replace bundled codelists with newer IATI codelist XML files from a folder.
    Update {
        /// A folder of IATI codelist XML files (searched recursively).
        dir: PathBuf,
    },
    /// List the codelists in use, with their item counts and where they come from.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a staff account; the password is asked for on the terminal, without echo.
    Add {
        #[arg(long)]
        email: String,
        /// viewer (reads everything), officer (also edits) or admin (also users, imports, settings).
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long, conflicts_with = "invite")]
        password_stdin: bool,
        /// Choose no password: print a one-time link, valid 72 hours, where the user sets it.
        #[arg(long)]
        invite: bool,
    },
    /// List the staff accounts and their roles.
    List,
    /// Give a staff account another role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Print a one-time link, valid 72 hours, where the user sets a new password; using it
    /// ends the account's sessions.
    ResetLink {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make a token for a staff user and print it, once: only its SHA-256 is kept.
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for, to tell it apart in the list.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the tokens: id, user, role, name, first characters, when made and last used.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id: from now on it opens nothing.
    Revoke { id: i64 },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COOPFOLIO_LOG")
                // sqlx reports long statements as warnings; a large import batch is long by design.
                .unwrap_or_else(|_| "warn,sqlx::query=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            match error.downcast_ref::<commands::UsageError>() {
                Some(_) => ExitCode::from(2),
                None => ExitCode::FAILURE,
            }
        }
    }
}
