//! A process's address space: its memory areas (VMAs) and page tables, demand paging,
//! copy-on-write after fork, and the operations behind brk, mmap, munmap, mprotect, mremap.
//!
//! No file operation runs while an address space is locked (a task's `vm` lock): a file's
//! read may itself need an address space (procfs reads `task.vm`), and a file system may
//! sleep. So a fault that needs a file's bytes ([`Vm::fault_step`]) stops and names the read
//! ([`FileRead`]); [`resolve_fault`] releases the lock, does the read, takes the lock again
//! and retries, rechecking the area and the page, and releasing what the read produced when
//! it is no longer wanted. Pages stored to through a shared mapping are written back the same
//! way: an unmapping queues the write-back ([`Vm::take_write_backs`]) for whoever holds the
//! lock to run after releasing it.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::mm::{PROT_EXEC, PROT_READ, PROT_WRITE};
use tessera_abi::{Errno, KResult};
use tessera_platform::mm::{PAGE_SIZE, Pfn, frame};
use tessera_platform::vm::{PageFlags, PageTable, USER_END};

use crate::mm::frame_source;
use crate::mm::pagecache::{self, WriteBack};
use crate::mm::user_frames::{
    alloc_user_frame, alloc_user_frame_filled, release_user_frame, share_user_frame,
    share_user_frames, user_frame_refs,
};
use crate::variants::{FilePrivate, SubsystemLock};
use tessera_page_alloc::FileFrame;
use tessera_vfs::{Inode, inode_key};

const PAGE: u64 = PAGE_SIZE as u64;
/// The top of the user address space's stack region: the initial stack ends here, or below
/// the vDSO when there is one (`mm::vdso::SPAN`).
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
/// The stack area: 8 MiB, filled on demand.
pub const STACK_SIZE: u64 = 8 << 20;
/// mmap areas are placed top-down from here.
const MMAP_TOP: u64 = 0x7fff_0000_0000;
/// Lowest address a mapping may use (keeps NULL and the first pages unmapped).
const MMAP_MIN: u64 = 0x10000;
/// A read fault in a private file mapping also maps the cached pages around it, in an
/// aligned window of this many pages (Linux's default `fault_around_bytes`, 64 KiB).
const FAULT_AROUND_PAGES: u64 = pagecache::MAX_AROUND as u64;

bitflags::bitflags! {
    /// PROT_* bits of mmap/mprotect.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Prot: u32 {
        const READ = PROT_READ as u32;
        const WRITE = PROT_WRITE as u32;
        const EXEC = PROT_EXEC as u32;
    }
}

/// What fills a page on first touch.
#[derive(Clone)]
pub enum Backing {
    /// Zeroes.
    Anonymous,
    /// File contents from `offset` (the start of the area), at most `limit` bytes of them;
    /// bytes past that or past the end of the file read as zero. Shared areas map the page
    /// cache's frame; private ones map it copy-on-write (`file-private = "share"`), or copy
    /// the page on first touch (`"copy"`, and always for a page that ends past `limit`).
    File {
        inode: Arc<dyn Inode>,
        offset: u64,
        limit: u64,
        /// The name it was mapped by (what `/proc/PID/maps` shows; the fault path uses
        /// `inode`).
        name: crate::fs::DentryRef,
    },
    /// Shared zeroes: the pages of `pages` from page `offset / PAGE` on (the start of the
    /// area). `shm`: the area attaches a System V segment (`ipc::shm`), counted in its
    /// `shm_nattch` while the area lives.
    SharedAnon {
        pages: Arc<SharedAnon>,
        offset: u64,
        shm: Option<crate::ipc::shm::Attachment>,
    },
    /// Frames the kernel owns for good (the vDSO's code and its clock page, `mm::vdso`),
    /// from frame `offset / PAGE` on: mapped read-only and copy-on-write, so a store (after
    /// mprotect) makes a private copy and never reaches the frame every process shares.
    /// Touching past the last frame is SIGBUS. `name` is what `/proc/PID/maps` shows.
    #[allow(dead_code, reason = "for the vDSO, which a config may leave out")]
    Special {
        frames: &'static [Pfn],
        offset: u64,
        name: &'static str,
    },
}

/// The pages of a shared anonymous mapping (MAP_SHARED | MAP_ANONYMOUS, or MAP_SHARED of
/// `/dev/zero`): every address space that maps it (the areas fork copies included) finds the
/// same frame for a page, whichever touches it first, as with the shmem object behind such
/// a mapping on Linux. It holds one reference on each of its frames; the frames go with the
/// last area that maps it.
pub struct SharedAnon {
    pages: SubsystemLock<BTreeMap<u64, Pfn>>,
}

impl SharedAnon {
    pub fn new() -> Arc<SharedAnon> {
        Arc::new(SharedAnon {
            pages: SubsystemLock::new(BTreeMap::new()),
        })
    }

    /// The frame of page `index` (a zeroed one on first touch), with a reference taken for
    /// the mapping that asks.
    fn frame(&self, index: u64) -> Result<Pfn, FaultError> {
        let mut pages = self.pages.lock();
        let pfn = match pages.get(&index) {
            Some(&pfn) => pfn,
            None => {
                let pfn = alloc_user_frame().map_err(|_| FaultError::NoMemory)?;
                pages.insert(index, pfn);
                pfn
            }
        };
        share_user_frame(pfn);
        Ok(pfn)
    }

