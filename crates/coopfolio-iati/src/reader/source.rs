//! The byte source under the XML parser: it records what the parser consumes and knows where
//! it is.
//!
//! quick-xml pulls bytes through `BufRead::consume`, and consumes exactly up to the end of
//! each event (plus, after a text event, the `<` that ended the text). By watching `consume`
//! the source can keep the exact bytes of the record being read (the `raw_xml` of an activity)
//! and count newlines, so that any byte offset since the start of the recording can be turned
//! into a line and column without holding the document in memory.

use std::io::{self, BufRead, Read};

/// The size of the chunks read from the caller's source.
const CHUNK_SIZE: usize = 64 * 1024;

/// The UTF-8 byte order mark, which quick-xml consumes before anything else.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// A `BufRead` that records consumed bytes and tracks lines.
pub(crate) struct RecordingSource<R> {
    inner: R,
    chunk: Box<[u8]>,
    chunk_start: usize,
    chunk_end: usize,
    /// Bytes consumed by the parser since the start of the document.
    consumed: u64,
    /// The 1-based line of the next byte to be consumed.
    line: u64,
    /// The offset of the first byte of that line.
    line_start: u64,
    /// Every byte consumed since `recording_base`.
    recording: Vec<u8>,
    recording_base: u64,
    /// The offset of the first byte of the line holding `recording_base`.
    base_line_start: u64,
    /// The largest recording allowed; beyond it reads fail, which stops the parser.
    recording_limit: usize,
    limit_exceeded: bool,
}

impl<R: Read> RecordingSource<R> {
    pub(crate) fn new(inner: R, recording_limit: usize) -> Self {
        RecordingSource {
            inner,
            chunk: vec![0; CHUNK_SIZE].into_boxed_slice(),
            chunk_start: 0,
            chunk_end: 0,
            consumed: 0,
            line: 1,
            line_start: 0,
            recording: Vec::new(),
            recording_base: 0,
            base_line_start: 0,
            recording_limit,
            limit_exceeded: false,
        }
    }
}

impl<R> RecordingSource<R> {
    pub(crate) fn set_recording_limit(&mut self, recording_limit: usize) {
        self.recording_limit = recording_limit;
    }

    /// Whether reading stopped because the recording grew beyond its limit.
    pub(crate) fn limit_exceeded(&self) -> bool {
        self.limit_exceeded
    }

    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The recorded bytes from `start` to `end` (absolute offsets), clamped to what is held.
    pub(crate) fn recorded(&self, start: u64, end: u64) -> &[u8] {
        let start = self.index_of(start);
        let end = self.index_of(end).max(start);
        &self.recording[start..end]
    }

    /// Forget the recorded bytes before `offset`, which no later position will point into.
    pub(crate) fn discard_before(&mut self, offset: u64) {
        let index = self.index_of(offset);
        if index == 0 {
            return;
        }
        let offset = self.recording_base + index as u64;
        // The line start of the new base is needed to give columns on its line later.
        self.base_line_start = if offset >= self.line_start {
            self.line_start
        } else {
            match memchr::memrchr(b'\n', &self.recording[..index]) {
                Some(newline) => self.recording_base + newline as u64 + 1,
                None => self.base_line_start,
            }
        };
        self.recording.drain(..index);
        self.recording_base = offset;
    }

    /// The 1-based line and (byte) column of an offset between the start of the recording and
    /// the current position. Offsets outside that range are clamped to it.
    pub(crate) fn position_of(&self, offset: u64) -> (u64, u64) {
        let index = self.index_of(offset);
        let offset = self.recording_base + index as u64;
        let newlines_after = count_newlines(&self.recording[index..]);
        if newlines_after == 0 {
            return (self.line, offset.saturating_sub(self.line_start) + 1);
        }
        let line_start = match memchr::memrchr(b'\n', &self.recording[..index]) {
            Some(newline) => self.recording_base + newline as u64 + 1,
            None => self.base_line_start,
        };
        (
            self.line - newlines_after,
            offset.saturating_sub(line_start) + 1,
        )
    }

