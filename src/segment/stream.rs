//! The streaming segmenter behind `fenci segment`: any input, one output line per input line,
//! in order, in bounded memory. Short lines go in batches; a line longer than
//! [`SEGMENT_PIECE_BYTES`] is segmented piece by piece, each piece's unsettled tail carried into
//! the next, so a 50 MB line takes no more memory than a short file. UTF-8 is checked (naming
//! the line and byte), a BOM at the start and CR before LF are dropped.

use std::io::{BufRead, Write};

use super::{SegmentError, Segmentation, Segmenter};

/// What [`segment_stream_to`] writes for each line: words as they are settled, then the line's
/// end. A long line arrives in several calls of [`LineSink::words`].
pub trait LineSink {
    /// Writes words `s.words[..take]` of the current line; `s` is the segmentation of the piece
    /// of the line that starts `char_offset` characters into it (0 for a whole line). `whole`:
    /// `s` is the whole line (so sentence-level facts such as alternatives apply).
    fn words(
        &mut self,
        s: &Segmentation,
        take: usize,
        char_offset: usize,
        whole: bool,
        out: &mut dyn Write,
    ) -> std::io::Result<()>;
    /// Ends the current line (also one with no words).
    fn end_line(&mut self, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Words joined by a separator, one line per input line: `fenci segment`'s plain output.
#[derive(Debug)]
pub struct PlainSink<'a> {
    sep: &'a str,
    wrote: bool,
}

impl<'a> PlainSink<'a> {
    /// Words separated by `sep`.
    pub fn new(sep: &'a str) -> Self {
        Self { sep, wrote: false }
    }
}

impl LineSink for PlainSink<'_> {
    fn words(
        &mut self,
        s: &Segmentation,
        take: usize,
        _char_offset: usize,
        _whole: bool,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        // `word/tag` where the segmenter tagged parts of speech (`fenci segment --pos`).
        for w in s.display_words().iter().take(take) {
            if self.wrote {
                out.write_all(self.sep.as_bytes())?;
            }
            out.write_all(w.as_bytes())?;
            self.wrote = true;
        }
        Ok(())
    }

    fn end_line(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.wrote = false;
        out.write_all(b"\n")
    }
}

