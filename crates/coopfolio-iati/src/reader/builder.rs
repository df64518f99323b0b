//! Turns XML events into activities and organisations, and lesser faults into diagnostics.
//!
//! The builder keeps a stack of open elements, each tagged with what it means to the model
//! (`Kind`), so that a child is understood by its parent without building paths: the path is
//! made from the stack of names only when a diagnostic needs it. Parts of a record are pushed
//! onto the record as their start tag is read and filled in as their content arrives.

use std::borrow::Cow;
use std::sync::Arc;

use coopfolio_core::codelists::Codelists;
use coopfolio_core::value;
use quick_xml::events::{BytesCData, BytesDecl, BytesStart, BytesText};

use super::source::RecordingSource;
use super::{DocumentInfo, Limits, Record};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Activity, Narrative, Organisation, Value};
use elements::{
    activity_child, append_text, boolean, budget_child, check_escapes, currency_code,
    organisation_budget_child, organisation_child, owned_code, read_attributes, skip,
    transaction_child, INVALID_UTF8,
};

mod elements;

/// A fault that makes the document unusable, before it is located.
pub(crate) struct Fatal {
    code: &'static str,
    message: String,
    offset: u64,
}

impl Fatal {
    pub(crate) fn new(code: &'static str, message: impl Into<String>, offset: u64) -> Self {
        Fatal {
            code,
            message: message.into(),
            offset,
        }
    }
}

/// What an event meant for the reader's loop.
pub(crate) enum Outcome {
    Continue,
    RecordStarted,
    RecordFinished { end: u64 },
    Finished,
}

