//! Downloads of any explorer view: `/projects.csv`, `/projects.json`, `/projects.xlsx` and
//! `/projects.xml` (IATI 2.03) take the explorer's query string and give every matching programme and project, all pages, in
//! the explorer's order, with the method note and the data version (the latest import run and
//! the time of the download).
//!
//! CSV and JSON stream: the store reads a page of rows at a time
//! ([`coopfolio_store::download::ProjectDownload`]) and each page is written into the response
//! as it arrives, so memory stays that of one page whatever the size of the view. XLSX cannot
//! stream: an .xlsx file is a zip archive whose sheet rust_xlsxwriter builds whole in memory, so
//! its rows are gathered first and the workbook is written on a blocking thread, off the
//! runtime's workers.
//!
//! The IATI file streams too, a page of activities at a time, through the same writer as
//! `coopfolio export iati`: an imported activity leaves as the XML that was imported, any other
//! is rebuilt from the tables. Its method note and data version are XML comments at the top.
//!
//! Columns, in every tabular format: identifier, title, status, start, end, countries (ISO 3166-1
//! alpha-2), regions, policy areas, markers, reporting organisation, budget in US dollars (an
//! exact decimal, as text in XLSX too), budgets without a rate, link. CSV and XLSX name status,
//! regions, policy areas and markers in the interface's language; JSON gives their codes.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use coopfolio_core::country::IloRegion;
use coopfolio_iati::IatiWriter;
use coopfolio_store::download::{DataVersion, DownloadMethod, DownloadRow, ProjectDownload};
use coopfolio_store::export::ExportedActivity;
use coopfolio_store::Store;
use futures_util::stream::{self, Stream, StreamExt};
use serde::Serialize;

use crate::error::WebError;
use crate::explorer::marker_label;
use crate::query::ExplorerParams;
use crate::text::{catalog, Catalog, Lang};
use crate::{format, AppState};

/// The columns of a download, in order; also the CSV header and the JSON keys.
pub const COLUMNS: [&str; 13] = [
    "identifier",
    "title",
    "status",
    "start_date",
    "end_date",
    "countries",
    "regions",
    "policy_areas",
    "markers",
    "reporting_org",
    "budget_usd",
    "budgets_without_rate",
    "link",
];

/// What to say about each column, in the CSV's header block, the JSON's `meta` and the XLSX's
/// "About" sheet.
const COLUMN_NOTES: [&str; 13] = [
    "the IATI activity identifier",
    "the title in English, else the first title given",
    "IATI activity status",
    "actual start date, else planned",
    "actual end date, else planned",
    "recipient countries, ISO 3166-1 alpha-2 codes",
    "ILO regions of the recipient countries",
    "policy areas: set by hand, else mapped from the DAC sectors",
    "South-South, triangular, joint UN programme, MPTF",
    "the organisation that reports the activity",
    "the activity's budgets in US dollars, exact decimal; see the method",
    "budgets left out of budget_usd for want of a rate or currency",
    "the project's page on this portal",
];

/// The columns whose text comes as published, from anyone: title and reporting organisation.
const FREE_TEXT_COLUMNS: [usize; 2] = [1, 9];

pub async fn csv(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(params): Query<ExplorerParams>,
) -> Result<Response, WebError> {
    let prepared = Prepared::new(&state.store, lang, &headers, &params).await?;
    let mut preamble = String::new();
    for line in prepared.about_lines() {
        preamble.push_str("# ");
        // A comment line must stay one line, whatever a value holds.
        preamble.push_str(&line.replace(['\r', '\n'], " "));
        preamble.push('\n');
    }
    let mut header_row = csv::Writer::from_writer(preamble.into_bytes());
    header_row.write_record(COLUMNS).map_err(download_error)?;
    let preamble = header_row
        .into_inner()
        .map_err(|error| WebError::Download(error.to_string()))?;

    let filename = prepared.filename("csv");
    let labels = prepared.labels;
    let body = stream::once(async move { Ok(Bytes::from(preamble)) }).chain(
        pages(state.store.clone(), prepared.download).map(move |page| {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for row in &page? {
                let mut cells = labels.cells(row);
                for column in FREE_TEXT_COLUMNS {
                    cells[column] = inert(&cells[column]);
                }
                writer.write_record(cells).map_err(download_error)?;
            }
            writer
                .into_inner()
                .map(Bytes::from)
                .map_err(|error| WebError::Download(error.to_string()))
        }),
    );
    Ok(attachment(
        "text/csv; charset=utf-8",
        &filename,
        Body::from_stream(body),
    ))
}

