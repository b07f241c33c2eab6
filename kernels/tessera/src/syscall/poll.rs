//! poll, ppoll, select and pselect6: decoding the fd lists, sets and timeouts (the waiting is
//! `fs::poll`).

use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};

use super::Args;
use crate::fs::file::MAX_FDS;
use crate::fs::{self as kfs};
use crate::user;

fn deadline_after_ms(ms: i64) -> Option<u64> {
    (ms >= 0).then(|| crate::time::deadline_in(ms as u64 * 1_000_000))
}

/// `struct pollfd`s: (fd, events, revents), events as the user gave them, revents empty.
/// `count` is the call's `unsigned int nfds`.
fn read_pollfds(addr: u64, count: u32) -> KResult<Vec<(i32, PollEvents, PollEvents)>> {
    if count as usize > MAX_FDS {
        return Err(Errno::EINVAL);
    }
    let raw = user::read_bytes(addr, count as usize * 8)?;
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

fn write_pollfds(addr: u64, fds: &[(i32, PollEvents, PollEvents)]) -> KResult<()> {
    for (i, (_, _, revents)) in fds.iter().enumerate() {
        user::write_bytes(addr + i as u64 * 8 + 6, &revents.bits().to_le_bytes())?;
    }
    Ok(())
}

pub fn poll(a: &Args) -> KResult<isize> {
    let mut fds = read_pollfds(a[0], a[1] as u32)?;
    let n = kfs::poll::poll_fds(&mut fds, deadline_after_ms(a[2] as i32 as i64))?;
    write_pollfds(a[0], &fds)?;
    Ok(n as isize)
}

fn timespec_deadline(addr: u64) -> KResult<Option<u64>> {
    if addr == 0 {
        return Ok(None);
    }
    let raw = user::read_bytes(addr, 16)?;
    let sec = i64::from_le_bytes(raw[..8].try_into().expect("8"));
    let nsec = i64::from_le_bytes(raw[8..].try_into().expect("8"));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Some(crate::time::deadline_in(crate::time::to_ns(
        sec as u64,
        nsec as u64,
    ))))
}

/// ppoll(fds, unsigned int nfds, const struct timespec *tsp, const sigset_t *sigmask,
/// size_t sigsetsize): the timeout is checked first, then the mask set for the wait.
pub fn ppoll(a: &Args) -> KResult<isize> {
    let deadline = timespec_deadline(a[2])?;
    super::signal::with_wait_mask(a[3], a[4], || {
        let mut fds = read_pollfds(a[0], a[1] as u32)?;
        let n = kfs::poll::poll_fds(&mut fds, deadline)?;
        write_pollfds(a[0], &fds)?;
        Ok(n as isize)
    })
}

fn do_select(nfds: u64, sets: [u64; 3], deadline: Option<u64>) -> KResult<isize> {
    if nfds > MAX_FDS as u64 {
        return Err(Errno::EINVAL);
    }
    let bytes = (nfds as usize).div_ceil(64) * 8;
    let read_set = |addr: u64| -> KResult<Vec<u8>> {
        if addr == 0 {
            Ok(vec![0; bytes])
        } else {
            user::read_bytes(addr, bytes)
        }
    };
    let ins = [read_set(sets[0])?, read_set(sets[1])?, read_set(sets[2])?];
    let mut fds = Vec::new();
    for fd in 0..nfds as usize {
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
        if *addr != 0 {
            user::write_bytes(*addr, &outs[set])?;
        }
    }
    Ok(count)
}

pub fn select(a: &Args) -> KResult<isize> {
    let deadline = if a[4] == 0 {
        None
    } else {
        let raw = user::read_bytes(a[4], 16)?;
        let sec = i64::from_le_bytes(raw[..8].try_into().expect("8"));
        let usec = i64::from_le_bytes(raw[8..].try_into().expect("8"));
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Some(crate::time::deadline_in(crate::time::to_ns(
            sec as u64,
            usec as u64 * 1000,
        )))
    };
    do_select(a[0], [a[1], a[2], a[3]], deadline)
}

/// pselect6(n, in, out, except, const struct timespec *tsp, sig): `sig` points at the mask's
/// address and size (`{ const sigset_t *ss; size_t ss_len; }`), read first; then the
/// timeout, then the mask set for the wait.
pub fn pselect6(a: &Args) -> KResult<isize> {
    let (mask_addr, mask_size) = if a[5] == 0 {
        (0, 0)
    } else {
        (
            user::read_u64(a[5])?,
            user::read_u64(a[5].saturating_add(8))?,
        )
    };
    let deadline = timespec_deadline(a[4])?;
    super::signal::with_wait_mask(mask_addr, mask_size, || {
        do_select(a[0], [a[1], a[2], a[3]], deadline)
    })
}