/// What an open element is to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Record,
    /// An element the model does not cover, or whose attributes were all it had to give.
    Skipped,
    Identifier,
    /// An element whose names are `<narrative>` children (or, in 1.x files, its own text).
    Holder(Holder),
    Narrative,
    Value(ValueOwner),
    Budget,
    Transaction,
    OrganisationBudget(OrganisationLine),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Title,
    Description,
    ReportingOrg,
    ParticipatingOrg,
    TransactionDescription,
    ProviderOrg,
    ReceiverOrg,
    OrganisationName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueOwner {
    Budget,
    Transaction,
    OrganisationBudget(OrganisationLine),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrganisationLine {
    Budget,
    Expenditure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootKind {
    Activities,
    Organisations,
}

// One record is in progress per reader; boxing it would only add an allocation per record.
#[allow(clippy::large_enum_variant)]
enum InProgress {
    Activity(Activity),
    Organisation(Organisation),
}

struct Frame {
    kind: Kind,
    /// Where the element's name starts in `Context::names`.
    name_start: usize,
    /// The offset of the element's `<`.
    offset: u64,
}

/// The longest part of an element name kept for paths; longer names are cut, which keeps a
/// deep nest of huge names from costing more than the depth limit allows.
const MAX_NAME_IN_PATH: usize = 200;

/// The open elements and the diagnostics made so far: everything a diagnostic needs.
struct Context {
    file_label: String,
    codelists: Arc<Codelists>,
    frames: Vec<Frame>,
    names: Vec<u8>,
    /// Diagnostics not yet handed out, each with the offset it points at. Their line and
    /// column are resolved soon after they are made, while the source still holds the bytes.
    pending: Vec<(Diagnostic, u64)>,
    unresolved_from: usize,
    /// The first pending diagnostic that belongs to the record being read.
    record_diagnostics_from: usize,
    /// Warnings in the record being read.
    faults: u32,
    /// The last code looked up in each list, and whether it was known.
    last_answers: [(String, bool); List::COUNT],
}

impl Context {
    /// The element path of the open elements, such as `/iati-activities/iati-activity/title`,
    /// or `/` outside any element.
    fn path(&self) -> String {
        if self.frames.is_empty() {
            return "/".to_string();
        }
        let mut path = String::new();
        for (index, frame) in self.frames.iter().enumerate() {
            let end = self
                .frames
                .get(index + 1)
                .map_or(self.names.len(), |next| next.name_start);
            path.push('/');
            path.push_str(&String::from_utf8_lossy(&self.names[frame.name_start..end]));
        }
        path
    }

    fn top_offset(&self) -> u64 {
        self.frames.last().map_or(0, |frame| frame.offset)
    }

    fn push(&mut self, severity: Severity, code: &'static str, message: String, offset: u64) {
        let diagnostic = Diagnostic {
            severity,
            code,
            message,
            file: self.file_label.clone(),
            line: 0,
            column: 0,
            path: self.path(),
            record: None,
        };
        self.pending.push((diagnostic, offset));
    }

    /// A lesser fault of the innermost open element.
    fn warn(&mut self, code: &'static str, message: String) {
        self.push(Severity::Warning, code, message, self.top_offset());
        self.faults += 1;
    }

    /// Report `code` when `list` is known and does not hold it; false when reported.
    fn check_code(&mut self, list: List, code: &str) -> bool {
        // The same few codes come again and again (a currency, an organisation type), so the
        // last answer per list saves two hash lookups most of the time.
        let (last_code, last_known) = &mut self.last_answers[list as usize];
        let known = if last_code == code {
            *last_known
        } else {
            let known = self.codelists.contains(list.name(), code) != Some(false);
            last_code.clear();
            last_code.push_str(code);
            *last_known = known;
            known
        };
        if !known {
            self.warn(
                "unknown-code",
                format!("'{code}' is not a code of the {} codelist", list.name()),
            );
        }
        known
    }

    fn not_well_formed(&self, detail: impl std::fmt::Display) -> Fatal {
        Fatal::new(
            "not-well-formed",
            format!("the document is not well-formed XML: {detail}"),
            self.top_offset(),
        )
    }
}

/// The codelists the reader checks codes against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    TransactionType,
    OrganisationType,
    OrganisationRole,
    ActivityStatus,
    Sector,
    SectorCategory,
    Country,
    Region,
    Currency,
    BudgetType,
    BudgetStatus,
    CollaborationType,
    FlowType,
    FinanceType,
    AidType,
    TiedStatus,
    ActivityDateType,
    RelatedActivityType,
    DescriptionType,
}

impl List {
    const COUNT: usize = 19;

    /// The codelist's name in [`Codelists`].
    fn name(self) -> &'static str {
        match self {
            List::TransactionType => "TransactionType",
            List::OrganisationType => "OrganisationType",
            List::OrganisationRole => "OrganisationRole",
            List::ActivityStatus => "ActivityStatus",
            List::Sector => "Sector",
            List::SectorCategory => "SectorCategory",
            List::Country => "Country",
            List::Region => "Region",
            List::Currency => "Currency",
            List::BudgetType => "BudgetType",
            List::BudgetStatus => "BudgetStatus",
            List::CollaborationType => "CollaborationType",
            List::FlowType => "FlowType",
            List::FinanceType => "FinanceType",
            List::AidType => "AidType",
            List::TiedStatus => "TiedStatus",
            List::ActivityDateType => "ActivityDateType",
            List::RelatedActivityType => "RelatedActivityType",
            List::DescriptionType => "DescriptionType",
        }
    }
}

/// Reused buffers for the content of the element being read.
#[derive(Default)]
struct Scratch {
    /// The text of an identifier, narrative or value.
    text: String,
    /// Text written directly in a narrative holder, as 1.x files do.
    holder_text: String,
    holder_lang: Option<String>,
    narrative_lang: Option<String>,
    value_currency: Option<String>,
    value_date: Option<String>,
    /// Whether the budget or transaction being read has had a `<value>`.
    value_seen: bool,
}

impl Scratch {
    fn start_holder(&mut self, lang: Option<Cow<'_, str>>) {
        self.holder_text.clear();
        self.holder_lang = owned_code(lang);
    }
}

/// The state of one document being read.
pub(crate) struct Builder {
    context: Context,
    scratch: Scratch,
    limits: Limits,
    document: Option<DocumentInfo>,
    root: Option<RootKind>,
    root_closed: bool,
    /// Whether anything but whitespace has been seen, which tells an empty file from one that
    /// is not XML.
    seen_content: bool,
    record: Option<InProgress>,
    record_start: u64,
}

