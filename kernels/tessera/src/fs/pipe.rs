//! Pipes and fifos: the `tessera-pipe` state machine behind two open-file ends, with wait
//! queues for the blocking.
//!
//! Two variants (config key `pipe`, policy types in `tessera_pipe`), the "before" and "after"
//! of Kevlar's blog post "Beating Linux: Syscall Performance in a Rust Kernel":
//! - `fast`: try the operation first and sleep only when it would block; data moves directly
//!   between user memory and the ring (one copy per direction); the other side is woken only
//!   when its queue's waiter count says someone waits.
//! - `simple`: every operation enqueues on the wait queue before trying, bounces through a
//!   kernel buffer (two copies per direction), and always takes the other queue's lock to
//!   wake it.
//!
//! splice, tee and vmsplice (`syscall/splice.rs`) move bytes between a pipe and a file, two
//! pipes, or a pipe and user memory. The pipe's lock is a spin lock, never held across a
//! file's read or write: [`PipeEnd::drain`] peeks into a kernel buffer, writes the file with
//! the lock dropped and consumes only what the file took (the bytes held meanwhile, other
//! readers wait), [`PipeEnd::fill`] reserves room, reads the source with the lock dropped
//! and commits what it gave, and [`pipe_to_pipe`] copies between two rings under both
//! locks (taken in address order). Each is a copy where Linux moves page references. A read
//! that finds the bytes held waits as for an empty pipe, as Linux's waits for the pipe's
//! mutex, except that with `O_NONBLOCK` it is EAGAIN.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec;

use tessera_abi::fs::FIONREAD;
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_pipe::{Pipe, PipePolicy, PipeRead, PipeWrite};
use tessera_sync::{SpinLock, SubsystemLock};

use super::DentryRef;
use super::file::{FileOps, O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, OpenFile};
use super::stat::{S_IFIFO, Stat};
use crate::process::sched::{self, WaitQueue};
use crate::variants::Pipe as PipeVariant;

/// A pipe shared by its ends.
pub struct PipeShared {
    pipe: SubsystemLock<Pipe>,
    readable: WaitQueue,
    writable: WaitQueue,
    ino: u64,
    /// A fifo's key in [`FIFOS`] (its inode's address); `None` for a pipe from pipe2.
    fifo: Option<usize>,
}

/// One end of a pipe.
pub struct PipeEnd {
    shared: Arc<PipeShared>,
    reader: bool,
}

impl PipeShared {
    fn new(ino: u64, fifo: Option<usize>) -> Arc<Self> {
        Arc::new(PipeShared {
            pipe: SubsystemLock::new(Pipe::new()),
            readable: WaitQueue::new(),
            writable: WaitQueue::new(),
            ino,
            fifo,
        })
    }

    fn end(self: &Arc<Self>, reader: bool) -> Arc<PipeEnd> {
        let mut pipe = self.pipe.lock();
        if reader {
            pipe.open_reader();
        } else {
            pipe.open_writer();
        }
        Arc::new(PipeEnd {
            shared: self.clone(),
            reader,
        })
    }
}

static NEXT_PIPE_INO: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

/// pipe2: (read end, write end).
pub fn new_pipe(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let shared = PipeShared::new(
        NEXT_PIPE_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
        None,
    );
    let nonblock = flags & O_NONBLOCK;
    (
        OpenFile::new(shared.end(true), O_RDONLY | nonblock),
        OpenFile::new(shared.end(false), O_WRONLY | nonblock),
    )
}

/// The pipes of named fifos with an end open, by inode (its address): an entry goes with the
/// fifo's last end, as Linux frees a fifo's pipe then (its unread bytes with it). Entries
/// used to stay for good, a leak the fuzzer's leak check found, and a later fifo at the same
/// address would have found the old pipe.
static FIFOS: SpinLock<BTreeMap<usize, Arc<PipeShared>>> = SpinLock::new(BTreeMap::new());

/// Opening a fifo: readers and writers of the same fifo share one pipe.
pub fn open_fifo(dentry: &DentryRef, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let reader = match flags & O_ACCMODE {
        O_RDONLY => true,
        O_WRONLY => false,
        _ => return Err(Errno::EINVAL),
    };
    let key = tessera_vfs::inode_key(dentry.inode());
    let ino = dentry.inode().metadata()?.ino;
    // The end opens under the table's lock: a last end closing meanwhile cannot take the
    // pipe out of the table between the lookup and the opening.
    let mut fifos = FIFOS.lock();
    let shared = fifos
        .entry(key)
        .or_insert_with(|| PipeShared::new(ino, Some(key)))
        .clone();
    let end: Arc<dyn FileOps> = shared.end(reader);
    Ok(end)
}

