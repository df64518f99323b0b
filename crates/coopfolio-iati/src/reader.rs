//! The streaming reader: IATI XML in, one [`Record`] at a time out, with located diagnostics.
//!
//! [`IatiReader`] drives quick-xml over a [`RecordingSource`], which keeps the bytes of the
//! record being read and knows lines and columns; the [`builder`] turns events into the
//! [`model`](crate::model) types. Memory is bounded by the largest record (and by
//! [`Limits::max_record_bytes`]), never by the document.
//!
//! Hostile input is refused, not survived by luck: a `<!DOCTYPE>` is fatal (so no entity is
//! ever declared, and only XML's five predefined entities and character references are
//! expanded), a reference to any other entity is fatal because the document is then not
//! well-formed, and nesting and record size are capped.

mod attributes;
mod builder;
mod source;

use std::io::BufRead;
use std::sync::Arc;

use coopfolio_core::codelists::Codelists;
use quick_xml::events::Event;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model;
use builder::{Builder, Fatal, Outcome};
use source::RecordingSource;

/// One record of an IATI document.
// Records are moved once, from the reader to the caller; boxing them would cost an allocation
// each for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Activity(model::Activity),
    Organisation(model::Organisation),
}

/// What the root element says about the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    /// `iati-activities` or `iati-organisations`.
    pub root: String,
    /// `@version` of the root.
    pub version: Option<String>,
    /// `@generated-datetime` of the root, as written.
    pub generated: Option<String>,
}

/// Bounds that keep hostile or broken input from taking the machine's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deepest element nesting accepted, the root counting as 1.
    pub max_depth: usize,
    /// The largest record (or, outside records, the largest single piece of markup or text).
    pub max_record_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_record_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Reads IATI activities or organisations one at a time from any `BufRead`.
pub struct IatiReader<R: BufRead> {
    xml: quick_xml::Reader<RecordingSource<R>>,
    /// The bytes of the current event, reused from event to event.
    event_buffer: Vec<u8>,
    builder: Builder,
    finished: bool,
}

impl<R: BufRead> IatiReader<R> {
    /// A reader over `source`; `file_label` names the file in diagnostics.
    pub fn new(source: R, file_label: impl Into<String>, codelists: Arc<Codelists>) -> Self {
        let limits = Limits::default();
        let mut xml =
            quick_xml::Reader::from_reader(RecordingSource::new(source, limits.max_record_bytes));
        let config = xml.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        // Whitespace between elements is skipped without an event, which halves the events of
        // an indented file. Text keeps its trailing whitespace so that text split by a comment
        // joins up right; the builder trims what it stores.
        config.trim_text_start = true;
        config.trim_text_end = false;
        IatiReader {
            xml,
            event_buffer: Vec::with_capacity(4096),
            builder: Builder::new(file_label.into(), codelists, limits),
            finished: false,
        }
    }

