//! User space: starting it (the initramfs becomes the root file system and PID 1 runs
//! `/init`), its share of the timer tick, and stopping the machine when init ends.

use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::process::{exit_code, term_sig};
use tessera_platform::exit::{ExitCode, exit};
use tessera_platform::trap::TrapFrame;
use tessera_platform::{BootInfo, println};

use crate::process::task::Shares;
use crate::process::{Task, exec, sched};

/// Starts what user space needs before the first process: the realtime clock, the vDSO,
/// syscall tracing (`tessera.strace=1`) and the network.
pub fn init(boot: &BootInfo) {
    crate::time::init();
    crate::mm::vdso::init();
    crate::syscall::set_trace(boot.cmdline_value("tessera.strace") == Some("1"));
    LOCK_ORDER_REPORT.store(
        boot.cmdline_value("tessera.lockorder") == Some("1"),
        core::sync::atomic::Ordering::Relaxed,
    );
    crate::net::init();
}

/// Every timer tick: the scheduler's time accounting, sleepers and slices, then the
/// timerfds, the kernel log's readers (new records) and the network's timers.
pub fn on_tick(ticks: u64, from_user: bool) {
    sched::on_tick(ticks, from_user);
    crate::fs::timerfd::on_tick();
    crate::syslog::on_tick();
    crate::net::on_tick();
}

/// Unpacks the initramfs, starts `init` as PID 1 and runs the scheduler until the machine
/// stops (init exits or powers off).
pub fn run(initrd: &[u8], init: &str) -> ! {
    let fs = match crate::fs::init_root(initrd) {
        Ok(fs) => fs,
        Err(e) => {
            println!("tessera: cannot unpack the initramfs: {e}");
            exit(ExitCode::TestFailure);
        }
    };
    let files = crate::fs::stdio_table();
    let task = match Task::new("init", Shares::new(None, files, fs)) {
        Ok(task) => task,
        Err(e) => panic!("cannot create init: {e}"),
    };
    crate::fs::console::init(task.tid);
    let mut frame = TrapFrame::default();
    let argv: Vec<Vec<u8>> = vec![init.as_bytes().to_vec()];
    let envp: Vec<Vec<u8>> = vec![
        b"HOME=/".to_vec(),
        b"TERM=linux".to_vec(),
        b"PATH=/bin:/sbin:/usr/bin:/usr/sbin".to_vec(),
    ];
    let started = sched::with_current(&task, || {
        exec::execve(init.as_bytes(), argv, envp, &mut frame)
    });
    if let Err(e) = started {
        println!("tessera: cannot run {init}: {e}");
        exit(ExitCode::TestFailure);
    }
    task.kernel_stack
        .lock()
        .as_mut()
        .expect("a new task has a stack")
        .init_user_return(&frame, sched::context(task.slot()));
    sched::spawn(task);
    sched::idle_loop(|| true);
    unreachable!("the idle loop only ends when the machine stops");
}

/// PID 1 exited: the machine stops, reporting its status (0 -> success).
/// `tessera.lockorder=1` on the command line: at power-off, list the lock orders lock
/// tracking recorded (configs with `lock-tracking = true`; docs/architecture.md).
static LOCK_ORDER_REPORT: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Prints the recorded lock orders, when asked for.
fn report_lock_orders() {
    if !LOCK_ORDER_REPORT.load(core::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let mut count = 0;
    tessera_sync::lock_orders(|order| {
        count += 1;
        println!(
            "lock order: {} -> {} (first: held since {}, taken at {})",
            order.held, order.taken, order.held_at, order.taken_at
        );
    });
    println!("lock order: {count} orders recorded");
}

/// What the kernel holds, for the leak checks (docs/reliability.md): free and cached pages,
/// the heap's frames and bytes in use, task objects and open file descriptions alive. Read
/// in `/proc/kernel_usage` and printed at power-off.
pub struct Usage {
    pub free_pages: usize,
    pub cached_pages: usize,
    pub heap_pages: usize,
    pub heap_bytes: usize,
    pub tasks: usize,
    pub open_files: usize,
}

pub fn usage() -> Usage {
    Usage {
        free_pages: crate::mm::page_counts().1,
        cached_pages: crate::mm::pagecache::cached_frames(),
        heap_pages: tessera_platform::heap::frames_held(),
        heap_bytes: tessera_platform::heap::bytes_in_use(),
        tasks: crate::process::task::live(),
        open_files: crate::fs::file::open_count(),
    }
}

fn report_usage() {
    let u = usage();
    println!(
        "tessera: usage at power-off: free pages {}, cached pages {}, heap pages {}, heap bytes {}, tasks {}, open files {}",
        u.free_pages, u.cached_pages, u.heap_pages, u.heap_bytes, u.tasks, u.open_files
    );
}

pub fn init_exited(wait_status: i32) -> ! {
    crate::syscall::profile::report(20);
    report_lock_orders();
    report_usage();
    let code = if term_sig(wait_status) != 0 {
        println!("tessera: init killed by signal {}", term_sig(wait_status));
        ExitCode::TestFailure
    } else {
        let status = exit_code(wait_status);
        println!("tessera: init exited with status {status}");
        if status == 0 {
            ExitCode::Success
        } else {
            ExitCode::TestFailure
        }
    };
    exit(code)
}

/// reboot(RB_POWER_OFF) and friends.
pub fn power_off(status: i32) -> ! {
    crate::syscall::profile::report(20);
    report_lock_orders();
    report_usage();
    println!("tessera: power off");
    exit(if status == 0 {
        ExitCode::Success
    } else {
        ExitCode::TestFailure
    })
}