/// A new end of the pipe behind `file`, opened with `flags` (read-only: a reader,
/// write-only: a writer), as opening `/proc/PID/fd/N` of a pipe gives on Linux; `None` if
/// `file` is not a pipe's end. EINVAL for `O_RDWR`.
pub fn reopen(file: &OpenFile, flags: u32) -> Option<KResult<Arc<OpenFile>>> {
    let end = file.ops.as_any()?.downcast_ref::<PipeEnd>()?;
    let reader = match flags & O_ACCMODE {
        O_RDONLY => true,
        O_WRONLY => false,
        _ => return Some(Err(Errno::EINVAL)),
    };
    let ops: Arc<dyn FileOps> = end.shared.end(reader);
    Some(Ok(OpenFile::new(ops, flags)))
}

/// The pipe end `file` is (of a pipe from pipe2 or of a fifo), for the calls that take a
/// pipe (Linux's `get_pipe_info`).
pub fn end_of(file: &OpenFile) -> Option<&PipeEnd> {
    file.ops.as_any()?.downcast_ref::<PipeEnd>()
}

/// A fifo's end closed: its pipe leaves the table if no end is left.
fn forget_fifo(key: usize, shared: &Arc<PipeShared>) {
    let mut fifos = FIFOS.lock();
    let unused = {
        let pipe = shared.pipe.lock();
        pipe.readers() == 0 && pipe.writers() == 0
    };
    if unused && fifos.get(&key).is_some_and(|p| Arc::ptr_eq(p, shared)) {
        fifos.remove(&key);
    }
}

/// Blocks until `ready` has a result: try first (`fast`) or enqueue first (`simple`).
fn wait<T>(queue: &WaitQueue, ready: impl FnMut() -> Option<T>) -> KResult<T> {
    if PipeVariant::TRY_BEFORE_WAIT {
        queue.wait_until(true, ready)
    } else {
        queue.wait_until_enqueued(true, ready)
    }
}

/// Wakes the other side: only if someone waits (`fast`), or always through the lock. `key`
/// is what may have become ready (for epoll's registrations, as Linux's keyed wake-ups).
fn wake(queue: &WaitQueue, key: PollEvents) {
    if PipeVariant::WAKE_ONLY_WAITERS {
        queue.wake_waiters_poll(key);
    } else {
        queue.wake_poll(key);
    }
}

impl PipeEnd {
    /// One read: `copy` moves bytes out of the ring (to a kernel buffer or straight to user
    /// memory); blocks until data, EOF or a signal.
    fn read_with(
        &self,
        nonblock: bool,
        copy: &mut dyn FnMut(&[u8], usize) -> KResult<usize>,
    ) -> KResult<usize> {
        if !self.reader {
            return Err(Errno::EBADF);
        }
        let n = wait(&self.shared.readable, || {
            let mut pipe = self.shared.pipe.lock();
            let mut done = 0;
            let result = pipe.try_read(&mut |chunk: &[u8]| {
                let n = copy(chunk, done)?;
                done += n;
                Ok(n)
            });
            match result {
                Ok(PipeRead::Data(n)) => Some(Ok(n)),
                Ok(PipeRead::Eof) => Some(Ok(0)),
                Ok(PipeRead::WouldBlock) if nonblock => Some(Err(Errno::EAGAIN)),
                Ok(PipeRead::WouldBlock) => None,
                Err(e) => Some(Err(e)),
            }
        })??;
        wake(&self.shared.writable, PollEvents::OUT | PollEvents::WRNORM);
        Ok(n)
    }