impl Builder {
    pub(crate) fn new(file_label: String, codelists: Arc<Codelists>, limits: Limits) -> Self {
        Builder {
            context: Context {
                file_label,
                codelists,
                frames: Vec::with_capacity(16),
                names: Vec::with_capacity(256),
                pending: Vec::new(),
                unresolved_from: 0,
                record_diagnostics_from: 0,
                faults: 0,
                last_answers: std::array::from_fn(|_| (String::new(), true)),
            },
            scratch: Scratch::default(),
            limits,
            document: None,
            root: None,
            root_closed: false,
            seen_content: false,
            record: None,
            record_start: 0,
        }
    }

    pub(crate) fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    pub(crate) fn document(&self) -> Option<&DocumentInfo> {
        self.document.as_ref()
    }

    pub(crate) fn in_record(&self) -> bool {
        self.record.is_some()
    }

    /// The offset of the `<` of the record being read (or last read).
    pub(crate) fn record_start(&self) -> u64 {
        self.record_start
    }

    pub(crate) fn set_record_position(&mut self, line: u64, column: u64) {
        match &mut self.record {
            Some(InProgress::Activity(activity)) => {
                activity.line = line;
                activity.column = column;
            }
            Some(InProgress::Organisation(organisation)) => {
                organisation.line = line;
                organisation.column = column;
            }
            None => {}
        }
    }

    /// Give a line and column to the diagnostics made since the last call.
    pub(crate) fn resolve_positions<R>(&mut self, source: &mut RecordingSource<R>) {
        let context = &mut self.context;
        for (diagnostic, offset) in &mut context.pending[context.unresolved_from..] {
            let (line, column) = source.position_of(*offset);
            diagnostic.line = line;
            diagnostic.column = column;
        }
        context.unresolved_from = context.pending.len();
    }

    /// Hand out the diagnostics whose record is settled (all of them outside a record).
    pub(crate) fn flush_diagnostics(&mut self, diagnostics: &mut Vec<Diagnostic>) {
        // Diagnostics of the record being read wait for its end, when its identifier (which
        // may come after the fault) is known for sure.
        let context = &mut self.context;
        let settled = if self.record.is_some() {
            context.record_diagnostics_from
        } else {
            context.pending.len()
        };
        diagnostics.extend(
            context
                .pending
                .drain(..settled)
                .map(|(diagnostic, _)| diagnostic),
        );
        context.unresolved_from = context.unresolved_from.saturating_sub(settled);
        context.record_diagnostics_from = context.record_diagnostics_from.saturating_sub(settled);
    }

    /// A fatal fault as a located diagnostic; the record being read, if any, is abandoned and
    /// its diagnostics named after it.
    pub(crate) fn fatal_diagnostic<R>(
        &mut self,
        fatal: Fatal,
        source: &mut RecordingSource<R>,
    ) -> Diagnostic {
        let (line, column) = source.position_of(fatal.offset);
        let identifier = self.record_identifier();
        // The path is that of the elements open when reading stopped, the innermost being the
        // one at fault (or, at the end of the input, the one left open).
        let diagnostic = Diagnostic {
            severity: Severity::Fatal,
            code: fatal.code,
            message: fatal.message,
            file: self.context.file_label.clone(),
            line,
            column,
            path: self.context.path(),
            record: identifier.clone(),
        };
        self.name_record_diagnostics(identifier);
        self.record = None;
        diagnostic
    }

    /// The identifier of the record being read, once known.
    fn record_identifier(&self) -> Option<String> {
        let identifier = match &self.record {
            Some(InProgress::Activity(activity)) => &activity.identifier,
            Some(InProgress::Organisation(organisation)) => &organisation.identifier,
            None => return None,
        };
        (!identifier.is_empty()).then(|| identifier.clone())
    }

