//! The Linux system call interface: numbers, dispatch, and the hooks the platform calls on
//! every entry from and return to user mode.
//!
//! Handlers return `KResult<isize>`; an error becomes `-errno` in RAX. An unknown number
//! returns ENOSYS and is logged once with its name. The list of implemented calls is
//! `docs/syscalls.md`.

mod fs;
mod misc;
mod mm;
mod names;
mod net;
mod process;
pub mod profile;
mod signal;
mod time;

use alloc::collections::BTreeSet;

use tessera_abi::{Errno, KResult};
use tessera_platform::trap::TrapFrame;
use tessera_platform::usermode::SYSCALL_VECTOR;
use tessera_sync::{IrqSave, SpinLock};

use crate::process::{sched, signal as sig};

pub use time::realtime_ns;

/// The arguments of a syscall (rdi, rsi, rdx, r10, r8, r9).
pub type Args = [u64; 6];

tessera_platform::user_mode_hooks!(
    syscall: handle,
    user_exception: user_exception,
    user_page_fault_in_kernel: page_fault_in_usercopy,
    return_to_user: return_to_user,
);

/// `tessera.strace=1` on the command line: log every syscall and its result.
static TRACE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Turns syscall tracing on or off.
pub fn set_trace(on: bool) {
    TRACE.store(on, core::sync::atomic::Ordering::Relaxed);
}

fn handle(frame: &mut TrapFrame) {
    let nr = frame.rax;
    // Kept for restarting a syscall interrupted by a signal (SA_RESTART).
    frame.error_code = nr;
    let args = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    if TRACE.load(core::sync::atomic::Ordering::Relaxed) {
        return handle_traced(frame, nr, &args);
    }
    let started = profile::start();
    let result = dispatch(nr, &args, frame);
    profile::record(nr, started);
    frame.rax = to_rax(result);
}

/// What RAX gets: the value, or `-errno`.
#[inline(always)]
fn to_rax(result: KResult<isize>) -> u64 {
    match result {
        Ok(value) => value as u64,
        Err(errno) => errno.neg() as u64,
    }
}

/// `handle` with a log line before and after (`tessera.strace=1`), kept out of the fast path.
#[cold]
#[inline(never)]
fn handle_traced(frame: &mut TrapFrame, nr: u64, args: &Args) {
    let name = names::name(nr).unwrap_or("?");
    let pid = sched::current_pid();
    tessera_platform::println!(
        "[{pid}] {name}({:#x}, {:#x}, {:#x}) ...",
        args[0],
        args[1],
        args[2]
    );
    let result = dispatch(nr, args, frame);
    tessera_platform::println!("[{pid}] {name} = {result:?}");
    frame.rax = to_rax(result);
}

static REPORTED: SpinLock<BTreeSet<u64>, IrqSave> = SpinLock::new(BTreeSet::new());

fn unknown(nr: u64) -> KResult<isize> {
    if REPORTED.lock().insert(nr) {
        log::warn!(
            "unimplemented syscall {} ({nr}): ENOSYS",
            names::name(nr).unwrap_or("unknown")
        );
    }
    Err(Errno::ENOSYS)
}

