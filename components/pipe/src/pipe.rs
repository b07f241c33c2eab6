//! [`Pipe`]: the state both ends of a pipe share, and its non-blocking read and write.

use tessera_abi::KResult;

use crate::ring::PipeRing;
use crate::{PIPE_BUF, PollEvents};

/// Outcome of [`Pipe::try_read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeRead {
    /// `n` bytes were copied out and removed; wake sleeping writers. `n` is 0 only when the
    /// destination took nothing (a zero-length read).
    Data(usize),
    /// Empty, but a writer is still open: sleep until a write or the last writer's close
    /// (or return `EAGAIN` for `O_NONBLOCK`).
    WouldBlock,
    /// Empty and no writer is open: `read` returns 0.
    Eof,
}

/// Outcome of [`Pipe::try_write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeWrite {
    /// `n` bytes were copied in; wake sleeping readers. Less than asked when the ring filled
    /// during a write larger than [`PIPE_BUF`] (a blocking writer goes on with the rest) or
    /// when the source faulted after `n` bytes.
    Wrote(usize),
    /// Not enough room: sleep until a read or the last reader's close (or return `EAGAIN`).
    WouldBlock,
    /// No reader is open: send `SIGPIPE` to the writer and return `EPIPE`.
    BrokenPipe,
}

/// A pipe: the ring plus how many read and write ends are open.
///
/// Both ends' open file descriptions point at one `Pipe` (the kernel wraps it in `Arc` and a
/// lock). The counts are of open file descriptions, not of file descriptors: `dup` and `fork`
/// share a description and do not call [`open_reader`](Self::open_reader) again.
pub struct Pipe {
    ring: PipeRing,
    readers: usize,
    writers: usize,
    /// A reader peeked with [`try_peek`](Self::try_peek) and has not said yet how much it
    /// consumes: other reads wait (as Linux's readers wait for the pipe's mutex).
    held: bool,
    /// Room promised by [`try_reserve`](Self::try_reserve) and not yet committed: no other
    /// write may take it.
    reserved: usize,
}

impl Pipe {
    /// A pipe with no end open yet: `pipe2` calls [`open_reader`](Self::open_reader) and
    /// [`open_writer`](Self::open_writer) once each as it creates the two descriptions.
    pub const fn new() -> Pipe {
        Pipe {
            ring: PipeRing::new(),
            readers: 0,
            writers: 0,
            held: false,
            reserved: 0,
        }
    }

    /// A read end was opened.
    pub fn open_reader(&mut self) {
        self.readers += 1;
    }

    /// A write end was opened.
    pub fn open_writer(&mut self) {
        self.writers += 1;
    }

    /// A read end was closed (its last reference dropped). Returns true when it was the last
    /// one: writers sleeping for space must wake to see [`PipeWrite::BrokenPipe`], and
    /// pollers of the write end see `POLLERR`.
    ///
    /// # Panics
    /// If no read end is open.
    pub fn close_reader(&mut self) -> bool {
        assert!(self.readers > 0, "pipe: close_reader with no reader open");
        self.readers -= 1;
        self.readers == 0
    }

    /// A write end was closed. Returns true when it was the last one: sleeping readers must
    /// wake to see [`PipeRead::Eof`], and pollers of the read end see `POLLHUP`.
    ///
    /// # Panics
    /// If no write end is open.
    pub fn close_writer(&mut self) -> bool {
        assert!(self.writers > 0, "pipe: close_writer with no writer open");
        self.writers -= 1;
        self.writers == 0
    }

    /// Open read ends.
    pub fn readers(&self) -> usize {
        self.readers
    }

    /// Open write ends.
    pub fn writers(&self) -> usize {
        self.writers
    }

    /// Bytes buffered: the `FIONREAD` answer.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Nothing buffered.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Bytes a write could add right now (room reserved by [`try_reserve`](Self::try_reserve)
    /// is not free).
    pub fn free(&self) -> usize {
        self.ring.free() - self.reserved
    }

    /// What [`try_read`](Self::try_read) would answer now, without copying: `Data(len)`
    /// when bytes are buffered and no reader holds them ([`try_peek`](Self::try_peek)),
    /// `WouldBlock` while empty with a writer open or held, `Eof` when empty with none.
    pub fn read_status(&self) -> PipeRead {
        if self.held {
            PipeRead::WouldBlock
        } else if !self.ring.is_empty() {
            PipeRead::Data(self.ring.len())
        } else if self.writers == 0 {
            PipeRead::Eof
        } else {
            PipeRead::WouldBlock
        }
    }