    /// Name the record's diagnostics after it, and close the record's share of the list.
    fn name_record_diagnostics(&mut self, identifier: Option<String>) {
        let context = &mut self.context;
        if identifier.is_some() {
            for (diagnostic, _) in &mut context.pending[context.record_diagnostics_from..] {
                diagnostic.record.clone_from(&identifier);
            }
        }
        context.record_diagnostics_from = context.pending.len();
    }

    /// The record just closed, with its exact bytes; `None` when it had to be skipped.
    pub(crate) fn finish_record(&mut self, raw_xml: Vec<u8>) -> Option<Record> {
        let faults = self.context.faults;
        let identifier = self.record_identifier();
        let record = match self.record.take() {
            Some(InProgress::Activity(mut activity)) => {
                activity.raw_xml = raw_xml;
                activity.faults = faults;
                Some(Record::Activity(activity))
            }
            Some(InProgress::Organisation(mut organisation)) => {
                organisation.raw_xml = raw_xml;
                organisation.faults = faults;
                Some(Record::Organisation(organisation))
            }
            None => None,
        };
        // Without an identifier a record cannot be stored, nor replaced by a later import; it
        // is skipped with an error at its start tag, and its other diagnostics stay reported.
        let record = if identifier.is_none() {
            let message = match record {
                Some(Record::Organisation(_)) => {
                    "the organisation has no <organisation-identifier> and is skipped"
                }
                _ => "the activity has no <iati-identifier> (or an empty one) and is skipped",
            };
            self.context.push(
                Severity::Error,
                "missing-identifier",
                message.to_string(),
                self.record_start,
            );
            None
        } else {
            record
        };
        self.name_record_diagnostics(identifier);
        self.pop_frame();
        record
    }

    /// Close the innermost element, forgetting its name.
    fn pop_frame(&mut self) {
        if let Some(frame) = self.context.frames.pop() {
            self.context.names.truncate(frame.name_start);
        }
    }

    /// The record's `@default-currency`, which a value without `@currency` takes.
    fn default_currency(&self) -> Option<String> {
        match &self.record {
            Some(InProgress::Activity(activity)) => activity.default_currency.clone(),
            Some(InProgress::Organisation(organisation)) => organisation.default_currency.clone(),
            None => None,
        }
    }

    /// The record's `@xml:lang`, which a narrative without its own takes.
    fn default_lang(&self) -> Option<String> {
        match &self.record {
            Some(InProgress::Activity(activity)) => activity.default_lang.clone(),
            Some(InProgress::Organisation(organisation)) => organisation.default_lang.clone(),
            None => None,
        }
    }

    pub(crate) fn on_declaration(
        &mut self,
        declaration: &BytesDecl<'_>,
        offset: u64,
    ) -> Result<Outcome, Fatal> {
        self.seen_content = true;
        if let Some(Ok(encoding)) = declaration.encoding() {
            let encoding = String::from_utf8_lossy(&encoding).to_ascii_lowercase();
            // The reader decodes UTF-8 only; reading another encoding as UTF-8 would garble
            // every name, so such a document is refused with the reason.
            if !matches!(encoding.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                return Err(Fatal::new(
                    "unsupported-encoding",
                    format!("the document declares encoding '{encoding}'; only UTF-8 is read"),
                    offset,
                ));
            }
        }
        Ok(Outcome::Continue)
    }

    /// A comment or processing instruction: nothing to keep, but it is content, so a document
    /// of nothing else is not "empty".
    pub(crate) fn on_other_markup(&mut self) {
        self.seen_content = true;
    }

    /// The end of the input, which is only right after the root element has closed.
    pub(crate) fn on_eof(&mut self, end: u64) -> Result<Outcome, Fatal> {
        if let Some(frame) = self.context.frames.last() {
            let name_end = self.context.names.len();
            let name = String::from_utf8_lossy(&self.context.names[frame.name_start..name_end]);
            return Err(Fatal::new(
                "not-well-formed",
                format!("the document is not well-formed XML: it ends before <{name}> is closed"),
                end,
            ));
        }
        if self.document.is_none() {
            return Err(if self.seen_content {
                Fatal::new("not-xml", "the document has no root element", end)
            } else {
                Fatal::new("empty-document", "the document is empty", 0)
            });
        }
        Ok(Outcome::Finished)
    }

