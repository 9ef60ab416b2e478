//! Replay inputs: which files a list of paths means, and reading each in pieces with bounded
//! memory.
//!
//! A directory means every regular file under it ([`crate::fs::walk`]: sorted, dot files
//! skipped, symbolic-link loops and FIFOs reported and skipped). A file is read up to the size
//! it had when opened (a growing file cannot make a replay run forever). Plain text and JSON
//! Lines are read in blocks of [`BLOCK_BYTES`] cut at line ends and handed on one block at a
//! time, so peak memory does not depend on the file's size; a line longer than a block is
//! scanned up to the block and the rest of it skipped (counted). Subscription events and
//! payloads (JSON envelopes, gzip) are decoded whole, up to [`MAX_DOCUMENT_BYTES`]; a file of
//! one envelope per line is read a block of lines at a time like text.

use std::io::Read;
use std::path::PathBuf;

use crate::fs::{WalkIssue, special_kind};

/// Block size for line-oriented input.
pub const BLOCK_BYTES: usize = 1 << 20;
/// Most lines in one piece (one-byte lines would otherwise make a block half a million
/// events).
pub const MAX_PIECE_LINES: usize = 8192;
/// Largest input decoded whole (a JSON array or pretty-printed envelope, gzip).
pub const MAX_DOCUMENT_BYTES: u64 = 256 << 20;

/// One input to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// How messages name it (`<stdin>` or the path).
    pub fn display(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_owned(),
            Input::File(p) => p.display().to_string(),
        }
    }

    /// The default log group of its text lines: the file name (`stdin` for standard input).
    pub fn default_log_group(&self) -> String {
        match self {
            Input::Stdin => "stdin".to_owned(),
            Input::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
        }
    }

    /// The default log stream of its text lines: the path as given, so that two files of one
    /// name in different directories are different streams (their line ids never collide).
    pub fn default_log_stream(&self) -> String {
        self.display()
    }
}

/// What [`collect`] found: the inputs, and the paths it skipped (with why).
#[derive(Debug, Default)]
pub struct Inputs {
    /// The inputs, in order.
    pub inputs: Vec<Input>,
    /// Paths that could not be read (errors: the run exits 2).
    pub errors: Vec<String>,
    /// Paths skipped on purpose (FIFOs, devices, link loops): warnings.
    pub skipped: Vec<String>,
}

/// The inputs `paths` mean (`-` or nothing: standard input).
pub fn collect(paths: &[PathBuf]) -> Inputs {
    let mut out = Inputs::default();
    if paths.is_empty() {
        out.inputs.push(Input::Stdin);
        return out;
    }
    for p in paths {
        if p.as_os_str() == "-" {
            out.inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let w = crate::fs::walk(p);
                out.inputs.extend(w.files.into_iter().map(Input::File));
                for issue in w.issues {
                    match issue {
                        WalkIssue::Unreadable { .. } => out.errors.push(issue.to_string()),
                        _ => out.skipped.push(issue.to_string()),
                    }
                }
            }
            Ok(m) => match special_kind(&m) {
                None => out.inputs.push(Input::File(p.clone())),
                Some(what) => out.skipped.push(
                    WalkIssue::NotRegular {
                        path: p.clone(),
                        what,
                    }
                    .to_string(),
                ),
            },
            Err(e) => out
                .errors
                .push(format!("{}: cannot read: {e}", p.display())),
        }
    }
    out
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The OS refused.
    #[error("{input}: cannot read: {source}")]
    Io {
        /// The input.
        input: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A document to decode whole is over [`MAX_DOCUMENT_BYTES`].
    #[error(
        "{input}: {size} bytes in one JSON or gzip document, over the {MAX_DOCUMENT_BYTES}-byte limit (write one event per line, or split the file)"
    )]
    TooLarge {
        /// The input.
        input: String,
        /// Its size.
        size: u64,
    },
}

/// What reading an input found besides its pieces.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadStats {
    /// Bytes read.
    pub bytes: u64,
    /// Lines longer than a block: scanned up to the block, the rest skipped.
    pub long_lines: u64,
}

/// One piece of an input: bytes that decode on their own, and the number of their first
/// line.
#[derive(Debug)]
pub struct Piece {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Line number of the first line (1 for whole documents).
    pub first_line: usize,
}

/// The pieces of one input, read one at a time (at most one block in memory for text).
pub struct Pieces {
    reader: std::io::Take<Box<dyn Read>>,
    name: String,
    buf: Vec<u8>,
    line: usize,
    skipping: bool,
    started: bool,
    done: bool,
    stats: ReadStats,
}

impl std::fmt::Debug for Pieces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pieces")
            .field("name", &self.name)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Opens `input` for reading in pieces.