pub async fn json(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(params): Query<ExplorerParams>,
) -> Result<Response, WebError> {
    let prepared = Prepared::new(&state.store, lang, &headers, &params).await?;
    let meta = Meta {
        title: "Coopfolio: programmes and projects",
        view: &prepared.view,
        rows: prepared.download.len(),
        data_version: &prepared.version,
        method: &prepared.method,
        columns: COLUMNS
            .iter()
            .zip(COLUMN_NOTES)
            .map(|(name, note)| Column { name, note })
            .collect(),
        codes: "status is an IATI ActivityStatus code; regions, policy_areas and markers are \
                the portal's codes",
    };
    let mut opening = b"{\"meta\":".to_vec();
    serde_json::to_writer(&mut opening, &meta).map_err(json_error)?;
    opening.extend_from_slice(b",\"projects\":[\n");
    let origin = prepared.labels.origin.clone();
    let mut first = true;
    let filename = prepared.filename("json");
    let rows = pages(state.store.clone(), prepared.download).map(move |page| {
        let mut chunk = Vec::new();
        for row in &page? {
            if !first {
                chunk.extend_from_slice(b",\n");
            }
            first = false;
            serde_json::to_writer(&mut chunk, &JsonRow::new(row, &origin)).map_err(json_error)?;
        }
        Ok::<_, WebError>(Bytes::from(chunk))
    });
    let body = stream::once(async move { Ok(Bytes::from(opening)) })
        .chain(rows)
        .chain(stream::once(async { Ok(Bytes::from_static(b"\n]}\n")) }));
    Ok(attachment(
        "application/json",
        &filename,
        Body::from_stream(body),
    ))
}

pub async fn xlsx(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(params): Query<ExplorerParams>,
) -> Result<Response, WebError> {
    let mut prepared = Prepared::new(&state.store, lang, &headers, &params).await?;
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(prepared.download.len());
    while let Some(page) = prepared.download.next_page(&state.store).await? {
        rows.extend(page.iter().map(|row| prepared.labels.cells(row)));
    }
    let about = prepared.about_lines();
    let filename = prepared.filename("xlsx");
    // rust_xlsxwriter keeps the whole sheet in memory and zips it at the end, so the workbook
    // is written on a blocking thread rather than on one of the runtime's workers.
    let workbook = tokio::task::spawn_blocking(move || workbook(&rows, &about))
        .await
        .map_err(|error| WebError::Download(error.to_string()))??;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &filename,
        Body::from(workbook),
    ))
}

