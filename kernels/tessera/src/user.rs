//! Reading and writing user memory from syscalls, with Linux's errors (EFAULT, ENAMETOOLONG).

use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::fs::{IOVEC_SIZE, MAX_RW_COUNT, UIO_MAXIOV};
use tessera_abi::{Errno, KResult};
use tessera_platform::usercopy::{copy_from_user, copy_to_user, read_user_cstr};
use tessera_platform::vm::USER_END;
use tessera_vfs::PathReader;

pub fn read_bytes(addr: u64, len: usize) -> KResult<Vec<u8>> {
    let mut buf = vec![0u8; len];
    copy_from_user(&mut buf, addr).map_err(|_| Errno::EFAULT)?;
    Ok(buf)
}

pub fn read_into(addr: u64, buf: &mut [u8]) -> KResult<()> {
    copy_from_user(buf, addr).map_err(|_| Errno::EFAULT)
}

pub fn write_bytes(addr: u64, data: &[u8]) -> KResult<()> {
    copy_to_user(addr, data).map_err(|_| Errno::EFAULT)
}

/// A user array of `count` iovecs as (base, len) pairs, as Linux's `import_iovec` reads it:
/// more than `UIO_MAXIOV` is `too_many` (EINVAL for readv and writev, EMSGSIZE in a msghdr),
/// a length negative as an `ssize_t` is EINVAL, a buffer that does not lie in the user half
/// is EFAULT (`access_ok`), and lengths are cut where their total reaches `MAX_RW_COUNT`. So
/// no sum of lengths, and no base plus an offset within its length, overflows.
pub fn read_iovecs(addr: u64, count: u64, too_many: Errno) -> KResult<Vec<(u64, usize)>> {
    if count > UIO_MAXIOV {
        return Err(too_many);
    }
    let raw = read_bytes(addr, count as usize * IOVEC_SIZE)?;
    let mut total = 0;
    raw.chunks(IOVEC_SIZE)
        .map(|c| {
            let base = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
            let len = u64::from_le_bytes(c[8..].try_into().expect("8 bytes"));
            if (len as i64) < 0 {
                return Err(Errno::EINVAL);
            }
            if base.checked_add(len).is_none_or(|end| end > USER_END) {
                return Err(Errno::EFAULT);
            }
            let len = (len as usize).min(MAX_RW_COUNT - total);
            total += len;
            Ok((base, len))
        })
        .collect()
}

pub fn read_u64(addr: u64) -> KResult<u64> {
    let mut b = [0u8; 8];
    read_into(addr, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

pub fn read_u32(addr: u64) -> KResult<u32> {
    let mut b = [0u8; 4];
    read_into(addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

pub fn write_u64(addr: u64, value: u64) -> KResult<()> {
    write_bytes(addr, &value.to_le_bytes())
}

pub fn write_u32(addr: u64, value: u32) -> KResult<()> {
    write_bytes(addr, &value.to_le_bytes())
}

/// A NUL-terminated string of at most `max` bytes (with the NUL), else `too_long`.
pub fn read_cstr(addr: u64, max: usize, too_long: Errno) -> KResult<Vec<u8>> {
    let mut buf = vec![0u8; max];
    match read_user_cstr(addr, &mut buf) {
        Ok(Some(len)) => {
            buf.truncate(len);
            Ok(buf)
        }
        Ok(None) => Err(too_long),
        Err(_) => Err(Errno::EFAULT),
    }
}

/// A NUL-terminated string of at most `max` bytes (with the NUL), else `too_long`, read
/// through a small buffer into one that grows with the string: for limits far above the
/// usual length (an argv string may have 128 KiB), where [`read_cstr`]'s buffer of `max`
/// zeroed bytes would cost more than the string.
pub fn read_cstr_growing(addr: u64, max: usize, too_long: Errno) -> KResult<Vec<u8>> {
    let mut string = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        let room = (max - string.len()).min(chunk.len());
        if room == 0 {
            return Err(too_long);
        }
        let at = addr.checked_add(string.len() as u64).ok_or(Errno::EFAULT)?;
        match read_user_cstr(at, &mut chunk[..room]) {
            Ok(Some(len)) => {
                string.extend_from_slice(&chunk[..len]);
                return Ok(string);
            }
            Ok(None) => string.extend_from_slice(&chunk[..room]),
            Err(_) => return Err(Errno::EFAULT),
        }
    }
}

/// Whether `len` bytes from `addr` lie in the user half: Linux's `access_ok`
/// (`include/asm-generic/access_ok.h`: `len <= TASK_SIZE_MAX && addr <= TASK_SIZE_MAX -
/// len`, the same as an end that neither wraps nor passes `TASK_SIZE_MAX`).
#[inline(always)]
pub fn access_ok(addr: u64, len: u64) -> bool {
    addr.checked_add(len)
        .is_some_and(|end| end <= tessera_abi::mm::TASK_SIZE_MAX)
}

/// A path argument read from user memory (dereferences to its bytes, without the NUL).
pub use tessera_vfs::PathArg as UserPath;

/// A path argument: EFAULT, ENAMETOOLONG (longer than PATH_MAX), ENOENT (empty), read as the
/// config's `path-buf` variant says (`tessera_vfs::path_arg`).
#[inline(always)]
pub fn read_path(addr: u64) -> KResult<UserPath> {
    <crate::variants::PathBuf as PathReader>::read(|buf| read_user_cstr(addr, buf).map_err(|_| ()))
}

/// A NULL-terminated array of string pointers (argv, envp), limited like Linux (E2BIG).
pub fn read_string_array(addr: u64) -> KResult<Vec<Vec<u8>>> {
    let mut strings = Vec::new();
    if addr == 0 {
        return Ok(strings);
    }
    let mut total = 0usize;
    for i in 0.. {
        let ptr = read_u64(addr + i * 8)?;
        if ptr == 0 {
            break;
        }
        let s = read_cstr_growing(ptr, tessera_exec::MAX_ARG_STRLEN, Errno::E2BIG)?;
        total += s.len() + 1 + 8;
        if total > tessera_exec::MAX_ARG_TOTAL {
            return Err(Errno::E2BIG);
        }
        strings.push(s);
    }
    Ok(strings)
}

/// Little-endian field writer for ABI structs built in a byte buffer.
pub struct StructWriter {
    pub bytes: Vec<u8>,
}

impl StructWriter {
    pub fn new(size: usize) -> Self {
        StructWriter {
            bytes: vec![0; size],
        }
    }

    pub fn u64(&mut self, at: usize, v: u64) -> &mut Self {
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
        self
    }

    pub fn u32(&mut self, at: usize, v: u32) -> &mut Self {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
        self
    }

    pub fn u16(&mut self, at: usize, v: u16) -> &mut Self {
        self.bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
        self
    }

    pub fn bytes_at(&mut self, at: usize, data: &[u8]) -> &mut Self {
        self.bytes[at..at + data.len()].copy_from_slice(data);
        self
    }
}
