//! eventfd: a 64-bit counter that writes add to and reads take, after Linux's
//! `fs/eventfd.c`.
//!
//! Reads and writes move exactly 8 bytes (EINVAL for a shorter buffer). A read waits for a
//! non-zero counter and takes all of it, or 1 with EFD_SEMAPHORE; a write adds its value
//! unless the counter would pass `0xfffffffffffffffe`, and then waits (EAGAIN when
//! non-blocking). Readable while the counter is non-zero, writable while 1 more fits. Each
//! change wakes the one queue with what it may have made ready (readers and epoll's
//! registrations for EPOLLIN after a write, EPOLLOUT after a read).

use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::events::{EFD_NONBLOCK, EFD_SEMAPHORE, EVENTFD_MAX};
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_sync::{IrqSave, SpinLock};

use super::file::{FileOps, O_RDWR, OpenFile};
use super::stat::Stat;
use crate::process::sched::WaitQueue;

struct EventFd {
    count: SpinLock<u64, IrqSave>,
    semaphore: bool,
    wait: WaitQueue,
}

/// eventfd2: a new eventfd with counter `initial`; `flags` checked by the caller.
pub fn new_eventfd(initial: u32, flags: u32) -> Arc<OpenFile> {
    let ops = Arc::new(EventFd {
        count: SpinLock::new(u64::from(initial)),
        semaphore: flags & EFD_SEMAPHORE != 0,
        wait: WaitQueue::new(),
    });
    OpenFile::new(ops, O_RDWR | (flags & EFD_NONBLOCK))
}

impl FileOps for EventFd {
    fn read(&self, _offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let value = self.wait.wait_until(true, || {
            let mut count = self.count.lock();
            match *count {
                0 if nonblock => Some(Err(Errno::EAGAIN)),
                0 => None,
                n => {
                    let taken = if self.semaphore { 1 } else { n };
                    *count = n - taken;
                    Some(Ok(taken))
                }
            }
        })??;
        self.wait.wake_waiters_poll(PollEvents::OUT);
        // As Linux, the counter is taken before the copy: a bad buffer loses it (EFAULT).
        buf[..8].copy_from_slice(&value.to_le_bytes());
        Ok(8)
    }

    fn write(&self, _offset: u64, buf: &[u8], nonblock: bool) -> KResult<usize> {
        let Some(bytes) = buf.get(..8) else {
            return Err(Errno::EINVAL);
        };
        let value = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        if value == u64::MAX {
            return Err(Errno::EINVAL);
        }
        self.wait.wait_until(true, || {
            let mut count = self.count.lock();
            // Room for `value`: the counter stays at most EVENTFD_MAX.
            if EVENTFD_MAX - *count >= value {
                *count += value;
                Some(Ok(()))
            } else if nonblock {
                Some(Err(Errno::EAGAIN))
            } else {
                None
            }
        })??;
        self.wait.wake_waiters_poll(PollEvents::IN);
        Ok(8)
    }

    fn write_continues(&self) -> bool {
        false
    }

    fn write_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        // Only the 8 bytes of the value are read (EINVAL, not EFAULT, for a short buffer).
        if len < 8 {
            return Err(Errno::EINVAL);
        }
        let buf = crate::user::read_bytes(addr, 8)?;
        self.write(offset, &buf, nonblock)
    }

    fn read_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        let mut buf = [0u8; 8];
        if len < 8 {
            return Err(Errno::EINVAL);
        }
        let n = self.read(offset, &mut buf, nonblock)?;
        crate::user::write_bytes(addr, &buf[..n])?;
        Ok(n)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(super::anon_inode_stat())
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn wait_queues(&self, add: &mut dyn FnMut(&WaitQueue)) {
        add(&self.wait);
    }

    fn poll(&self) -> PollEvents {
        let count = *self.count.lock();
        let mut events = PollEvents::empty();
        if count > 0 {
            events |= PollEvents::IN;
        }
        if count == u64::MAX {
            events |= PollEvents::ERR;
        }
        if count < EVENTFD_MAX {
            events |= PollEvents::OUT;
        }
        events
    }

    fn link_name(&self) -> Vec<u8> {
        b"anon_inode:[eventfd]".to_vec()
    }
}