    /// Text: kept where the element's kind asks for it, else only checked for references.
    pub(crate) fn on_text(
        &mut self,
        text: &BytesText<'_>,
        text_start: u64,
    ) -> Result<Outcome, Fatal> {
        let raw: &[u8] = text;
        let Some(frame) = self.context.frames.last() else {
            if raw.iter().all(u8::is_ascii_whitespace) {
                return Ok(Outcome::Continue);
            }
            return Err(if self.root_closed {
                Fatal::new(
                    "not-well-formed",
                    "the document is not well-formed XML: text follows the root element",
                    text_start,
                )
            } else if self.seen_content {
                Fatal::new(
                    "not-well-formed",
                    "the document is not well-formed XML: text comes before the root element",
                    text_start,
                )
            } else {
                Fatal::new(
                    "not-xml",
                    "the document is not XML: it does not start with markup",
                    text_start,
                )
            });
        };
        self.seen_content = true;
        // Text may come in several events (split by comments or CDATA), so it is appended to
        // the buffer of the element it belongs to and taken whole at the end tag.
        match frame.kind {
            Kind::Identifier | Kind::Narrative | Kind::Value(_) => {
                append_text(&mut self.context, &mut self.scratch.text, raw, text_start)?
            }
            Kind::Holder(_) => append_text(
                &mut self.context,
                &mut self.scratch.holder_text,
                raw,
                text_start,
            )?,
            _ => check_escapes(raw, text_start)?,
        }
        Ok(Outcome::Continue)
    }

    /// A CDATA section: text taken as written, with no references to expand.
    pub(crate) fn on_cdata(&mut self, data: &BytesCData<'_>) -> Result<Outcome, Fatal> {
        let Some(frame) = self.context.frames.last() else {
            return Err(self
                .context
                .not_well_formed("a CDATA section lies outside the root element"));
        };
        let raw: &[u8] = data;
        let target = match frame.kind {
            Kind::Identifier | Kind::Narrative | Kind::Value(_) => &mut self.scratch.text,
            Kind::Holder(_) => &mut self.scratch.holder_text,
            _ => return Ok(Outcome::Continue),
        };
        match std::str::from_utf8(raw) {
            Ok(text) => target.push_str(text),
            Err(_) => {
                target.push_str(&String::from_utf8_lossy(raw));
                self.context.warn("invalid-utf8", INVALID_UTF8.to_string());
            }
        }
        Ok(Outcome::Continue)
    }