pub fn open(input: &Input) -> Result<Pieces, InputError> {
    let io = |source| InputError::Io {
        input: input.display(),
        source,
    };
    let (reader, size): (Box<dyn Read>, u64) = match input {
        Input::Stdin => (Box::new(std::io::stdin()), u64::MAX),
        Input::File(p) => {
            let f = std::fs::File::open(p).map_err(io)?;
            let meta = f.metadata().map_err(io)?;
            if let Some(what) = special_kind(&meta) {
                return Err(io(std::io::Error::other(format!(
                    "{what}, not a regular file"
                ))));
            }
            (Box::new(f), meta.len())
        }
    };
    Ok(Pieces::new(reader, size, input.display()))
}

impl Pieces {
    /// Pieces of `reader`, read up to `size` bytes.
    pub fn new(reader: Box<dyn Read>, size: u64, name: String) -> Self {
        Pieces {
            reader: reader.take(size),
            name,
            buf: Vec::new(),
            line: 1,
            skipping: false,
            started: false,
            done: false,
            stats: ReadStats::default(),
        }
    }

    /// What was read so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    fn io(&self, source: std::io::Error) -> InputError {
        InputError::Io {
            input: self.name.clone(),
            source,
        }
    }

    fn fill(&mut self) -> Result<(), InputError> {
        let before = self.buf.len();
        let left = usize::try_from(self.reader.limit()).unwrap_or(usize::MAX);
        fill(&mut self.reader, &mut self.buf, BLOCK_BYTES, left).map_err(|e| self.io(e))?;
        self.stats.bytes += (self.buf.len() - before) as u64;
        Ok(())
    }

    /// The next piece, `None` at the end.
    pub fn next_piece(&mut self) -> Result<Option<Piece>, InputError> {
        if self.done {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            self.fill()?;
            if whole_document(&self.buf) {
                self.done = true;
                let mut rest = (&mut self.reader).take(MAX_DOCUMENT_BYTES + 1);
                rest.read_to_end(&mut self.buf).map_err(|e| self.io(e))?;
                self.stats.bytes = self.buf.len() as u64;
                if self.buf.len() as u64 > MAX_DOCUMENT_BYTES {
                    return Err(InputError::TooLarge {
                        input: self.name.clone(),
                        size: self.buf.len() as u64,
                    });
                }
                return Ok(Some(Piece {
                    bytes: std::mem::take(&mut self.buf),
                    first_line: 1,
                }));
            }
        }
        loop {
            if self.buf.len() < BLOCK_BYTES {
                self.fill()?;
            }
            if self.buf.is_empty() {
                self.done = true;
                return Ok(None);
            }
            let eof = self.buf.len() < BLOCK_BYTES;
            let cut = if eof {
                self.buf.len()
            } else {
                memchr::memrchr(b'\n', &self.buf).map_or(0, |i| i + 1)
            };
            if cut == 0 {
                // One line longer than a block: scan what there is, skip to its end.
                let first = !self.skipping;
                self.skipping = true;
                let bytes = std::mem::take(&mut self.buf);
                if first {
                    self.stats.long_lines += 1;
                    return Ok(Some(Piece {
                        bytes,
                        first_line: self.line,
                    }));
                }
                continue;
            }
            let mut start = 0;
            if self.skipping {
                self.skipping = false;
                self.line += 1;
                start = memchr::memchr(b'\n', &self.buf[..cut]).map_or(cut, |i| i + 1);
            }
            // At most MAX_PIECE_LINES lines a piece: a piece's events are held decoded until
            // the driver takes them, so a piece is bounded in events as well as in bytes.
            let cut = memchr::memchr_iter(b'\n', &self.buf[start..cut])
                .nth(MAX_PIECE_LINES - 1)
                .map_or(cut, |i| start + i + 1);
            let bytes = self.buf[start..cut].to_vec();
            self.done = eof && cut == self.buf.len();
            self.buf.drain(..cut);
            if bytes.is_empty() {
                continue;
            }
            let first_line = self.line;
            self.line += memchr::memchr_iter(b'\n', &bytes).count();
            return Ok(Some(Piece { bytes, first_line }));
        }
    }
}

/// Reads into `buf` until it holds `target` bytes or the reader ends, straight into its spare
/// room, made for at most `left` bytes (what is left of a file): no bounce buffer, and no
/// copies as it grows (a 233 KB input was copied twice and grown three times on its way in).
fn fill(r: &mut impl Read, buf: &mut Vec<u8>, target: usize, left: usize) -> std::io::Result<()> {
    let want = target.saturating_sub(buf.len());
    buf.reserve(want.min(left));
    r.take(want as u64).read_to_end(buf)?;
    Ok(())
}