    /// The index into the recording of an absolute offset, clamped to the recording.
    fn index_of(&self, offset: u64) -> usize {
        let relative = offset.saturating_sub(self.recording_base);
        usize::try_from(relative)
            .unwrap_or(usize::MAX)
            .min(self.recording.len())
    }
}

impl<R: Read> Read for RecordingSource<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let amount = available.len().min(buffer.len());
        buffer[..amount].copy_from_slice(&available[..amount]);
        self.consume(amount);
        Ok(amount)
    }
}

impl<R: Read> BufRead for RecordingSource<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // Failing the read is the only way to stop quick-xml in the middle of an event that
        // would otherwise grow without bound; the reader turns this into a fatal diagnostic.
        if self.limit_exceeded || self.recording.len() > self.recording_limit {
            self.limit_exceeded = true;
            return Err(io::Error::other("record larger than the limit"));
        }
        if self.chunk_start == self.chunk_end {
            let filled = loop {
                match self.inner.read(&mut self.chunk) {
                    Ok(filled) => break filled,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(error),
                }
            };
            self.chunk_start = 0;
            self.chunk_end = filled;
        }
        Ok(&self.chunk[self.chunk_start..self.chunk_end])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.chunk_end - self.chunk_start);
        let bytes = &self.chunk[self.chunk_start..self.chunk_start + amount];
        if self.consumed == 0 && bytes.starts_with(BYTE_ORDER_MARK) {
            // Columns on the first line count from after the byte order mark.
            self.line_start = BYTE_ORDER_MARK.len() as u64;
        }
        let newlines = count_newlines(bytes);
        if newlines > 0 {
            self.line += newlines;
            if let Some(last) = memchr::memrchr(b'\n', bytes) {
                self.line_start = self.consumed + last as u64 + 1;
            }
        }
        self.recording.extend_from_slice(bytes);
        self.consumed += amount as u64;
        self.chunk_start += amount;
    }
}

/// How many `\n` bytes a slice holds; a plain loop the compiler vectorises.
fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consume_all(source: &mut RecordingSource<&[u8]>) {
        loop {
            let length = source.fill_buf().unwrap().len();
            if length == 0 {
                break;
            }
            // Consume in uneven steps, as a parser would.
            source.consume(length.min(3));
        }
    }

    #[test]
    fn positions_are_lines_and_columns_of_recorded_offsets() {
        let text = b"ab\ncde\n\nfg";
        let mut source = RecordingSource::new(&text[..], 1024);
        consume_all(&mut source);
        assert_eq!(source.position_of(0), (1, 1));
        assert_eq!(source.position_of(1), (1, 2));
        assert_eq!(source.position_of(3), (2, 1));
        assert_eq!(source.position_of(5), (2, 3));
        assert_eq!(source.position_of(7), (3, 1));
        assert_eq!(source.position_of(9), (4, 2));
        source.discard_before(5);
        assert_eq!(source.recorded(5, 10), b"e\n\nfg");
        assert_eq!(source.position_of(5), (2, 3));
        assert_eq!(source.position_of(0), (2, 3));
        assert_eq!(source.position_of(8), (4, 1));
    }

    #[test]
    fn the_byte_order_mark_takes_no_column() {
        let text = b"\xEF\xBB\xBF<a/>";
        let mut source = RecordingSource::new(&text[..], 1024);
        source.fill_buf().unwrap();
        source.consume(3);
        consume_all(&mut source);
        assert_eq!(source.position_of(3), (1, 1));
    }

    #[test]
    fn a_recording_beyond_the_limit_fails_the_next_read() {
        let text = [b'x'; 100];
        let mut source = RecordingSource::new(&text[..], 10);
        source.fill_buf().unwrap();
        source.consume(11);
        assert!(source.fill_buf().is_err());
        assert!(source.limit_exceeded());
    }
}
