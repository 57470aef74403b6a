//! Appending the guest's output to a batch's buffer without pulling the
//! buffer through the CPU's caches.
//!
//! With full enrichment a record's output is ≈ 1.5 KB, so a worker writes
//! megabytes of output per batch into memory it will not read again; the
//! writer thread only hands the buffer to `write(2)`. Ordinary stores
//! allocate every one of those lines in the caches, evicting the endpoint
//! and interface caches that the next records need, and at line rate a
//! worker spends much of its time waiting for exactly those. Non-temporal
//! stores write around the caches: with full enrichment, one worker ran
//! 3–8 % faster and two workers 4–6 % (BENCHMARKS.md, enrichment step 20).
//! The caller uses them only for output many times the size of its input;
//! for plain parsing they were slower.
//!
//! This is the host's only `unsafe` code. It is small, x86-64 only (SSE2,
//! which every x86-64 CPU has), and checked against `extend_from_slice` for
//! every length and alignment up to a few hundred bytes; end to end, the
//! `cli` test `enriched_output_is_the_same_however_the_stream_is_cut`
//! compares output that came this way with output that did not.

/// Pieces shorter than this are appended the ordinary way: the stores
/// would not pay for the fence, and a batch's last piece is often short.
const UNCACHED_FROM: usize = 4096;

/// Appends `piece` to `buffer`, exactly as `buffer.extend_from_slice(piece)`.
pub(crate) fn append_uncached(buffer: &mut Vec<u8>, piece: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if piece.len() >= UNCACHED_FROM {
        x86_64::append(buffer, piece);
        return;
    }
    buffer.extend_from_slice(piece);
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86_64 {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_sfence, _mm_stream_si128};

    /// See [`super::append_uncached`]; any length.
    pub(super) fn append(buffer: &mut Vec<u8>, piece: &[u8]) {
        buffer.reserve(piece.len());
        let old_len = buffer.len();
        let spare = buffer.spare_capacity_mut();
        // `reserve` made room for the whole piece.
        let spare = &mut spare[..piece.len()];
        let start = spare.as_mut_ptr().cast::<u8>();
        // Streaming stores need 16-byte aligned destinations: the bytes up
        // to the first such address, and those after the last whole
        // 64-byte block, are copied the ordinary way.
        let head = start.align_offset(16).min(piece.len());
        let blocks = (piece.len() - head) / 64;
        let tail = head + blocks * 64;
        // SAFETY: `spare` is `piece.len()` bytes of `buffer`'s allocation,
        // not yet initialised and borrowed only here; `piece` is a separate
        // borrow, so the ranges do not overlap. Every offset used below is
        // below `piece.len()`: `head <= len`, the blocks end at `tail <=
        // len`, and the last copy covers `tail..len`. The destinations of
        // the streaming stores are `start + head + 64 k + 16 i`, 16-byte
        // aligned because `start + head` is. SSE2 is part of x86-64.
        unsafe {
            std::ptr::copy_nonoverlapping(piece.as_ptr(), start, head);
            for block in 0..blocks {
                let at = head + block * 64;
                let from = piece.as_ptr().add(at).cast::<__m128i>();
                let to = start.add(at).cast::<__m128i>();
                let a = _mm_loadu_si128(from);
                let b = _mm_loadu_si128(from.add(1));
                let c = _mm_loadu_si128(from.add(2));
                let d = _mm_loadu_si128(from.add(3));
                _mm_stream_si128(to, a);
                _mm_stream_si128(to.add(1), b);
                _mm_stream_si128(to.add(2), c);
                _mm_stream_si128(to.add(3), d);
            }
            std::ptr::copy_nonoverlapping(
                piece.as_ptr().add(tail),
                start.add(tail),
                piece.len() - tail,
            );
            // Streaming stores are weakly ordered: fence them before the
            // buffer can reach another thread.
            _mm_sfence();
            // All `piece.len()` bytes after `old_len` are now initialised.
            buffer.set_len(old_len + piece.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Against `extend_from_slice`, for every destination alignment and
    /// every length around the block and threshold sizes, through the
    /// streaming path itself and the public entry point.
    #[test]
    fn appends_exactly_what_extend_from_slice_does() {
        let lengths = (0..300).chain([4095, 4096, 4097, 4160, 32 * 1024 - 1, 32 * 1024 + 5]);
        for len in lengths {
            let piece = bytes(len, len as u8);
            for already in 0..17 {
                let mut expected = bytes(already, 7);
                expected.extend_from_slice(&piece);
                let mut appended = bytes(already, 7);
                append_uncached(&mut appended, &piece);
                assert_eq!(appended, expected, "len {len} after {already}");
                #[cfg(target_arch = "x86_64")]
                {
                    let mut streamed = bytes(already, 7);
                    x86_64::append(&mut streamed, &piece);
                    assert_eq!(streamed, expected, "streamed: len {len} after {already}");
                }
            }
        }
    }

    /// Many pieces into one growing buffer, as a batch's output arrives.
    #[test]
    fn a_batch_of_pieces_arrives_whole_and_in_order() {
        let mut expected = Vec::new();
        let mut appended = Vec::new();
        for n in 0..64 {
            let piece = bytes(4000 + n * 97, n as u8);
            expected.extend_from_slice(&piece);
            append_uncached(&mut appended, &piece);
        }
        assert_eq!(appended, expected);
    }
}