    /// How many pages have a frame (`SHM_INFO`'s `shm_rss`).
    pub fn resident_pages(&self) -> usize {
        self.pages.lock().len()
    }
}

impl Drop for SharedAnon {
    fn drop(&mut self) {
        for pfn in core::mem::take(&mut *self.pages.lock()).into_values() {
            release_user_frame(pfn);
        }
    }
}

/// One contiguous area of an address space.
#[derive(Clone)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    /// MAP_SHARED: writes are seen by every process that shares the pages (after fork).
    pub shared: bool,
    pub backing: Backing,
    /// A private file (or vDSO) area holds pages of its own (copies made on write, zeros
    /// past the file data), not only page cache (kernel) frames: fork must copy its page
    /// table entries (Linux's `anon_vma`). Areas without such pages are left to the child's
    /// faults.
    pub private_pages: bool,
}

impl Vma {
    /// The area is going away: if it was the last user of its file, the file's cached pages
    /// go too (see `pagecache::forget_if_last`).
    fn forget_file(self) {
        if let Backing::File { inode, name, .. } = self.backing {
            // The name holds the inode too: it goes first, so that the count says whether
            // this area was the file's last user.
            drop(name);
            pagecache::forget_if_last(&inode);
        }
    }

    fn flags(&self) -> PageFlags {
        let mut flags = PageFlags::empty();
        if self.prot.contains(Prot::WRITE) {
            flags |= PageFlags::WRITABLE;
        }
        if !self.prot.contains(Prot::EXEC) {
            flags |= PageFlags::NO_EXECUTE;
        }
        if self.shared {
            flags |= PageFlags::SHARED;
        }
        if self.prot.is_empty() {
            flags |= PageFlags::NO_ACCESS;
        }
        flags
    }
}

/// Why a user access faulted: the signal the task gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No area, or the access is not allowed: SIGSEGV.
    Segv,
    /// A page of a file mapping wholly past the end of the file: SIGBUS (BUS_ADRERR).
    Bus,
    /// Out of memory.
    NoMemory,
}

/// One step of resolving a fault with the address space locked: done, failed, or stopped
/// for a file read to be done with the lock released.
enum Fault {
    /// The access cannot be resolved: the task gets the error's signal.
    Error(FaultError),
    /// The page's contents come from a file: read them unlocked, then retry.
    Read(FileRead),
}

impl From<FaultError> for Fault {
    #[inline]
    fn from(error: FaultError) -> Fault {
        Fault::Error(error)
    }
}

/// How a file page is brought in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadKind {
    /// Into the page cache, whose frame the mapping maps (shared, or copy-on-write).
    Cached,
    /// Into a frame of the mapping's own: `want` bytes of the file, zeros after them.
    Private { want: usize },
}

/// A file read a fault needs, to be done with the address space unlocked ([`FileRead::run`]).
struct FileRead {
    inode: Arc<dyn Inode>,
    /// The file offset of the page (page-aligned).
    at: u64,
    kind: ReadKind,
}

/// What a [`FileRead`] produced, handed to the retry: a frame with one reference (released
/// when dropped unused: the area or page may have changed meanwhile), or the finding that
/// the page lies past the end of the file.
struct ReadDone {
    key: usize,
    at: u64,
    kind: ReadKind,
    frame: Result<Option<Pfn>, FaultError>,
}

impl FileRead {
    /// Reads the page. A page that holds no byte of the file (the read returns nothing: it
    /// starts at or past the end of the file) is SIGBUS, as on Linux.
    fn run(self) -> ReadDone {
        let frame = match self.kind {
            ReadKind::Cached => match pagecache::read_page(&self.inode, self.at / PAGE) {
                Ok(pfn) => Ok(Some(pfn)),
                Err(pagecache::ReadError::PastEnd) => Err(FaultError::Bus),
                Err(pagecache::ReadError::NoMemory) => Err(FaultError::NoMemory),
            },
            ReadKind::Private { want } => {
                let (inode, at) = (&self.inode, self.at);
                let mut past_end = false;
                let pfn = alloc_user_frame_filled(|pfn| {
                    frame::fill(pfn, |frame| {
                        let n = crate::fs::read_full(inode, at, &mut frame[..want]).unwrap_or(0);
                        pagecache::overlay_read(inode, at, &mut frame[..n]);
                        frame[n..].fill(0);
                        past_end = n == 0;
                    })
                });
                match pfn {
                    Ok(pfn) if past_end => {
                        release_user_frame(pfn);
                        Err(FaultError::Bus)
                    }
                    Ok(pfn) => Ok(Some(pfn)),
                    Err(_) => Err(FaultError::NoMemory),
                }
            }
        };
        ReadDone {
            key: inode_key(&self.inode),
            at: self.at,
            kind: self.kind,
            frame,
        }
    }
}

impl ReadDone {
    /// Whether this is the read of `inode` at `at` for `kind`: what the fault needs now.
    fn answers(&self, inode: &Arc<dyn Inode>, at: u64, kind: ReadKind) -> bool {
        self.key == inode_key(inode) && self.at == at && self.kind == kind
    }

