//! [`PipeRing`]: the byte ring behind a pipe, exposed as contiguous slices so the kernel can
//! copy between user memory and the ring directly (one copy per direction).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};

use crate::PIPE_CAPACITY;

/// Index arithmetic wraps with a mask, so the capacity must be a power of two.
const MASK: usize = PIPE_CAPACITY - 1;
const _: () = assert!(PIPE_CAPACITY.is_power_of_two());

/// A ring buffer of [`PIPE_CAPACITY`] bytes.
///
/// Data occupies `len` bytes starting at `head`, wrapping at the end of the buffer. Writers
/// fill [`writable_contiguous`](Self::writable_contiguous) and then
/// [`commit_write`](Self::commit_write); readers copy from
/// [`readable_contiguous`](Self::readable_contiguous) and then [`consume`](Self::consume).
/// Each side sees at most two slices per pass (before and after the wrap).
pub struct PipeRing {
    /// Allocated on the first write: a pipe that never carries data (a synchronisation pipe
    /// whose writer just closes) costs no 64 KiB allocation and no zeroing.
    buf: Option<Box<[u8]>>,
    /// Offset of the oldest byte; reset to 0 whenever the ring drains, so that a pipe used
    /// for request/response traffic always writes and reads one contiguous slice.
    head: usize,
    /// Bytes stored.
    len: usize,
}

impl PipeRing {
    /// An empty ring; allocates nothing until the first write.
    pub const fn new() -> PipeRing {
        PipeRing {
            buf: None,
            head: 0,
            len: 0,
        }
    }

    /// Whether the buffer is still to be allocated (by [`reserve`](Self::reserve) or the first
    /// [`writable_contiguous`](Self::writable_contiguous)).
    pub fn unallocated(&self) -> bool {
        self.buf.is_none()
    }

    /// Allocates the buffer if it is not yet: ENOMEM, rather than a panic, when the heap has
    /// no room for it.
    pub fn reserve(&mut self) -> KResult<()> {
        if self.buf.is_none() {
            let mut buf = Vec::new();
            buf.try_reserve_exact(PIPE_CAPACITY)
                .map_err(|_| Errno::ENOMEM)?;
            buf.resize(PIPE_CAPACITY, 0);
            self.buf = Some(buf.into_boxed_slice());
        }
        Ok(())
    }

    /// Bytes stored (what `FIONREAD` reports).
    pub fn len(&self) -> usize {
        self.len
    }

    /// No bytes stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that can still be written before the ring is full.
    pub fn free(&self) -> usize {
        PIPE_CAPACITY - self.len
    }

    /// The oldest stored bytes up to the wrap point; empty when the ring is empty. When it is
    /// shorter than [`len`](Self::len), the rest follows at the buffer start after
    /// [`consume`](Self::consume).
    pub fn readable_contiguous(&self) -> &[u8] {
        match &self.buf {
            Some(buf) => &buf[self.head..(self.head + self.len).min(PIPE_CAPACITY)],
            None => &[],
        }
    }

    /// All the stored bytes, oldest first, as the slice up to the wrap point and the one
    /// after it (empty unless the data wraps).
    pub fn readable(&self) -> (&[u8], &[u8]) {
        match &self.buf {
            Some(buf) if self.head + self.len > PIPE_CAPACITY => (
                &buf[self.head..],
                &buf[..self.head + self.len - PIPE_CAPACITY],
            ),
            _ => (self.readable_contiguous(), &[]),
        }
    }

    /// Drops the `n` oldest bytes (after copying them out).
    ///
    /// # Panics
    /// If `n` exceeds [`len`](Self::len): the caller consumed bytes it never read.
    pub fn consume(&mut self, n: usize) {
        assert!(
            n <= self.len,
            "pipe ring: consume({n}) of {} bytes",
            self.len
        );
        self.len -= n;
        self.head = if self.len == 0 {
            0
        } else {
            (self.head + n) & MASK
        };
    }

    /// Offset where the next written byte goes.
    fn tail(&self) -> usize {
        (self.head + self.len) & MASK
    }

    /// Length of the free space after the tail, up to the wrap point or the head.
    fn free_contiguous(&self) -> usize {
        if self.len == PIPE_CAPACITY {
            0
        } else if self.tail() >= self.head {
            PIPE_CAPACITY - self.tail()
        } else {
            self.head - self.tail()
        }
    }