    /// A start tag (or an empty element, which the caller ends at once).
    pub(crate) fn on_start(
        &mut self,
        start: &BytesStart<'_>,
        tag_start: u64,
    ) -> Result<Outcome, Fatal> {
        self.seen_content = true;
        let name = start.name().into_inner();
        if !name.first().is_some_and(|&byte| is_name_start(byte)) {
            // quick-xml reads `a < b` in text as a tag with an odd name; say what it is.
            return Err(Fatal::new(
                "not-well-formed",
                "the document is not well-formed XML: `<` is not followed by an element name \
                 (in text it must be written `&lt;`)",
                tag_start,
            ));
        }
        // The element is on the stack before its attributes are read, so that a diagnostic
        // about them names it in its path.
        let parent = self.context.frames.last().map(|frame| frame.kind);
        let name_start = self.context.names.len();
        self.context
            .names
            .extend_from_slice(&name[..name.len().min(MAX_NAME_IN_PATH)]);
        self.context.frames.push(Frame {
            kind: Kind::Skipped,
            name_start,
            offset: tag_start,
        });
        if self.context.frames.len() > self.limits.max_depth {
            return Err(Fatal::new(
                "too-deep",
                format!(
                    "elements nest deeper than the limit of {} levels",
                    self.limits.max_depth
                ),
                tag_start,
            ));
        }
        let Some(parent) = parent else {
            return self.start_root(name, start);
        };
        // What an element means depends on its parent alone: a `<sector>` in a transaction is
        // the transaction's, a `<title>` inside a `<result>` is nobody's.
        let context = &mut self.context;
        let scratch = &mut self.scratch;
        let kind = match (parent, &mut self.record) {
            (Kind::Root, None) if Some(name) == self.root.map(record_element_name) => {
                return self.start_record(start, tag_start);
            }
            (Kind::Record, Some(InProgress::Activity(activity))) => {
                activity_child(context, scratch, activity, name, start)?
            }
            (Kind::Record, Some(InProgress::Organisation(organisation))) => {
                organisation_child(context, scratch, organisation, name, start)?
            }
            (Kind::Budget, Some(InProgress::Activity(activity))) => {
                match activity.budgets.last_mut() {
                    Some(budget) => budget_child(context, scratch, budget, name, start)?,
                    None => skip(context, start)?,
                }
            }
            (Kind::Transaction, Some(InProgress::Activity(activity))) => {
                match activity.transactions.last_mut() {
                    Some(transaction) => {
                        transaction_child(context, scratch, transaction, name, start)?
                    }
                    None => skip(context, start)?,
                }
            }
            (Kind::OrganisationBudget(line), Some(InProgress::Organisation(organisation))) => {
                let lines = match line {
                    OrganisationLine::Budget => &mut organisation.budgets,
                    OrganisationLine::Expenditure => &mut organisation.expenditures,
                };
                match lines.last_mut() {
                    Some(budget) => {
                        organisation_budget_child(context, scratch, budget, line, name, start)?
                    }
                    None => skip(context, start)?,
                }
            }
            (Kind::Holder(_), Some(_)) if name == b"narrative" => {
                let [lang] = read_attributes(context, start, [b"xml:lang"])?;
                scratch.narrative_lang = owned_code(lang);
                scratch.text.clear();
                Kind::Narrative
            }
            _ => skip(context, start)?,
        };
        if let Some(frame) = self.context.frames.last_mut() {
            frame.kind = kind;
        }
        Ok(Outcome::Continue)
    }

    /// The root element, which decides whether the document holds activities or organisations.
    fn start_root(&mut self, name: &[u8], start: &BytesStart<'_>) -> Result<Outcome, Fatal> {
        let name_text = String::from_utf8_lossy(name).into_owned();
        if self.root_closed {
            return Err(self.context.not_well_formed(format!(
                "a second root element <{name_text}> follows the first"
            )));
        }
        let root = match name {
            b"iati-activities" => RootKind::Activities,
            b"iati-organisations" => RootKind::Organisations,
            _ => {
                return Err(Fatal::new(
                    "not-iati",
                    format!(
                        "the root element is <{name_text}>, not <iati-activities> or \
                         <iati-organisations>"
                    ),
                    self.context.top_offset(),
                ))
            }
        };
        let [version, generated] = read_attributes(
            &mut self.context,
            start,
            [b"version", b"generated-datetime"],
        )?;
        self.document = Some(DocumentInfo {
            root: name_text,
            version: owned_code(version),
            generated: owned_code(generated),
        });
        self.root = Some(root);
        if let Some(frame) = self.context.frames.last_mut() {
            frame.kind = Kind::Root;
        }
        Ok(Outcome::Continue)
    }