    /// The frame, which the caller now owns (with its reference), or the read's error.
    fn take(mut self) -> Result<Pfn, FaultError> {
        match &mut self.frame {
            Ok(pfn) => Ok(pfn.take().expect("a read's frame is taken once")),
            Err(error) => Err(*error),
        }
    }
}

impl Drop for ReadDone {
    fn drop(&mut self) {
        if let Ok(Some(pfn)) = self.frame {
            release_user_frame(pfn);
        }
    }
}

/// An address space as tasks hold it: shared by the tasks cloned with CLONE_VM (threads,
/// vfork children); empty (None) for a task that runs none (the kernel's own, an exited
/// one).
pub type VmCell = SubsystemLock<Option<Vm>>;

/// Resolves a fault at `addr` in the address space behind `vm` (a task's `vm` lock; `write`
/// and `exec` say what the access was), taking and releasing the lock as needed: file reads
/// run with it released, and the fault is then retried from the start (Linux's
/// `VM_FAULT_RETRY`), so the area and the page are looked up again. Never called with the
/// lock held.
pub fn resolve_fault(
    vm: &SubsystemLock<Option<Vm>>,
    addr: u64,
    write: bool,
    exec: bool,
) -> Result<(), FaultError> {
    // The first attempt is the whole of the anonymous and page cache hit paths.
    let first = match vm.lock().as_mut() {
        Some(space) => space.handle_fault(addr, write, exec),
        None => return Err(FaultError::Segv),
    };
    match first {
        Ok(()) => Ok(()),
        Err(FirstTry::Failed(error)) => Err(error),
        Err(FirstTry::NeedsRead) => resolve_with_reads(vm, addr, write, exec),
    }
}

/// How the first attempt at a fault failed: small, so the fast path returns it in a register.
enum FirstTry {
    Failed(FaultError),
    /// A file read is needed: [`resolve_with_reads`] takes over.
    NeedsRead,
}

/// The rest of [`resolve_fault`] once a file read is needed: each attempt that stops for a
/// read gets it done unlocked and tries again with what it produced. Kept out of line, so
/// the anonymous and page cache hit paths stay as short as they were.
#[inline(never)]
fn resolve_with_reads(
    vm: &SubsystemLock<Option<Vm>>,
    addr: u64,
    write: bool,
    exec: bool,
) -> Result<(), FaultError> {
    let mut done = None;
    loop {
        let read = {
            let mut guard = vm.lock();
            let space = guard.as_mut().ok_or(FaultError::Segv)?;
            match space.fault_step(addr, write, exec, done.take()) {
                Ok(()) => return Ok(()),
                Err(Fault::Error(error)) => return Err(error),
                Err(Fault::Read(read)) => read,
            }
        };
        done = Some(read.run());
    }
}

/// Reads `buf.len()` bytes at `addr` from the address space behind `vm` (another process's:
/// `/proc/PID/cmdline`), faulting pages in as a user read would; how many bytes it got
/// before an unmapped or unreadable page.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn read_user(vm: &SubsystemLock<Option<Vm>>, addr: u64, buf: &mut [u8]) -> usize {
    let mut done = 0;
    while done < buf.len() {
        let Some(at) = addr.checked_add(done as u64) else {
            break;
        };
        let chunk = ((PAGE - at % PAGE) as usize).min(buf.len() - done);
        if resolve_fault(vm, at, false, false).is_err() {
            break;
        }
        let mut guard = vm.lock();
        let Some(space) = guard.as_mut() else {
            break;
        };
        match space.table.query(at & !(PAGE - 1)) {
            Some((pfn, _)) => {
                frame::read(pfn, (at % PAGE) as usize, &mut buf[done..done + chunk]);
                done += chunk;
            }
            None => break,
        }
    }
    done
}

/// Writes `data` at `addr` into the address space behind `vm` (e.g. a fork child's memory,
/// not the running one), resolving demand paging and copy-on-write like a user store would.
pub fn write_user(vm: &SubsystemLock<Option<Vm>>, addr: u64, data: &[u8]) -> KResult<()> {
    let mut done = 0;
    while done < data.len() {
        let at = addr + done as u64;
        let chunk = ((PAGE - at % PAGE) as usize).min(data.len() - done);
        resolve_fault(vm, at, true, false).map_err(|_| Errno::EFAULT)?;
        let mut guard = vm.lock();
        let vm = guard.as_mut().ok_or(Errno::EFAULT)?;
        match vm.table.query(at) {
            // Resolved and still so (nothing runs between on this CPU, but check).
            Some((pfn, flags)) if flags.contains(PageFlags::WRITABLE) => {
                frame::write(pfn, (at % PAGE) as usize, &data[done..done + chunk]);
                done += chunk;
            }
            _ => continue,
        }
    }
    Ok(())
}

