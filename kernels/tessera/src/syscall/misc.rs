//! Identity, limits, system information and the rest of what libc start-up asks for.

use core::sync::atomic::Ordering;

use tessera_abi::process::{
    ARCH_GET_FS, ARCH_SET_FS, PR_GET_NAME, PR_SET_NAME, PRIO_USER, RLIM_NLIMITS, RLIMIT_NOFILE,
    TASK_COMM_LEN,
};
use tessera_abi::system::{
    GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM, LINUX_REBOOT_CMD_HALT, LINUX_REBOOT_CMD_POWER_OFF,
    LINUX_REBOOT_CMD_RESTART, LINUX_REBOOT_MAGIC1, UTSNAME_FIELD_LEN,
};
use tessera_abi::{Errno, KResult};
use tessera_sync::SubsystemLock;

use super::Args;
use crate::process::current;
use crate::user::{self, StructWriter};

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
    user::write_bytes(a[0], &w.bytes)?;
    Ok(0)
}

/// sethostname(name, len) and setdomainname(name, len): Linux's order of checks (everyone
/// is root, so never EPERM): EINVAL for a length outside 0..=64, EFAULT for the name.
pub fn set_uts_name(a: &Args, domain: bool) -> KResult<isize> {
    let len = a[1] as i32;
    if !(0..UTSNAME_FIELD_LEN as i32).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let name = user::read_bytes(a[0], len as usize)?;
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

pub fn getresid(a: &Args) -> KResult<isize> {
    for addr in &a[..3] {
        user::write_u32(*addr, 0)?;
    }
    Ok(0)
}

pub fn getgroups(_a: &Args) -> KResult<isize> {
    Ok(0)
}

fn check_resource(resource: u64) -> KResult<usize> {
    let resource = resource as usize;
    if resource < RLIM_NLIMITS {
        Ok(resource)
    } else {
        Err(Errno::EINVAL)
    }
}

fn write_limit(addr: u64, (cur, max): (u64, u64)) -> KResult<()> {
    let mut w = StructWriter::new(16);
    w.u64(0, cur).u64(8, max);
    user::write_bytes(addr, &w.bytes)
}

fn read_limit(addr: u64) -> KResult<(u64, u64)> {
    let raw = user::read_bytes(addr, 16)?;
    let cur = u64::from_le_bytes(raw[..8].try_into().expect("8"));
    let max = u64::from_le_bytes(raw[8..].try_into().expect("8"));
    Ok((cur, max))
}

/// Sets a limit of `task` (root may raise hard limits, up to what the kernel supports).
fn set_limit(task: &crate::process::Task, resource: usize, (cur, max): (u64, u64)) -> KResult<()> {
    if cur > max {
        return Err(Errno::EINVAL);
    }
    if resource == RLIMIT_NOFILE {
        if max > crate::fs::file::MAX_FDS as u64 {
            return Err(Errno::EPERM);
        }
        task.files.lock().limit = cur as usize;
    }
    task.process.rlimits.lock()[resource] = (cur, max);
    Ok(())
}

pub fn getrlimit(a: &Args) -> KResult<isize> {
    let resource = check_resource(a[0])?;
    let limit = current().process.rlimits.lock()[resource];
    write_limit(a[1], limit)?;
    Ok(0)
}

pub fn setrlimit(a: &Args) -> KResult<isize> {
    let resource = check_resource(a[0])?;
    set_limit(&current(), resource, read_limit(a[1])?)?;
    Ok(0)
}

pub fn prlimit64(a: &Args) -> KResult<isize> {
    let task = if a[0] == 0 {
        current()
    } else {
        crate::process::task::find(a[0] as u32).ok_or(Errno::ESRCH)?
    };
    let resource = check_resource(a[1])?;
    let old = task.process.rlimits.lock()[resource];
    if a[2] != 0 {
        set_limit(&task, resource, read_limit(a[2])?)?;
    }
    if a[3] != 0 {
        write_limit(a[3], old)?;
    }
    Ok(0)
}

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
    user::write_bytes(a[0], &w.bytes)?;
    Ok(0)
}

pub fn arch_prctl(a: &Args) -> KResult<isize> {
    let task = current();
    match a[0] as u32 {
        ARCH_SET_FS => {
            if a[1] >= tessera_platform::vm::USER_END {
                return Err(Errno::EPERM);
            }
            task.fs_base.store(a[1], Ordering::Relaxed);
            tessera_platform::usermode::set_fs_base(a[1]);
            Ok(0)
        }
        ARCH_GET_FS => {
            user::write_u64(a[1], task.fs_base.load(Ordering::Relaxed))?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn prctl(a: &Args) -> KResult<isize> {
    let task = current();
    match a[0] as u32 {
        PR_SET_NAME => {
            let name = user::read_cstr(a[1], TASK_COMM_LEN, Errno::EINVAL).unwrap_or_default();
            *task.name.lock() = alloc::string::String::from_utf8_lossy(&name).into_owned();
            Ok(0)
        }
        PR_GET_NAME => {
            let mut buf = [0u8; TASK_COMM_LEN];
            let name = task.name.lock();
            let n = name.len().min(TASK_COMM_LEN - 1);
            buf[..n].copy_from_slice(&name.as_bytes()[..n]);
            user::write_bytes(a[1], &buf)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn getrandom(a: &Args) -> KResult<isize> {
    let flags = a[2] as u32;
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return Err(Errno::EINVAL);
    }
    let len = (a[1] as usize).min(1 << 20);
    let mut buf = alloc::vec![0u8; len];
    crate::random::fill(&mut buf);
    user::write_bytes(a[0], &buf)?;
    Ok(len as isize)
}

pub fn reboot(a: &Args) -> KResult<isize> {
    if a[0] as u32 != LINUX_REBOOT_MAGIC1 {
        return Err(Errno::EINVAL);
    }
    match a[2] as u32 {
        LINUX_REBOOT_CMD_POWER_OFF | LINUX_REBOOT_CMD_HALT | LINUX_REBOOT_CMD_RESTART => {
            crate::userspace::power_off(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// getpriority returns 20 - nice (the raw syscall's encoding); every task has nice 0.
pub fn getpriority(a: &Args) -> KResult<isize> {
    if a[0] as u32 > PRIO_USER {
        return Err(Errno::EINVAL);
    }
    Ok(20)
}

pub fn setpriority(a: &Args) -> KResult<isize> {
    if a[0] as u32 > PRIO_USER {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// syslog(type, buf, len): the kernel log (`crate::syslog`).
pub fn syslog(a: &Args) -> KResult<isize> {
    let buf = a[1];
    crate::syslog::syslog(a[0] as u32, buf, a[2] as i32, |bytes| {
        user::write_bytes(buf, bytes)
    })
}
