//! Shared memory segments: `shmget`, `shmat`, `shmdt`, `shmctl` (`ipc/shm.c`).
//!
//! A segment is one [`SharedAnon`] object, the kernel's shared anonymous memory: `shmat` maps
//! it as a shared area whose backing carries an [`Attachment`], and every page any process
//! touches is the segment's frame. An attachment counts in `shm_nattch` for as long as an
//! area holds it: fork's copies and the pieces a split (mprotect, a partial munmap) makes
//! count too, as Linux's `shm_open` counts each area. The last area to go (shmdt, munmap,
//! exec, exit) takes a segment that `IPC_RMID` marked `SHM_DEST` with it; until then the
//! segment keeps its id (its key becomes `IPC_PRIVATE`) and may still be attached.
//!
//! Lock order: an address space's lock, then [`SEGMENTS`] (areas come and go under the
//! former); nothing here takes an address space's lock with [`SEGMENTS`] held.

use alloc::sync::Arc;

use tessera_abi::{Errno, KResult};
use tessera_ipc::ids::Ids;
use tessera_ipc::shm::*;
use tessera_ipc::{IPC_INFO, IPC_PRIVATE, IPC_RMID, IPC_SET, IPC_STAT, layout};
use tessera_platform::vm::USER_END;

use super::{CALLER, now, pid};
use crate::mm::vm::{Backing, Prot, SharedAnon, with_current as with_vm};
use crate::variants::SubsystemLock;

const PAGE: u64 = 4096;

struct Segment {
    pages: Arc<SharedAnon>,
    size: u64,
    atime: i64,
    dtime: i64,
    ctime: i64,
    cpid: i32,
    lpid: i32,
    nattch: u64,
}

struct Segments {
    ids: Ids<Segment>,
    /// Pages of all segments (`shm_tot`).
    total_pages: u64,
}

static SEGMENTS: SubsystemLock<Segments> = SubsystemLock::new(Segments {
    ids: Ids::new(SHMMNI),
    total_pages: 0,
});

/// What marks an area as an attachment of segment `id` (an id stays valid while the segment
/// has attachments, removed or not). Cloning it (fork, a split) counts one more attachment,
/// dropping it one fewer.
pub struct Attachment {
    id: i32,
}

impl Attachment {
    /// The segment this area attaches.
    pub fn id(&self) -> i32 {
        self.id
    }

    fn attached(segment: &mut Segment) {
        segment.nattch += 1;
        segment.atime = now();
        segment.lpid = pid();
    }
}

// Out of line, both: they are the only code of an area's copy and drop that takes a lock,
// and inlined they would weigh on every area's copy (fork) and drop (exit).
impl Clone for Attachment {
    #[inline(never)]
    fn clone(&self) -> Self {
        if let Ok(entry) = SEGMENTS.lock().ids.get_mut(self.id) {
            Attachment::attached(&mut entry.object);
        }
        Attachment { id: self.id }
    }
}

impl Drop for Attachment {
    #[inline(never)]
    fn drop(&mut self) {
        let mut segments = SEGMENTS.lock();
        let Ok(entry) = segments.ids.get_mut(self.id) else {
            return;
        };
        let segment = &mut entry.object;
        segment.nattch -= 1;
        segment.dtime = now();
        segment.lpid = pid();
        if segment.nattch == 0 && entry.perm.mode & SHM_DEST != 0 {
            destroy(&mut segments, self.id);
        }
    }
}

/// Removes a segment from the table; its pages go with the last area that maps them.
fn destroy(segments: &mut Segments, id: i32) {
    if let Ok(entry) = segments.ids.remove(id) {
        segments.total_pages -= entry.object.size.div_ceil(PAGE);
    }
}

pub fn shmget(key: i32, size: u64, flags: i32) -> KResult<isize> {
    let mut segments = SEGMENTS.lock();
    let total = segments.total_pages;
    let mut pages = 0;
    let id = segments.ids.get_or_create(
        key,
        flags,
        &CALLER,
        |segment| {
            if segment.size < size {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            }
        },
        || {
            pages = new_segment_pages(size, total)?;
            Ok(Segment {
                pages: SharedAnon::new(),
                size,
                atime: 0,
                dtime: 0,
                ctime: now(),
                cpid: pid(),
                lpid: 0,
                nattch: 0,
            })
        },
    )?;
    segments.total_pages += pages;
    Ok(id as isize)
}