pub async fn xml(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(params): Query<ExplorerParams>,
) -> Result<Response, WebError> {
    let prepared = Prepared::new(&state.store, lang, &headers, &params).await?;
    let mut writer =
        IatiWriter::activities(Vec::new(), &prepared.version.read_at).map_err(iati_error)?;
    for line in prepared.header_lines() {
        writer.write_comment(&line).map_err(iati_error)?;
    }
    writer
        .write_comment(prepared.labels.text.get("ss_download_method_xml"))
        .map_err(iati_error)?;
    let opening = std::mem::take(writer.get_mut());
    let filename = prepared.filename("xml");
    let activities = stream::unfold(
        Some((state.store.clone(), prepared.download, writer)),
        |state| async move {
            let (store, mut download, mut writer) = state?;
            match download.next_activities(&store).await {
                Ok(Some(page)) => {
                    let written = page
                        .iter()
                        .try_for_each(|activity| write_exported(&mut writer, activity));
                    match written {
                        Ok(()) => {
                            let chunk = Bytes::from(std::mem::take(writer.get_mut()));
                            Some((Ok(chunk), Some((store, download, writer))))
                        }
                        Err(error) => Some((Err(iati_error(error)), None)),
                    }
                }
                Ok(None) => Some((writer.finish().map(Bytes::from).map_err(iati_error), None)),
                Err(error) => {
                    // As for CSV: the status line has gone out, so the file is cut short.
                    tracing::error!(?error, "an IATI download failed part way");
                    Some((Err(WebError::from(error)), None))
                }
            }
        },
    );
    let body =
        stream::once(async move { Ok::<_, WebError>(Bytes::from(opening)) }).chain(activities);
    Ok(attachment(
        "application/xml; charset=utf-8",
        &filename,
        Body::from_stream(body),
    ))
}

/// One programme or project as an IATI 2.03 activity file: the project page's download, written
/// as the view's download writes each of its activities.
pub async fn project_xml(
    State(state): State<AppState>,
    lang: Lang,
    Path(identifier): Path<String>,
) -> Result<Response, WebError> {
    let text = catalog(lang);
    let activity = state
        .store
        .export_by_identifier(&identifier)
        .await?
        .ok_or_else(|| {
            WebError::NotFound(format!("{} {identifier}", text.get("no_such_project")))
        })?;
    let version = state.store.data_version().await?;
    let mut writer = IatiWriter::activities(Vec::new(), &version.read_at).map_err(iati_error)?;
    writer
        .write_comment(&format!("Coopfolio: the programme or project {identifier}"))
        .map_err(iati_error)?;
    writer
        .write_comment(&format!("Downloaded at: {}", version.read_at))
        .map_err(iati_error)?;
    let method = match &activity {
        ExportedActivity::Raw { .. } => "Method: the activity as the XML that was imported",
        ExportedActivity::Model(_) => {
            "Method: rebuilt from the tables as `coopfolio export iati` rebuilds it"
        }
    };
    writer.write_comment(method).map_err(iati_error)?;
    write_exported(&mut writer, &activity).map_err(iati_error)?;
    let file = writer.finish().map_err(iati_error)?;
    let filename = format!("{}.xml", filename_safe(&identifier));
    Ok(attachment(
        "application/xml; charset=utf-8",
        &filename,
        Body::from(file),
    ))
}

/// One exported activity into an activity file: its kept XML as it was imported, else the
/// activity rebuilt from the tables.
fn write_exported(
    writer: &mut IatiWriter<Vec<u8>>,
    activity: &ExportedActivity,
) -> Result<(), coopfolio_iati::writer::WriteError> {
    match activity {
        ExportedActivity::Raw { xml, .. } => writer.write_raw_activity(xml),
        ExportedActivity::Model(model) => writer.write_activity(model).map(drop),
    }
}

/// An identifier as a file name: letters, digits, `-`, `_` and `.` kept, anything else `_`.
fn filename_safe(identifier: &str) -> String {
    identifier
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '_',
        })
        .collect()
}

/// What every format needs before its first byte: the rows to come, the data version, the
/// method note and how to label codes and links.
struct Prepared {
    download: ProjectDownload,
    version: DataVersion,
    method: DownloadMethod,
    /// The explorer's URL for the same view.
    view: String,
    labels: Labels,
}

impl Prepared {
    async fn new(
        store: &Store,
        lang: Lang,
        headers: &HeaderMap,
        params: &ExplorerParams,
    ) -> Result<Prepared, WebError> {
        let query = params.to_query()?;
        let labels = Labels {
            text: catalog(lang),
            origin: origin(headers),
        };
        Ok(Prepared {
            download: store.project_download(&query).await?,
            version: store.data_version().await?,
            method: method_in(store.download_method().await?, labels.text),
            view: format!("{}{}", labels.origin, params.url_for_page(1)),
            labels,
        })
    }

