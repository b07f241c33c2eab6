//! poll, ppoll, select and pselect6: decoding the fd lists, sets and timeouts (the waiting is
//! `fs::poll`).

use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};

use super::args::{Args, Decode, TIMEVAL_SIZE, UserPtr, timespec_ns};
use crate::fs::file::MAX_FDS;
use crate::fs::{self as kfs};

fn deadline_after_ms(ms: i64) -> Option<u64> {
    (ms >= 0).then(|| crate::time::deadline_in(ms as u64 * 1_000_000))
}

/// `struct pollfd`s: (fd, events, revents), events as the user gave them, revents empty.
/// `count` is the call's `unsigned int nfds`.
fn read_pollfds(addr: UserPtr, count: u32) -> KResult<Vec<(i32, PollEvents, PollEvents)>> {
    if count as usize > MAX_FDS {
        return Err(Errno::EINVAL);
    }
    let raw = addr.read_bytes(count as usize * 8)?;
    Ok(raw
        .chunks(8)
        .map(|c| {
            (
                i32::from_le_bytes(c[..4].try_into().expect("4")),
                PollEvents::from_bits_retain(u16::from_le_bytes(c[4..6].try_into().expect("2"))),
                PollEvents::empty(),
            )
        })
        .collect())
}

fn write_pollfds(addr: UserPtr, fds: &[(i32, PollEvents, PollEvents)]) -> KResult<()> {
    for (i, (_, _, revents)) in fds.iter().enumerate() {
        addr.at(i as u64 * 8 + 6)
            .write_bytes(&revents.bits().to_le_bytes())?;
    }
    Ok(())
}

/// poll(struct pollfd *ufds, unsigned int nfds, int timeout_msecs).
pub fn poll(a: &Args) -> KResult<isize> {
    let mut fds = read_pollfds(a.ptr(0), a.uint(1))?;
    let n = kfs::poll::poll_fds(&mut fds, deadline_after_ms(i64::from(a.int(2))))?;
    write_pollfds(a.ptr(0), &fds)?;
    Ok(n as isize)
}

/// A timeout given as a `struct timespec` (NULL: none) as a deadline.
fn timespec_deadline(addr: UserPtr) -> KResult<Option<u64>> {
    Ok(addr
        .nonnull()
        .map(UserPtr::read_timespec)
        .transpose()?
        .map(crate::time::deadline_in))
}

/// ppoll(struct pollfd *ufds, unsigned int nfds, const struct timespec *tsp, const sigset_t
/// *sigmask, size_t sigsetsize): the timeout is checked first, then the mask set for the
/// wait.
pub fn ppoll(a: &Args) -> KResult<isize> {
    let deadline = timespec_deadline(a.ptr(2))?;
    super::signal::with_wait_mask(a.ptr(3), a.size(4), || {
        let mut fds = read_pollfds(a.ptr(0), a.uint(1))?;
        let n = kfs::poll::poll_fds(&mut fds, deadline)?;
        write_pollfds(a.ptr(0), &fds)?;
        Ok(n as isize)
    })
}

/// select's and pselect6's work. `n` is an `int`: negative is EINVAL, and above the size
/// of the fd table it is that size (Linux's `core_sys_select`: no fd past the table is
/// looked at).
fn do_select(n: i32, sets: [UserPtr; 3], deadline: Option<u64>) -> KResult<isize> {
    let nfds = usize::try_from(n).map_err(|_| Errno::EINVAL)?.min(MAX_FDS);
    let bytes = nfds.div_ceil(64) * 8;
    let read_set = |addr: UserPtr| -> KResult<Vec<u8>> {
        match addr.nonnull() {
            None => Ok(vec![0; bytes]),
            Some(addr) => addr.read_bytes(bytes),
        }
    };
    let ins = [read_set(sets[0])?, read_set(sets[1])?, read_set(sets[2])?];
    let mut fds = Vec::new();
    for fd in 0..nfds {
        let bit = |set: &Vec<u8>| set[fd / 8] & (1 << (fd % 8)) != 0;
        let mut events = PollEvents::empty();
        if bit(&ins[0]) {
            events |= PollEvents::IN;
        }
        if bit(&ins[1]) {
            events |= PollEvents::OUT;
        }
        if bit(&ins[2]) {
            events |= PollEvents::PRI;
        }
        if !events.is_empty() {
            fds.push((fd as i32, events, PollEvents::empty()));
        }
    }
    kfs::poll::poll_fds(&mut fds, deadline)?;
    let mut outs = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    let mut count = 0;
    for &(fd, events, revents) in &fds {
        if revents.contains(PollEvents::NVAL) {
            return Err(Errno::EBADF);
        }
        let fd = fd as usize;
        for (set, mask) in [
            (0, PollEvents::IN | PollEvents::HUP | PollEvents::ERR),
            (1, PollEvents::OUT | PollEvents::ERR),
            (2, PollEvents::PRI),
        ] {
            let wanted = [PollEvents::IN, PollEvents::OUT, PollEvents::PRI][set];
            if events.intersects(wanted) && revents.intersects(mask) {
                outs[set][fd / 8] |= 1 << (fd % 8);
                count += 1;
            }
        }
    }
    for (set, addr) in sets.iter().enumerate() {
        if let Some(addr) = addr.nonnull() {
            addr.write_bytes(&outs[set])?;
        }
    }
    Ok(count)
}

/// select's timeout in ns. Unlike other calls that take a `timeval`, select carries whole
/// seconds out of `tv_usec` before checking the result (Linux's `kern_select`): {-1, 10^6}
/// is no time at all, {0, 1500000} one and a half seconds, {0, -1} EINVAL.
fn select_timeout_ns(addr: UserPtr) -> KResult<u64> {
    let mut raw = [0u8; TIMEVAL_SIZE];
    addr.read_into(&mut raw)?;
    let word = |at: usize| i64::from_le_bytes(raw[at..at + 8].try_into().expect("8 bytes"));
    let (sec, usec) = (word(0), word(8));
    let mut ts = [0u8; 16];
    ts[..8].copy_from_slice(&sec.wrapping_add(usec / 1_000_000).to_le_bytes());
    ts[8..].copy_from_slice(&((usec % 1_000_000) * 1000).to_le_bytes());
    timespec_ns(&ts)
}

/// select(int n, fd_set *inp, fd_set *outp, fd_set *exp, struct __kernel_old_timeval *tvp).
pub fn select(a: &Args) -> KResult<isize> {
    let deadline = a
        .ptr(4)
        .nonnull()
        .map(select_timeout_ns)
        .transpose()?
        .map(crate::time::deadline_in);
    do_select(a.int(0), [a.ptr(1), a.ptr(2), a.ptr(3)], deadline)
}

/// pselect6(int n, fd_set *inp, fd_set *outp, fd_set *exp, struct __kernel_timespec *tsp,
/// void *sig): `sig` points at the mask's address and size (`{ const sigset_t *ss; size_t
/// ss_len; }`), read first; then the timeout, then the mask set for the wait.
pub fn pselect6(a: &Args) -> KResult<isize> {
    let (mask_addr, mask_size) = match a.ptr(5).nonnull() {
        None => (UserPtr::new(0), 0),
        Some(sig) => (
            UserPtr::new(sig.read_u64()?),
            sig.at(8).read_u64()? as usize,
        ),
    };
    let deadline = timespec_deadline(a.ptr(4))?;
    super::signal::with_wait_mask(mask_addr, mask_size, || {
        do_select(a.int(0), [a.ptr(1), a.ptr(2), a.ptr(3)], deadline)
    })
}