/// An address space.
pub struct Vm {
    table: PageTable,
    areas: BTreeMap<u64, Vma>,
    pub brk_start: u64,
    /// The top of the initial stack (`/proc/PID/maps` names the area ending there
    /// `[stack]`): [`STACK_TOP`], less what the vDSO takes above it.
    pub stack_top: u64,
    /// Where execve put the argument strings and the environment strings (Linux's
    /// `mm->arg_start..arg_end` and `env_start..env_end`): what `/proc/PID/cmdline` and
    /// `environ` read from the process's memory.
    pub args: core::ops::Range<u64>,
    pub env: core::ops::Range<u64>,
    pub brk: u64,
    /// Pages stored to through shared mappings whose last mapping went while the lock was
    /// held: written back by whoever holds it, after releasing it ([`Vm::take_write_backs`]).
    write_backs: Vec<WriteBack>,
}

impl Vm {
    pub fn new() -> KResult<Vm> {
        let table = PageTable::new(frame_source()).map_err(|_| Errno::ENOMEM)?;
        Ok(Vm {
            table,
            areas: BTreeMap::new(),
            brk_start: 0,
            stack_top: STACK_TOP,
            args: 0..0,
            env: 0..0,
            brk: 0,
            write_backs: Vec::new(),
        })
    }

    pub fn activate(&self) {
        self.table.activate();
    }

    /// The area containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.areas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    /// The frame mapped at `addr` and whether it is mapped writable; None before the page's
    /// first touch (the keys of shared futexes, `process/futex.rs`).
    pub fn frame_at(&mut self, addr: u64) -> Option<(Pfn, bool)> {
        let (pfn, flags) = self.table.query(addr & !(PAGE - 1))?;
        Some((pfn, flags.contains(PageFlags::WRITABLE)))
    }

    /// Every area, in address order (`/proc/PID/maps`).
    #[allow(dead_code, reason = "for procfs, which a config may leave out")]
    pub fn areas(&self) -> impl Iterator<Item = &Vma> {
        self.areas.values()
    }

    /// Whether [start, end) overlaps no area.
    fn is_free(&self, start: u64, end: u64) -> bool {
        start >= MMAP_MIN
            && end <= USER_END
            && self
                .areas
                .range(..end)
                .next_back()
                .is_none_or(|(_, v)| v.end <= start)
    }

    /// Adds an area at a fixed place (replacing whatever was mapped there).
    pub fn insert(&mut self, vma: Vma) {
        self.unmap(vma.start, vma.end - vma.start);
        self.areas.insert(vma.start, vma);
    }

    /// Finds room for `len` bytes, top-down below the mmap base.
    pub fn find_free(&self, len: u64) -> Option<u64> {
        let mut top = MMAP_TOP;
        for (_, vma) in self.areas.range(..MMAP_TOP).rev() {
            if vma.end <= top && top - vma.end >= len {
                break;
            }
            top = top.min(vma.start);
        }
        let start = top.checked_sub(len)?;
        self.is_free(start, start + len).then_some(start)
    }

    /// mmap: a new area; `fixed` places it exactly at `addr` (replacing mappings).
    pub fn map(
        &mut self,
        addr: u64,
        len: u64,
        prot: Prot,
        shared: bool,
        backing: Backing,
        fixed: bool,
    ) -> KResult<u64> {
        let len = len.checked_next_multiple_of(PAGE).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let start = if fixed {
            if !addr.is_multiple_of(PAGE) || addr.checked_add(len).is_none_or(|end| end > USER_END)
            {
                return Err(Errno::EINVAL);
            }
            addr
        } else if addr != 0
            && addr.is_multiple_of(PAGE)
            && addr
                .checked_add(len)
                .is_some_and(|end| self.is_free(addr, end))
        {
            addr
        } else {
            self.find_free(len).ok_or(Errno::ENOMEM)?
        };
        self.insert(Vma {
            start,
            end: start + len,
            prot,
            shared,
            backing,
            private_pages: false,
        });
        Ok(start)
    }

    /// Splits areas so that `at` is a boundary.
    fn split_at(&mut self, at: u64) {
        let Some(vma) = self.find(at).cloned() else {
            return;
        };
        if vma.start == at {
            return;
        }
        let mut upper = vma.clone();
        upper.start = at;
        match &mut upper.backing {
            Backing::File { offset, limit, .. } => {
                *offset += at - vma.start;
                *limit = limit.saturating_sub(at - vma.start);
            }
            Backing::SharedAnon { offset, .. } | Backing::Special { offset, .. } => {
                *offset += at - vma.start
            }
            Backing::Anonymous => {}
        }
        self.areas.get_mut(&vma.start).expect("found").end = at;
        self.areas.insert(at, upper);
    }

    /// munmap: removes [start, start+len), releasing its pages.
    pub fn unmap(&mut self, start: u64, len: u64) {
        let end = start.saturating_add(len).min(USER_END);
        if start >= end {
            return;
        }
        self.split_at(start);
        self.split_at(end);
        self.release_pages(start, end);
        let doomed: Vec<u64> = self.areas.range(start..end).map(|(&s, _)| s).collect();
        for s in doomed {
            if let Some(vma) = self.areas.remove(&s) {
                vma.forget_file();
            }
        }
    }

    /// The page-cache key of a shared file mapping's page at `va`.
    fn shared_key(&self, va: u64) -> Option<(usize, u64)> {
        let vma = self.find(va)?;
        match (&vma.backing, vma.shared) {
            (Backing::File { inode, offset, .. }, true) => {
                Some(pagecache::key(inode, offset + (va - vma.start)))
            }
            _ => None,
        }
    }

