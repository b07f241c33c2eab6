//! The kernel log as `syslog(2)` (`klogctl`, what `dmesg` calls) and `/proc/kmsg` read it:
//! the actions of the `syslog(2)` man page over the platform's log ring
//! (`tessera_platform::klog`), with Linux's errors.
//!
//! Everything runs as root, so every action is permitted (Linux checks `CAP_SYSLOG` and
//! `dmesg_restrict`).

use alloc::vec;
use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::poll::PollEvents;
use tessera_abi::system::*;
use tessera_abi::{Errno, KResult};
use tessera_platform::klog;

use crate::process::sched::WaitQueue;

/// Readers of the log (`SYSLOG_ACTION_READ`, `/proc/kmsg` and its pollers). The log is
/// written from interrupt handlers and before the scheduler exists, so the writers cannot
/// wake anyone: the timer tick announces new records ([`on_tick`]), when someone waits.
pub static READERS: WaitQueue = WaitQueue::new();
/// [`klog::written`] when the tick last looked.
static SEEN: AtomicU64 = AtomicU64::new(0);

/// The timer tick: wakes the log's readers when records came since the last look.
pub fn on_tick() {
    if READERS.has_waiters() {
        let written = klog::written();
        if SEEN.swap(written, Ordering::Relaxed) != written {
            READERS.wake_poll(PollEvents::IN);
        }
    }
}

/// The next unread records into `buf`, as `SYSLOG_ACTION_READ` and `read` of `/proc/kmsg`:
/// waits until there are some (EAGAIN instead with `nonblock`; EINTR on a signal).
pub fn read(buf: &mut [u8], nonblock: bool) -> KResult<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    READERS.wait_until(true, || match klog::read(buf) {
        0 if nonblock => Some(Err(Errno::EAGAIN)),
        0 => None,
        n => Some(Ok(n)),
    })?
}

/// `syslog(action, buf, len)`: what it returns, given a way to copy the bytes read to the
/// caller's buffer (`write_out(bytes)`; EFAULT from it is the call's).
pub fn syslog(
    action: u32,
    buf: u64,
    len: i32,
    write_out: impl Fn(&[u8]) -> KResult<()>,
) -> KResult<isize> {
    let reading = matches!(
        action,
        SYSLOG_ACTION_READ | SYSLOG_ACTION_READ_ALL | SYSLOG_ACTION_READ_CLEAR
    );
    if reading {
        if buf == 0 || len < 0 {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
    }
    let mut kbuf = vec![
        0u8;
        if reading {
            (len as usize).min(klog::size())
        } else {
            0
        }
    ];
    let n = match action {
        SYSLOG_ACTION_CLOSE | SYSLOG_ACTION_OPEN => return Ok(0),
        SYSLOG_ACTION_READ => read(&mut kbuf, false)?,
        SYSLOG_ACTION_READ_ALL => klog::read_all(&mut kbuf),
        SYSLOG_ACTION_READ_CLEAR => klog::read_clear(&mut kbuf),
        SYSLOG_ACTION_CLEAR => {
            klog::clear();
            return Ok(0);
        }
        SYSLOG_ACTION_CONSOLE_OFF => {
            klog::console_level(|c| c.off());
            return Ok(0);
        }
        SYSLOG_ACTION_CONSOLE_ON => {
            klog::console_level(|c| c.on());
            return Ok(0);
        }
        SYSLOG_ACTION_CONSOLE_LEVEL => {
            return klog::console_level(|c| c.set(i64::from(len)))
                .map(|()| 0)
                .map_err(|_| Errno::EINVAL);
        }
        SYSLOG_ACTION_SIZE_UNREAD => return Ok(klog::unread() as isize),
        SYSLOG_ACTION_SIZE_BUFFER => return Ok(klog::size() as isize),
        _ => return Err(Errno::EINVAL),
    };
    write_out(&kbuf[..n])?;
    Ok(n as isize)
}
