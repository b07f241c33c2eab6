//! signalfd: pending signals read as records, after Linux's `fs/signalfd.c`.
//!
//! A signalfd holds only a mask. Reading takes pending signals of the mask from the reading
//! thread (its own first, then its process's, as delivery does) and returns each as a
//! 128-byte `struct signalfd_siginfo`; the first waits (unless non-blocking), the others
//! come only if already pending. It is readable when such a signal is pending for the task
//! that asks. Every signal posted to a process wakes its `signalfd_wait` queue, where
//! readers and pollers wait (Linux's `sighand->signalfd_wqh`).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::events::{
    SFD_NONBLOCK, SIGNALFD_SIGINFO_SIZE, SSI_ADDR, SSI_CODE, SSI_PID, SSI_SIGNO, SSI_STATUS,
    SSI_UID,
};
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};

use super::file::{FileOps, O_RDWR, OpenFile};
use super::stat::Stat;
use crate::process::sched::WaitQueue;
use crate::process::signal::{self, SIGCHLD, SIGKILL, SIGSTOP, SigInfo};

/// A signalfd: the signals it reads.
pub struct SignalFd {
    mask: AtomicU64,
}

/// The `struct signalfd_siginfo` a signalfd read returns for `sig`: the fields Linux's
/// `signalfd_copyinfo` fills for this kind of siginfo (a fault's address; a sender's
/// pid and uid, and a child's status).
fn record(info: SigInfo, sig: u32) -> [u8; SIGNALFD_SIGINFO_SIZE] {
    let mut b = [0u8; SIGNALFD_SIGINFO_SIZE];
    b[SSI_SIGNO..SSI_SIGNO + 4].copy_from_slice(&sig.to_le_bytes());
    b[SSI_CODE..SSI_CODE + 4].copy_from_slice(&info.code.to_le_bytes());
    if info.is_fault(sig) {
        b[SSI_ADDR..SSI_ADDR + 8].copy_from_slice(&info.addr.to_le_bytes());
    } else {
        b[SSI_PID..SSI_PID + 4].copy_from_slice(&info.pid.to_le_bytes());
        b[SSI_UID..SSI_UID + 4].copy_from_slice(&info.uid.to_le_bytes());
        if sig == SIGCHLD && info.code > 0 {
            b[SSI_STATUS..SSI_STATUS + 4].copy_from_slice(&info.status.to_le_bytes());
        }
    }
    b
}

/// SIGKILL and SIGSTOP are never read through a signalfd.
fn usable(mask: u64) -> u64 {
    mask & !(signal::bit(SIGKILL) | signal::bit(SIGSTOP))
}

/// signalfd4 with fd -1: a new signalfd for `mask`.
pub fn new_signalfd(mask: u64, flags: u32) -> Arc<OpenFile> {
    let ops = Arc::new(SignalFd {
        mask: AtomicU64::new(usable(mask)),
    });
    OpenFile::new(ops, O_RDWR | (flags & SFD_NONBLOCK))
}

impl SignalFd {
    /// The signalfd an open file is, if it is one.
    pub fn of(file: &OpenFile) -> Option<&SignalFd> {
        file.ops.as_any()?.downcast_ref::<SignalFd>()
    }

    /// signalfd4 on an existing signalfd: a new mask; readers and pollers look again.
    pub fn set_mask(&self, mask: u64) {
        self.mask.store(usable(mask), Ordering::Relaxed);
        crate::process::current().process.signalfd_wait.wake_all();
    }
}

impl FileOps for SignalFd {
    fn read(&self, _offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        let count = buf.len() / SIGNALFD_SIGINFO_SIZE;
        if count == 0 {
            return Err(Errno::EINVAL);
        }
        let task = crate::process::current();
        let mask = self.mask.load(Ordering::Relaxed);
        let first = task.process.signalfd_wait.wait_until(true, || {
            match signal::take_in(&task, mask) {
                Some(taken) => Some(Ok(taken)),
                None if nonblock => Some(Err(Errno::EAGAIN)),
                None => None,
            }
        })??;
        let mut next = Some(first);
        let mut done = 0;
        while let Some((sig, info)) = next {
            buf[done..done + SIGNALFD_SIGINFO_SIZE].copy_from_slice(&record(info, sig));
            done += SIGNALFD_SIGINFO_SIZE;
            next = if done / SIGNALFD_SIGINFO_SIZE < count {
                signal::take_in(&task, mask)
            } else {
                None
            };
        }
        Ok(done)
    }

    fn write(&self, _offset: u64, _buf: &[u8], _nonblock: bool) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(super::anon_inode_stat())
    }

    fn can_poll(&self) -> bool {
        true
    }

    /// The queue of the task that polls (as Linux's `signalfd_poll` uses `current`).
    fn wait_queues(&self, add: &mut dyn FnMut(&WaitQueue)) {
        add(&crate::process::current().process.signalfd_wait);
    }

    /// Readable when a signal of the mask is pending for the task that asks.
    fn poll(&self) -> PollEvents {
        let task = crate::process::current();
        if signal::pending(&task) & self.mask.load(Ordering::Relaxed) != 0 {
            PollEvents::IN
        } else {
            PollEvents::empty()
        }
    }

    fn as_any(&self) -> Option<&dyn core::any::Any> {
        Some(self)
    }

    fn link_name(&self) -> Vec<u8> {
        b"anon_inode:[signalfd]".to_vec()
    }
}
