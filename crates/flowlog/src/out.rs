//! The NDJSON output buffer.
//!
//! In the wasm guest every variable-length `copy_from_slice` becomes a
//! `memory.copy`, which wasmtime runs as a libcall: dozens per record cost
//! more than the parsing. Keys and short values are therefore copied as
//! fixed-size blocks (one or two 128-bit moves with simd128) into a buffer
//! that always has slack, and only the cursor advances by the real length.

/// A JSON object key with its leading comma and trailing colon
/// (`,"account_id":`), stored so that it can be copied as one fixed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    block: [u8; KEY_BLOCK],
    len: usize,
    /// Keys longer than a block (fields flowtag does not know) are copied whole.
    long: Option<Box<[u8]>>,
}

const KEY_BLOCK: usize = 32;
const VALUE_BLOCK: usize = 16;

impl Key {
    pub(crate) fn new(text: &str) -> Key {
        let bytes = text.as_bytes();
        let mut block = [0u8; KEY_BLOCK];
        let long = if bytes.len() <= KEY_BLOCK {
            block[..bytes.len()].copy_from_slice(bytes);
            None
        } else {
            Some(bytes.into())
        };
        Key {
            block,
            len: bytes.len(),
            long,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.long {
            Some(long) => long,
            None => &self.block[..self.len],
        }
    }
}

/// The NDJSON output of a batch: a growable buffer. Enrichers append to it
/// through [`Out::push`] and [`Out::extend`]; both keep short copies free of
/// `memory.copy` calls in the guest.
///
/// Short copies append a whole fixed-size block and then truncate to the
/// real length, so the spare capacity is never read and never needs zeroing:
/// a zeroed buffer of a batch's size (megabytes with enrichment) cost a
/// `memory.fill` per batch, 4 % of the guest's time.
#[derive(Debug, Default)]
pub struct Out {
    buf: Vec<u8>,
}

impl Out {
    pub(crate) fn with_capacity(capacity: usize) -> Out {
        Out {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// Makes room for `n` more bytes plus block slack.
    #[inline]
    pub(crate) fn reserve(&mut self, n: usize) {
        self.buf.reserve(n + KEY_BLOCK);
    }

    /// How many bytes have been written.
    #[inline]
    pub fn pos(&self) -> usize {
        self.buf.len()
    }

    /// Forgets everything written after `pos` (a value of [`Out::pos`]).
    #[inline]
    pub fn rewind(&mut self, pos: usize) {
        self.buf.truncate(pos);
    }

    /// Replaces the `N` bytes written at `at` (a value of [`Out::pos`]):
    /// for values that are filled in after the bytes that follow them.
    ///
    /// # Panics
    ///
    /// If fewer than `N` bytes were written from `at` on.
    #[inline]
    pub fn overwrite<const N: usize>(&mut self, at: usize, bytes: &[u8; N]) {
        self.buf[at..at + N].copy_from_slice(bytes);
    }

    /// Appends the block `block` and keeps its first `len` bytes.
    #[inline(always)]
    fn block<const N: usize>(&mut self, block: &[u8; N], len: usize) {
        let end = self.buf.len() + len;
        self.buf.extend_from_slice(block);
        self.buf.truncate(end);
    }

    /// Copies a key; the caller reserved room for it.
    #[inline(always)]
    pub(crate) fn key(&mut self, key: &Key, skip_comma: bool) {
        let skip = usize::from(skip_comma);
        match &key.long {
            None => {
                let mut block = key.block;
                if skip_comma {
                    block.copy_within(1..KEY_BLOCK, 0);
                }
                self.block(&block, key.len - skip);
            }
            Some(long) => self.slice(&long[skip..]),
        }
    }

    /// Copies `data[start..end]`, which is a token of the batch `data`, as
    /// one 16- or 32-byte block when it is that short and the block stays in
    /// bounds (ids such as `subnet-0123456789abcdef0` take 24 bytes).
    #[inline(always)]
    pub(crate) fn token(&mut self, data: &[u8], start: usize, end: usize) {
        let len = end - start;
        if len <= VALUE_BLOCK && start + VALUE_BLOCK <= data.len() {
            self.token_block::<VALUE_BLOCK>(data, start, len);
        } else if len <= KEY_BLOCK && start + KEY_BLOCK <= data.len() {
            self.token_block::<KEY_BLOCK>(data, start, len);
        } else {
            self.slice(&data[start..end]);
        }
    }

    #[inline(always)]
    fn token_block<const N: usize>(&mut self, data: &[u8], start: usize, len: usize) {
        let mut source = [0u8; N];
        source.copy_from_slice(&data[start..start + N]);
        self.block(&source, len);
    }

    /// Appends one byte.
    #[inline(always)]
    pub fn push(&mut self, byte: u8) {
        self.buf.push(byte);
    }

    /// Appends `bytes`. Up to 128 bytes are moved as two overlapping loads
    /// and stores of a power-of-two width, without a call (the guest's
    /// `memory.copy` is a libcall that costs more than such a copy).
    #[inline(always)]
    pub fn extend(&mut self, bytes: &[u8]) {
        match bytes.len() {
            0 => {}
            // Pushed one by one without a loop, which in the guest would
            // pay an epoch check per byte.
            1..=3 => {
                self.buf.push(bytes[0]);
                if let Some(&byte) = bytes.get(1) {
                    self.buf.push(byte);
                }
                if let Some(&byte) = bytes.get(2) {
                    self.buf.push(byte);
                }
            }
            4..=7 => self.overlapping::<4>(bytes),
            8..=15 => self.overlapping::<8>(bytes),
            16..=32 => self.overlapping::<16>(bytes),
            33..=64 => self.overlapping::<32>(bytes),
            65..=128 => self.overlapping::<64>(bytes),
            _ => self.slice(bytes),
        }
    }

    /// Appends `bytes` (N to 2N long) as its first N bytes and then its last
    /// N bytes, written over the end of the first where they overlap.
    #[inline(always)]
    fn overlapping<const N: usize>(&mut self, bytes: &[u8]) {
        let len = bytes.len();
        debug_assert!(len >= N && len <= 2 * N);
        let mut head = [0u8; N];
        let mut tail = [0u8; N];
        head.copy_from_slice(&bytes[..N]);
        tail.copy_from_slice(&bytes[len - N..]);
        let end = self.buf.len() + len;
        self.buf.extend_from_slice(&head);
        self.buf.truncate(end - N);
        self.buf.extend_from_slice(&tail);
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Removes the byte at `at`, shifting what follows.
    pub(crate) fn remove(&mut self, at: usize) {
        if at < self.buf.len() {
            self.buf.remove(at);
        }
    }

    /// Copies any slice.
    #[inline]
    pub(crate) fn slice(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The bytes written.
    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_write_only_their_length() {
        let mut out = Out::with_capacity(0);
        out.reserve(200);
        out.push(b'{');
        out.key(&Key::new(",\"a\":"), true);
        let data = b"12345 rest of the line that is long enough, with more text after it";
        out.token(data, 0, 5);
        out.key(&Key::new(",\"bb\":"), false);
        out.token(data, 6, 10);
        let long_key = format!(",\"{}\":", "x".repeat(40));
        out.key(&Key::new(&long_key), false);
        // 17 to 32 bytes: the larger block.
        out.token(data, 0, 24);
        // Too close to the end for a block: copied as a slice.
        out.token(data, data.len() - 4, data.len());
        out.push(b'}');
        let expected = format!("{{\"a\":12345,\"bb\":rest{long_key}12345 rest of the line tr it}}");
        assert_eq!(String::from_utf8(out.into_vec()).unwrap(), expected);
    }

    #[test]
    fn extend_copies_every_length_exactly() {
        let source: Vec<u8> = (0..200u8).map(|i| b'a' + i % 26).collect();
        let mut out = Out::with_capacity(0);
        let mut expected = Vec::new();
        for len in 0..=140 {
            out.extend(&source[..len]);
            out.push(b'|');
            expected.extend_from_slice(&source[..len]);
            expected.push(b'|');
        }
        out.remove(0);
        expected.remove(0);
        assert_eq!(out.as_bytes(), &expected[..]);
        assert_eq!(out.into_vec(), expected);
    }
}
