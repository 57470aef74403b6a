//! Input sources: files or stdin, gzip detected by magic bytes, read on a
//! separate thread into a bounded channel so that memory stays constant and
//! the processing side can tell when input pauses.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use flate2::bufread::MultiGzDecoder;

/// Bytes read per chunk (at least; see [`CARRY_ROOM`]).
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Room in each chunk for the unfinished line carried from the previous one:
/// a chunk read full then still holds [`CHUNK_BYTES`] of whole lines unless
/// a line is longer than this.
const CARRY_ROOM: usize = 16 * 1024;

/// The smallest read after a short one.
const MIN_READ: usize = 8 * 1024;

/// Chunks that may wait in the channel: with [`CHUNK_BYTES`] and
/// [`CARRY_ROOM`] this bounds read-ahead to about 2.1 MiB. Under
/// `SCHED_BATCH` (`sched.rs`) the reader runs in bursts when every core is
/// busy: a few milliseconds of input keep the workers fed until its turn.
pub const CHANNEL_CHUNKS: usize = 8;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Where records come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (no file argument, or `-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// Builds the source list from command-line arguments.
    pub fn from_args(args: &[PathBuf]) -> Vec<Source> {
        if args.is_empty() {
            return vec![Source::Stdin];
        }
        args.iter()
            .map(|arg| {
                if arg.as_os_str() == "-" {
                    Source::Stdin
                } else {
                    Source::File(arg.clone())
                }
            })
            .collect()
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_owned(),
            Source::File(path) => path.display().to_string(),
        }
    }
}

/// What the reader thread sends.
#[derive(Debug)]
pub enum Event {
    /// Source `index` starts; its data follows.
    Begin {
        /// Position in the source list.
        index: usize,
    },
    /// Bytes of the current source, in order (decompressed if it was gzip).
    Data(Vec<u8>),
    /// The current source ended, cleanly or with an error.
    End {
        /// Position in the source list.
        index: usize,
        /// Why reading stopped early, if it did.
        error: Option<String>,
    },
}

/// Starts the reader thread. It stops when every source is read or when the
/// receiver is dropped.
pub fn spawn_reader(sources: Vec<Source>) -> (Receiver<Event>, JoinHandle<()>) {
    let (sender, receiver) = sync_channel(CHANNEL_CHUNKS);
    let handle = std::thread::Builder::new()
        .name("flowtag-reader".to_owned())
        .spawn(move || read_all(&sources, &sender))
        .unwrap_or_else(|e| panic!("cannot start the reader thread: {e}"));
    (receiver, handle)
}

fn read_all(sources: &[Source], sender: &SyncSender<Event>) {
    for (index, source) in sources.iter().enumerate() {
        if sender.send(Event::Begin { index }).is_err() {
            return;
        }
        let result = match source {
            Source::Stdin => read_source(io::stdin().lock(), sender),
            Source::File(path) => match File::open(path) {
                Ok(file) => read_source(BufReader::with_capacity(CHUNK_BYTES, file), sender),
                Err(error) => Err(ReadError::Io(format!("cannot open: {error}"))),
            },
        };
        let error = match result {
            Ok(()) => None,
            Err(ReadError::ReceiverGone) => return,
            Err(ReadError::Io(message)) => Some(message),
        };
        if sender.send(Event::End { index, error }).is_err() {
            return;
        }
    }
}

enum ReadError {
    ReceiverGone,
    Io(String),
}

fn read_source<R: BufRead>(mut reader: R, sender: &SyncSender<Event>) -> Result<(), ReadError> {
    let gzip = loop {
        match reader.fill_buf() {
            Ok(buffer) => break buffer.starts_with(&GZIP_MAGIC),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(ReadError::Io(format!("read error: {error}"))),
        }
    };
    if gzip {
        // Concatenated gzip members (`cat a.gz b.gz`) are one stream.
        pump(MultiGzDecoder::new(reader), sender, true)
    } else {
        pump(reader, sender, false)
    }
}

fn pump<R: Read>(mut reader: R, sender: &SyncSender<Event>, gzip: bool) -> Result<(), ReadError> {
    // The unfinished last line of a full read starts the next chunk, so that
    // a file's chunks end with a line: the dispatcher can then hand each to
    // a worker whole instead of copying it onto the tail of the previous
    // one.
    let mut carry: Vec<u8> = Vec::new();
    let send = |chunk: Vec<u8>| {
        sender
            .send(Event::Data(chunk))
            .map_err(|_| ReadError::ReceiverGone)
    };
    // Each chunk is a new, zeroed buffer: as large as a full read while
    // reads come full (files), about twice the last read otherwise (a pipe
    // gives at most its buffer, a live stream a line at a time), so that a
    // short read does not cost zeroing a whole chunk.
    let full = CHUNK_BYTES + CARRY_ROOM;
    let mut request = full;
    loop {
        let kept = carry.len();
        let mut chunk = Vec::with_capacity(kept + request);
        chunk.append(&mut carry);
        chunk.resize(kept + request, 0);
        let read = loop {
            match reader.read(&mut chunk[kept..]) {
                Ok(n) => break Ok(n),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) if gzip && error.kind() == io::ErrorKind::UnexpectedEof => {
                    break Err(ReadError::Io(
                        "truncated gzip data: the stream ends inside a gzip member".to_owned(),
                    ));
                }
                Err(error) if gzip => {
                    break Err(ReadError::Io(format!("corrupt gzip data: {error}")));
                }
                Err(error) => break Err(ReadError::Io(format!("read error: {error}"))),
            }
        };
        let filled = match read {
            Ok(filled) => filled,
            Err(error) => {
                // The carried line was read: passed on before the error,
                // it is rejected as torn rather than lost.
                chunk.truncate(kept);
                if !chunk.is_empty() {
                    send(chunk)?;
                }
                return Err(error);
            }
        };
        chunk.truncate(kept + filled);
        let came_full = filled == request;
        request = if came_full {
            full
        } else {
            filled.saturating_mul(2).clamp(MIN_READ, full)
        };
        if filled == 0 {
            return if chunk.is_empty() {
                Ok(())
            } else {
                send(chunk)
            };
        }
        // Only a full read leaves its unfinished line for the next read,
        // which then most likely returns at once. After a short read the
        // next one may wait for a live source; a line held here meanwhile
        // would be lost to a SIGINT, while the dispatcher rejects it as
        // torn (every line read is written or rejected).
        if came_full && let Some(last) = memchr::memrchr(b'\n', &chunk[kept..]) {
            carry.extend_from_slice(&chunk[kept + last + 1..]);
            chunk.truncate(kept + last + 1);
        }
        // Otherwise the chunk goes on as it is, and the dispatcher gathers
        // the line (or one longer than a chunk).
        send(chunk)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `data` in reads of the given sizes (cycled), then ends
    /// with `error` if there is one.
    struct Pieces {
        data: Vec<u8>,
        at: usize,
        sizes: Vec<usize>,
        turn: usize,
        error: Option<io::ErrorKind>,
    }

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return match self.error.take() {
                    Some(kind) => Err(io::Error::new(kind, "injected")),
                    None => Ok(0),
                };
            }
            let size = self.sizes[self.turn % self.sizes.len()];
            self.turn += 1;
            let n = size.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn chunks(reader: Pieces) -> (Vec<Vec<u8>>, Result<(), String>) {
        let (sender, receiver) = sync_channel(1 << 16);
        let result = pump(reader, &sender, false).map_err(|error| match error {
            ReadError::Io(message) => message,
            ReadError::ReceiverGone => "receiver gone".to_owned(),
        });
        drop(sender);
        let chunks = receiver
            .iter()
            .map(|event| match event {
                Event::Data(chunk) => chunk,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        (chunks, result)
    }

    /// Lines of 1 to `max` bytes, the last one without its line end.
    fn lines(count: usize, max: usize) -> Vec<u8> {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut data = Vec::new();
        for i in 0..count {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = 1 + (state % max as u64) as usize;
            data.extend((0..len).map(|j| b'a' + ((i + j) % 26) as u8));
            if i + 1 < count {
                data.push(b'\n');
            }
        }
        data
    }

    #[test]
    fn chunks_end_with_a_line_and_lose_nothing() {
        for (count, max) in [(0, 1), (1, 10), (20_000, 120), (3_000, 2_000), (40, 40_000)] {
            let data = lines(count, max);
            for sizes in [
                vec![1],
                vec![7, 300, 1],
                vec![CHUNK_BYTES + CARRY_ROOM],
                vec![100_000, 5],
            ] {
                if sizes[0] < 10 && data.len() > 100_000 {
                    continue; // a read per byte of megabytes: slow, no news
                }
                let reader = Pieces {
                    data: data.clone(),
                    at: 0,
                    sizes: sizes.clone(),
                    turn: 0,
                    error: None,
                };
                let (chunks, result) = chunks(reader);
                let ctx = format!("{count} lines of up to {max} bytes, reads of {sizes:?}");
                assert_eq!(result, Ok(()), "{ctx}");
                assert_eq!(chunks.concat(), data, "{ctx}");
                assert!(
                    chunks.iter().all(|c| !c.is_empty()),
                    "{ctx}: an empty chunk"
                );
                if max < CARRY_ROOM && sizes == [CHUNK_BYTES + CARRY_ROOM] {
                    // Reads come full: every chunk holds at least
                    // CHUNK_BYTES of whole lines, but the last read's (short)
                    // and the unfinished last line's.
                    for chunk in &chunks[..chunks.len().saturating_sub(2)] {
                        assert!(chunk.len() >= CHUNK_BYTES, "{ctx}: {}", chunk.len());
                        assert!(chunk.ends_with(b"\n"), "{ctx}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_short_read_is_passed_on_whole() {
        // The next read of a live source may wait: an unfinished line is
        // not held back, so that a stop cannot strand it.
        let data = b"first line\nsecond li".to_vec();
        let reader = Pieces {
            data: data.clone(),
            at: 0,
            sizes: vec![100],
            turn: 0,
            error: None,
        };
        assert_eq!(chunks(reader), (vec![data], Ok(())));
    }

    #[test]
    fn a_read_error_passes_on_the_unfinished_line_first() {
        // One full read that ends inside a line, then an error.
        let full = CHUNK_BYTES + CARRY_ROOM;
        let mut data = vec![b'x'; full - 10];
        data.extend_from_slice(b"\n123456789");
        let reader = Pieces {
            data: data.clone(),
            at: 0,
            sizes: vec![full],
            turn: 0,
            error: Some(io::ErrorKind::Other),
        };
        let (chunks, result) = chunks(reader);
        assert_eq!(chunks, [&data[..full - 9], b"123456789"]);
        assert_eq!(result, Err("read error: injected".to_owned()));
    }
}
