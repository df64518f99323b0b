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
    /// Newlines are counted lazily, in long runs, up to this offset, which is never before
    /// `recording_base` (bytes are counted before they are forgotten).
    counted_to: u64,
    /// The 1-based line of the byte at `counted_to`.
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
    /// Whether the start of the source has been checked for a byte order mark.
    started: bool,
    /// The length of the byte order mark skipped at the start, if there was one.
    byte_order_mark: u64,
}

impl<R: Read> RecordingSource<R> {
    pub(crate) fn new(inner: R, recording_limit: usize) -> Self {
        RecordingSource {
            inner,
            chunk: vec![0; CHUNK_SIZE].into_boxed_slice(),
            chunk_start: 0,
            chunk_end: 0,
            consumed: 0,
            counted_to: 0,
            line: 1,
            line_start: 0,
            recording: Vec::new(),
            recording_base: 0,
            base_line_start: 0,
            recording_limit,
            limit_exceeded: false,
            started: false,
            byte_order_mark: 0,
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

    /// Bytes consumed by the parser, not counting a byte order mark. Offsets everywhere are
    /// counted the same way, which is how quick-xml counts them.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Bytes taken from the underlying source, a byte order mark included.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.consumed + self.byte_order_mark
    }

    /// The offset of the first byte held.
    pub(crate) fn recording_start(&self) -> u64 {
        self.recording_base
    }

    /// How many bytes are held for the record (or event) being read.
    pub(crate) fn recording_len(&self) -> usize {
        self.recording.len()
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
        self.count_lines_to(offset);
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
    pub(crate) fn position_of(&mut self, offset: u64) -> (u64, u64) {
        let index = self.index_of(offset);
        let offset = self.recording_base + index as u64;
        if offset >= self.counted_to {
            self.count_lines_to(offset);
            return (self.line, offset.saturating_sub(self.line_start) + 1);
        }
        // An offset behind the counted position: count back from there.
        let counted_index = self.index_of(self.counted_to);
        let newlines_after = count_newlines(&self.recording[index..counted_index]);
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

    /// Count the newlines of the recording up to `offset`, which the caller has clamped.
    fn count_lines_to(&mut self, offset: u64) {
        if offset <= self.counted_to {
            return;
        }
        let from = self.index_of(self.counted_to);
        let to = self.index_of(offset);
        let bytes = &self.recording[from..to];
        let newlines = count_newlines(bytes);
        if newlines > 0 {
            self.line += newlines;
            if let Some(last) = memchr::memrchr(b'\n', bytes) {
                self.line_start = self.counted_to + last as u64 + 1;
            }
        }
        self.counted_to = offset;
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
    // quick-xml calls this several times per event, so the common case is kept to one test
    // that inlines well.
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.chunk_start == self.chunk_end || self.limit_exceeded {
            self.refill()?;
        }
        Ok(&self.chunk[self.chunk_start..self.chunk_end])
    }

    #[inline]
    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.chunk_end - self.chunk_start);
        let bytes = &self.chunk[self.chunk_start..self.chunk_start + amount];
        self.recording.extend_from_slice(bytes);
        self.consumed += amount as u64;
        self.chunk_start += amount;
        if self.recording.len() > self.recording_limit {
            self.limit_exceeded = true;
        }
    }
}

impl<R: Read> RecordingSource<R> {
    /// Read the next chunk, unless the recording is already beyond its limit: failing the read
    /// is the only way to stop quick-xml in the middle of an event that would otherwise grow
    /// without bound, and the reader turns the failure into a fatal diagnostic.
    #[cold]
    fn refill(&mut self) -> io::Result<()> {
        if self.limit_exceeded {
            return Err(io::Error::other("record larger than the limit"));
        }
        if !self.started {
            self.skip_byte_order_mark()?;
            if self.chunk_start < self.chunk_end {
                return Ok(());
            }
        }
        self.chunk_start = 0;
        self.chunk_end = self.read_some(0)?;
        Ok(())
    }

    /// Read once into the chunk from `from` on, retrying interrupted reads.
    fn read_some(&mut self, from: usize) -> io::Result<usize> {
        loop {
            match self.inner.read(&mut self.chunk[from..]) {
                Ok(filled) => return Ok(filled),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
    }

    /// Skip a UTF-8 byte order mark at the start. quick-xml would skip it too, but without
    /// counting it, and its offsets must agree with the source's; a mark is not content, so
    /// columns on the first line are counted after it as well.
    fn skip_byte_order_mark(&mut self) -> io::Result<()> {
        while self.chunk_end < BYTE_ORDER_MARK.len() {
            let filled = self.read_some(self.chunk_end)?;
            if filled == 0 {
                break;
            }
            self.chunk_end += filled;
        }
        if self.chunk[..self.chunk_end].starts_with(BYTE_ORDER_MARK) {
            self.chunk_start = BYTE_ORDER_MARK.len();
            self.byte_order_mark = BYTE_ORDER_MARK.len() as u64;
        }
        self.started = true;
        Ok(())
    }
}

/// How many `\n` bytes a slice holds. Summing blocks into a byte lets the compiler vectorise
/// the loop, which a plain `filter().count()` does poorly.
fn count_newlines(bytes: &[u8]) -> u64 {
    let mut blocks = bytes.chunks_exact(64);
    let mut newlines = 0u64;
    for block in &mut blocks {
        let in_block: u8 = block.iter().map(|&byte| u8::from(byte == b'\n')).sum();
        newlines += u64::from(in_block);
    }
    let rest = blocks.remainder();
    newlines + rest.iter().filter(|&&byte| byte == b'\n').count() as u64
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
    fn the_byte_order_mark_is_skipped_and_takes_no_column() {
        let text = b"\xEF\xBB\xBF<a/>";
        let mut source = RecordingSource::new(&text[..], 1024);
        assert_eq!(source.fill_buf().unwrap(), b"<a/>");
        consume_all(&mut source);
        assert_eq!(source.position_of(0), (1, 1));
        assert_eq!(source.recorded(0, 4), b"<a/>");
        assert_eq!((source.consumed(), source.bytes_read()), (4, 7));
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
