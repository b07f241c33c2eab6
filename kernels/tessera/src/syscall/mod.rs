//! The Linux system call interface: numbers, dispatch, and the hooks the platform calls on
//! every entry from and return to user mode.
//!
//! Handlers return `KResult<isize>`; an error becomes `-errno` in RAX. An unknown number
//! returns ENOSYS and is logged once with its name. The list of implemented calls is
//! `docs/syscalls.md`.

/// Defines each named call as ENOSYS: the calls of a subsystem a config leaves out
/// (`no_sockets.rs`, `no_signal.rs`).
#[allow(
    unused_macros,
    reason = "used only by the modules of subsystems a config leaves out"
)]
macro_rules! enosys {
    ($($name:ident),* $(,)?) => {
        $(
            pub fn $name(_a: &Args) -> tessera_abi::KResult<isize> {
                Err(tessera_abi::Errno::ENOSYS)
            }
        )*
    };
}

mod args;
mod cpu;
mod events;
mod fs;
mod futex;
mod ipc;
mod kill;
mod locks;
pub mod misc;
mod mm;
#[cfg(feature = "sockets")]
mod net;
#[cfg(not(feature = "sockets"))]
#[path = "no_sockets.rs"]
mod net;
mod poll;
mod process;
#[cfg(feature = "syscall-profiler")]
#[path = "profiler.rs"]
pub mod profile;
#[cfg(not(feature = "syscall-profiler"))]
#[path = "no_profiler.rs"]
pub mod profile;
#[cfg(feature = "signals")]
mod signal;
#[cfg(not(feature = "signals"))]
#[path = "no_signal.rs"]
mod signal;
mod splice;
mod time;

use alloc::collections::BTreeSet;

use tessera_abi::sysno as sys;
use tessera_abi::{Errno, KResult};
use tessera_platform::trap::TrapFrame;
use tessera_platform::usermode::SYSCALL_VECTOR;
use tessera_sync::{IrqSave, SpinLock};

use crate::process::{sched, signal as sig};

pub use args::Args;

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
    let name = sys::name(nr).unwrap_or("?");
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
            sys::name(nr).unwrap_or("unknown")
        );
    }
    Err(Errno::ENOSYS)
}

