//! Socket option values as user space passes them (`int`, `struct timeval`, `struct
//! linger`), and the timeouts every socket keeps (`SO_RCVTIMEO`, `SO_SNDTIMEO`).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::{Errno, KResult};

/// An `int` option value: EINVAL if shorter than 4 bytes.
pub fn int(value: &[u8]) -> KResult<i32> {
    let bytes = value.get(..4).ok_or(Errno::EINVAL)?;
    Ok(i32::from_le_bytes(bytes.try_into().expect("4 bytes")))
}

/// An `int` option value to return.
pub fn int_bytes(v: i32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// A `struct timeval` in nanoseconds (0: no timeout). EINVAL if short, EDOM if out of range.
pub fn timeval_ns(value: &[u8]) -> KResult<u64> {
    if value.len() < 16 {
        return Err(Errno::EINVAL);
    }
    let sec = i64::from_le_bytes(value[..8].try_into().expect("8 bytes"));
    let usec = i64::from_le_bytes(value[8..16].try_into().expect("8 bytes"));
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    if sec < 0 {
        return Ok(0); // Linux: a negative timeout means none
    }
    Ok((sec as u64).saturating_mul(1_000_000_000) + usec as u64 * 1000)
}

/// Nanoseconds as a `struct timeval`.
pub fn timeval_bytes(ns: u64) -> Vec<u8> {
    let mut out = ((ns / 1_000_000_000) as i64).to_le_bytes().to_vec();
    out.extend_from_slice(&(((ns % 1_000_000_000) / 1000) as i64).to_le_bytes());
    out
}

/// `SO_RCVTIMEO` and `SO_SNDTIMEO` of a socket, in ns (0: wait forever).
#[derive(Default)]
pub struct Timeouts {
    recv: AtomicU64,
    send: AtomicU64,
}

impl Timeouts {
    /// Sets one of them from its option value.
    pub fn set(&self, receive: bool, value: &[u8]) -> KResult<()> {
        let ns = timeval_ns(value)?;
        let slot = if receive { &self.recv } else { &self.send };
        slot.store(ns, Ordering::Relaxed);
        Ok(())
    }

    /// One of them as an option value.
    pub fn get(&self, receive: bool) -> Vec<u8> {
        let slot = if receive { &self.recv } else { &self.send };
        timeval_bytes(slot.load(Ordering::Relaxed))
    }

    /// The deadline (clock ns) of a wait starting now, if the timeout is set.
    pub fn deadline(&self, receive: bool) -> Option<u64> {
        let slot = if receive { &self.recv } else { &self.send };
        match slot.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(tessera_platform::clock::now_ns().saturating_add(ns)),
        }
    }
}