    /// An `<iati-activity>` or `<iati-organisation>` directly under the root. Records anywhere
    /// else (nested in another, say) are not records and are skipped with their parent.
    fn start_record(&mut self, start: &BytesStart<'_>, tag_start: u64) -> Result<Outcome, Fatal> {
        // Diagnostics made before this record belong to no record.
        self.context.record_diagnostics_from = self.context.pending.len();
        self.context.faults = 0;
        self.record_start = tag_start;
        if let Some(frame) = self.context.frames.last_mut() {
            frame.kind = Kind::Record;
        }
        let context = &mut self.context;
        let record = match self.root {
            Some(RootKind::Organisations) => {
                let [currency, lang, last_updated] = read_attributes(
                    context,
                    start,
                    [b"default-currency", b"xml:lang", b"last-updated-datetime"],
                )?;
                InProgress::Organisation(Organisation {
                    default_currency: currency_code(context, currency),
                    default_lang: owned_code(lang),
                    last_updated: owned_code(last_updated),
                    ..Organisation::default()
                })
            }
            _ => {
                let [currency, lang, last_updated, hierarchy, humanitarian] = read_attributes(
                    context,
                    start,
                    [
                        b"default-currency",
                        b"xml:lang",
                        b"last-updated-datetime",
                        b"hierarchy",
                        b"humanitarian",
                    ],
                )?;
                // The hierarchy is a level number; anything else is reported, not guessed at.
                let hierarchy =
                    owned_code(hierarchy).and_then(|hierarchy| match hierarchy.parse::<i64>() {
                        Ok(level) => Some(level),
                        Err(_) => {
                            context.warn(
                                "not-a-number",
                                format!("the hierarchy '{hierarchy}' is not a whole number"),
                            );
                            None
                        }
                    });
                InProgress::Activity(Activity {
                    default_currency: currency_code(context, currency),
                    default_lang: owned_code(lang),
                    last_updated: owned_code(last_updated),
                    hierarchy,
                    humanitarian: boolean(context, humanitarian),
                    ..Activity::default()
                })
            }
        };
        self.record = Some(record);
        Ok(Outcome::RecordStarted)
    }

    /// An end tag: the element's content is complete, so what was gathered is taken now.
    pub(crate) fn on_end(&mut self, end: u64) -> Result<Outcome, Fatal> {
        let Some(frame) = self.context.frames.last() else {
            return Ok(Outcome::Continue);
        };
        match frame.kind {
            Kind::Record => {
                // The record's frame stays until `finish_record`, so that a missing identifier
                // is reported at the record's path.
                return Ok(Outcome::RecordFinished { end });
            }
            Kind::Root => self.root_closed = true,
            Kind::Skipped => {}
            Kind::Identifier => self.end_identifier(),
            Kind::Narrative => self.end_narrative(),
            Kind::Holder(holder) => self.end_holder(holder),
            Kind::Value(owner) => self.end_value(owner),
            Kind::Budget | Kind::Transaction | Kind::OrganisationBudget(_) => {
                if !self.scratch.value_seen {
                    self.context
                        .warn("missing-value", "there is no <value>".to_string());
                }
            }
        }
        self.pop_frame();
        Ok(Outcome::Continue)
    }

    /// The identifier, trimmed: publishers often indent it on lines of its own.
    fn end_identifier(&mut self) {
        let text = self.scratch.text.trim();
        let identifier = match &mut self.record {
            Some(InProgress::Activity(activity)) => &mut activity.identifier,
            Some(InProgress::Organisation(organisation)) => &mut organisation.identifier,
            None => return,
        };
        // The first non-empty identifier wins; a repeated element is not the record's name.
        if identifier.is_empty() {
            identifier.push_str(text);
        }
    }

    /// A narrative goes to the element that holds it (its parent); an empty one says nothing
    /// and is dropped.
    fn end_narrative(&mut self) {
        let frames = &self.context.frames;
        let Some(Kind::Holder(holder)) =
            frames.len().checked_sub(2).map(|index| frames[index].kind)
        else {
            return;
        };
        let text = self.scratch.text.trim();
        if text.is_empty() {
            return;
        }
        let narrative = Narrative {
            lang: self
                .scratch
                .narrative_lang
                .take()
                .or_else(|| self.default_lang()),
            text: text.to_string(),
        };
        if let Some(narratives) = self.narratives_of(holder) {
            narratives.push(narrative);
        }
    }