/// Why a stream could not be segmented.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The input could not be read.
    #[error("{name}: read error")]
    Read {
        /// The input's name (a path or `stdin`).
        name: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not UTF-8.
    #[error(
        "{name}: line {line} is not valid UTF-8 (byte {byte} of the line); fenci reads UTF-8 text"
    )]
    InvalidUtf8 {
        /// The input's name.
        name: String,
        /// The line, from 1.
        line: usize,
        /// The first bad byte within the line, from 1.
        byte: usize,
    },
    /// The output could not be written (a closed pipe, a full disk).
    #[error(transparent)]
    Write(#[from] std::io::Error),
    /// The model failed.
    #[error(transparent)]
    Segment(#[from] SegmentError),
}

impl StreamError {
    /// Whether the reader of the output went away (`fenci segment | head`): not an error to
    /// report.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, StreamError::Write(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// `fenci segment` holds at most about this much of one line: a longer line is segmented in
/// pieces of this size, so a 10 MB line takes no more memory than a short file.
pub const SEGMENT_PIECE_BYTES: usize = 64 << 10;

/// The last words of a piece that start within this many characters of its end are not written
/// yet: they are segmented again with the next piece, which gives them their right context.
pub const SEGMENT_CARRY_CHARS: usize = 64;

/// A carried tail longer than this (one "word" of megabytes: no boundary the model could find)
/// is written as it is, so memory stays bounded whatever the input.
pub const SEGMENT_MAX_CARRY_BYTES: usize = 1 << 20;

/// What to do with a line that is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Invalid {
    /// Write every line before it, then stop with [`StreamError::InvalidUtf8`].
    #[default]
    Stop,
    /// Write an empty line in its place (so output lines still match input lines) and go on. (A
    /// line longer than [`SEGMENT_PIECE_BYTES`] keeps the words written before its bad byte.)
    Skip,
    /// Segment it with each bad byte sequence replaced by U+FFFD and go on.
    Replace,
}

/// Segments one input: short lines in batches, long lines piece by piece (see
/// [`SEGMENT_PIECE_BYTES`]); one output line per input line, words joined by `sep`. Checks UTF-8
/// (naming the line and byte) and treats a bad line as `invalid` says, calling
/// `on_invalid(line, byte)` for each one it skips or repairs; strips a BOM at the start and CR
/// before LF. Whatever fails, every line before the failure has been written.
pub fn segment_stream(
    seg: &Segmenter,
    sep: &str,
    reader: &mut dyn BufRead,
    name: &str,
    out: &mut dyn Write,
    invalid: Invalid,
    on_invalid: &mut dyn FnMut(usize, usize),
) -> Result<(), StreamError> {
    let mut sink = PlainSink::new(sep);
    segment_stream_to(seg, &mut sink, reader, name, out, invalid, on_invalid)
}

/// [`segment_stream`] with each line written by `sink` (e.g. as JSON) instead of joined words.
pub fn segment_stream_to(
    seg: &Segmenter,
    sink: &mut dyn LineSink,
    reader: &mut dyn BufRead,
    name: &str,
    out: &mut dyn Write,
    invalid: Invalid,
    on_invalid: &mut dyn FnMut(usize, usize),
) -> Result<(), StreamError> {
    let mut pending: Vec<String> = Vec::new();
    let mut pending_bytes = 0usize;
    let flush = |pending: &mut Vec<String>,
                 sink: &mut dyn LineSink,
                 out: &mut dyn Write|
     -> Result<(), StreamError> {
        for s in seg.segment_batch(pending)? {
            sink.words(&s, s.words.len(), 0, true, out)?;
            sink.end_line(out)?;
        }
        pending.clear();
        Ok(())
    };
    // The current line's bytes not yet written, and where they start in the line.
    let mut line: Vec<u8> = Vec::new();
    let mut offset = 0usize;
    // Characters of the current line already written (where the next piece starts).
    let mut char_offset = 0usize;
    // Lines finished so far; whether the current line is being written piece by piece (and
    // whether words of it were written); the length at which the next piece is cut.
    let mut n = 0usize;
    let mut long = false;
    let mut wrote = false;
    let mut next_piece = SEGMENT_PIECE_BYTES;
    // `line[..checked]` is known to be UTF-8; `skipping`: the current line was bad and is being
    // dropped (Invalid::Skip); `reported`: on_invalid was called for the current line.
    let mut checked = 0usize;
    let mut skipping = false;
    let mut reported = false;
    // Decodes `bytes` (at `offset` in line `n + 1`) up to the last complete character; a BOM
    // that opens the input is dropped (by returning where the text starts).
    let decode = |bytes: &[u8],
                  offset: usize,
                  n: usize,
                  whole: bool|
     -> Result<(usize, usize), StreamError> {
        let valid = match std::str::from_utf8(bytes) {
            Ok(_) => bytes.len(),
            Err(e) if e.error_len().is_none() && !whole => e.valid_up_to(),
            Err(e) => {
                return Err(StreamError::InvalidUtf8 {
                    name: name.to_string(),
                    line: n + 1,
                    byte: offset + e.valid_up_to() + 1,
                })
            }
        };
        let bom = "\u{feff}".as_bytes();
        let start = if n == 0 && offset == 0 && bytes[..valid].starts_with(bom) {
            bom.len()
        } else {
            0
        };
        Ok((start, valid))
    };
    loop {
        let buf = reader.fill_buf().map_err(|source| StreamError::Read {
            name: name.to_string(),
            source,
        })?;
        let at_eof = buf.is_empty();
        let (take, eol) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        let complete = eol || (at_eof && (!line.is_empty() || long || skipping));
        if eol {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        // Check the new bytes; a bad sequence is handled as `invalid` says before anything of
        // the line is segmented.
        if skipping {
            line.clear();
        }
        checked = checked.min(line.len());
        while checked < line.len() {
            let bad = match std::str::from_utf8(&line[checked..]) {
                Ok(_) => None,
                Err(e) => match e.error_len() {
                    Some(len) => Some((checked + e.valid_up_to(), len)),
                    // An incomplete character at the end: more bytes may complete it.
                    None if !complete => {
                        checked += e.valid_up_to();
                        break;
                    }
                    None => Some((
                        checked + e.valid_up_to(),
                        line.len() - checked - e.valid_up_to(),
                    )),
                },
            };
            let Some((at, len)) = bad else {
                checked = line.len();
                break;
            };
            if invalid == Invalid::Stop {
                if long {
                    // Words of this (over 64 KB) line were written: end it.
                    if wrote {
                        sink.end_line(out)?;
                    }
                } else {
                    flush(&mut pending, sink, out)?;
                }
                return Err(StreamError::InvalidUtf8 {
                    name: name.to_string(),
                    line: n + 1,
                    byte: offset + at + 1,
                });
            }
            if !reported {
                on_invalid(n + 1, offset + at + 1);
                reported = true;
            }
            if invalid == Invalid::Skip {
                skipping = true;
                line.clear();
                checked = 0;
                break;
            }
            line.splice(at..at + len, "\u{fffd}".bytes());
            checked = at + "\u{fffd}".len();
        }
        // A long line: write what each piece settles, keep its unsettled tail. Pieces are cut at
        // fixed offsets of the line, so the output depends on the text alone, not on how reads
        // happened to split it.
        while line.len() > next_piece {
            if !long {
                flush(&mut pending, sink, out)?;
                pending_bytes = 0;
                long = true;
            }
            let end = next_piece;
            let (start, valid) = decode(&line[..end], offset, n, false)?;
            let text = std::str::from_utf8(&line[start..valid]).expect("checked");
            let s = seg.segment(text)?;
            let nchars = text.chars().count();
            let settled = s
                .words
                .iter()
                .take_while(|w| w.chars.start + SEGMENT_CARRY_CHARS < nchars)
                .count()
                .min(s.words.len().saturating_sub(2));
            let cut = if s.words.is_empty() {
                // Whitespace only: nothing to carry but an incomplete character.
                Some(valid)
            } else if settled > 0 {
                Some(start + s.words[settled].bytes.start)
            } else if end > SEGMENT_MAX_CARRY_BYTES {
                let k = (s.words.len() - 1).max(1);
                Some(s.words.get(k).map_or(valid, |w| start + w.bytes.start))
            } else {
                None
            };
            match cut {
                Some(cut) => {
                    let k = s
                        .words
                        .iter()
                        .take_while(|w| start + w.bytes.start < cut)
                        .count();
                    sink.words(&s, k, char_offset, false, out)?;
                    wrote |= k > 0;
                    char_offset += String::from_utf8_lossy(&line[start..cut]).chars().count();
                    line.drain(..cut);
                    checked = checked.saturating_sub(cut);
                    offset += cut;
                    next_piece = end - cut + SEGMENT_PIECE_BYTES;
                }
                None => next_piece = end + SEGMENT_PIECE_BYTES,
            }
        }
        if complete {
            let (start, _) = decode(&line, offset, n, true)?;
            let text = std::str::from_utf8(&line[start..]).expect("checked");
            if long {
                let s = seg.segment(text)?;
                sink.words(&s, s.words.len(), char_offset, false, out)?;
                sink.end_line(out)?;
            } else {
                pending_bytes += text.len();
                pending.push(text.to_string());
                if pending.len() >= 256 || pending_bytes > SEGMENT_PIECE_BYTES {
                    flush(&mut pending, sink, out)?;
                    pending_bytes = 0;
                }
            }
            n += 1;
            line.clear();
            checked = 0;
            skipping = false;
            reported = false;
            offset = 0;
            char_offset = 0;
            long = false;
            wrote = false;
            next_piece = SEGMENT_PIECE_BYTES;
        }
        if at_eof {
            break;
        }
    }
    flush(&mut pending, sink, out)?;
    Ok(())
}