    /// Reads as much as is buffered and the destination takes.
    ///
    /// `copy_out` receives the buffered bytes one contiguous slice at a time (at most two per
    /// call) and returns how many it copied to user memory. It is called again only while it
    /// took the whole slice and data remains, so returning fewer (the user buffer is full, or
    /// a fault after some bytes) ends the read. It returns `Err(EFAULT)` when it copied
    /// nothing because the user pointer is bad: that error is returned if no byte was read
    /// yet, otherwise the bytes already read are (as Linux does).
    ///
    /// The kernel answers a zero-length `read` with 0 before calling this; Linux does not
    /// block or report EOF for it. While another reader holds the bytes
    /// ([`try_peek`](Self::try_peek)), this is `WouldBlock`.
    ///
    /// # Panics
    /// If `copy_out` claims more bytes than it was offered.
    pub fn try_read(
        &mut self,
        copy_out: &mut dyn FnMut(&[u8]) -> KResult<usize>,
    ) -> KResult<PipeRead> {
        if self.ring.is_empty() || self.held {
            return Ok(self.read_status());
        }
        let mut done = 0;
        while !self.ring.is_empty() {
            let chunk = self.ring.readable_contiguous();
            let offered = chunk.len();
            match copy_out(chunk) {
                Ok(n) => {
                    assert!(n <= offered, "pipe: copy_out took {n} of {offered} bytes");
                    self.ring.consume(n);
                    done += n;
                    if n < offered {
                        break;
                    }
                }
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(PipeRead::Data(done))
    }

    /// Whether the first write is still to allocate the ring's buffer ([`crate::PIPE_CAPACITY`]
    /// bytes): the kernel asks whether memory has room for it first.
    pub fn needs_buffer(&self) -> bool {
        self.ring.unallocated()
    }

    /// Writes up to `len` bytes with `PIPE_BUF` atomicity.
    ///
    /// A write of at most [`PIPE_BUF`] bytes is all-or-nothing: it returns
    /// [`PipeWrite::WouldBlock`] unless all `len` bytes fit, so it is never interleaved with
    /// another writer's data. A larger write takes whatever room there is (at least one byte)
    /// and returns the count; the kernel's blocking loop calls again for the rest. (A rest
    /// of at most `PIPE_BUF` bytes then waits for room for all of it, which only delays it:
    /// the reader drains the ring eventually.) A zero-length write returns `Wrote(0)` even
    /// with no reader, as on Linux; otherwise no reader gives [`PipeWrite::BrokenPipe`].
    ///
    /// The first write allocates the ring's buffer: ENOMEM when the heap has no room.
    ///
    /// `copy_in` fills each offered slice (at most two per call) from the next user bytes and
    /// returns how many it copied; fewer than offered ends the write. It returns
    /// `Err(EFAULT)` when it copied nothing because the user pointer is bad, which is
    /// returned if no byte was written yet; otherwise the bytes written are.
    ///
    /// # Panics
    /// If `copy_in` claims more bytes than it was offered.
    pub fn try_write(
        &mut self,
        len: usize,
        copy_in: &mut dyn FnMut(&mut [u8]) -> KResult<usize>,
    ) -> KResult<PipeWrite> {
        if len == 0 {
            return Ok(PipeWrite::Wrote(0));
        }
        if self.readers == 0 {
            return Ok(PipeWrite::BrokenPipe);
        }
        let free = self.free();
        if free == 0 || (len <= PIPE_BUF && free < len) {
            return Ok(PipeWrite::WouldBlock);
        }
        self.ring.reserve()?;
        let target = len.min(free);
        let mut done = 0;
        while done < target {
            let space = self.ring.writable_contiguous();
            let want = space.len().min(target - done);
            match copy_in(&mut space[..want]) {
                Ok(n) => {
                    assert!(n <= want, "pipe: copy_in filled {n} of {want} bytes");
                    self.ring.commit_write(n);
                    done += n;
                    if n < want {
                        break;
                    }
                }
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(PipeWrite::Wrote(done))
    }

    /// Copies out the buffered bytes without consuming them, as [`try_read`](Self::try_read)
    /// would (same `copy_out` contract, same outcomes), and holds them: until
    /// [`consume`](Self::consume) says how many of them went, other reads and peeks see
    /// `WouldBlock`. This is how the kernel moves bytes from a pipe into a file without
    /// holding the pipe's lock across the file's write (Linux's `splice` holds the pipe's
    /// mutex there), consuming only what the file took. `Data(n)` always leaves the hold
    /// taken, even for `n == 0`; an error or another outcome takes none.
    pub fn try_peek(
        &mut self,
        copy_out: &mut dyn FnMut(&[u8]) -> KResult<usize>,
    ) -> KResult<PipeRead> {
        if self.ring.is_empty() || self.held {
            return Ok(self.read_status());
        }
        let n = self.peek(copy_out)?;
        self.held = true;
        Ok(PipeRead::Data(n))
    }

    /// Ends the hold of [`try_peek`](Self::try_peek): the first `n` of the bytes it copied
    /// are consumed, the rest stay for the next read.
    ///
    /// # Panics
    /// Without a hold, or if `n` is more than is buffered.
    pub fn consume(&mut self, n: usize) {
        assert!(self.held, "pipe: consume without try_peek");
        self.held = false;
        self.ring.consume(n);
    }

    /// Copies the buffered bytes out, oldest first, without consuming them and whoever holds
    /// them (`tee`): `copy_out` as for [`try_read`](Self::try_read). Returns the bytes
    /// copied: 0 when empty, an error only when `copy_out` failed before any byte.
    ///
    /// # Panics
    /// If `copy_out` claims more bytes than it was offered.
    pub fn peek(&self, copy_out: &mut dyn FnMut(&[u8]) -> KResult<usize>) -> KResult<usize> {
        let (first, second) = self.ring.readable();
        let mut done = 0;
        for chunk in [first, second] {
            if chunk.is_empty() {
                break;
            }
            let offered = chunk.len();
            match copy_out(chunk) {
                Ok(n) => {
                    assert!(n <= offered, "pipe: copy_out took {n} of {offered} bytes");
                    done += n;
                    if n < offered {
                        break;
                    }
                }
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(done)
    }

    /// Reserves room for up to `len` bytes, without `PIPE_BUF` atomicity (as Linux's
    /// `splice` and `vmsplice` fill a pipe: whatever room there is): `Wrote(k)`, `k` bytes
    /// (at least one) are this writer's until [`commit`](Self::commit), and other writes
    /// see that much less room. The kernel reserves, drops the pipe's lock to read the
    /// source (a file, a socket: a read it cannot undo), and commits what it read. No room
    /// is `WouldBlock`, no reader `BrokenPipe`; `len == 0` reserves nothing (`Wrote(0)`).
    pub fn try_reserve(&mut self, len: usize) -> PipeWrite {
        if len == 0 {
            return PipeWrite::Wrote(0);
        }
        if self.readers == 0 {
            return PipeWrite::BrokenPipe;
        }
        let k = len.min(self.free());
        if k == 0 {
            return PipeWrite::WouldBlock;
        }
        self.reserved += k;
        PipeWrite::Wrote(k)
    }

    /// Ends a reservation of `reserved` bytes ([`try_reserve`](Self::try_reserve)'s `k`):
    /// `data` (at most that long) is appended, and the room it does not use is free again.
    /// The room is there whatever happened meanwhile: reads only add to it, and the last
    /// reader's close leaves the bytes to nobody, as a write just before it would.
    ///
    /// # Panics
    /// If `data` is longer than `reserved`, or `reserved` more than is reserved.
    pub fn commit(&mut self, reserved: usize, data: &[u8]) {
        assert!(
            data.len() <= reserved && reserved <= self.reserved,
            "pipe: commit of {} bytes into {reserved} of {} reserved",
            data.len(),
            self.reserved
        );
        self.reserved -= reserved;
        let mut done = 0;
        while done < data.len() {
            let space = self.ring.writable_contiguous();
            let n = space.len().min(data.len() - done);
            assert!(n > 0, "pipe: reserved room gone");
            space[..n].copy_from_slice(&data[done..done + n]);
            self.ring.commit_write(n);
            done += n;
        }
    }

    /// Readiness of a read end, as Linux's `pipe_poll` reports it: `POLLIN | POLLRDNORM`
    /// when data is buffered, `POLLHUP` when no writer is open (both at once while the last
    /// bytes remain).
    pub fn poll_read(&self) -> PollEvents {
        let mut events = PollEvents::empty();
        if !self.ring.is_empty() {
            events |= PollEvents::IN | PollEvents::RDNORM;
        }
        if self.writers == 0 {
            events |= PollEvents::HUP;
        }
        events
    }

    /// Readiness of a write end: `POLLOUT | POLLWRNORM` when a [`PIPE_BUF`]-sized write
    /// would not block (Linux asks for one free page, which is the same room; reserved room
    /// is not free), `POLLERR`
    /// when no reader is open (possibly together with `POLLOUT`, as on Linux).
    pub fn poll_write(&self) -> PollEvents {
        let mut events = PollEvents::empty();
        if self.free() >= PIPE_BUF {
            events |= PollEvents::OUT | PollEvents::WRNORM;
        }
        if self.readers == 0 {
            events |= PollEvents::ERR;
        }
        events
    }
}

impl Default for Pipe {
    fn default() -> Pipe {
        Pipe::new()
    }
}
