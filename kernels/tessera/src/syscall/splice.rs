//! splice, tee and vmsplice: argument decoding and Linux's checks, in Linux's order (Linux
//! 6.1, `fs/splice.c`: `SYSCALL_DEFINE6(splice)`, `__do_splice`, `do_splice`, `do_tee`,
//! `SYSCALL_DEFINE4(vmsplice)`); the moving is `fs::pipe` ([`PipeEnd::drain`],
//! [`PipeEnd::fill`], [`pipe::pipe_to_pipe`]).
//!
//! Linux moves references to pages between a pipe and the page cache or user memory; here
//! every byte is copied, through a kernel buffer of at most the pipe's size per step (a
//! pipe and a file, a pipe and user memory) or from ring to ring (two pipes). What a
//! program sees is the same: the counts, the offsets, the blocking and the errnos. What
//! differs is the unit of room in a pipe: Linux counts 16 page-sized buffers, this pipe
//! 65,536 bytes, so a splice or vmsplice into a pipe that holds a few bytes already moves
//! up to what fits here, where Linux stops at the free buffers' pages.
//!
//! | call | ends | blocks on | nonblocking when |
//! |---|---|---|---|
//! | splice, pipe to pipe | both pipes | input empty (with writers), then output full | `SPLICE_F_NONBLOCK`, or either file's `O_NONBLOCK` |
//! | splice, pipe to file or socket | the input | input empty (with writers); the output as its own write does | `SPLICE_F_NONBLOCK` or the input's `O_NONBLOCK` |
//! | splice, file or socket to pipe | the output | output full; the input as its own read does | `SPLICE_F_NONBLOCK` or the output's `O_NONBLOCK` |
//! | tee | both pipes | as splice between pipes | as splice between pipes |
//! | vmsplice | one pipe end | write end: full; read end: empty (with writers) | `SPLICE_F_NONBLOCK` only (Linux ignores the file's `O_NONBLOCK` here) |

use alloc::sync::Arc;

use tessera_abi::fs::{
    MAX_FILE_OFFSET, O_APPEND, O_NONBLOCK, S_IFDIR, S_IFMT, SPLICE_F_ALL, SPLICE_F_NONBLOCK,
};
use tessera_abi::{Errno, KResult};

use super::args::{Args, Decode, UserPtr};
use crate::fs::OpenFile;
use crate::fs::pipe::{self, PipeEnd};
use crate::process::current;
use crate::user;

const PAGE: u64 = 4096;

fn file(fd: i32) -> KResult<Arc<OpenFile>> {
    current().files.lock().get(fd)
}

fn nonblocking(file: &OpenFile) -> bool {
    file.flags() & O_NONBLOCK != 0
}