fn dispatch(nr: u64, a: &Args, frame: &mut TrapFrame) -> KResult<isize> {
    match nr {
        0 => fs::read(a),
        1 => fs::write(a),
        2 => fs::open(a),
        3 => fs::close(a),
        4 => fs::stat(a),
        5 => fs::fstat(a),
        6 => fs::lstat(a),
        7 => fs::poll(a),
        8 => fs::lseek(a),
        9 => mm::mmap(a),
        10 => mm::mprotect(a),
        11 => mm::munmap(a),
        12 => mm::brk(a),
        13 => signal::rt_sigaction(a),
        14 => signal::rt_sigprocmask(a),
        15 => signal::rt_sigreturn(frame),
        16 => fs::ioctl(a),
        17 => fs::pread64(a),
        18 => fs::pwrite64(a),
        19 => fs::readv(a),
        20 => fs::writev(a),
        21 => fs::access(a),
        22 => fs::pipe(a),
        23 => fs::select(a),
        24 => time::sched_yield(),
        25 => mm::mremap(a),
        26 | 27 => Ok(0), // msync, mincore: memory is always in sync
        28 => mm::madvise(a),
        32 => fs::dup(a),
        33 => fs::dup2(a),
        34 => signal::pause(),
        35 => time::nanosleep(a),
        36 => time::getitimer(a),
        37 => time::alarm(a),
        38 => time::setitimer(a),
        40 => fs::sendfile(a),
        41 => net::socket_call(a),
        42 => net::connect(a),
        43 => net::accept(a),
        44 => net::sendto(a),
        45 => net::recvfrom(a),
        46 => net::sendmsg(a),
        47 => net::recvmsg(a),
        48 => net::shutdown(a),
        49 => net::bind(a),
        50 => net::listen(a),
        51 => net::getsockname(a),
        52 => net::getpeername(a),
        53 => net::socketpair(a),
        54 => net::setsockopt(a),
        55 => net::getsockopt(a),
        39 => process::getpid(),
        56 => process::clone(a, frame),
        57 => process::fork(frame),
        58 => process::vfork(frame),
        59 => process::execve(a, frame),
        60 => process::exit(a),
        61 => process::wait4(a),
        62 => signal::kill(a),
        63 => misc::uname(a),
        72 => fs::fcntl(a),
        74 | 75 => fs::fsync(a),
        76 => fs::truncate(a),
        77 => fs::ftruncate(a),
        79 => fs::getcwd(a),
        80 => fs::chdir(a),
        81 => fs::fchdir(a),
        82 => fs::rename(a),
        83 => fs::mkdir(a),
        84 => fs::rmdir(a),
        86 => fs::link(a),
        87 => fs::unlink(a),
        88 => fs::symlink(a),
        89 => fs::readlink(a),
        90 => fs::chmod(a),
        91 => fs::fchmod(a),
        #[allow(clippy::manual_range_patterns, reason = "chown, fchown, lchown")]
        92 | 93 | 94 => fs::chown(a),
        95 => fs::umask(a),
        96 => time::gettimeofday(a),
        97 => misc::getrlimit(a),
        98 => misc::getrusage(a),
        99 => misc::sysinfo(a),
        102 | 104 | 107 | 108 => misc::ids(),
        105 | 106 | 113 | 114 | 116 | 117 | 119 => Ok(0), // setuid & co: only root exists
        109 => process::setpgid(a),
        110 => process::getppid(),
        111 => process::getpgrp(),
        112 => process::setsid(),
        115 => misc::getgroups(a),
        118 | 120 => misc::getresid(a),
        121 => process::getpgid(a),
        124 => process::getsid(a),
        127 => signal::rt_sigpending(a),
        128 => signal::rt_sigtimedwait(a),
        130 => signal::rt_sigsuspend(a),
        131 => signal::sigaltstack(a),
        132 => fs::utime(a),
        137 | 138 => misc::statfs(a),
        140 => misc::getpriority(a),
        141 => misc::setpriority(a),
        157 => misc::prctl(a),
        158 => misc::arch_prctl(a),
        160 => misc::setrlimit(a),
        161 => fs::chroot(a),
        162 => fs::sync(),
        165 => fs::mount(a),
        166 => fs::umount(a),
        169 => misc::reboot(a),
        186 => process::gettid(),
        200 => signal::tkill(a),
        201 => time::time(a),
        202 => misc::futex(a),
        204 => misc::sched_getaffinity(a),
        217 => fs::getdents64(a),
        218 => process::set_tid_address(a),
        227 => time::clock_settime(a),
        228 => time::clock_gettime(a),
        229 => time::clock_getres(a),
        230 => time::clock_nanosleep(a),
        231 => process::exit_group(a),
        234 => signal::tgkill(a),
        235 => fs::utimes(a),
        247 => process::waitid(a),
        257 => fs::openat(a),
        258 => fs::mkdirat(a),
        259 => fs::mknodat(a),
        260 => fs::fchownat(a),
        262 => fs::newfstatat(a),
        263 => fs::unlinkat(a),
        264 | 316 => fs::renameat(a),
        265 => fs::linkat(a),
        266 => fs::symlinkat(a),
        267 => fs::readlinkat(a),
        268 => fs::fchmodat(a),
        269 | 439 => fs::faccessat(a),
        270 => fs::pselect6(a),
        271 => fs::ppoll(a),
        273 => misc::set_robust_list(),
        280 => fs::utimensat(a),
        288 => net::accept4(a),
        292 => fs::dup3(a),
        293 => fs::pipe2(a),
        302 => misc::prlimit64(a),
        318 => misc::getrandom(a),
        332 => fs::statx(a),
        133 => fs::mknod(a),
        334 => Err(Errno::ENOSYS), // rseq: libc falls back
        _ => unknown(nr),
    }
}

