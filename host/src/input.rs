//! Input sources: files or stdin, gzip detected by magic bytes, read on a
//! separate thread into a bounded channel so that memory stays constant and
//! the processing side can tell when input pauses.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use flate2::bufread::MultiGzDecoder;

/// Bytes read per chunk.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Chunks that may wait in the channel: with [`CHUNK_BYTES`] this bounds
/// read-ahead to 1 MiB.
pub const CHANNEL_CHUNKS: usize = 4;

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
    loop {
        let mut chunk = vec![0u8; CHUNK_BYTES];
        let filled = loop {
            match reader.read(&mut chunk) {
                Ok(n) => break n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) if gzip && error.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(ReadError::Io(
                        "truncated gzip data: the stream ends inside a gzip member".to_owned(),
                    ));
                }
                Err(error) if gzip => {
                    return Err(ReadError::Io(format!("corrupt gzip data: {error}")));
                }
                Err(error) => return Err(ReadError::Io(format!("read error: {error}"))),
            }
        };
        if filled == 0 {
            return Ok(());
        }
        chunk.truncate(filled);
        if sender.send(Event::Data(chunk)).is_err() {
            return Err(ReadError::ReceiverGone);
        }
    }
}
