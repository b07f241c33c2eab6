//! Pipes for Tessera's Linux ABI, as a non-blocking state machine.
//!
//! A [`Pipe`] is the object both ends of `pipe2` share: a [`PipeRing`] of [`PIPE_CAPACITY`]
//! bytes (Linux's default 16 pages) and the counts of open read and write ends. Nothing here
//! sleeps or touches user memory: every operation either completes or says
//! [`WouldBlock`](PipeRead::WouldBlock), and the kernel does the waiting; user copies happen
//! in callbacks the kernel passes in, directly between user memory and the ring.
//!
//! | operation | what it does | kernel's follow-up |
//! |---|---|---|
//! | [`Pipe::new`] | empty pipe, no end open | wrap in `Arc` + lock |
//! | [`Pipe::open_reader`] / [`open_writer`](Pipe::open_writer) | count an open file description | |
//! | [`Pipe::close_reader`] / [`close_writer`](Pipe::close_writer) | uncount it; `true` if it was the last | wake the other side's sleepers |
//! | [`Pipe::try_read`] | copy out what is buffered | `Data(n)`: wake writers; `WouldBlock`: sleep (or `EAGAIN`); `Eof`: return 0 |
//! | [`Pipe::try_write`] | copy in with `PIPE_BUF` atomicity | `Wrote(n)`: wake readers, loop for the rest; `WouldBlock`: sleep; `BrokenPipe`: `SIGPIPE` + `EPIPE` |
//! | [`Pipe::try_peek`] then [`consume`](Pipe::consume) | copy out, hold the bytes, then consume as many as the destination took (splice into a file) | `Data(n)`: write the file with the lock dropped, `consume` what it took, wake writers and readers |
//! | [`Pipe::peek`] | copy out without consuming (tee) | |
//! | [`Pipe::try_reserve`] then [`commit`](Pipe::commit) | promise room without `PIPE_BUF` atomicity, then fill it (splice from a file, vmsplice) | `Wrote(k)`: read the source with the lock dropped, `commit`, wake readers |
//! | [`Pipe::read_status`] | what `try_read` would answer, without copying | wait for input (splice between pipes) |
//! | [`Pipe::poll_read`] / [`poll_write`](Pipe::poll_write) | Linux's `pipe_poll` bits | |
//! | [`Pipe::len`] | bytes buffered | `FIONREAD` |
//!
//! # How the kernel uses it
//!
//! ```
//! use tessera_abi::{Errno, KResult};
//! use tessera_pipe::{Pipe, PipeRead, PipeWrite};
//!
//! let mut pipe = Pipe::new(); // pipe2(): one read and one write description
//! pipe.open_reader();
//! pipe.open_writer();
//!
//! // write(fd[1], "hello", 5): copy_in stands for a copy from user memory that may fault.
//! let user_src = b"hello";
//! let mut pos = 0;
//! let wrote = pipe.try_write(user_src.len(), &mut |dst: &mut [u8]| -> KResult<usize> {
//!     dst.copy_from_slice(&user_src[pos..pos + dst.len()]);
//!     pos += dst.len();
//!     Ok(dst.len())
//! });
//! assert_eq!(wrote, Ok(PipeWrite::Wrote(5))); // wake readers
//!
//! // read(fd[0], buf, 3)
//! let mut user_dst = [0u8; 3];
//! let mut got = 0;
//! let read = pipe.try_read(&mut |src: &[u8]| -> KResult<usize> {
//!     let n = src.len().min(user_dst.len() - got);
//!     user_dst[got..got + n].copy_from_slice(&src[..n]);
//!     got += n;
//!     Ok(n)
//! });
//! assert_eq!((read, &user_dst), (Ok(PipeRead::Data(3)), b"hel"));
//!
//! assert!(pipe.close_writer()); // last writer: wake readers, they drain then see Eof
//! assert!(pipe.close_reader()); // last reader: wake writers, they see BrokenPipe
//! assert_eq!(pipe.try_write(1, &mut |_| Err(Errno::EFAULT)), Ok(PipeWrite::BrokenPipe));
//! ```
//!
//! A blocking `read` loops: `try_read`; on `WouldBlock` sleep on the pipe's read queue
//! (woken by `Wrote`, by the last writer's close, or by a signal: `EINTR`) and retry. A
//! blocking `write` of `len` bytes calls `try_write` with what remains until it is all
//! written, sleeping on the write queue on `WouldBlock`; a signal after some bytes returns
//! the count. `O_NONBLOCK` turns each `WouldBlock` into `EAGAIN`, or into the partial count
//! if some bytes already moved.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod pipe;
mod policy;
mod ring;

pub use pipe::{Pipe, PipeRead, PipeWrite};
#[cfg(feature = "fast")]
pub use policy::Fast;
pub use policy::PipePolicy;
#[cfg(feature = "simple")]
pub use policy::Simple;
pub use ring::PipeRing;

/// Bytes a pipe holds: Linux's default of 16 pages.
pub const PIPE_CAPACITY: usize = 65536;

/// Writes of at most this many bytes are atomic (`PIPE_BUF`, defined in `tessera-abi`).
pub use tessera_abi::fs::PIPE_BUF;

/// `poll` event bits, as [`Pipe::poll_read`] and [`Pipe::poll_write`] report them (the one
/// definition, in `tessera-abi`).
pub use tessera_abi::poll::PollEvents;