    /// The header block of CSV and the "About" sheet of XLSX, one statement a line.
    fn about_lines(&self) -> Vec<String> {
        let mut lines = self.header_lines();
        for (name, note) in COLUMNS.iter().zip(COLUMN_NOTES) {
            lines.push(format!("Column {name}: {note}"));
        }
        lines
    }

    /// What the view is, its data version and its method, one statement a line: the start of
    /// every format's header.
    fn header_lines(&self) -> Vec<String> {
        let version = &self.version;
        let mut lines = vec![
            "Coopfolio: programmes and projects".to_owned(),
            format!("View: {}", self.view),
            format!("Rows: {}", self.download.len()),
            format!("Downloaded at: {}", version.read_at),
            match (version.import_run_id, &version.import_finished_at) {
                (Some(id), Some(finished)) => {
                    format!("Data version: import run {id}, finished {finished}")
                }
                (Some(id), None) => format!("Data version: import run {id}"),
                _ => "Data version: no import run recorded".to_owned(),
            },
        ];
        let method = &self.method;
        // The method's labels, like its sentences, in the language of the page.
        for (name, value) in [
            ("ss_download_method_rows", &method.basis),
            ("ss_download_method_budget", &method.budget),
            ("ss_download_method_hierarchy", &method.hierarchy_rule),
            ("ss_download_method_revised", &method.revised_budget_rule),
            ("ss_download_method_conversion", &method.conversion),
            ("ss_download_method_policy_areas", &method.policy_areas),
            ("ss_download_method_markers", &method.markers),
            ("ss_download_method_partners", &method.partners),
        ] {
            lines.push(format!("{}: {value}", self.labels.text.get(name)));
        }
        lines
    }

    /// `coopfolio-projects-2026-11-28.csv`: the date of the download.
    fn filename(&self, extension: &str) -> String {
        let day = self.version.read_at.get(..10).unwrap_or("undated");
        format!("coopfolio-projects-{day}.{extension}")
    }
}

/// The download's method note in the catalog's language, as the page it came from speaks.
fn method_in(method: DownloadMethod, text: &Catalog) -> DownloadMethod {
    let say = |sentence: String| format::method_sentence(&sentence, text);
    DownloadMethod {
        basis: say(method.basis),
        budget: say(method.budget),
        hierarchy_rule: say(method.hierarchy_rule),
        revised_budget_rule: say(method.revised_budget_rule),
        conversion: say(method.conversion),
        policy_areas: say(method.policy_areas),
        markers: say(method.markers),
        partners: say(method.partners),
    }
}

/// How codes read in CSV and XLSX, and where links point.
struct Labels {
    text: &'static Catalog,
    /// `http://host:port`, from the request, so that links work where the file is opened.
    origin: String,
}

impl Labels {
    /// A row as the cells of CSV and XLSX, in the order of [`COLUMNS`].
    fn cells(&self, row: &DownloadRow) -> Vec<String> {
        let lang = self.text.lang().code();
        let join = |values: Vec<String>| values.join("; ");
        vec![
            row.identifier.clone(),
            row.title.clone().unwrap_or_default(),
            row.status
                .as_deref()
                .map(|code| format::codelist("ActivityStatus", code, lang))
                .unwrap_or_default(),
            row.start_date.clone().unwrap_or_default(),
            row.end_date.clone().unwrap_or_default(),
            join(row.countries.clone()),
            join(
                row.regions
                    .iter()
                    .map(|code| {
                        code.parse::<IloRegion>()
                            .map_or_else(|_| code.clone(), |region| region.label(lang).to_owned())
                    })
                    .collect(),
            ),
            join(
                row.policy_areas
                    .iter()
                    .map(|code| format::policy_area(code, lang))
                    .collect(),
            ),
            join(
                row.markers
                    .iter()
                    .map(|marker| marker_label(self.text, *marker))
                    .collect(),
            ),
            row.reporting_org.clone().unwrap_or_default(),
            format!("{:.2}", row.budget_usd.round_dp(2)),
            row.budgets_without_rate.to_string(),
            link(&self.origin, &row.identifier),
        ]
    }
}

