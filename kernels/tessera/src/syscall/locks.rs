//! File lock system calls: `fcntl`'s record lock commands (`F_GETLK`, `F_SETLK`,
//! `F_SETLKW` and their `F_OFD_` forms) and `flock`, decoded with Linux's checks in Linux's
//! order (`fs/fcntl.c`, `fs/locks.c`); the tables are `fs/locks.rs`.

use alloc::sync::Arc;

use tessera_abi::fs::{
    F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_RDLCK, F_SETLKW, F_UNLCK, F_WRLCK, LOCK_EX,
    LOCK_MAND, LOCK_NB, LOCK_SH, LOCK_UN, O_PATH, SEEK_CUR, SEEK_END, SEEK_SET,
};
use tessera_abi::{Errno, KResult};
use tessera_filelock::{LockType, OFFSET_MAX, Owner, Range, posix_range};

use super::Args;
use super::args::Decode;
use crate::fs::OpenFile;
use crate::fs::locks::{self, Flavour, description_owner};
use crate::process::current;
use crate::user;

/// `struct flock` on x86_64: `l_type` and `l_whence` (16 bits each), 4 bytes of padding,
/// `l_start` and `l_len` (64 bits), `l_pid` (32 bits), 4 bytes of padding.
const FLOCK_SIZE: usize = 32;

fn field<const N: usize>(raw: &[u8], at: usize) -> [u8; N] {
    let mut bytes = [0; N];
    bytes.copy_from_slice(&raw[at..at + N]);
    bytes
}

/// The byte range of a `struct flock` (Linux's `flock64_to_posix_lock`): `l_whence`
/// counts from the start, the file offset or the file size (EINVAL for anything else).
fn range_of(file: &OpenFile, whence: i16, start: i64, len: i64) -> KResult<Range> {
    let base = match u32::try_from(whence) {
        Ok(SEEK_SET) => 0,
        Ok(SEEK_CUR) => *file.offset.lock(),
        Ok(SEEK_END) => file.ops.size(),
        _ => return Err(Errno::EINVAL),
    };
    posix_range(
        i64::try_from(base).map_err(|_| Errno::EOVERFLOW)?,
        start,
        len,
    )
}

/// `fcntl(fd, F_GETLK | F_SETLK | F_SETLKW | F_OFD_*, struct flock *)`.
pub fn fcntl(fd: i32, cmd: u32, arg: u64) -> KResult<isize> {
    let task = current();
    let (file, table) = {
        let files = task.files.lock();
        (files.get(fd)?, files.lock_owner())
    };
    // An O_PATH descriptor takes only the descriptor commands (Linux's check_fcntl_cmd).
    if file.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let mut raw = user::read_bytes(arg, FLOCK_SIZE)?;
    let l_type = i16::from_le_bytes(field(&raw, 0));
    let l_whence = i16::from_le_bytes(field(&raw, 2));
    let l_start = i64::from_le_bytes(field(&raw, 8));
    let l_len = i64::from_le_bytes(field(&raw, 16));
    let l_pid = i32::from_le_bytes(field(&raw, 24));
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    let (owner, flavour) = if ofd {
        (description_owner(&file), Flavour::Ofd)
    } else {
        (Owner(table), Flavour::Posix)
    };
    if matches!(cmd, F_OFD_GETLK | tessera_abi::fs::F_GETLK) {
        let kind = match l_type {
            F_RDLCK => LockType::Read,
            F_WRLCK => LockType::Write,
            _ => return Err(Errno::EINVAL),
        };
        let range = range_of(&file, l_whence, l_start, l_len)?;
        if ofd && l_pid != 0 {
            return Err(Errno::EINVAL);
        }
        // What the caller passed comes back, with l_type F_UNLCK, or the conflicting lock
        // from l_whence SEEK_SET (an OFD lock's l_pid is -1).
        match locks::test(&file, owner, kind, range) {
            None => raw[0..2].copy_from_slice(&F_UNLCK.to_le_bytes()),
            Some(held) => {
                let held_type = match held.kind {
                    LockType::Read => F_RDLCK,
                    LockType::Write => F_WRLCK,
                };
                let len = if held.range.end == OFFSET_MAX {
                    0
                } else {
                    held.range.end - held.range.start + 1
                };
                let pid = if held.ofd { -1 } else { held.pid as i32 };
                raw[0..2].copy_from_slice(&held_type.to_le_bytes());
                raw[2..4].copy_from_slice(&(SEEK_SET as i16).to_le_bytes());
                raw[8..16].copy_from_slice(&held.range.start.to_le_bytes());
                raw[16..24].copy_from_slice(&len.to_le_bytes());
                raw[24..28].copy_from_slice(&pid.to_le_bytes());
            }
        }
        user::write_bytes(arg, &raw)?;
        return Ok(0);
    }
    let range = range_of(&file, l_whence, l_start, l_len)?;
    let kind = match l_type {
        F_RDLCK => Some(LockType::Read),
        F_WRLCK => Some(LockType::Write),
        F_UNLCK => None,
        _ => return Err(Errno::EINVAL),
    };
    match kind {
        Some(LockType::Read) if !file.readable() => return Err(Errno::EBADF),
        Some(LockType::Write) if !file.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    if ofd && l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
    locks::set(&file, owner, flavour, kind, range, wait)?;
    // A process lock taken while another thread closed the descriptor would outlive the
    // close that should have released it: give it back (as Linux's fcntl_setlk does).
    if flavour == Flavour::Posix && kind.is_some() {
        let still_open = task
            .files
            .lock()
            .get(fd)
            .is_ok_and(|f| Arc::ptr_eq(&f, &file));
        if !still_open {
            locks::set(&file, owner, flavour, None, range, false)?;
            return Err(Errno::EBADF);
        }
    }
    Ok(0)
}

/// `flock(fd, operation)`.
pub fn flock(a: &Args) -> KResult<isize> {
    let cmd = a.uint(1);
    if cmd & LOCK_MAND != 0 {
        return Ok(0);
    }
    let kind = match cmd & !LOCK_NB {
        LOCK_SH => Some(LockType::Read),
        LOCK_EX => Some(LockType::Write),
        LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let file = current().files.lock().get(a.fd(0))?;
    if file.flags() & O_PATH != 0 || (kind.is_some() && !file.readable() && !file.writable()) {
        return Err(Errno::EBADF);
    }
    let owner = description_owner(&file);
    locks::set(
        &file,
        owner,
        Flavour::Flock,
        kind,
        Range::ALL,
        cmd & LOCK_NB == 0,
    )?;
    Ok(0)
}