fn dispatch(nr: u64, a: &Args, frame: &mut TrapFrame) -> KResult<isize> {
    match nr {
        sys::read => fs::read(a),
        sys::write => fs::write(a),
        sys::open => fs::open(a),
        sys::close => fs::close(a),
        sys::stat => fs::stat(a),
        sys::fstat => fs::fstat(a),
        sys::lstat => fs::lstat(a),
        sys::poll => poll::poll(a),
        sys::lseek => fs::lseek(a),
        sys::mmap => mm::mmap(a),
        sys::mprotect => mm::mprotect(a),
        sys::munmap => mm::munmap(a),
        sys::brk => mm::brk(a),
        sys::rt_sigaction => signal::rt_sigaction(a),
        sys::rt_sigprocmask => signal::rt_sigprocmask(a),
        sys::rt_sigreturn => signal::rt_sigreturn(frame),
        sys::ioctl => fs::ioctl(a),
        sys::pread64 => fs::pread64(a),
        sys::pwrite64 => fs::pwrite64(a),
        sys::readv => fs::readv(a),
        sys::writev => fs::writev(a),
        sys::access => fs::access(a),
        sys::pipe => fs::pipe(a),
        sys::select => poll::select(a),
        sys::sched_yield => time::sched_yield(),
        sys::restart_syscall => time::restart_syscall(),
        sys::mremap => mm::mremap(a),
        sys::msync | sys::mincore => Ok(0), // memory is always in sync
        sys::madvise => mm::madvise(a),
        sys::dup => fs::dup(a),
        sys::dup2 => fs::dup2(a),
        sys::pause => kill::pause(),
        sys::nanosleep => time::nanosleep(a),
        sys::getitimer => time::getitimer(a),
        sys::alarm => time::alarm(a),
        sys::setitimer => time::setitimer(a),
        sys::sendfile => fs::sendfile(a),
        sys::copy_file_range => fs::copy_file_range(a),
        sys::splice => splice::splice(a),
        sys::tee => splice::tee(a),
        sys::vmsplice => splice::vmsplice(a),
        sys::close_range => fs::close_range(a),
        sys::socket => net::socket_call(a),
        sys::connect => net::connect(a),
        sys::accept => net::accept(a),
        sys::sendto => net::sendto(a),
        sys::recvfrom => net::recvfrom(a),
        sys::sendmsg => net::sendmsg(a),
        sys::recvmsg => net::recvmsg(a),
        sys::shutdown => net::shutdown(a),
        sys::bind => net::bind(a),
        sys::listen => net::listen(a),
        sys::getsockname => net::getsockname(a),
        sys::getpeername => net::getpeername(a),
        sys::socketpair => net::socketpair(a),
        sys::setsockopt => net::setsockopt(a),
        sys::getsockopt => net::getsockopt(a),
        sys::getpid => process::getpid(),
        sys::clone => process::clone(a, frame),
        sys::clone3 => process::clone3(a, frame),
        sys::unshare => process::unshare(a),
        sys::fork => process::fork(frame),
        sys::vfork => process::vfork(frame),
        sys::execve => process::execve(a, frame),
        sys::exit => process::exit(a),
        sys::wait4 => process::wait4(a),
        sys::kill => kill::kill(a),
        sys::uname => misc::uname(a),
        sys::sethostname => misc::set_uts_name(a, false),
        sys::setdomainname => misc::set_uts_name(a, true),
        sys::fcntl => fs::fcntl(a),
        sys::flock => locks::flock(a),
        sys::fsync | sys::fdatasync => fs::fsync(a),
        sys::truncate => fs::truncate(a),
        sys::ftruncate => fs::ftruncate(a),
        sys::getcwd => fs::getcwd(a),
        sys::chdir => fs::chdir(a),
        sys::fchdir => fs::fchdir(a),
        sys::rename => fs::rename(a),
        sys::mkdir => fs::mkdir(a),
        sys::rmdir => fs::rmdir(a),
        sys::link => fs::link(a),
        sys::unlink => fs::unlink(a),
        sys::symlink => fs::symlink(a),
        sys::readlink => fs::readlink(a),
        sys::chmod => fs::chmod(a),
        sys::fchmod => fs::fchmod(a),
        sys::chown => fs::chown(a, true),
        sys::fchown => fs::fchown(a),
        sys::lchown => fs::chown(a, false),
        sys::umask => fs::umask(a),
        sys::gettimeofday => time::gettimeofday(a),
        sys::getcpu => time::getcpu(a),
        sys::getrlimit => misc::getrlimit(a),
        sys::getrusage => cpu::getrusage(a),
        sys::times => cpu::times(a),
        sys::sysinfo => misc::sysinfo(a),
        sys::getuid | sys::getgid | sys::geteuid | sys::getegid => misc::ids(),
        sys::syslog => misc::syslog(a),
        sys::setuid
        | sys::setgid
        | sys::setreuid
        | sys::setregid
        | sys::setgroups
        | sys::setresuid
        | sys::setresgid => Ok(0), // only root exists
        sys::setpgid => process::setpgid(a),
        sys::getppid => process::getppid(),
        sys::getpgrp => process::getpgrp(),
        sys::setsid => process::setsid(),
        sys::getgroups => misc::getgroups(a),
        sys::getresuid | sys::getresgid => misc::getresid(a),
        sys::getpgid => process::getpgid(a),
        sys::getsid => process::getsid(a),
        sys::rt_sigpending => signal::rt_sigpending(a),
        sys::rt_sigtimedwait => signal::rt_sigtimedwait(a),
        sys::rt_sigsuspend => signal::rt_sigsuspend(a),
        sys::sigaltstack => signal::sigaltstack(a, frame),
        sys::utime => fs::utime(a),
        sys::statfs => fs::statfs(a),
        sys::fstatfs => fs::fstatfs(a),
        sys::getpriority => misc::getpriority(a),
        sys::setpriority => misc::setpriority(a),
        sys::prctl => misc::prctl(a),
        sys::arch_prctl => misc::arch_prctl(a),
        sys::setrlimit => misc::setrlimit(a),
        sys::chroot => fs::chroot(a),
        sys::sync => fs::sync(),
        sys::mount => fs::mount(a),
        sys::umount2 => fs::umount(a),
        sys::reboot => misc::reboot(a),
        sys::gettid => process::gettid(),
        sys::tkill => kill::tkill(a),
        sys::time => time::time(a),
        sys::futex => futex::futex(a),
        sys::sched_getaffinity => cpu::sched_getaffinity(a),
        sys::sched_setaffinity => cpu::sched_setaffinity(a),
        sys::membarrier => cpu::membarrier(a),
        sys::epoll_create => events::epoll_create(a),
        sys::getdents64 => fs::getdents64(a),
        sys::set_tid_address => process::set_tid_address(a),
        sys::clock_settime => time::clock_settime(a),
        sys::clock_gettime => time::clock_gettime(a),
        sys::clock_getres => time::clock_getres(a),
        sys::clock_nanosleep => time::clock_nanosleep(a),
        sys::exit_group => process::exit_group(a),
        sys::epoll_wait => events::epoll_wait(a),
        sys::epoll_ctl => events::epoll_ctl(a),
        sys::tgkill => kill::tgkill(a),
        sys::utimes => fs::utimes(a),
        sys::waitid => process::waitid(a),
        sys::openat => fs::openat(a),
        sys::creat => fs::creat(a),
        sys::getxattr => fs::getxattr(a, true),
        sys::lgetxattr => fs::getxattr(a, false),
        sys::fgetxattr => fs::fgetxattr(a),
        sys::listxattr => fs::listxattr(a, true),
        sys::llistxattr => fs::listxattr(a, false),
        sys::flistxattr => fs::flistxattr(a),
        sys::fadvise64 => fs::fadvise64(a),
        sys::mkdirat => fs::mkdirat(a),
        sys::mknodat => fs::mknodat(a),
        sys::fchownat => fs::fchownat(a),
        sys::newfstatat => fs::newfstatat(a),
        sys::unlinkat => fs::unlinkat(a),
        sys::renameat => fs::renameat(a),
        sys::linkat => fs::linkat(a),
        sys::symlinkat => fs::symlinkat(a),
        sys::readlinkat => fs::readlinkat(a),
        sys::fchmodat => fs::fchmodat(a),
        sys::faccessat => fs::faccessat(a),
        sys::pselect6 => poll::pselect6(a),
        sys::ppoll => poll::ppoll(a),
        sys::set_robust_list => futex::set_robust_list(a),
        sys::get_robust_list => futex::get_robust_list(a),
        sys::utimensat => fs::utimensat(a),
        sys::epoll_pwait => events::epoll_pwait(a),
        sys::signalfd => signal::signalfd(a),
        sys::timerfd_create => events::timerfd_create(a),
        sys::eventfd => events::eventfd(a),
        sys::timerfd_settime => events::timerfd_settime(a),
        sys::timerfd_gettime => events::timerfd_gettime(a),
        sys::accept4 => net::accept4(a),
        sys::signalfd4 => signal::signalfd4(a),
        sys::eventfd2 => events::eventfd2(a),
        sys::epoll_create1 => events::epoll_create1(a),
        sys::dup3 => fs::dup3(a),
        sys::pipe2 => fs::pipe2(a),
        sys::prlimit64 => misc::prlimit64(a),
        sys::renameat2 => fs::renameat2(a),
        sys::getrandom => misc::getrandom(a),
        sys::statx => fs::statx(a),
        sys::faccessat2 => fs::faccessat2(a),
        sys::epoll_pwait2 => events::epoll_pwait2(a),
        sys::mknod => fs::mknod(a),
        sys::rseq => Err(Errno::ENOSYS), // libc falls back
        sys::shmget => ipc::shmget(a),
        sys::shmat => ipc::shmat(a),
        sys::shmctl => ipc::shmctl(a),
        sys::shmdt => ipc::shmdt(a),
        sys::semget => ipc::semget(a),
        sys::semop => ipc::semop(a),
        sys::semtimedop => ipc::semtimedop(a),
        sys::semctl => ipc::semctl(a),
        sys::msgget => ipc::msgget(a),
        sys::msgsnd => ipc::msgsnd(a),
        sys::msgrcv => ipc::msgrcv(a),
        sys::msgctl => ipc::msgctl(a),
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
            match crate::mm::vm::resolve_fault(&task.vm(), cr2, write, exec) {
                Ok(()) => return,
                // Memory is exhausted: the OOM killer makes room (or picks this process),
                // and the access is tried again.
                Err(crate::mm::vm::FaultError::NoMemory)
                    if !matches!(
                        crate::mm::oom::out_of_memory(&task),
                        crate::mm::oom::Outcome::Nothing
                    ) =>
                {
                    return;
                }
                Err(crate::mm::vm::FaultError::Bus) => {
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
    sig::force(&task, signal, info);
}

fn page_fault_in_usercopy(addr: u64, error_code: u64) -> bool {
    let Some(task) = sched::current() else {
        return false;
    };
    // Out of memory here is EFAULT for the copy: the copy may run under a lock (the fast
    // pipe's), so the OOM killer, which waits for its victim, is not called from here.
    crate::mm::vm::resolve_fault(&task.vm(), addr, error_code & 2 != 0, false).is_ok()
}

/// Syscalls that restart after a handler installed with SA_RESTART.
fn restartable(nr: u64) -> bool {
    // The socket calls as on Linux; fcntl and flock for their lock waits (F_SETLKW,
    // flock without LOCK_NB: the only ways they are interrupted).
    matches!(
        nr,
        sys::read
            | sys::write
            | sys::ioctl
            | sys::pread64
            | sys::pwrite64
            | sys::readv
            | sys::writev
            | sys::wait4
            | sys::waitid
            | sys::accept
            | sys::sendto
            | sys::recvfrom
            | sys::sendmsg
            | sys::recvmsg
            | sys::accept4
            | sys::fcntl
            | sys::flock
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
    let restart = if !interrupted {
        sig::Restart::No
    } else if task.restart_sleep.lock().0 != 0 {
        sig::Restart::Block
    } else if restartable(frame.error_code) {
        sig::Restart::Syscall
    } else if frame.error_code == sys::futex {
        futex::restart(frame.rsi)
    } else {
        sig::Restart::No
    };
    // The task is handed over: a fatal signal ends it inside `deliver`, which never
    // returns, and a reference kept here would never be dropped.
    sig::deliver(task, frame, restart);
}