    /// A whole write (looping over partial steps for more than PIPE_BUF); `copy` fills ring
    /// space from offset `done` of the source.
    fn write_with(
        &self,
        len: usize,
        nonblock: bool,
        copy: &mut dyn FnMut(&mut [u8], usize) -> KResult<usize>,
    ) -> KResult<usize> {
        if self.reader {
            return Err(Errno::EBADF);
        }
        let mut written = 0;
        while written < len || len == 0 {
            let step = wait(&self.shared.writable, || {
                let mut pipe = self.shared.pipe.lock();
                // The first write allocates the ring: only with the kernel's reserve left.
                if pipe.needs_buffer()
                    && !crate::mm::user_frames::headroom(
                        tessera_pipe::PIPE_CAPACITY / tessera_platform::mm::PAGE_SIZE,
                    )
                {
                    return Some(Err(Errno::ENOMEM));
                }
                let mut done = written;
                let result = pipe.try_write(len - written, &mut |room: &mut [u8]| {
                    let n = copy(room, done)?;
                    done += n;
                    Ok(n)
                });
                match result {
                    Ok(PipeWrite::Wrote(n)) => Some(Ok(n)),
                    Ok(PipeWrite::BrokenPipe) => Some(Err(Errno::EPIPE)),
                    Ok(PipeWrite::WouldBlock) if nonblock => Some(Err(Errno::EAGAIN)),
                    Ok(PipeWrite::WouldBlock) => None,
                    Err(e) => Some(Err(e)),
                }
            });
            match step {
                Ok(Ok(n)) => {
                    written += n;
                    wake(&self.shared.readable, PollEvents::IN | PollEvents::RDNORM);
                    if len == 0 {
                        break;
                    }
                }
                Ok(Err(Errno::EPIPE)) => {
                    crate::process::signal::sigpipe();
                    return if written > 0 {
                        Ok(written)
                    } else {
                        Err(Errno::EPIPE)
                    };
                }
                Ok(Err(e)) | Err(e) => return if written > 0 { Ok(written) } else { Err(e) },
            }
        }
        Ok(written)
    }
}

