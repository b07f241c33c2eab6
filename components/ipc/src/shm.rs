//! Shared memory's limits and `shmat`'s address rules (`ipc/shm.c`). The segment itself is
//! the kernel's (shared anonymous memory).

use crate::Errno;

/// Largest segment, and most pages in all segments (`ULONG_MAX - 2^24`: "unlimited").
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
pub const SHMALL: u64 = u64::MAX - (1 << 24);
/// Smallest segment.
pub const SHMMIN: u64 = 1;
/// Most segments (and, as Linux reports it, most per process).
pub const SHMMNI: usize = 4096;

/// Mode bits beyond the permissions: removed, waiting for its last detach; locked.
pub const SHM_DEST: u32 = 0o1000;
pub const SHM_LOCKED: u32 = 0o2000;

/// shmat's flags.
pub const SHM_RDONLY: i32 = 0o10000;
pub const SHM_RND: i32 = 0o20000;
pub const SHM_REMAP: i32 = 0o40000;
pub const SHM_EXEC: i32 = 0o100000;

/// shmctl's commands beyond `IPC_*`.
pub const SHM_LOCK: i32 = 11;
pub const SHM_UNLOCK: i32 = 12;
pub const SHM_STAT: i32 = 13;
pub const SHM_INFO: i32 = 14;
pub const SHM_STAT_ANY: i32 = 15;

/// `SHMLBA` on x86: a page.
pub const SHMLBA: u64 = 4096;

/// A new segment of `size` bytes, with `total_pages` in all segments already (`newseg`):
/// EINVAL outside `SHMMIN..=SHMMAX`, ENOSPC past `SHMALL`. Its page count.
pub fn new_segment_pages(size: u64, total_pages: u64) -> Result<u64, Errno> {
    if !(SHMMIN..=SHMMAX).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let pages = size.div_ceil(SHMLBA);
    match total_pages.checked_add(pages) {
        Some(total) if total <= SHMALL => Ok(pages),
        _ => Err(Errno::ENOSPC),
    }
}

/// Where `shmat` maps (`do_shmat`): `None` for anywhere (address 0), else the fixed address
/// (rounded down to `SHMLBA` with `SHM_RND`). EINVAL for a misaligned address without
/// `SHM_RND`, for `SHM_REMAP` without an address, and for `SHM_REMAP` with an address that
/// rounds to 0.
pub fn attach_address(addr: u64, flags: i32) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return if flags & SHM_REMAP != 0 {
            Err(Errno::EINVAL)
        } else {
            Ok(None)
        };
    }
    if addr.is_multiple_of(SHMLBA) {
        return Ok(Some(addr));
    }
    if flags & SHM_RND == 0 {
        return Err(Errno::EINVAL);
    }
    let rounded = addr - addr % SHMLBA;
    if rounded == 0 && flags & SHM_REMAP != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(rounded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(new_segment_pages(0, 0), Err(Errno::EINVAL));
        assert_eq!(new_segment_pages(1, 0), Ok(1));
        assert_eq!(new_segment_pages(4097, 0), Ok(2));
        assert_eq!(new_segment_pages(SHMMAX + 1, 0), Err(Errno::EINVAL));
        assert_eq!(new_segment_pages(4096, SHMALL), Err(Errno::ENOSPC));
        assert_eq!(new_segment_pages(4096, u64::MAX), Err(Errno::ENOSPC));
    }

    #[test]
    fn addresses() {
        assert_eq!(attach_address(0, 0), Ok(None));
        assert_eq!(attach_address(0, SHM_REMAP), Err(Errno::EINVAL));
        assert_eq!(attach_address(0x10000, 0), Ok(Some(0x10000)));
        assert_eq!(attach_address(0x10010, 0), Err(Errno::EINVAL));
        assert_eq!(attach_address(0x10010, SHM_RND), Ok(Some(0x10000)));
        assert_eq!(attach_address(0x10, SHM_RND), Ok(Some(0)));
        assert_eq!(
            attach_address(0x10, SHM_RND | SHM_REMAP),
            Err(Errno::EINVAL)
        );
    }
}