    /// Unmaps and releases every page in [start, end) (areas stay as they are).
    fn release_pages(&mut self, start: u64, end: u64) {
        let shared_files = self.areas.values().any(|v| {
            v.shared && v.start < end && v.end > start && matches!(v.backing, Backing::File { .. })
        });
        if !shared_files {
            // The common case: one walk over the tables, one TLB flush.
            self.table
                .unmap_range(start, end, |_, pfn, _| release_user_frame(pfn));
            return;
        }
        for (va, _, _) in self.table.mapped_pages(start, end) {
            let key = self.shared_key(va);
            if let Some((pfn, _)) = self.table.unmap(va) {
                release_user_frame(pfn);
            }
            if let Some(write_back) = key.and_then(pagecache::unmapped) {
                self.write_backs.push(write_back);
            }
        }
    }

    /// The file with inode key `id` was truncated to `len` bytes: the pages of its mappings
    /// wholly past the new end are unmapped, private copies included (as Linux's
    /// `truncate_pagecache`), so that touching them again is SIGBUS.
    pub fn file_truncated(&mut self, id: usize, len: u64) {
        let end = len.div_ceil(PAGE) * PAGE;
        let gone: Vec<(u64, u64)> = self
            .areas
            .values()
            .filter_map(|vma| match &vma.backing {
                Backing::File { inode, offset, .. } if tessera_vfs::inode_key(inode) == id => {
                    let start = vma.start.checked_add(end.saturating_sub(*offset))?;
                    (start < vma.end).then_some((start, vma.end))
                }
                _ => None,
            })
            .collect();
        for (start, end) in gone {
            self.release_pages(start, end);
        }
    }

    /// madvise(MADV_DONTNEED): drops the pages of [start, start+len); the areas stay, so the
    /// next touch refills them (zeroes, or the file's bytes).
    pub fn discard(&mut self, start: u64, len: u64) {
        self.release_pages(start, start.saturating_add(len));
    }

    /// mprotect.
    pub fn protect(&mut self, start: u64, len: u64, prot: Prot) -> KResult<()> {
        let end = start.checked_add(len).ok_or(Errno::ENOMEM)?;
        // Linux: ENOMEM if any part of the range is not mapped.
        let mut at = start;
        while at < end {
            let vma = self.find(at).ok_or(Errno::ENOMEM)?;
            at = vma.end;
        }
        self.split_at(start);
        self.split_at(end);
        let starts: Vec<u64> = self.areas.range(start..end).map(|(&s, _)| s).collect();
        for s in starts {
            let vma = self.areas.get_mut(&s).expect("listed");
            vma.prot = prot;
            let flags = vma.flags();
            let (vs, ve) = (vma.start, vma.end);
            for (va, _, old) in self.table.mapped_pages(vs, ve) {
                // A copy-on-write page stays read-only until written.
                let mut new = flags;
                if old.contains(PageFlags::COW) {
                    new.remove(PageFlags::WRITABLE);
                    new.insert(PageFlags::COW);
                }
                self.table.protect(va, new);
            }
        }
        Ok(())
    }

    /// The write-backs the last operations queued (see [`pagecache::unmapped`]): the lock
    /// holder runs them after releasing the lock ([`run_write_backs`]).
    pub fn take_write_backs(&mut self) -> Vec<WriteBack> {
        core::mem::take(&mut self.write_backs)
    }

    /// The first attempt at a fault, without a file read: see [`resolve_fault`].
    #[inline]
    fn handle_fault(&mut self, addr: u64, write: bool, exec: bool) -> Result<(), FirstTry> {
        match self.fault_step(addr, write, exec, None) {
            Ok(()) => Ok(()),
            Err(Fault::Error(error)) => Err(FirstTry::Failed(error)),
            Err(Fault::Read(_)) => Err(FirstTry::NeedsRead),
        }
    }

    /// One attempt at resolving a fault at `addr` (`write`/`exec` say what the access was),
    /// with the address space locked. `done` is the file read an earlier attempt asked for,
    /// used only if it is still what the fault needs. See [`resolve_fault`].
    #[inline(always)]
    fn fault_step(
        &mut self,
        addr: u64,
        write: bool,
        exec: bool,
        done: Option<ReadDone>,
    ) -> Result<(), Fault> {
        // The area is looked at in place; it is copied (its backing's references taken)
        // only for the kinds of fault that need it beyond this point, so the common one, a
        // first touch of anonymous memory, copies nothing.
        let vma = self.find(addr).ok_or(FaultError::Segv)?;
        let (prot, flags) = (vma.prot, vma.flags());
        let anonymous = matches!(vma.backing, Backing::Anonymous);
        if (write && !prot.contains(Prot::WRITE))
            || (exec && !prot.contains(Prot::EXEC))
            || prot.is_empty()
        {
            return Err(FaultError::Segv.into());
        }
        let page = addr & !(PAGE - 1);
        match self.table.query(page) {
            Some((pfn, pte)) if write && pte.contains(PageFlags::COW) => {
                let vma = self.find(addr).expect("found above").clone();
                Ok(self.break_cow(page, pfn, &vma)?)
            }
            Some(_) => Ok(()), // already resolved (e.g. a retried copy)
            None if anonymous => Ok(self.map_new(page, alloc_user_frame(), flags)?),
            None => {
                let vma = self.find(addr).expect("found above").clone();
                match vma.backing {
                    Backing::File { .. } => self.fill_file(page, &vma, write, done),
                    Backing::SharedAnon { .. } => Ok(self.fill_shared_anon(page, &vma)?),
                    Backing::Special { .. } => Ok(self.fill_special(page, &vma)?),
                    Backing::Anonymous => unreachable!("handled above"),
                }
            }
        }
    }