/// Linux's `rw_verify_area` for a transfer of `count` bytes at the `loff_t` `at`: a count
/// negative as an `ssize_t`, a negative offset, or an end past the largest offset is
/// EINVAL.
fn verify_area(at: u64, count: usize) -> KResult<()> {
    if (count as i64) < 0 || at > MAX_FILE_OFFSET || at + count as u64 > MAX_FILE_OFFSET {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Whether the file has Linux's splice operations: directories and the anonymous inodes
/// (epoll, eventfd, timerfd, signalfd: no file type bits) have none, EINVAL.
fn splices(file: &OpenFile) -> KResult<()> {
    match file.ops.stat()?.mode & S_IFMT {
        0 | S_IFDIR => Err(Errno::EINVAL),
        _ => Ok(()),
    }
}

/// Where in a file a splice reads or writes, and whether the file uses an offset at all (a
/// socket, a tty or `/dev/null` ignores it, and it does not move).
struct Position {
    at: u64,
    positional: bool,
}

impl Position {
    /// The given offset, EINVAL for a file without positional reads and writes (Linux's
    /// `FMODE_PREAD`, `FMODE_PWRITE`: sockets, ttys), or the file's own (`f_pos`).
    fn start(given: Option<u64>, file: &OpenFile) -> KResult<Position> {
        let at = match given {
            Some(_) if !file.ops.seekable() => return Err(Errno::EINVAL),
            Some(at) => at,
            None => *file.offset.lock(),
        };
        Ok(Position {
            at,
            positional: file.ops.positional(),
        })
    }

    /// `n` bytes went: the offset moves past them.
    fn advance(&mut self, n: usize) -> usize {
        if self.positional {
            self.at += n as u64;
        }
        n
    }
}

/// splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len, unsigned int
/// flags): moves up to `len` bytes between two files of which at least one is a pipe.
///
/// In Linux's order: `len == 0` is 0 before anything else; unknown flags EINVAL; bad fds
/// EBADF; an offset given for a pipe end ESPIPE; the offsets are read (`off_out` first,
/// EFAULT); an input not open for reading or output not open for writing EBADF. Then, by
/// the ends: two ends of one pipe EINVAL; a pipe into a file: an offset given for a file
/// without positional writes EINVAL, `O_APPEND` EINVAL, then [`verify_area`] on `len`; a
/// file into a pipe: an offset given for a file without positional reads EINVAL, then,
/// after the wait for room, [`verify_area`] on what fits; no pipe at all EINVAL. An offset
/// given is advanced and written back (EFAULT after the bytes moved, as Linux), otherwise
/// the file's own offset is.
pub fn splice(a: &Args) -> KResult<isize> {
    let (fd_in, off_in, fd_out, off_out) = (a.fd(0), a.ptr(1), a.fd(2), a.ptr(3));
    let (len, flags) = (a.size(4), a.uint(5));
    if len == 0 {
        return Ok(0);
    }
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let input = file(fd_in)?;
    let output = file(fd_out)?;
    let (in_pipe, out_pipe) = (pipe::end_of(&input), pipe::end_of(&output));
    if (in_pipe.is_some() && !off_in.is_null()) || (out_pipe.is_some() && !off_out.is_null()) {
        return Err(Errno::ESPIPE);
    }
    let out_at = off_out.nonnull().map(UserPtr::read_u64).transpose()?;
    let in_at = off_in.nonnull().map(UserPtr::read_u64).transpose()?;
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    let nonblock = flags & SPLICE_F_NONBLOCK != 0;
    let (moved, in_end, out_end) = match (in_pipe, out_pipe) {
        (Some(i), Some(o)) => {
            if i.same_pipe(o) {
                return Err(Errno::EINVAL);
            }
            let nonblock = nonblock || nonblocking(&input) || nonblocking(&output);
            (pipe::pipe_to_pipe(i, o, len, nonblock, true)?, None, None)
        }
        (Some(i), None) => {
            let (moved, at) = pipe_to_file(i, &input, &output, out_at, len, nonblock)?;
            (moved, None, Some(at))
        }
        (None, Some(o)) => {
            let (moved, at) = file_to_pipe(&input, o, &output, in_at, len, nonblock)?;
            (moved, Some(at), None)
        }
        (None, None) => return Err(Errno::EINVAL),
    };
    for (ptr, given, file, end) in [
        (off_out, out_at, &output, out_end),
        (off_in, in_at, &input, in_end),
    ] {
        match (end, given) {
            (Some(at), Some(_)) => ptr.write_u64(at)?,
            (Some(at), None) => *file.offset.lock() = at,
            (None, _) => {}
        }
    }
    Ok(moved as isize)
}

/// splice from the pipe end `from` (of the file `input`) into `output` at `given` (or its
/// offset): the bytes moved and the offset after them.
fn pipe_to_file(
    from: &PipeEnd,
    input: &OpenFile,
    output: &OpenFile,
    given: Option<u64>,
    len: usize,
    nonblock: bool,
) -> KResult<(usize, u64)> {
    let mut pos = Position::start(given, output)?;
    if output.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    verify_area(pos.at, len)?;
    splices(output)?;
    let out_nonblock = nonblocking(output);
    let moved = from.drain(len, nonblock || nonblocking(input), &mut |data| {
        Ok(pos.advance(output.ops.write(pos.at, data, out_nonblock)?))
    })?;
    Ok((moved, pos.at))
}

/// splice from `input` at `given` (or its offset) into the pipe end `to` (of the file
/// `output`): the bytes moved and the input's offset after them.
fn file_to_pipe(
    input: &OpenFile,
    to: &PipeEnd,
    output: &OpenFile,
    given: Option<u64>,
    len: usize,
    nonblock: bool,
) -> KResult<(usize, u64)> {
    let mut pos = Position::start(given, input)?;
    let in_nonblock = nonblocking(input);
    // Linux waits for room first, then checks the range it can fill and the file.
    let moved = to.fill(len, nonblock || nonblocking(output), &mut |buf| {
        verify_area(pos.at, buf.len())?;
        splices(input)?;
        Ok(pos.advance(input.ops.read(pos.at, buf, in_nonblock)?))
    })?;
    Ok((moved, pos.at))
}

/// tee(int fd_in, int fd_out, size_t len, unsigned int flags): copies up to `len` bytes
/// from one pipe to another without consuming them. In Linux's order: unknown flags
/// EINVAL, then `len == 0` is 0, bad fds EBADF, an input not open for reading or an output
/// not open for writing EBADF, then anything but two different pipes EINVAL.
pub fn tee(a: &Args) -> KResult<isize> {
    let (fd_in, fd_out, len, flags) = (a.fd(0), a.fd(1), a.size(2), a.uint(3));
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let input = file(fd_in)?;
    let output = file(fd_out)?;
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    match (pipe::end_of(&input), pipe::end_of(&output)) {
        (Some(i), Some(o)) if !i.same_pipe(o) => {
            let nonblock =
                flags & SPLICE_F_NONBLOCK != 0 || nonblocking(&input) || nonblocking(&output);
            Ok(pipe::pipe_to_pipe(i, o, len, nonblock, false)? as isize)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// vmsplice(int fd, const struct iovec *iov, unsigned long nr_segs, unsigned int flags):
/// user memory into a pipe (a file open for writing) or, as Linux 6.1 still allows, out of
/// one (open for reading only). Copies, where Linux maps the pages into the pipe: a
/// program that changes its buffer after the call does not change what the pipe holds,
/// which Linux leaves undefined unless `SPLICE_F_GIFT`.
///
/// In Linux's order: unknown flags EINVAL; a bad fd EBADF, one open neither way (O_PATH)
/// EBADF; the iovecs (`user::read_iovecs`: EINVAL, EFAULT); a total of 0 is 0, for any
/// file; then a file that is not a pipe EBADF. Into the pipe: waits for room, takes what
/// fits, EFAULT if the first byte cannot be read; out of it: waits for data (0 at the end),
/// moves what there is up to the total, EFAULT if a step cannot be written whole.
pub fn vmsplice(a: &Args) -> KResult<isize> {
    let (fd, iov, nr_segs, flags) = (a.fd(0), a.ptr(1), a.ulong(2), a.uint(3));
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let file = file(fd)?;
    let into_pipe = if file.writable() {
        true
    } else if file.readable() {
        false
    } else {
        return Err(Errno::EBADF);
    };
    let iovs = user::read_iovecs(iov.addr(), nr_segs, Errno::EINVAL)?;
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    if total == 0 {
        return Ok(0);
    }
    let end = pipe::end_of(&file).ok_or(Errno::EBADF)?;
    let nonblock = flags & SPLICE_F_NONBLOCK != 0;
    let moved = if into_pipe {
        end.fill(total, nonblock, &mut |buf| gather(&iovs, buf))?
    } else {
        let mut done = 0;
        end.drain(total, nonblock, &mut |data| {
            scatter(&iovs, done, data)?;
            done += data.len();
            Ok(data.len())
        })?
    };
    Ok(moved as isize)
}

/// Each piece of the iovecs `iovs` from byte `skip` of their concatenation on, cut at page
/// boundaries (a fault is per page), as `(address, length)`, until `len` bytes.
fn pieces(iovs: &[(u64, usize)], skip: usize, len: usize) -> impl Iterator<Item = (u64, usize)> {
    let mut skip = skip;
    let mut left = len;
    iovs.iter()
        .filter_map(move |&(base, iov_len)| {
            let from = skip.min(iov_len);
            skip -= from;
            let take = (iov_len - from).min(left);
            left -= take;
            (take > 0).then_some((base + from as u64, take))
        })
        .flat_map(|(mut addr, mut len)| {
            core::iter::from_fn(move || {
                if len == 0 {
                    return None;
                }
                let n = ((PAGE - addr % PAGE) as usize).min(len);
                let piece = (addr, n);
                addr += n as u64;
                len -= n;
                Some(piece)
            })
        })
}

/// Fills `buf` from the user iovecs, page by page, stopping at the first page that cannot
/// be read: the bytes copied, EFAULT if none.
fn gather(iovs: &[(u64, usize)], buf: &mut [u8]) -> KResult<usize> {
    let mut done = 0;
    for (addr, n) in pieces(iovs, 0, buf.len()) {
        if user::read_into(addr, &mut buf[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    if done == 0 {
        Err(Errno::EFAULT)
    } else {
        Ok(done)
    }
}

/// Writes `data` to the user iovecs from byte `skip` of their concatenation on: EFAULT
/// unless all of it is written (Linux's `pipe_to_user`: a pipe buffer goes whole or not).
fn scatter(iovs: &[(u64, usize)], skip: usize, data: &[u8]) -> KResult<()> {
    let mut done = 0;
    for (addr, n) in pieces(iovs, skip, data.len()) {
        user::write_bytes(addr, &data[done..done + n])?;
        done += n;
    }
    Ok(())
}
