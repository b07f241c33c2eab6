//! Identity, limits, system information and the rest of what libc start-up asks for.

use core::sync::atomic::Ordering;

use tessera_abi::fs::MAX_RW_COUNT;
use tessera_abi::process::{
    ARCH_GET_FS, ARCH_SET_FS, PR_GET_NAME, PR_SET_NAME, PRIO_PGRP, PRIO_PROCESS, PRIO_USER,
    RLIM_NLIMITS, RLIMIT_NOFILE, TASK_COMM_LEN,
};
use tessera_abi::system::{
    GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM, LINUX_REBOOT_CMD_HALT, LINUX_REBOOT_CMD_POWER_OFF,
    LINUX_REBOOT_CMD_RESTART, LINUX_REBOOT_MAGIC1, UTSNAME_FIELD_LEN,
};
use tessera_abi::{Errno, KResult};
use tessera_sync::SubsystemLock;

use super::args::{Args, Decode, UserPtr, user_range};
use crate::process::{current, task};
use crate::user::StructWriter;
use tessera_platform::mm::PAGE_SIZE;

/// A `utsname` field that sethostname and setdomainname set: up to 64 bytes
/// (`__NEW_UTS_LEN`), without its NUL.
struct UtsField {
    bytes: [u8; UTSNAME_FIELD_LEN - 1],
    len: usize,
}

impl UtsField {
    const fn new(text: &[u8]) -> Self {
        let mut bytes = [0; UTSNAME_FIELD_LEN - 1];
        let mut i = 0;
        while i < text.len() {
            bytes[i] = text[i];
            i += 1;
        }
        UtsField {
            bytes,
            len: text.len(),
        }
    }
}

/// The host name: Tessera's until someone sets one (an init, from /etc/hostname).
static NODENAME: SubsystemLock<UtsField> = SubsystemLock::new(UtsField::new(b"tessera"));
/// The NIS domain name: Linux's "(none)" until set.
static DOMAINNAME: SubsystemLock<UtsField> = SubsystemLock::new(UtsField::new(b"(none)"));

/// uname's `release`: Linux 6.1's system calls, Tessera's kernel.
pub const RELEASE: &str = "6.1.0-tessera";
/// uname's `version`.
pub const VERSION: &str = "#1 Tessera";

/// The host name (uname's `nodename`, `/proc/sys/kernel/hostname`).
pub fn node_name() -> alloc::vec::Vec<u8> {
    let node = NODENAME.lock();
    node.bytes[..node.len].to_vec()
}

/// The NIS domain name (uname's `domainname`, `/proc/sys/kernel/domainname`).
pub fn domain_name() -> alloc::vec::Vec<u8> {
    let domain = DOMAINNAME.lock();
    domain.bytes[..domain.len].to_vec()
}

/// uname(struct new_utsname *name).
pub fn uname(a: &Args) -> KResult<isize> {
    let mut w = StructWriter::new(UTSNAME_FIELD_LEN * 6);
    let (node, domain) = (node_name(), domain_name());
    let fields: [&[u8]; 6] = [
        b"Linux",
        &node,
        RELEASE.as_bytes(),
        VERSION.as_bytes(),
        b"x86_64",
        &domain,
    ];
    for (i, field) in fields.iter().enumerate() {
        w.bytes_at(i * UTSNAME_FIELD_LEN, field);
    }
    a.ptr(0).write_bytes(&w.bytes)?;
    Ok(0)
}

/// sethostname(char *name, int len) and setdomainname: Linux's order of checks (everyone
/// is root, so never EPERM): EINVAL for a length outside 0..=64, EFAULT for the name.
pub fn set_uts_name(a: &Args, domain: bool) -> KResult<isize> {
    let len = a.int(1);
    if !(0..UTSNAME_FIELD_LEN as i32).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let name = a.ptr(0).read_bytes(len as usize)?;
    let mut field = if domain {
        DOMAINNAME.lock()
    } else {
        NODENAME.lock()
    };
    *field = UtsField::new(&name);
    Ok(0)
}