/// A CPU exception in user mode: page faults may be demand paging; the rest are signals.
fn user_exception(frame: &mut TrapFrame, cr2: u64) {
    let task = crate::process::current();
    let mut info = sig::SigInfo {
        code: sig::SI_KERNEL,
        addr: frame.rip,
        ..Default::default()
    };
    let signal = match frame.vector {
        14 => {
            let (write, exec) = (frame.error_code & 2 != 0, frame.error_code & 16 != 0);
            let result = task
                .vm
                .lock()
                .as_mut()
                .map(|vm| vm.handle_fault(cr2, write, exec));
            match result {
                Some(Ok(())) => return,
                Some(Err(crate::process::vm::FaultError::Bus)) => {
                    info = sig::SigInfo {
                        code: sig::BUS_ADRERR,
                        addr: cr2,
                        ..Default::default()
                    };
                    sig::SIGBUS
                }
                _ => {
                    let present = frame.error_code & 1 != 0;
                    let code = if present {
                        sig::SEGV_ACCERR
                    } else {
                        sig::SEGV_MAPERR
                    };
                    info = sig::SigInfo {
                        code,
                        addr: cr2,
                        ..Default::default()
                    };
                    sig::SIGSEGV
                }
            }
        }
        0 | 16 | 19 => sig::SIGFPE,
        6 => sig::SIGILL,
        1 | 3 => sig::SIGTRAP,
        17 => sig::SIGBUS,
        _ => sig::SIGSEGV,
    };
    force_signal(&task, signal, info);
}

/// A synchronous fault signal: blocked or ignored, it still kills (as on Linux).
fn force_signal(task: &alloc::sync::Arc<crate::process::Task>, signal: u32, info: sig::SigInfo) {
    let mut state = task.signals.lock();
    let action = &mut state.actions[signal as usize - 1];
    if action.handler == sig::SIG_IGN {
        action.handler = sig::SIG_DFL;
    }
    state.blocked &= !sig::bit(signal);
    state.post(signal, info);
    crate::process::sched::set_signal_hint(task, true);
}

fn page_fault_in_usercopy(addr: u64, error_code: u64) -> bool {
    let Some(task) = sched::current() else {
        return false;
    };
    let mut vm = task.vm.lock();
    vm.as_mut()
        .is_some_and(|vm| vm.handle_fault(addr, error_code & 2 != 0, false).is_ok())
}

/// Syscalls that restart after a handler installed with SA_RESTART.
fn restartable(nr: u64) -> bool {
    // 43-47 and 288: accept, sendto, recvfrom, sendmsg, recvmsg, accept4 (as on Linux).
    matches!(
        nr,
        0 | 1 | 16 | 17 | 18 | 19 | 20 | 43 | 44 | 45 | 46 | 47 | 61 | 247 | 288
    )
}

fn return_to_user(frame: &mut TrapFrame) {
    if sched::need_resched() {
        sched::schedule();
    }
    let interrupted =
        frame.vector == SYSCALL_VECTOR && frame.rax as i64 == Errno::EINTR.neg() as i64;
    if !interrupted && !sched::current_signal_hint() {
        return;
    }
    let Some(task) = sched::current() else { return };
    let restart = interrupted && restartable(frame.error_code);
    sig::deliver(&task, frame, restart);
}