/// Whether an input (its first block) must be decoded whole: gzip, UTF-16, a JSON array, or
/// a JSON envelope that does not fit on its first line.
fn whole_document(head: &[u8]) -> bool {
    let t = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &head[i..]);
    let t = t.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(t);
    if t.starts_with(&[0x1f, 0x8b])
        || head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
    {
        return true;
    }
    match t.first() {
        Some(b'[') => true,
        Some(b'{') => {
            let first_line = t.split(|&b| b == b'\n').next().unwrap_or(t);
            !closes_at_its_end(first_line)
        }
        _ => false,
    }
}

/// Whether `line` (starting with `{`) is one JSON object that closes at its last
/// non-whitespace byte: its brackets balance outside strings, and close only there. A line that
/// closes earlier (two documents, or something after one) or never (a document spread over
/// several lines) does not. Whether the object is valid JSON is left to the decoder, which
/// reads the line either way; this one pass only decides between lines and a whole document,
/// and costs a fraction of parsing (a subscription event is one line of 200 KB or more).
fn closes_at_its_end(line: &[u8]) -> bool {
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let (mut depth, mut i) = (0usize, 0);
    while i < end {
        match line[i] {
            b'"' => {
                // To the closing quote, over escaped characters.
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &line[i.min(end)..end]) {
                        None => return false,
                        Some(j) if line[i + j] == b'"' => {
                            i += j;
                            break;
                        }
                        Some(j) => i += j + 2,
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = match depth.checked_sub(1) {
                    Some(d) => d,
                    None => return false,
                };
                if depth == 0 {
                    return i + 1 == end;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(data: &[u8]) -> (Vec<(usize, usize)>, ReadStats) {
        let mut out = Vec::new();
        let mut p = Pieces::new(
            Box::new(std::io::Cursor::new(data.to_vec())),
            data.len() as u64,
            "t".into(),
        );
        while let Some(piece) = p.next_piece().expect("reads") {
            out.push((piece.first_line, piece.bytes.len()));
        }
        (out, p.stats())
    }

    #[test]
    fn text_is_read_in_blocks_of_whole_lines_with_line_numbers() {
        let line = "x".repeat(99) + "\n";
        let data = line.repeat(100_000); // 10 MB
        let (p, stats) = pieces(data.as_bytes());
        assert!(p.len() >= 3, "{p:?}");
        assert_eq!(p[0].0, 1);
        assert_eq!(p[1].0, 1 + p[0].1 / 100);
        assert!(p.iter().all(|(_, n)| *n <= BLOCK_BYTES && n % 100 == 0));
        assert_eq!(stats.bytes, data.len() as u64);
        assert_eq!(p.iter().map(|(_, n)| n).sum::<usize>(), data.len());
    }

    #[test]
    fn a_piece_holds_at_most_so_many_lines() {
        let data = b"a\n".repeat(MAX_PIECE_LINES * 3 + 5);
        let (p, stats) = pieces(&data);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p.iter().all(|(_, n)| *n <= MAX_PIECE_LINES * 2));
        assert_eq!(p[1].0, 1 + MAX_PIECE_LINES);
        assert_eq!(p.iter().map(|(_, n)| n).sum::<usize>(), data.len());
        assert_eq!(stats.bytes, data.len() as u64);
    }

    #[test]
    fn an_overlong_line_is_cut_and_the_next_lines_kept() {
        let mut data = vec![b'a'; BLOCK_BYTES * 2 + 10];
        data.extend_from_slice(b"\nnext line\n");
        let (p, stats) = pieces(&data);
        assert_eq!(stats.long_lines, 1);
        assert_eq!(p.first().map(|x| x.0), Some(1));
        assert_eq!(p.last(), Some(&(2, 10)));
    }

    #[test]
    fn documents_are_read_whole() {
        assert!(whole_document(b"[{\"awslogs\":{}}]"));
        assert!(whole_document(b"{\n  \"awslogs\": {}\n}\n"));
        assert!(!whole_document(b"{\"awslogs\":{}}\n{\"awslogs\":{}}\n"));
        assert!(!whole_document(b"2026-11-25T10:00:00Z hello\n"));
        // A one-line document, whatever its strings hold; two on a line, or one spread over
        // several lines, or one cut short, are read whole.
        assert!(!whole_document(
            b"{\"awslogs\":{\"data\":\"a}b]c{\\\"\\\\\"}} \t\n{\"x\":1}\n"
        ));
        assert!(whole_document(b"{\"a\":1} {\"b\":2}\n"));
        assert!(whole_document(b"{\"a\":1}x\n"));
        assert!(whole_document(b"{\"a\":[1}\n"));
        assert!(whole_document(b"{\"a\":\"open\n\"}\n"));
        assert!(whole_document(b"{\"a\":\"ends in \\\n"));
        assert!(whole_document(b"{\"a\":{\"b\":1}"));
        assert!(whole_document(b"{}}"));
    }
}