    /// The first touch of a page of a shared anonymous area: the frame every mapping of it
    /// shares. Kept out of line, as [`Vm::fill_file`].
    #[inline(never)]
    fn fill_shared_anon(&mut self, page: u64, vma: &Vma) -> Result<(), FaultError> {
        let Backing::SharedAnon { pages, offset, .. } = &vma.backing else {
            unreachable!("fill_shared_anon of another kind of area");
        };
        let pfn = pages.frame((offset + (page - vma.start)) / PAGE)?;
        self.map_new(page, Ok::<_, ()>(pfn), vma.flags())
    }

    /// The first touch of a page of a kernel-owned area (the vDSO): its frame, read-only and
    /// copy-on-write; SIGBUS past the last one (an area grown by mremap). Out of line, as
    /// [`Vm::fill_file`].
    #[inline(never)]
    fn fill_special(&mut self, page: u64, vma: &Vma) -> Result<(), FaultError> {
        let Backing::Special { frames, offset, .. } = &vma.backing else {
            unreachable!("fill_special of another kind of area");
        };
        let index = (offset + (page - vma.start)) / PAGE;
        let &pfn = frames
            .get(usize::try_from(index).unwrap_or(usize::MAX))
            .ok_or(FaultError::Bus)?;
        share_user_frame(pfn);
        self.map_new(page, Ok::<_, ()>(pfn), Self::cow_flags(vma))
    }

    /// The first touch of a page of a file area. A page the page cache holds is mapped at
    /// once; a page that needs the file read stops the fault with a [`FileRead`] (and maps
    /// what that read produced on the retry, `done`). Kept out of line: the anonymous fault
    /// path (the common one) stays short.
    #[inline(never)]
    fn fill_file(
        &mut self,
        page: u64,
        vma: &Vma,
        write: bool,
        done: Option<ReadDone>,
    ) -> Result<(), Fault> {
        let Backing::File {
            inode,
            offset,
            limit,
            ..
        } = &vma.backing
        else {
            unreachable!("fill_file of an anonymous area");
        };
        let from = page - vma.start;
        let at = offset + from;
        let whole = from + PAGE <= *limit;
        let cached =
            <FilePrivate as tessera_page_alloc::FilePrivate>::frame(vma.shared, write, whole)
                == FileFrame::Cached;
        if cached {
            // The page cache's frame: as it is for a shared mapping (seen by every mapping and
            // by read()), read-only and copy-on-write for a private one (whoever writes gets a
            // copy, break_cow).
            // The read put the page in the cache (the reference it holds keeps the frame alive
            // until it drops, after the lookup below), or found it past the end of the file.
            let done = done.filter(|d| d.answers(inode, at, ReadKind::Cached));
            if let Some(ReadDone {
                frame: Err(error), ..
            }) = &done
            {
                return Err((*error).into());
            }
            let dirty = vma.shared && vma.prot.contains(Prot::WRITE);
            let Some(pfn) = pagecache::lookup(inode, at / PAGE, dirty) else {
                return Err(Fault::Read(FileRead {
                    inode: inode.clone(),
                    at,
                    kind: ReadKind::Cached,
                }));
            };
            if vma.shared {
                return Ok(self.map_new(page, Ok::<_, ()>(pfn), vma.flags())?);
            }
            self.map_new(page, Ok::<_, ()>(pfn), Self::cow_flags(vma))?;
            self.map_around(page, vma, inode, *offset, *limit);
            return Ok(());
        }
        // A private copy: the file's bytes (and cached stores) straight into a new frame,
        // zeros past `limit` and past the end of the file. A page wholly past `limit` (bss)
        // needs no read: zeros.
        self.note_private_pages(vma);
        if from >= *limit {
            return Ok(self.map_new(page, alloc_user_frame(), vma.flags())?);
        }
        let kind = ReadKind::Private {
            want: (limit - from).min(PAGE) as usize,
        };
        match done.filter(|d| d.answers(inode, at, kind)) {
            Some(done) => Ok(self.map_new(page, Ok::<_, ()>(done.take()?), vma.flags())?),
            None => Err(Fault::Read(FileRead {
                inode: inode.clone(),
                at,
                kind,
            })),
        }
    }

    /// The flags of a page cache frame in a private mapping: never writable in place.
    fn cow_flags(vma: &Vma) -> PageFlags {
        let mut flags = vma.flags();
        flags.remove(PageFlags::WRITABLE);
        flags | PageFlags::COW
    }

