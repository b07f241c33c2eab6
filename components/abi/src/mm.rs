//! Memory mapping numbers: `mmap`/`mprotect` protections and flags, `mremap` flags and
//! `madvise` advice (`asm-generic/mman-common.h`, `linux/mman.h`).
//!
//! Typed as the system calls take them: `prot` and `flags` of `mmap`, `mprotect` and
//! `mremap` are `unsigned long` (`u64`), `madvise`'s advice is an `int` (`i32`).

/// User addresses end below this (x86_64's 47-bit user half less the guard page, Linux's
/// `TASK_SIZE_MAX`): what `access_ok` checks a user range against.
pub const TASK_SIZE_MAX: u64 = (1 << 47) - 4096;

/// `PROT_NONE`: the pages cannot be accessed.
pub const PROT_NONE: u64 = 0x0;
/// `PROT_READ`: the pages can be read.
pub const PROT_READ: u64 = 0x1;
/// `PROT_WRITE`: the pages can be written.
pub const PROT_WRITE: u64 = 0x2;
/// `PROT_EXEC`: the pages can be executed.
pub const PROT_EXEC: u64 = 0x4;
/// `PROT_SEM`: the pages may hold atomics (a no-op on x86, accepted by mprotect).
pub const PROT_SEM: u64 = 0x8;
/// `mprotect`: extend the change down to the start of a grows-down mapping.
pub const PROT_GROWSDOWN: u64 = 0x0100_0000;
/// `mprotect`: extend the change up to the end of a grows-up mapping.
pub const PROT_GROWSUP: u64 = 0x0200_0000;

/// `MAP_SHARED`: writes are shared with every other mapping of the object.
pub const MAP_SHARED: u64 = 0x01;
/// `MAP_PRIVATE`: writes are private copies (copy-on-write).
pub const MAP_PRIVATE: u64 = 0x02;
/// `MAP_SHARED_VALIDATE`: `MAP_SHARED`, refusing flags the kernel does not know.
pub const MAP_SHARED_VALIDATE: u64 = 0x03;
/// `MAP_TYPE`: the bits that hold the mapping type (`MAP_SHARED`, `MAP_PRIVATE`, ...).
pub const MAP_TYPE: u64 = 0x0f;
/// `MAP_FIXED`: map exactly at `addr`, replacing what is there.
pub const MAP_FIXED: u64 = 0x10;
/// `MAP_ANONYMOUS`: zero-filled memory, no file (`fd` and `offset` are ignored).
pub const MAP_ANONYMOUS: u64 = 0x20;
/// `MAP_32BIT` (x86_64): place the mapping in the first 2 GiB.
pub const MAP_32BIT: u64 = 0x40;
/// `MAP_GROWSDOWN`: a stack-like mapping that grows down on faults below it.
pub const MAP_GROWSDOWN: u64 = 0x100;
/// `MAP_DENYWRITE`: ignored (historical).
pub const MAP_DENYWRITE: u64 = 0x800;
/// `MAP_EXECUTABLE`: ignored (historical).
pub const MAP_EXECUTABLE: u64 = 0x1000;
/// `MAP_LOCKED`: lock the pages in memory (as `mlock`).
pub const MAP_LOCKED: u64 = 0x2000;
/// `MAP_NORESERVE`: reserve no swap for the mapping.
pub const MAP_NORESERVE: u64 = 0x4000;
/// `MAP_POPULATE`: fault the pages in at once.
pub const MAP_POPULATE: u64 = 0x8000;
/// `MAP_NONBLOCK`: with `MAP_POPULATE`, no read-ahead.
pub const MAP_NONBLOCK: u64 = 0x1_0000;
/// `MAP_STACK`: the mapping is a thread stack.
pub const MAP_STACK: u64 = 0x2_0000;
/// `MAP_HUGETLB`: huge pages.
pub const MAP_HUGETLB: u64 = 0x4_0000;
/// `MAP_SYNC`: synchronous page faults for DAX files (only with `MAP_SHARED_VALIDATE`).
pub const MAP_SYNC: u64 = 0x8_0000;
/// `MAP_FIXED_NOREPLACE`: map exactly at `addr`, failing with EEXIST if something is there.
pub const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
/// `MAP_UNINITIALIZED`: anonymous pages need not be cleared (honoured only by some
/// embedded configurations).
pub const MAP_UNINITIALIZED: u64 = 0x400_0000;
/// The huge page size of `MAP_HUGETLB` (log2 of the size) sits at this bit.
pub const MAP_HUGE_SHIFT: u64 = 26;
/// `MAP_HUGE_2MB`: 2 MiB huge pages.
pub const MAP_HUGE_2MB: u64 = 21 << MAP_HUGE_SHIFT;
/// `MAP_HUGE_1GB`: 1 GiB huge pages.
pub const MAP_HUGE_1GB: u64 = 30 << MAP_HUGE_SHIFT;
/// Linux's `LEGACY_MAP_MASK` (`include/linux/mman.h`): the flags every file's mmap accepts.
/// With `MAP_SHARED_VALIDATE`, a flag outside it (and outside what the file supports) is
/// EOPNOTSUPP; with `MAP_SHARED` those are ignored.
pub const LEGACY_MAP_MASK: u64 = MAP_SHARED
    | MAP_PRIVATE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_UNINITIALIZED
    | MAP_GROWSDOWN
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB
    | MAP_32BIT
    | MAP_HUGE_2MB
    | MAP_HUGE_1GB;

/// `mremap`: the mapping may move to a new address.
pub const MREMAP_MAYMOVE: u64 = 1;
/// `mremap`: move it to the address of the fifth argument.
pub const MREMAP_FIXED: u64 = 2;

/// `MADV_NORMAL`: no special treatment.
pub const MADV_NORMAL: i32 = 0;
/// `MADV_RANDOM`: expect random page references.
pub const MADV_RANDOM: i32 = 1;
/// `MADV_SEQUENTIAL`: expect sequential page references.
pub const MADV_SEQUENTIAL: i32 = 2;
/// `MADV_WILLNEED`: the pages will be needed.
pub const MADV_WILLNEED: i32 = 3;
/// `MADV_DONTNEED`: the pages are not needed (private anonymous ones read as zero after).
pub const MADV_DONTNEED: i32 = 4;
/// `MADV_FREE`: the pages may be freed lazily.
pub const MADV_FREE: i32 = 8;
/// `MADV_COLLAPSE`: collapse the range into huge pages (the last of the advice values that
/// follow `MADV_FREE` one by one).
pub const MADV_COLLAPSE: i32 = 25;
/// `MADV_HWPOISON`: poison the pages (memory failure testing).
pub const MADV_HWPOISON: i32 = 100;
/// `MADV_SOFT_OFFLINE`: soft-offline the pages (memory failure testing).
pub const MADV_SOFT_OFFLINE: i32 = 101;