#[derive(Serialize)]
struct Meta<'a> {
    title: &'static str,
    view: &'a str,
    rows: usize,
    data_version: &'a DataVersion,
    method: &'a DownloadMethod,
    columns: Vec<Column>,
    codes: &'static str,
}

#[derive(Serialize)]
struct Column {
    name: &'static str,
    note: &'static str,
}

/// A JSON row: the store's row with its link.
#[derive(Serialize)]
struct JsonRow<'a> {
    #[serde(flatten)]
    row: &'a DownloadRow,
    link: String,
}

impl<'a> JsonRow<'a> {
    fn new(row: &'a DownloadRow, origin: &str) -> JsonRow<'a> {
        JsonRow {
            row,
            link: link(origin, &row.identifier),
        }
    }
}

/// The download's pages as a stream that ends after the last page or the first error.
fn pages(
    store: Store,
    download: ProjectDownload,
) -> impl Stream<Item = Result<Vec<DownloadRow>, WebError>> + Send {
    stream::unfold(Some((store, download)), |state| async move {
        let (store, mut download) = state?;
        match download.next_page(&store).await {
            Ok(Some(rows)) => Some((Ok(rows), Some((store, download)))),
            Ok(None) => None,
            Err(error) => {
                // The status line has gone out: the visitor sees a cut download, the log says why.
                tracing::error!(?error, "a download failed part way");
                Some((Err(WebError::from(error)), None))
            }
        }
    })
}

fn attachment(content_type: &'static str, filename: &str, body: Body) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// The scheme and host the request came to; `X-Forwarded-Proto` says when a proxy took TLS.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// The project's page, its identifier escaped as a path segment.
fn link(origin: &str, identifier: &str) -> String {
    let mut segment = String::with_capacity(identifier.len());
    for byte in identifier.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            segment.push(byte as char);
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{origin}/projects/{segment}")
}

/// The workbook: the rows on "Projects", the header block on "About".
fn workbook(rows: &[Vec<String>], about: &[String]) -> Result<Vec<u8>, WebError> {
    use rust_xlsxwriter::{Format, Workbook};
    let xlsx_error = |error: rust_xlsxwriter::XlsxError| WebError::Download(error.to_string());
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Projects").map_err(xlsx_error)?;
    for (column, name) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(0, column as u16, *name, &bold)
            .map_err(xlsx_error)?;
    }
    for (index, row) in rows.iter().enumerate() {
        let line = u32::try_from(index + 1).map_err(|_| {
            WebError::Download("more rows than a spreadsheet holds; download CSV".to_owned())
        })?;
        for (column, cell) in row.iter().enumerate() {
            // Amounts go in as text: a spreadsheet number is a binary float, and the amounts
            // are exact decimals.
            sheet
                .write_string(line, column as u16, cell)
                .map_err(xlsx_error)?;
        }
    }
    let about_sheet = workbook.add_worksheet();
    about_sheet.set_name("About").map_err(xlsx_error)?;
    for (index, line) in about.iter().enumerate() {
        about_sheet
            .write_string(index as u32, 0, line)
            .map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// A spreadsheet opening a CSV file runs a cell that starts with `=`, `+`, `-` or `@` as a
/// formula; a published title could hold one. Such a text gets a leading apostrophe, which
/// spreadsheets read as "this is text".
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn download_error(error: csv::Error) -> WebError {
    WebError::Download(error.to_string())
}

fn iati_error(error: coopfolio_iati::writer::WriteError) -> WebError {
    WebError::Download(error.to_string())
}

fn json_error(error: serde_json::Error) -> WebError {
    WebError::Download(error.to_string())
}
