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
}

impl Pipe {
    /// A pipe with no end open yet: `pipe2` calls [`open_reader`](Self::open_reader) and
    /// [`open_writer`](Self::open_writer) once each as it creates the two descriptions.
    pub const fn new() -> Pipe {
        Pipe {
            ring: PipeRing::new(),
            readers: 0,
            writers: 0,
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

    /// Bytes a write could add right now.
    pub fn free(&self) -> usize {
        self.ring.free()
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
    /// block or report EOF for it.
    ///
    /// # Panics
    /// If `copy_out` claims more bytes than it was offered.
    pub fn try_read(
        &mut self,
        copy_out: &mut dyn FnMut(&[u8]) -> KResult<usize>,
    ) -> KResult<PipeRead> {
        if self.ring.is_empty() {
            return Ok(if self.writers == 0 {
                PipeRead::Eof
            } else {
                PipeRead::WouldBlock
            });
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
        let free = self.ring.free();
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
    /// would not block (Linux asks for one free page, which is the same room), `POLLERR`
    /// when no reader is open (possibly together with `POLLOUT`, as on Linux).
    pub fn poll_write(&self) -> PollEvents {
        let mut events = PollEvents::empty();
        if self.ring.free() >= PIPE_BUF {
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