    /// The end of a title, description or organisation: its own text, if any, is a narrative.
    fn end_holder(&mut self, holder: Holder) {
        let text = self.scratch.holder_text.trim();
        if text.is_empty() {
            return;
        }
        // Text written directly in the element is how 1.x files give a single name.
        let narrative = Narrative {
            lang: self
                .scratch
                .holder_lang
                .take()
                .or_else(|| self.default_lang()),
            text: text.to_string(),
        };
        self.scratch.holder_text.clear();
        if let Some(narratives) = self.narratives_of(holder) {
            narratives.push(narrative);
        }
    }

    /// Where the narratives of a holder go in the record being read.
    fn narratives_of(&mut self, holder: Holder) -> Option<&mut Vec<Narrative>> {
        match self.record.as_mut()? {
            InProgress::Activity(activity) => match holder {
                Holder::Title => Some(&mut activity.titles),
                Holder::Description => activity
                    .descriptions
                    .last_mut()
                    .map(|description| &mut description.narratives),
                Holder::ReportingOrg => activity
                    .reporting_org
                    .as_mut()
                    .map(|organisation| &mut organisation.names),
                Holder::ParticipatingOrg => activity
                    .participating_orgs
                    .last_mut()
                    .map(|organisation| &mut organisation.names),
                Holder::TransactionDescription => activity
                    .transactions
                    .last_mut()
                    .map(|transaction| &mut transaction.description),
                Holder::ProviderOrg => activity
                    .transactions
                    .last_mut()
                    .and_then(|transaction| transaction.provider_org.as_mut())
                    .map(|organisation| &mut organisation.names),
                Holder::ReceiverOrg => activity
                    .transactions
                    .last_mut()
                    .and_then(|transaction| transaction.receiver_org.as_mut())
                    .map(|organisation| &mut organisation.names),
                Holder::OrganisationName => None,
            },
            InProgress::Organisation(organisation) => match holder {
                Holder::OrganisationName => Some(&mut organisation.names),
                Holder::ReportingOrg => organisation
                    .reporting_org
                    .as_mut()
                    .map(|reporting_org| &mut reporting_org.names),
                _ => None,
            },
        }
    }

    /// A value is kept only when its amount is a number: a guessed amount would be counted in
    /// totals, a missing one is flagged and counted nowhere.
    fn end_value(&mut self, owner: ValueOwner) {
        let default_currency = self.default_currency();
        let currency = self.scratch.value_currency.take().or(default_currency);
        let value_date = self.scratch.value_date.take();
        let text = self.scratch.text.trim();
        let value = match value::parse_amount(text) {
            Ok(amount) => {
                if currency.is_none() {
                    self.context.warn(
                        "missing-currency",
                        "the value has no @currency and the record no @default-currency"
                            .to_string(),
                    );
                }
                Some(Value {
                    amount,
                    currency,
                    value_date,
                })
            }
            Err(error) => {
                let message = if text.is_empty() {
                    "the value is empty".to_string()
                } else {
                    format!("the value {error}")
                };
                self.context.warn("not-a-number", message);
                None
            }
        };
        match (owner, &mut self.record) {
            (ValueOwner::Budget, Some(InProgress::Activity(activity))) => {
                if let Some(budget) = activity.budgets.last_mut() {
                    budget.value = value;
                }
            }
            (ValueOwner::Transaction, Some(InProgress::Activity(activity))) => {
                if let Some(transaction) = activity.transactions.last_mut() {
                    transaction.value = value;
                }
            }
            (
                ValueOwner::OrganisationBudget(line),
                Some(InProgress::Organisation(organisation)),
            ) => {
                let lines = match line {
                    OrganisationLine::Budget => &mut organisation.budgets,
                    OrganisationLine::Expenditure => &mut organisation.expenditures,
                };
                if let Some(budget) = lines.last_mut() {
                    budget.value = value;
                }
            }
            _ => {}
        }
    }
}

/// Whether a byte can start an XML name: an ASCII letter, `_`, `:` or any non-ASCII character.
fn is_name_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte == b':' || byte >= 0x80
}

/// The name of the record element that a root holds.
fn record_element_name(root: RootKind) -> &'static [u8] {
    match root {
        RootKind::Activities => b"iati-activity",
        RootKind::Organisations => b"iati-organisation",
    }
}