    /// The same reader with other limits; call before reading.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.xml
            .get_mut()
            .set_recording_limit(limits.max_record_bytes);
        self.builder.set_limits(limits);
        self
    }

    /// The next activity or organisation.
    ///
    /// Lesser faults and skipped records are pushed to `diagnostics` (warnings and errors).
    /// `Err` carries a fatal diagnostic when the document is unusable (not well-formed, not XML,
    /// not an IATI root, a DTD, nesting or a record beyond the limits); after it, and after the
    /// end of the document, every call returns `Ok(None)`.
    // A fatal diagnostic ends the document, so its size costs nothing worth boxing for.
    #[allow(clippy::result_large_err)]
    pub fn next_record(
        &mut self,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<Option<Record>, Diagnostic> {
        if self.finished {
            return Ok(None);
        }
        loop {
            let event_start = self.xml.buffer_position();
            if !self.builder.in_record() {
                // Outside a record nothing earlier than this event will be pointed at again.
                self.xml.get_mut().discard_before(event_start);
            }
            self.event_buffer.clear();
            let event = self.xml.read_event_into(&mut self.event_buffer);
            let event_end = self.xml.buffer_position();
            let outcome = match event {
                // A start tag is `<`, its content and `>`, and quick-xml stops right after the
                // `>`, so the tag's place follows from its length (an empty tag adds a `/`).
                Ok(Event::Start(start)) => {
                    let tag_start = event_end.saturating_sub(start.len() as u64 + 2);
                    self.builder.on_start(&start, tag_start)
                }
                Ok(Event::Empty(start)) => {
                    let tag_start = event_end.saturating_sub(start.len() as u64 + 3);
                    match self.builder.on_start(&start, tag_start) {
                        Ok(Outcome::RecordStarted) => {
                            let (line, column) = self.xml.get_mut().position_of(tag_start);
                            self.builder.set_record_position(line, column);
                            self.builder.on_end(event_end)
                        }
                        Ok(_) => self.builder.on_end(event_end),
                        Err(fatal) => Err(fatal),
                    }
                }
                Ok(Event::End(_)) => self.builder.on_end(event_end),
                // After text quick-xml has consumed the `<` that ended it, and its position is
                // that `<`, so the text lies just before.
                Ok(Event::Text(text)) => {
                    let text_start = event_end.saturating_sub(text.len() as u64);
                    self.builder.on_text(&text, text_start)
                }
                Ok(Event::CData(data)) => self.builder.on_cdata(&data),
                Ok(Event::Decl(declaration)) => {
                    let markup_start = markup_start(self.xml.get_ref(), event_start);
                    self.builder.on_declaration(&declaration, markup_start)
                }
                Ok(Event::DocType(_)) => {
                    let markup_start = markup_start(self.xml.get_ref(), event_start);
                    Err(Fatal::new(
                        "doctype-refused",
                        "a <!DOCTYPE> declaration is refused: IATI documents have none, and a DTD \
                         could declare entities that expand without bound",
                        markup_start,
                    ))
                }
                Ok(Event::Comment(_)) | Ok(Event::PI(_)) => {
                    self.builder.on_other_markup();
                    Ok(Outcome::Continue)
                }
                Ok(Event::Eof) => self.builder.on_eof(self.xml.get_ref().consumed()),
                Err(error) => Err(self.xml_error(error)),
            };
            // The source stops a read that would grow the recording far beyond the limit; this
            // check makes the limit exact whatever the size of the reads.
            let outcome = match outcome {
                Ok(_)
                    if self.xml.get_ref().recording_len()
                        > self.builder.limits().max_record_bytes =>
                {
                    Err(self.too_large())
                }
                outcome => outcome,
            };
            match outcome {
                Ok(Outcome::Continue) => self.builder.resolve_positions(self.xml.get_mut()),
                Ok(Outcome::RecordStarted) => {
                    let tag_start = self.builder.record_start();
                    let (line, column) = self.xml.get_mut().position_of(tag_start);
                    self.builder.set_record_position(line, column);
                    self.builder.resolve_positions(self.xml.get_mut());
                }
                Ok(Outcome::RecordFinished { end }) => {
                    // Positions are resolved before the record's bytes are let go, since the
                    // lines of its diagnostics are counted in them.
                    let source = self.xml.get_mut();
                    let raw_xml = source.recorded(self.builder.record_start(), end).to_vec();
                    let record = self.builder.finish_record(raw_xml);
                    self.builder.resolve_positions(source);
                    self.builder.flush_diagnostics(diagnostics);
                    source.discard_before(end);
                    if let Some(record) = record {
                        return Ok(Some(record));
                    }
                }
                Ok(Outcome::Finished) => {
                    self.finished = true;
                    self.builder.flush_diagnostics(diagnostics);
                    return Ok(None);
                }
                Err(fatal) => {
                    self.finished = true;
                    let fatal = self.builder.fatal_diagnostic(fatal, self.xml.get_mut());
                    self.builder.resolve_positions(self.xml.get_mut());
                    self.builder.flush_diagnostics(diagnostics);
                    return Err(fatal);
                }
            }
        }
    }

    /// What the root element said, once it has been read.
    pub fn document(&self) -> Option<&DocumentInfo> {
        self.builder.document()
    }

    /// How many bytes of the source the parser has consumed.
    pub fn bytes_read(&self) -> u64 {
        self.xml.get_ref().bytes_read()
    }

    /// The fault of a record, or outside records a single piece of markup or text, larger than
    /// the limit.
    fn too_large(&self) -> Fatal {
        let offset = if self.builder.in_record() {
            self.builder.record_start()
        } else {
            // Outside a record the recording starts at the event that is too large.
            markup_start(self.xml.get_ref(), self.xml.get_ref().recording_start())
        };
        Fatal::new(
            "record-too-large",
            format!(
                "the record (or piece of markup or text) is larger than the limit of {} bytes",
                self.builder.limits().max_record_bytes
            ),
            offset,
        )
    }

    /// A quick-xml error as a fatal fault at the place quick-xml points to.
    fn xml_error(&self, error: quick_xml::Error) -> Fatal {
        let source = self.xml.get_ref();
        if source.limit_exceeded() {
            return self.too_large();
        }
        if let quick_xml::Error::Io(io_error) = &error {
            return Fatal::new(
                "read-failed",
                format!("the file could not be read: {io_error}"),
                source.consumed(),
            );
        }
        let offset = match &error {
            // quick-xml reports a syntax error found at the end of the input at the `<` that
            // opened the unfinished markup, which is what a person needs to look at.
            quick_xml::Error::Syntax(_) | quick_xml::Error::IllFormed(_) => {
                self.xml.error_position()
            }
            _ => self.xml.buffer_position(),
        };
        Fatal::new(
            "not-well-formed",
            format!("the document is not well-formed XML: {error}"),
            offset,
        )
    }
}