    /// Maps a frame just obtained (with its reference) at `page`; on failure the reference
    /// is dropped.
    fn map_new<E>(
        &mut self,
        page: u64,
        pfn: Result<Pfn, E>,
        flags: PageFlags,
    ) -> Result<(), FaultError> {
        let pfn = pfn.map_err(|_| FaultError::NoMemory)?;
        self.table
            .map(page, pfn, flags, frame_source())
            .map_err(|_| {
                release_user_frame(pfn);
                FaultError::NoMemory
            })
    }

    /// Fault-around: maps the already cached pages of the window around `page` that hold
    /// whole pages of the area's file data and are not mapped yet, so that a program's text
    /// comes in with a fault per window instead of a fault per page (as Linux's
    /// `do_fault_around`): one walk of the page table, one reference-count update. Kept
    /// out of line: the anonymous fault path stays short.
    #[inline(never)]
    fn map_around(
        &mut self,
        page: u64,
        vma: &Vma,
        inode: &Arc<dyn Inode>,
        offset: u64,
        limit: u64,
    ) {
        let window = FAULT_AROUND_PAGES * PAGE;
        let data_end = vma.start.saturating_add(limit - limit % PAGE);
        let lo = (page - page % window).max(vma.start);
        let hi = (page - page % window + window).min(vma.end).min(data_end);
        if hi <= lo + PAGE {
            return;
        }
        let index = |va: u64| (offset + (va - vma.start)) / PAGE;
        let flags = Self::cow_flags(vma);
        let table = &mut self.table;
        pagecache::with_cached(inode, index(lo)..index(hi), |pages| {
            let mut mapped = [0; pagecache::MAX_AROUND];
            let mut count = 0;
            let mut pages = pages.iter().peekable();
            table.map_absent(lo, hi, flags, |va| {
                let want = index(va);
                while pages.next_if(|&&(i, _)| i < want).is_some() {}
                let &(_, pfn) = pages.next_if(|&&(i, _)| i == want)?;
                mapped[count] = pfn;
                count += 1;
                Some(pfn)
            });
            share_user_frames(&mapped[..count]);
        });
    }

    /// Marks `vma` (a copy of the stored area) as holding pages of its own.
    fn note_private_pages(&mut self, vma: &Vma) {
        if !vma.private_pages
            && let Some(stored) = self.areas.get_mut(&vma.start)
        {
            stored.private_pages = true;
        }
    }

    fn break_cow(&mut self, page: u64, pfn: Pfn, vma: &Vma) -> Result<(), FaultError> {
        if user_frame_refs(pfn) == 1 {
            self.table.protect(page, vma.flags());
            return Ok(());
        }
        self.note_private_pages(vma);
        let copy = alloc_user_frame().map_err(|_| FaultError::NoMemory)?;
        frame::copy(copy, pfn);
        self.table
            .map(page, copy, vma.flags(), frame_source())
            .map_err(|_| FaultError::NoMemory)?;
        release_user_frame(pfn);
        Ok(())
    }

    /// fork: the child's address space shares every page; private writable pages become
    /// copy-on-write in both.
    pub fn fork(&mut self) -> KResult<Vm> {
        let mut child = Vm::new()?;
        child.areas = self.areas.clone();
        child.brk_start = self.brk_start;
        child.stack_top = self.stack_top;
        child.args = self.args.clone();
        child.env = self.env.clone();
        child.brk = self.brk;
        // One walk per area. Private file areas holding only page cache frames (program
        // text, read-only data, data pages never written) are not copied: the child maps
        // them from the page cache when it touches them (a window at a time), as Linux skips
        // areas without anonymous pages, so fork+exec and fork+exit copy little. The same
        // for the vDSO's areas (their frames are the kernel's), unless a store made a copy.
        let areas: Vec<(u64, u64, bool)> = self
            .areas
            .values()
            .map(|v| {
                (
                    v.start,
                    v.end,
                    !v.shared
                        && !v.private_pages
                        && matches!(v.backing, Backing::File { .. } | Backing::Special { .. }),
                )
            })
            .collect();
        for (start, end, skip) in areas {
            if skip {
                continue;
            }
            self.table
                .clone_into(
                    &mut child.table,
                    start,
                    end,
                    frame_source(),
                    |_, pfn, flags| {
                        let mut flags = flags;
                        if !flags.contains(PageFlags::SHARED)
                            && (flags.contains(PageFlags::WRITABLE)
                                || flags.contains(PageFlags::COW))
                        {
                            flags.remove(PageFlags::WRITABLE);
                            flags.insert(PageFlags::COW);
                        }
                        share_user_frame(pfn);
                        (flags, flags)
                    },
                )
                .map_err(|_| Errno::ENOMEM)?;
        }
        self.table.flush_all();
        Ok(child)
    }

