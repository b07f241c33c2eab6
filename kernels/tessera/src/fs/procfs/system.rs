//! The system-wide files: `meminfo`, `uptime`, `stat`, `loadavg` and `kmsg`, in the formats
//! of Linux's `fs/proc/meminfo.c`, `uptime.c`, `stat.c`, `loadavg.c` and `kmsg.c`.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;
use core::fmt::Write;

use tessera_abi::fs::S_IFREG;
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_vfs::{FileType, Inode, Metadata};

use super::meta;
use crate::fs::file::FileOps;
use crate::fs::stat::Stat;
use crate::process::sched::{self, FSHIFT, USER_HZ};
use crate::process::task::{self, TaskState};

pub fn meminfo() -> String {
    let (total, free) = crate::mm::page_counts();
    // Cached file pages are given back when memory is short, so they count as available.
    let cached = crate::mm::pagecache::cached_frames();
    let kib = |pages: usize| pages * 4;
    format!(
        "MemTotal:       {:>8} kB\nMemFree:        {:>8} kB\nMemAvailable:   {:>8} kB\nBuffers:               0 kB\nCached:         {:>8} kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n",
        kib(total),
        kib(free),
        kib(free + cached),
        kib(cached)
    )
}

/// `/proc/kernel_usage` (Tessera's own, no Linux file has it): what the kernel holds, for
/// leak checks that compare a reading before a run with one after (docs/reliability.md).
pub fn kernel_usage() -> String {
    let u = crate::userspace::usage();
    format!(
        "FreePages:   {}\nCachedPages: {}\nHeapPages:   {}\nHeapBytes:   {}\nTasks:       {}\nOpenFiles:   {}\n",
        u.free_pages, u.cached_pages, u.heap_pages, u.heap_bytes, u.tasks, u.open_files
    )
}

/// Seconds with two decimals, as `uptime` prints them.
fn centiseconds(out: &mut String, ticks_or_ns: (u64, u64)) {
    let (whole, hundredths) = ticks_or_ns;
    let _ = write!(out, "{whole}.{hundredths:02}");
}

/// `/proc/uptime`: seconds since boot, and seconds the CPU spent idle.
pub fn uptime() -> String {
    let ns = tessera_platform::clock::now_ns();
    let (_, _, idle) = sched::cpu_ticks();
    let idle = sched::ticks_to_clock_t(idle);
    let mut text = String::new();
    centiseconds(&mut text, (ns / 1_000_000_000, (ns / 10_000_000) % 100));
    text.push(' ');
    centiseconds(&mut text, (idle / USER_HZ, idle % USER_HZ));
    text.push('\n');
    text
}

/// `/proc/stat`: CPU time in `USER_HZ` ticks (user, nice, system, idle, iowait, irq,
/// softirq, steal, guest, guest_nice) for all CPUs and for the one CPU, interrupts per line,
/// context switches, boot time, processes created, runnable and blocked-on-I/O tasks, and
/// softirqs (Tessera has none).
pub fn stat() -> String {
    let (user, system, idle) = sched::cpu_ticks();
    let [user, system, idle] = [user, system, idle].map(sched::ticks_to_clock_t);
    let cpu = format!("{user} 0 {system} {idle} 0 0 0 0 0 0");
    let irqs = tessera_platform::trap::irq_counts();
    let mut text = format!("cpu  {cpu}\ncpu0 {cpu}\nintr {}", irqs.iter().sum::<u64>());
    for count in irqs {
        let _ = write!(text, " {count}");
    }
    let running = task::all()
        .iter()
        .filter(|t| t.state() == TaskState::Runnable)
        .count();
    let _ = write!(
        text,
        "\nctxt {}\nbtime {}\nprocesses {}\nprocs_running {running}\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
        sched::context_switches(),
        crate::time::boot_time_secs(),
        task::created(),
    );
    text
}

/// `/proc/loadavg`: the 1, 5 and 15 minute load averages, runnable/all tasks, the last pid.
pub fn loadavg() -> String {
    let fixed_1 = 1u64 << FSHIFT;
    let mut text = String::new();
    for average in sched::load_averages() {
        // As Linux: rounded to two decimals (`LOAD_INT`, `LOAD_FRAC` of `avenrun + FIXED_1/200`).
        let x = average + fixed_1 / 200;
        let _ = write!(
            text,
            "{}.{:02} ",
            x >> FSHIFT,
            ((x & (fixed_1 - 1)) * 100) >> FSHIFT
        );
    }
    let tasks = task::all();
    let running = tasks
        .iter()
        .filter(|t| t.state() == TaskState::Runnable)
        .count();
    let _ = writeln!(text, "{running}/{} {}", tasks.len(), task::last_pid());
    text
}

/// `/proc/kmsg`: the kernel log as `syslog(SYSLOG_ACTION_READ)` reads it (only root may, as
/// its mode 0400 says).
struct Kmsg {
    ino: u64,
}

pub fn kmsg(ino: u64) -> Arc<dyn Inode> {
    Arc::new(Kmsg { ino })
}

impl Inode for Kmsg {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(self.ino, S_IFREG | 0o400, 1))
    }
    fn file_type(&self) -> FileType {
        FileType::Regular
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    /// Reached only by a read that does not go through an open file (opens get [`KmsgFile`]):
    /// what is unread, without waiting.
    fn read_at(&self, _offset: u64, buf: &mut [u8]) -> KResult<usize> {
        Ok(tessera_platform::klog::read(buf))
    }
}

/// The open `/proc/kmsg`: a stream (no offset), whose reads wait for new records unless
/// `O_NONBLOCK`.
struct KmsgFile {
    inode: Arc<dyn Inode>,
}

/// The open file of a procfs stream file, `None` for the others.
pub fn open_stream(inode: &Arc<dyn Inode>) -> Option<Arc<dyn FileOps>> {
    inode.as_any().is::<Kmsg>().then(|| {
        Arc::new(KmsgFile {
            inode: inode.clone(),
        }) as Arc<dyn FileOps>
    })
}

impl FileOps for KmsgFile {
    fn read(&self, _offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        crate::syslog::read(buf, nonblock)
    }
    fn write(&self, _offset: u64, _buf: &[u8], _nonblock: bool) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    fn stat(&self) -> KResult<Stat> {
        crate::fs::inode_stat(&self.inode)
    }
    fn can_poll(&self) -> bool {
        true
    }
    fn wait_queues(&self, add: &mut dyn FnMut(&crate::process::sched::WaitQueue)) {
        add(&crate::syslog::READERS);
    }
    fn poll(&self) -> PollEvents {
        if tessera_platform::klog::unread() > 0 {
            PollEvents::IN
        } else {
            PollEvents::empty()
        }
    }
}
