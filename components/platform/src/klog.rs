//! The kernel log in memory: every line the kernel prints on its console (`println!`) and
//! every `log` record, kept in a ring of Linux's default size (128 KiB) for `syslog(2)`,
//! `dmesg` and `/proc/kmsg` ([`tessera_klog`] has the ring and its reading rules).
//!
//! Console lines are recorded at `KERN_INFO`; `log` records at their own level (error 3,
//! warn 4, info 6, debug and trace 7). The console level ([`console_level`]) decides which
//! `log` records also reach the serial console, as Linux's `console_loglevel` does; the
//! kernel's own console lines (banner, self-test results, init's exit, fault reports) always
//! print, since the tools that run QEMU read them.
//!
//! Locking: the ring is behind a spin lock taken with interrupts off (interrupt handlers log
//! too); the console takes the serial lock first, then this one.

use spin::Mutex;
use tessera_klog::{ConsoleLevel, DEFAULT_SIZE, Klog};

pub use tessera_klog::level;

/// The ring (all zeros until the first line: it lives in `.bss`).
static KLOG: Mutex<Klog<DEFAULT_SIZE>> = Mutex::new(Klog::new());
static CONSOLE: Mutex<ConsoleLevel> = Mutex::new(ConsoleLevel::new(ConsoleLevel::DEFAULT));

fn locked<R>(f: impl FnOnce(&mut Klog<DEFAULT_SIZE>) -> R) -> R {
    x86_64::instructions::interrupts::without_interrupts(|| f(&mut KLOG.lock()))
}

/// Records printed text (the caller holds the serial lock, interrupts off). On the panic
/// path the ring may be held by the code that panicked: then the text is not recorded.
pub(crate) fn record_printed(ns: u64, bytes: &[u8], emergency: bool) {
    let klog = if emergency {
        KLOG.try_lock()
    } else {
        Some(KLOG.lock())
    };
    if let Some(mut klog) = klog {
        klog.write(level::INFO, ns, bytes);
    }
}

/// Runs `f` on the ring with interrupts off (the caller holds the serial lock).
pub(crate) fn with_ring<R>(f: impl FnOnce(&mut Klog<DEFAULT_SIZE>) -> R) -> R {
    f(&mut KLOG.lock())
}

/// The size of the ring in bytes (`SYSLOG_ACTION_SIZE_BUFFER`).
pub fn size() -> usize {
    DEFAULT_SIZE
}

/// `SYSLOG_ACTION_READ_ALL`: the newest whole records that fit in `out` (see
/// [`tessera_klog::LogBuffer::read_all`]); returns the bytes written.
pub fn read_all(out: &mut [u8]) -> usize {
    locked(|k| k.ring().read_all(out))
}

/// `SYSLOG_ACTION_READ` and `/proc/kmsg`: the next unread records (see
/// [`tessera_klog::LogBuffer::read`]); 0 when nothing is unread.
pub fn read(out: &mut [u8]) -> usize {
    locked(|k| k.ring_mut().read(out))
}

/// `SYSLOG_ACTION_SIZE_UNREAD`.
pub fn unread() -> usize {
    locked(|k| k.ring().unread())
}

/// Bytes ever logged: grows with every record (readers of the log look for a change).
pub fn written() -> u64 {
    locked(|k| k.ring().written())
}

/// `SYSLOG_ACTION_CLEAR`.
pub fn clear() {
    locked(|k| k.ring_mut().clear());
}

/// `SYSLOG_ACTION_READ_CLEAR`: read all, then clear, in one step.
pub fn read_clear(out: &mut [u8]) -> usize {
    locked(|k| {
        let n = k.ring().read_all(out);
        k.ring_mut().clear();
        n
    })
}

/// Runs `f` on the console level (`SYSLOG_ACTION_CONSOLE_OFF/ON/LEVEL`).
pub fn console_level<R>(f: impl FnOnce(&mut ConsoleLevel) -> R) -> R {
    x86_64::instructions::interrupts::without_interrupts(|| f(&mut CONSOLE.lock()))
}

/// Whether a record of `level` reaches the console.
pub(crate) fn console_prints(level: u8) -> bool {
    CONSOLE.lock().prints(level)
}

/// The console level at boot: Linux's default, or everything with a debug or trace log level.
pub(crate) fn set_boot_console_level(debug: bool) {
    *CONSOLE.lock() = ConsoleLevel::new(if debug {
        ConsoleLevel::DEBUG
    } else {
        ConsoleLevel::DEFAULT
    });
}