    /// brk: moves the program break (never below its start); returns the new break.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start || new > self.brk_start + (1 << 30) {
            return self.brk;
        }
        let old_end = self.brk.next_multiple_of(PAGE);
        let new_end = new.next_multiple_of(PAGE);
        if new_end > old_end {
            if !self.is_free(old_end, new_end) {
                return self.brk;
            }
            let prot = Prot::READ | Prot::WRITE;
            // Extend the heap area (or create it).
            match self.areas.range_mut(..old_end).next_back() {
                Some((_, vma))
                    if vma.end == old_end && old_end > self.brk_start && vma.prot == prot =>
                {
                    vma.end = new_end
                }
                _ => {
                    self.areas.insert(
                        old_end,
                        Vma {
                            start: old_end,
                            end: new_end,
                            prot,
                            shared: false,
                            backing: Backing::Anonymous,
                            private_pages: false,
                        },
                    );
                }
            }
        } else if new_end < old_end {
            self.unmap(new_end, old_end - new_end);
        }
        self.brk = new;
        new
    }

    /// mremap: resizes the area at `old` (moving it if allowed and needed).
    pub fn remap(&mut self, old: u64, old_len: u64, new_len: u64, may_move: bool) -> KResult<u64> {
        // Lengths that round past 2^64 are EINVAL (Linux's PAGE_ALIGN wraps them to 0), and
        // no range may end past the user half (ENOMEM).
        let old_len = old_len
            .checked_next_multiple_of(PAGE)
            .ok_or(Errno::EINVAL)?;
        let new_len = new_len
            .checked_next_multiple_of(PAGE)
            .ok_or(Errno::EINVAL)?;
        let vma = self.find(old).cloned().ok_or(Errno::EFAULT)?;
        if !old.is_multiple_of(PAGE)
            || new_len == 0
            || vma.start != old
            || old.checked_add(old_len).is_none_or(|end| end > vma.end)
        {
            return Err(Errno::EINVAL);
        }
        if new_len > USER_END {
            return Err(Errno::ENOMEM);
        }
        if new_len <= old_len {
            self.unmap(old + new_len, old_len - new_len);
            return Ok(old);
        }
        if self.is_free(old + old_len, old.saturating_add(new_len))
            && old_len == vma.end - vma.start
        {
            self.areas.get_mut(&old).expect("found").end = old + new_len;
            return Ok(old);
        }
        if !may_move {
            return Err(Errno::ENOMEM);
        }
        let new = self.find_free(new_len).ok_or(Errno::ENOMEM)?;
        let mut moved = vma.clone();
        moved.start = new;
        moved.end = new + new_len;
        for (va, pfn, flags) in self.table.mapped_pages(old, old + old_len) {
            self.table.unmap(va);
            self.table
                .map(new + (va - old), pfn, flags, frame_source())
                .map_err(|_| Errno::ENOMEM)?;
        }
        self.split_at(old + old_len);
        self.areas.remove(&old);
        self.areas.insert(new, moved);
        Ok(new)
    }

    /// Resident pages (mapped frames), counted without allocating.
    pub fn resident_pages(&mut self) -> usize {
        self.table.count_mapped(0, USER_END)
    }

    /// `/proc/PID/statm`'s figures, in pages, as Linux's `task_statm`: (size, resident,
    /// shared: resident pages of file and shared areas, text: the areas of `exe` that
    /// execute, data: private writable areas, the stack included).
    #[allow(dead_code, reason = "for procfs, which a config may leave out")]
    pub fn statm(&mut self, exe: Option<usize>) -> [u64; 5] {
        let (mut size, mut shared, mut text, mut data) = (0, 0, 0, 0);
        let areas: Vec<(u64, u64, bool, bool, bool)> = self
            .areas
            .values()
            .map(|v| {
                let file = match &v.backing {
                    Backing::File { inode, .. } => Some(inode_key(inode)),
                    _ => None,
                };
                (
                    v.start,
                    v.end,
                    v.shared || file.is_some(),
                    v.prot.contains(Prot::EXEC) && file.is_some() && file == exe,
                    !v.shared && v.prot.contains(Prot::WRITE),
                )
            })
            .collect();
        for (start, end, is_shared, is_text, is_data) in areas {
            let pages = (end - start) / PAGE;
            size += pages;
            if is_shared {
                shared += self.table.count_mapped(start, end) as u64;
            }
            if is_text {
                text += pages;
            }
            if is_data {
                data += pages;
            }
        }
        [size, self.resident_pages() as u64, shared, text, data]
    }
}

impl Drop for Vm {
    /// Never with the address space's lock held (it is taken out of its task first), so the
    /// write-backs run here.
    fn drop(&mut self) {
        self.release_pages(0, USER_END);
        self.table.destroy(frame_source());
        run_write_backs(self.take_write_backs());
        for vma in core::mem::take(&mut self.areas).into_values() {
            vma.forget_file();
        }
    }
}

/// Runs `f` on the current task's address space, locked; then, unlocked, the write-backs of
/// shared pages its unmappings queued (no file operation runs under the lock). EFAULT for a
/// task without one.
pub fn with_current<T>(f: impl FnOnce(&mut Vm) -> KResult<T>) -> KResult<T> {
    let task = crate::process::current();
    let (result, write_backs) = {
        let cell = task.vm();
        let mut guard = cell.lock();
        let vm = guard.as_mut().ok_or(Errno::EFAULT)?;
        (f(vm), vm.take_write_backs())
    };
    run_write_backs(write_backs);
    result
}

/// Runs write-backs an address space queued ([`Vm::take_write_backs`]), once its lock is
/// released.
pub fn run_write_backs(write_backs: Vec<WriteBack>) {
    for write_back in write_backs {
        write_back.run();
    }
}