/// getuid, geteuid, getgid, getegid: everyone is root.
pub fn ids() -> KResult<isize> {
    Ok(0)
}

/// getresuid(uid_t *ruid, uid_t *euid, uid_t *suid) and getresgid: all root.
pub fn getresid(a: &Args) -> KResult<isize> {
    for i in 0..3 {
        a.ptr(i).write_u32(0)?;
    }
    Ok(0)
}

/// getgroups(int gidsetsize, gid_t *grouplist): no supplementary groups; a negative size
/// is EINVAL (Linux's `kernel/groups.c`).
pub fn getgroups(a: &Args) -> KResult<isize> {
    if a.int(0) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// A resource number (`unsigned int resource`): EINVAL from RLIM_NLIMITS on.
fn check_resource(resource: u32) -> KResult<usize> {
    let resource = resource as usize;
    if resource < RLIM_NLIMITS {
        Ok(resource)
    } else {
        Err(Errno::EINVAL)
    }
}

/// A `struct rlimit` (or `rlimit64`: the same on x86_64): (soft, hard).
fn write_limit(to: UserPtr, (cur, max): (u64, u64)) -> KResult<()> {
    let mut w = StructWriter::new(16);
    w.u64(0, cur).u64(8, max);
    to.write_bytes(&w.bytes)
}

fn read_limit(from: UserPtr) -> KResult<(u64, u64)> {
    let mut raw = [0u8; 16];
    from.read_into(&mut raw)?;
    let cur = u64::from_le_bytes(raw[..8].try_into().expect("8"));
    let max = u64::from_le_bytes(raw[8..].try_into().expect("8"));
    Ok((cur, max))
}

/// Linux's `sysctl_nr_open` (`fs/file.c`): the largest hard RLIMIT_NOFILE.
const NR_OPEN: u64 = 1024 * 1024;

/// Linux's `do_prlimit` for `task`'s process: EINVAL for an unknown resource, then, with a
/// new limit, EINVAL for a soft limit above the hard one and EPERM for a hard RLIMIT_NOFILE
/// above `NR_OPEN`; root may raise hard limits (CAP_SYS_RESOURCE). The old limits, if
/// asked for, are the ones before the change.
///
/// Only RLIMIT_NOFILE is enforced: its soft limit bounds the descriptor table, at most
/// `MAX_FDS` descriptors whatever the limit says. The others are stored and reported
/// (RLIMIT_CORE is 0 by default and no core file is ever written).
fn do_prlimit(
    task: &crate::process::Task,
    resource: u32,
    new: Option<(u64, u64)>,
) -> KResult<(u64, u64)> {
    let resource = check_resource(resource)?;
    let mut limits = task.process.rlimits.lock();
    let old = limits[resource];
    if let Some((cur, max)) = new {
        if cur > max {
            return Err(Errno::EINVAL);
        }
        if resource == RLIMIT_NOFILE {
            if max > NR_OPEN {
                return Err(Errno::EPERM);
            }
            task.files.lock().limit = cur.min(crate::fs::file::MAX_FDS as u64) as usize;
        }
        limits[resource] = (cur, max);
    }
    Ok(old)
}

/// getrlimit(unsigned int resource, struct rlimit *rlim).
pub fn getrlimit(a: &Args) -> KResult<isize> {
    let old = do_prlimit(&current(), a.uint(0), None)?;
    write_limit(a.ptr(1), old)?;
    Ok(0)
}

/// setrlimit(unsigned int resource, struct rlimit *rlim): the limit is read first (EFAULT),
/// then checked.
pub fn setrlimit(a: &Args) -> KResult<isize> {
    let new = read_limit(a.ptr(1))?;
    do_prlimit(&current(), a.uint(0), Some(new))?;
    Ok(0)
}

/// prlimit64(pid_t pid, unsigned int resource, const struct rlimit64 *new_rlim,
/// struct rlimit64 *old_rlim), in Linux's order (`kernel/sys.c`): the new limit is read
/// (EFAULT), the process found (0: the caller; no such task: ESRCH; root may change any
/// process's limits), then [`do_prlimit`], then the old limit stored (EFAULT, the new one
/// staying set).
pub fn prlimit64(a: &Args) -> KResult<isize> {
    let (pid, resource, new_ptr, old_ptr) = (a.pid(0), a.uint(1), a.ptr(2), a.ptr(3));
    let new = match new_ptr.nonnull() {
        Some(ptr) => Some(read_limit(ptr)?),
        None => None,
    };
    let task = match pid {
        0 => current(),
        _ => u32::try_from(pid)
            .ok()
            .and_then(crate::process::task::find)
            .ok_or(Errno::ESRCH)?,
    };
    let old = do_prlimit(&task, resource, new)?;
    if let Some(ptr) = old_ptr.nonnull() {
        write_limit(ptr, old)?;
    }
    Ok(0)
}

/// sysinfo(struct sysinfo *info).
pub fn sysinfo(a: &Args) -> KResult<isize> {
    let (total, free) = crate::mm::page_counts();
    let mut w = StructWriter::new(112);
    let uptime = tessera_platform::clock::now_ns() / 1_000_000_000;
    w.u64(0, uptime)
        .u64(32, (total * 4096) as u64)
        .u64(40, (free * 4096) as u64);
    // The load averages, in sysinfo's fixed point (16 fraction bits, `SI_LOAD_SHIFT`).
    for (i, load) in crate::process::sched::load_averages().iter().enumerate() {
        w.u64(8 + 8 * i, load << (16 - crate::process::sched::FSHIFT));
    }
    w.u16(80, crate::process::task::all().len() as u16)
        .u32(104, 1);
    a.ptr(0).write_bytes(&w.bytes)?;
    Ok(0)
}

/// arch_prctl(int option, unsigned long arg2).
pub fn arch_prctl(a: &Args) -> KResult<isize> {
    let task = current();
    let arg = a.ulong(1);
    match a.uint(0) {
        ARCH_SET_FS => {
            if arg >= tessera_platform::vm::USER_END {
                return Err(Errno::EPERM);
            }
            task.fs_base.store(arg, Ordering::Relaxed);
            tessera_platform::usermode::set_fs_base(arg);
            Ok(0)
        }
        ARCH_GET_FS => {
            a.ptr(1).write_u64(task.fs_base.load(Ordering::Relaxed))?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// prctl(int option, unsigned long arg2, ...). PR_SET_NAME takes at most 15 bytes of the
/// string (a longer one is cut, as Linux's `strncpy_from_user`), EFAULT when the string
/// cannot be read.
pub fn prctl(a: &Args) -> KResult<isize> {
    let task = current();
    let name_ptr = a.ptr(1);
    match a.uint(0) {
        PR_SET_NAME => {
            let mut name = alloc::vec::Vec::with_capacity(TASK_COMM_LEN - 1);
            for i in 0..TASK_COMM_LEN as u64 - 1 {
                let mut byte = [0u8];
                name_ptr.at(i).read_into(&mut byte)?;
                if byte[0] == 0 {
                    break;
                }
                name.push(byte[0]);
            }
            *task.name.lock() = alloc::string::String::from_utf8_lossy(&name).into_owned();
            Ok(0)
        }
        PR_GET_NAME => {
            let mut buf = [0u8; TASK_COMM_LEN];
            let name = task.name.lock();
            let n = name.len().min(TASK_COMM_LEN - 1);
            buf[..n].copy_from_slice(&name.as_bytes()[..n]);
            name_ptr.write_bytes(&buf)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// getrandom(char *buf, size_t count, unsigned int flags), as Linux 6.1's
/// (`drivers/char/random.c`): unknown flags, or GRND_RANDOM with GRND_INSECURE, are EINVAL;
/// the generator is always ready (no EAGAIN, no wait; GRND_RANDOM is the same source since
/// Linux 5.6); the count is cut at MAX_RW_COUNT and the range checked (`access_ok`:
/// EFAULT); then the bytes go out a block at a time, and a copy that faults part of the way
/// returns what was written before the fault (EFAULT only when that is nothing). A task
/// being killed stops early with what it has.
pub fn getrandom(a: &Args) -> KResult<isize> {
    /// Linux's ChaCha block: the bytes made and copied at a time.
    const BLOCK: usize = 64;
    let (buf, flags) = (a.ptr(0), a.uint(2));
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return Err(Errno::EINVAL);
    }
    let len = a.size(1).min(MAX_RW_COUNT);
    user_range(buf, len as u64)?;
    let mut block = [0u8; BLOCK];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(BLOCK);
        crate::random::fill(&mut block[..n]);
        let to = buf.at(done as u64);
        if to.write_bytes(&block[..n]).is_err() {
            // The bytes before the fault: Linux's copy stops at the first byte it cannot write.
            done += (0..n)
                .take_while(|&i| to.at(i as u64).write_bytes(&block[i..=i]).is_ok())
                .count();
            break;
        }
        done += n;
        if done % PAGE_SIZE == 0 && done < len && !crate::process::sched::keep_going() {
            break;
        }
    }
    match done {
        0 if len > 0 => Err(Errno::EFAULT),
        _ => Ok(done as isize),
    }
}

/// reboot(int magic1, int magic2, unsigned int cmd, void *arg).
pub fn reboot(a: &Args) -> KResult<isize> {
    if a.uint(0) != LINUX_REBOOT_MAGIC1 {
        return Err(Errno::EINVAL);
    }
    match a.uint(2) {
        LINUX_REBOOT_CMD_POWER_OFF | LINUX_REBOOT_CMD_HALT | LINUX_REBOOT_CMD_RESTART => {
            crate::userspace::power_off(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Whether (`which`, `who`) of getpriority and setpriority (two `int`s) names a process:
/// EINVAL for an unknown `which`, ESRCH when nothing matches (`kernel/sys.c`): a pid that
/// does not exist, a process group with no member, a user other than root (0 is the
/// caller's own, root; every process here is root's).
fn priority_target(which: i32, who: i32) -> KResult<()> {
    let found = match which as u32 {
        PRIO_PROCESS => who == 0 || task::find(who as u32).is_some(),
        PRIO_PGRP => {
            let group = match who {
                0 => current().process.pgid.load(Ordering::Relaxed),
                _ => who as u32,
            };
            task::all()
                .iter()
                .any(|t| t.process.pgid.load(Ordering::Relaxed) == group)
        }
        PRIO_USER => who == 0,
        _ => return Err(Errno::EINVAL),
    };
    if found { Ok(()) } else { Err(Errno::ESRCH) }
}

/// getpriority(int which, int who) returns 20 - nice (the raw syscall's encoding); every
/// task has nice 0.
pub fn getpriority(a: &Args) -> KResult<isize> {
    priority_target(a.int(0), a.int(1))?;
    Ok(20)
}

/// setpriority(int which, int who, int niceval): accepted, and nothing changes.
pub fn setpriority(a: &Args) -> KResult<isize> {
    priority_target(a.int(0), a.int(1))?;
    Ok(0)
}

/// syslog(int type, char *buf, int len): the kernel log (`crate::syslog`).
pub fn syslog(a: &Args) -> KResult<isize> {
    let buf = a.ptr(1);
    crate::syslog::syslog(a.uint(0), buf.addr(), a.int(2), |bytes| {
        buf.write_bytes(bytes)
    })
}