    /// The free space after the stored bytes, up to the wrap point; empty when the ring is
    /// full. Fill a prefix of it, then [`commit_write`](Self::commit_write) that many bytes.
    ///
    /// Always inlined: it is on every pipe write's path, and with two callers (`try_write`
    /// and `commit`) the compiler had made it a call (17 instructions more per write on the
    /// `pipe` benchmark).
    #[inline(always)]
    pub fn writable_contiguous(&mut self) -> &mut [u8] {
        let (tail, free) = (self.tail(), self.free_contiguous());
        if free == 0 {
            return &mut [];
        }
        let buf = self
            .buf
            .get_or_insert_with(|| vec![0; PIPE_CAPACITY].into_boxed_slice());
        &mut buf[tail..tail + free]
    }

    /// Makes the first `n` bytes of the last [`writable_contiguous`](Self::writable_contiguous)
    /// slice part of the stored data.
    ///
    /// # Panics
    /// If `n` exceeds that slice: those bytes were never written.
    pub fn commit_write(&mut self, n: usize) {
        let free = if self.buf.is_some() {
            self.free_contiguous()
        } else {
            0
        };
        assert!(
            n <= free,
            "pipe ring: commit_write({n}) past {free} writable bytes"
        );
        self.len += n;
    }
}

impl Default for PipeRing {
    fn default() -> PipeRing {
        PipeRing::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(ring: &mut PipeRing, data: &[u8]) -> usize {
        let space = ring.writable_contiguous();
        let n = space.len().min(data.len());
        space[..n].copy_from_slice(&data[..n]);
        ring.commit_write(n);
        n
    }

    #[test]
    fn empty_ring_allocates_nothing() {
        let ring = PipeRing::new();
        assert!(ring.readable_contiguous().is_empty());
        assert!(ring.buf.is_none());
        assert_eq!(ring.free(), PIPE_CAPACITY);
    }

    #[test]
    fn slices_split_at_the_wrap() {
        let mut ring = PipeRing::new();
        let data: alloc::vec::Vec<u8> = (0..PIPE_CAPACITY).map(|i| i as u8).collect();
        assert_eq!(
            write(&mut ring, &data[..PIPE_CAPACITY - 10]),
            PIPE_CAPACITY - 10
        );
        ring.consume(100);
        // 10 bytes up to the end of the buffer, then 100 at the start.
        assert_eq!(ring.writable_contiguous().len(), 10);
        assert_eq!(write(&mut ring, &data[..50]), 10);
        assert_eq!(ring.writable_contiguous().len(), 100);
        assert_eq!(write(&mut ring, &data[10..50]), 40);
        assert_eq!(ring.len(), PIPE_CAPACITY - 10 - 100 + 50);
        let first = ring.readable_contiguous();
        assert_eq!(first.len(), PIPE_CAPACITY - 100);
        assert_eq!(first[0], 100);
        // The first slice ends with the 10 bytes written at the buffer's end.
        assert_eq!(first[first.len() - 10..], data[..10]);
        ring.consume(first.len());
        assert_eq!(ring.readable_contiguous(), &data[10..50]);
    }

    #[test]
    fn readable_is_both_sides_of_the_wrap() {
        let mut ring = PipeRing::new();
        assert_eq!(ring.readable(), (&[][..], &[][..]));
        let data: alloc::vec::Vec<u8> = (0..PIPE_CAPACITY).map(|i| i as u8).collect();
        write(&mut ring, &data);
        ring.consume(PIPE_CAPACITY - 3);
        write(&mut ring, &[7, 8]);
        let (first, second) = ring.readable();
        assert_eq!((first, second), (&data[PIPE_CAPACITY - 3..], &[7u8, 8][..]));
    }

    #[test]
    fn full_ring_offers_no_space() {
        let mut ring = PipeRing::new();
        let data = vec![7; PIPE_CAPACITY];
        assert_eq!(write(&mut ring, &data), PIPE_CAPACITY);
        assert!(ring.writable_contiguous().is_empty());
        assert_eq!(ring.free(), 0);
        ring.commit_write(0);
    }

    #[test]
    fn draining_rewinds_to_the_buffer_start() {
        let mut ring = PipeRing::new();
        write(&mut ring, &[1; 1000]);
        ring.consume(1000);
        assert_eq!(ring.writable_contiguous().len(), PIPE_CAPACITY);
    }

    #[test]
    #[should_panic(expected = "consume")]
    fn consuming_unread_bytes_panics() {
        let mut ring = PipeRing::new();
        write(&mut ring, &[1; 10]);
        ring.consume(11);
    }

    #[test]
    #[should_panic(expected = "commit_write")]
    fn committing_past_the_slice_panics() {
        let mut ring = PipeRing::new();
        ring.commit_write(1);
    }
}