pub fn shmat(shmid: i32, addr: u64, flags: i32) -> KResult<isize> {
    if shmid < 0 {
        return Err(Errno::EINVAL);
    }
    let at = attach_address(addr, flags)?;
    let (mut prot, mut access) = if flags & SHM_RDONLY != 0 {
        (Prot::READ, 0o444)
    } else {
        (Prot::READ | Prot::WRITE, 0o666)
    };
    if flags & SHM_EXEC != 0 {
        prot |= Prot::EXEC;
        access |= 0o111;
    }
    let (pages, size, attachment) = {
        let mut segments = SEGMENTS.lock();
        let entry = segments.ids.get_mut(shmid)?;
        if !entry.perm.permits(&CALLER, access) {
            return Err(Errno::EACCES);
        }
        Attachment::attached(&mut entry.object);
        let segment = &entry.object;
        (
            segment.pages.clone(),
            segment.size,
            Attachment { id: shmid },
        )
    };
    // Dropped on failure (with the address space locked: the order above), which counts
    // the attachment off again.
    let backing = Backing::SharedAnon {
        pages,
        offset: 0,
        shm: Some(attachment),
    };
    let len = size.div_ceil(PAGE) * PAGE;
    let start = with_vm(|vm| match at {
        Some(start) => {
            let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
            if flags & SHM_REMAP == 0 && vm.areas().any(|a| a.start < end && a.end > start) {
                return Err(Errno::EINVAL);
            }
            if end > USER_END {
                return Err(Errno::ENOMEM);
            }
            vm.map(start, len, prot, true, backing, true)
        }
        None => vm.map(0, len, prot, true, backing, false),
    })?;
    Ok(start as isize)
}

pub fn shmdt(addr: u64) -> KResult<isize> {
    if !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    // As Linux's: the first attachment area at or above `addr` that starts where its
    // segment would (`start - addr` is its offset) names the segment and its size; it and
    // the other pieces of that segment placed the same way within the size go.
    with_vm(|vm| {
        let piece = |a: &crate::mm::vm::Vma| match &a.backing {
            Backing::SharedAnon {
                offset,
                shm: Some(shm),
                ..
            } if a.start >= addr && a.start - addr == *offset => Some(shm.id()),
            _ => None,
        };
        let Some((first, id)) = vm.areas().find_map(|a| piece(a).map(|id| (a.start, id))) else {
            return Err(Errno::EINVAL);
        };
        let size = SEGMENTS
            .lock()
            .ids
            .get(id)
            .map_or(0, |e| e.object.size.div_ceil(PAGE) * PAGE);
        let doomed: alloc::vec::Vec<(u64, u64)> = vm
            .areas()
            .filter(|a| {
                a.start == first
                    || (a.start > first && a.end - addr <= size && piece(a) == Some(id))
            })
            .map(|a| (a.start, a.end))
            .collect();
        for (start, end) in doomed {
            vm.unmap(start, end - start);
        }
        Ok(0)
    })
}

pub fn shmctl(shmid: i32, cmd: i32, buf: u64) -> KResult<isize> {
    if cmd < 0 || shmid < 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        IPC_INFO => {
            let max = SEGMENTS.lock().ids.max_index();
            let record = layout::shminfo(SHMMAX, SHMMIN, SHMMNI as u64, SHMMNI as u64, SHMALL);
            crate::user::write_bytes(buf, &record)?;
            Ok(max.max(0) as isize)
        }
        SHM_INFO => {
            let (max, record) = {
                let segments = SEGMENTS.lock();
                let rss = segments
                    .ids
                    .iter()
                    .map(|(_, e)| e.object.pages.resident_pages() as u64)
                    .sum();
                let used = segments.ids.in_use() as i32;
                let record = layout::shm_info(used, segments.total_pages, rss);
                (segments.ids.max_index(), record)
            };
            crate::user::write_bytes(buf, &record)?;
            Ok(max.max(0) as isize)
        }
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let (id, record) = {
                let segments = SEGMENTS.lock();
                let (id, entry) = if cmd == IPC_STAT {
                    (0, segments.ids.get(shmid)?)
                } else {
                    segments.ids.get_by_index(shmid)?
                };
                if cmd != SHM_STAT_ANY && !entry.perm.permits(&CALLER, 0o444) {
                    return Err(Errno::EACCES);
                }
                let s = &entry.object;
                let ds = layout::ShmidDs {
                    segsz: s.size,
                    atime: s.atime,
                    dtime: s.dtime,
                    ctime: s.ctime,
                    cpid: s.cpid,
                    lpid: s.lpid,
                    nattch: s.nattch,
                };
                (id, layout::shmid_ds(&entry.perm, &ds))
            };
            crate::user::write_bytes(buf, &record)?;
            Ok(id as isize)
        }
        IPC_SET => {
            let mut ds = [0; layout::SHMID_DS_SIZE];
            crate::user::read_into(buf, &mut ds)?;
            let (uid, gid, mode) = layout::perm_update(&ds);
            let mut segments = SEGMENTS.lock();
            let entry = segments.ids.get_mut(shmid)?;
            entry.perm.may_change(&CALLER)?;
            entry.perm.update(uid, gid, mode)?;
            entry.object.ctime = now();
            Ok(0)
        }
        IPC_RMID => {
            let mut segments = SEGMENTS.lock();
            let entry = segments.ids.get_mut(shmid)?;
            entry.perm.may_change(&CALLER)?;
            if entry.object.nattch > 0 {
                entry.perm.mode |= SHM_DEST;
                entry.perm.key = IPC_PRIVATE;
            } else {
                destroy(&mut segments, shmid);
            }
            Ok(0)
        }
        SHM_LOCK | SHM_UNLOCK => {
            // Nothing is ever swapped: locking only shows in the mode.
            let mut segments = SEGMENTS.lock();
            let entry = segments.ids.get_mut(shmid)?;
            if cmd == SHM_LOCK {
                entry.perm.mode |= SHM_LOCKED;
            } else {
                entry.perm.mode &= !SHM_LOCKED;
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