/// The offset of the `<` that starts the markup read since `event_start`: quick-xml skips
/// whitespace before markup without an event, so the event's start may sit before it.
fn markup_start<R>(source: &RecordingSource<R>, event_start: u64) -> u64 {
    let recorded = source.recorded(event_start, source.consumed());
    match memchr::memchr(b'<', recorded) {
        Some(index) => event_start + index as u64,
        None => event_start,
    }
}

/// Read every record of a small document held in memory: the records, the warnings and
/// errors, and the fatal diagnostic if the document was unusable.
pub fn read_all(
    bytes: &[u8],
    file_label: &str,
    codelists: Arc<Codelists>,
) -> (Vec<Record>, Vec<Diagnostic>, Option<Diagnostic>) {
    let mut reader = IatiReader::new(bytes, file_label, codelists);
    let mut records = Vec::new();
    let mut diagnostics = Vec::new();
    loop {
        match reader.next_record(&mut diagnostics) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => return (records, diagnostics, None),
            Err(fatal) => {
                debug_assert_eq!(fatal.severity, Severity::Fatal);
                return (records, diagnostics, Some(fatal));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recording relies on quick-xml consuming exactly to the end of each markup event,
    /// and, after a text event, to the `<` that ended the text and no further. This checks it
    /// with reads of every size from one byte up.
    #[test]
    fn quick_xml_consumes_exactly_to_the_end_of_each_event() {
        let document = "<?xml version=\"1.0\"?>\n<a x=\"1\">\n text &amp; more <b/><!-- c --><c>t</c>\n <![CDATA[x]]><?pi y?></a>\n";
        for chunk_size in 1..=document.len() {
            let source = std::io::BufReader::with_capacity(chunk_size, document.as_bytes());
            let mut xml = quick_xml::Reader::from_reader(RecordingSource::new(source, 1 << 20));
            xml.config_mut().trim_text_start = true;
            let mut buffer = Vec::new();
            loop {
                buffer.clear();
                let event = xml.read_event_into(&mut buffer).expect("well-formed");
                let position = xml.buffer_position();
                let consumed = xml.get_ref().consumed();
                match event {
                    Event::Eof => break,
                    Event::Text(_) => {
                        assert_eq!(consumed, position + 1, "chunks of {chunk_size}");
                        assert_eq!(xml.get_ref().recorded(position, consumed), b"<");
                    }
                    _ => {
                        assert_eq!(consumed, position, "chunks of {chunk_size}");
                        assert_eq!(xml.get_ref().recorded(position - 1, position), b">");
                    }
                }
            }
        }
    }
}