impl FileOps for PipeEnd {
    fn as_any(&self) -> Option<&dyn core::any::Any> {
        Some(self)
    }
    fn read_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        if len == 0 {
            return Ok(0);
        }
        if !PipeVariant::DIRECT_COPY {
            // Through a kernel buffer, then to the user.
            let mut buf = alloc::vec![0u8; len.min(super::file::USER_CHUNK)];
            let n = self.read(offset, &mut buf, nonblock)?;
            crate::user::write_bytes(addr, &buf[..n])?;
            return Ok(n);
        }
        // Straight from the ring to user memory: one copy, and a fault consumes nothing.
        self.read_with(nonblock, &mut |chunk, done| {
            let n = chunk.len().min(len - done);
            crate::user::write_bytes(addr + done as u64, &chunk[..n])?;
            Ok(n)
        })
    }

    fn write_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        if !PipeVariant::DIRECT_COPY {
            // From the user into a kernel buffer, then into the ring.
            let buf = crate::user::read_bytes(addr, len.min(super::file::USER_CHUNK))?;
            return self.write(offset, &buf, nonblock);
        }
        // Straight from user memory into the ring.
        self.write_with(len, nonblock, &mut |room, done| {
            let n = room.len().min(len - done);
            crate::user::read_into(addr + done as u64, &mut room[..n])?;
            Ok(n)
        })
    }

    fn read(&self, _offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.read_with(nonblock, &mut |chunk, done| {
            let n = chunk.len().min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&chunk[..n]);
            Ok(n)
        })
    }

    fn write(&self, _offset: u64, buf: &[u8], nonblock: bool) -> KResult<usize> {
        self.write_with(buf.len(), nonblock, &mut |room, done| {
            let n = room.len().min(buf.len() - done);
            room[..n].copy_from_slice(&buf[done..done + n]);
            Ok(n)
        })
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            mode: S_IFIFO | 0o600,
            ino: self.shared.ino,
            nlink: 1,
            blksize: 4096,
            dev: 12,
            ..Stat::default()
        })
    }

    fn can_poll(&self) -> bool {
        true
    }

    /// Each end waits where its readiness changes (Linux's `rd_wait` and `wr_wait`): a
    /// write, or the last writer's close, wakes the readers' queue; a read, or the last
    /// reader's close, the writers'.
    fn wait_queues(&self, add: &mut dyn FnMut(&WaitQueue)) {
        add(if self.reader {
            &self.shared.readable
        } else {
            &self.shared.writable
        });
    }

    fn poll(&self) -> PollEvents {
        let pipe = self.shared.pipe.lock();
        if self.reader {
            pipe.poll_read()
        } else {
            pipe.poll_write()
        }
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> KResult<isize> {
        if cmd == FIONREAD {
            let len = self.shared.pipe.lock().len() as u32;
            crate::user::write_u32(arg, len)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn release(&self) {
        let mut pipe = self.shared.pipe.lock();
        if self.reader {
            pipe.close_reader();
        } else {
            pipe.close_writer();
        }
        drop(pipe);
        self.shared.readable.wake_all();
        self.shared.writable.wake_all();
        if let Some(key) = self.shared.fifo {
            forget_fifo(key, &self.shared);
        }
    }
}

/// The most bytes [`PipeEnd::drain`] holds and copies in one step (the ring's size).
const DRAIN_CHUNK: usize = tessera_pipe::PIPE_CAPACITY;

/// Wakes the tasks that wait on `queue` without telling its watches: a hold or a
/// reservation ended, which changes no poll answer.
fn wake_blocked(queue: &WaitQueue) {
    if queue.has_waiters() {
        queue.wake_tasks();
    }
}

impl PipeEnd {
    /// Whether `other` is an end of the same pipe.
    pub fn same_pipe(&self, other: &PipeEnd) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Peeks up to `buf.len()` bytes into `buf` (the hold taken on `Data`).
    fn peek_into(&self, buf: &mut [u8]) -> KResult<PipeRead> {
        let mut got = 0;
        self.shared.pipe.lock().try_peek(&mut |chunk: &[u8]| {
            let n = chunk.len().min(buf.len() - got);
            buf[got..got + n].copy_from_slice(&chunk[..n]);
            got += n;
            Ok(n)
        })
    }

    /// Moves up to `len` bytes out of this pipe (a read end) into `sink`, which returns how
    /// many of the bytes it is given it took (a file's write, a copy to user memory): Linux's
    /// `splice_from_pipe`. The first step waits for data as a read does (`nonblock`:
    /// `EAGAIN`; no writer: 0); later steps take only what is there. Each step holds the
    /// bytes it peeked while `sink` runs without the pipe's lock, then consumes what `sink`
    /// took; a step `sink` takes less of, or fails in, ends the call (its error is the
    /// call's if nothing moved yet).
    pub fn drain(
        &self,
        len: usize,
        nonblock: bool,
        sink: &mut dyn FnMut(&[u8]) -> KResult<usize>,
    ) -> KResult<usize> {
        if !self.reader {
            return Err(Errno::EBADF);
        }
        let mut buf = vec![0u8; len.min(DRAIN_CHUNK)];
        let mut done = 0;
        while done < len {
            let want = (len - done).min(buf.len());
            let peeked = if done == 0 {
                wait(&self.shared.readable, || {
                    match self.peek_into(&mut buf[..want]) {
                        Ok(PipeRead::WouldBlock) if !nonblock => None,
                        other => Some(other),
                    }
                })??
            } else if sched::keep_going() {
                self.peek_into(&mut buf[..want])?
            } else {
                break;
            };
            let n = match peeked {
                PipeRead::Data(n) => n,
                PipeRead::Eof => break,
                PipeRead::WouldBlock if done == 0 => return Err(Errno::EAGAIN),
                PipeRead::WouldBlock => break,
            };
            let taken = sink(&buf[..n]);
            let took = taken.as_ref().map_or(0, |&w| w.min(n));
            self.shared.pipe.lock().consume(took);
            if took > 0 {
                wake(&self.shared.writable, PollEvents::OUT | PollEvents::WRNORM);
            }
            wake_blocked(&self.shared.readable);
            match taken {
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
                Ok(_) => done += took,
            }
            if took < n {
                break;
            }
        }
        Ok(done)
    }

    /// Puts up to `len` bytes from `source` into this pipe (a write end) in one step, as
    /// Linux's `splice` from a file and `vmsplice` do: waits for room as a write does (no
    /// reader: `SIGPIPE` and `EPIPE`; `nonblock`: `EAGAIN`), but takes whatever room there
    /// is (no `PIPE_BUF` atomicity). The room is reserved while `source` fills a kernel
    /// buffer of that size without the pipe's lock (it may block, or fail: its error is the
    /// call's), then what it gave is committed. The bytes put in.
    pub fn fill(
        &self,
        len: usize,
        nonblock: bool,
        source: &mut dyn FnMut(&mut [u8]) -> KResult<usize>,
    ) -> KResult<usize> {
        if self.reader {
            return Err(Errno::EBADF);
        }
        let reserved = wait(&self.shared.writable, || {
            match self.shared.pipe.lock().try_reserve(len) {
                PipeWrite::Wrote(k) => Some(Ok(k)),
                PipeWrite::BrokenPipe => Some(Err(Errno::EPIPE)),
                PipeWrite::WouldBlock if nonblock => Some(Err(Errno::EAGAIN)),
                PipeWrite::WouldBlock => None,
            }
        })?;
        let k = match reserved {
            Ok(k) => k,
            Err(Errno::EPIPE) => {
                crate::process::signal::sigpipe();
                return Err(Errno::EPIPE);
            }
            Err(e) => return Err(e),
        };
        let mut buf = vec![0u8; k];
        let given = source(&mut buf);
        let n = given.as_ref().map_or(0, |&n| n.min(k));
        self.shared.pipe.lock().commit(k, &buf[..n]);
        if n > 0 {
            wake(&self.shared.readable, PollEvents::IN | PollEvents::RDNORM);
        }
        if n < k {
            // Room that was reserved is free again: writers and pollers may go on.
            wake(&self.shared.writable, PollEvents::OUT | PollEvents::WRNORM);
        }
        given.map(|_| n)
    }
}

/// Runs `f` on the pipes of `input` and `output` (two different pipes), both locked: in the
/// order of their addresses, so that two calls between the same pipes in opposite
/// directions cannot deadlock (Linux's `pipe_double_lock`).
fn lock_both<R>(
    input: &PipeShared,
    output: &PipeShared,
    f: impl FnOnce(&mut Pipe, &mut Pipe) -> R,
) -> R {
    let (a, b) = (
        input as *const PipeShared as usize,
        output as *const PipeShared as usize,
    );
    if a < b {
        let mut i = input.pipe.lock();
        let mut o = output.pipe.lock();
        f(&mut i, &mut o)
    } else {
        let mut o = output.pipe.lock();
        let mut i = input.pipe.lock();
        f(&mut i, &mut o)
    }
}

/// splice between two pipes (`consume`) or tee (not): copies up to `len` bytes from the
/// front of `input`'s pipe (a read end) to the back of `output`'s (a write end), as much
/// as `output` has room for, without `PIPE_BUF` atomicity. Linux's `splice_pipe_to_pipe`
/// and `link_pipe`, in their order: wait for input (`nonblock`: `EAGAIN`; no writer: go
/// on), then for room (no reader: `SIGPIPE` and `EPIPE`; `nonblock`: `EAGAIN`); then, both
/// locked, no reader is `EPIPE`, an input empty with no writer is 0, and nothing to move
/// (another task was faster) is, for splice, another wait, for tee, 0.
pub fn pipe_to_pipe(
    input: &PipeEnd,
    output: &PipeEnd,
    len: usize,
    nonblock: bool,
    consume: bool,
) -> KResult<usize> {
    let (inp, out) = (&*input.shared, &*output.shared);
    let broken = || {
        crate::process::signal::sigpipe();
        Err(Errno::EPIPE)
    };
    loop {
        wait(&inp.readable, || match inp.pipe.lock().read_status() {
            PipeRead::WouldBlock if nonblock => Some(Err(Errno::EAGAIN)),
            PipeRead::WouldBlock => None,
            _ => Some(Ok(())),
        })??;
        let room = wait(&out.writable, || {
            let pipe = out.pipe.lock();
            if pipe.free() > 0 {
                Some(Ok(()))
            } else if pipe.readers() == 0 {
                Some(Err(Errno::EPIPE))
            } else if nonblock {
                Some(Err(Errno::EAGAIN))
            } else {
                None
            }
        })?;
        match room {
            Err(Errno::EPIPE) => return broken(),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        let moved = lock_both(inp, out, |i, o| {
            if o.readers() == 0 {
                return Err(Errno::EPIPE);
            }
            let status = i.read_status();
            let ready = if consume {
                matches!(status, PipeRead::Data(_))
            } else {
                !i.is_empty()
            };
            if !ready || o.free() == 0 {
                return Ok(match status {
                    PipeRead::Eof => Some(0),
                    _ if !consume => Some(0),
                    _ if nonblock => return Err(Errno::EAGAIN),
                    _ => None,
                });
            }
            let n = len.min(i.len()).min(o.free());
            let mut copied = 0;
            let mut copy = |chunk: &[u8]| -> KResult<usize> {
                let take = chunk.len().min(n - copied);
                if let PipeWrite::Wrote(k) = o.try_reserve(take) {
                    o.commit(k, &chunk[..take]);
                }
                copied += take;
                Ok(take)
            };
            if consume {
                i.try_read(&mut copy)?;
            } else {
                i.peek(&mut copy)?;
            }
            Ok(Some(copied))
        });
        let n = match moved {
            Err(Errno::EPIPE) => return broken(),
            Err(e) => return Err(e),
            Ok(None) => continue,
            Ok(Some(n)) => n,
        };
        if n > 0 {
            wake(&out.readable, PollEvents::IN | PollEvents::RDNORM);
            if consume {
                wake(&inp.writable, PollEvents::OUT | PollEvents::WRNORM);
            }
        }
        return Ok(n);
    }
}
