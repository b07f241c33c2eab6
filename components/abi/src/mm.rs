//! Memory mapping numbers: `mmap`/`mprotect` protections and flags, `mremap` flags and
//! `madvise` advice (`asm-generic/mman-common.h`, `linux/mman.h`).
//!
//! Typed as the system calls take them: `prot` and `flags` of `mmap`, `mprotect` and
//! `mremap` are `unsigned long` (`u64`), `madvise`'s advice is an `int` (`i32`).

/// `PROT_NONE`: the pages cannot be accessed.
pub const PROT_NONE: u64 = 0x0;
/// `PROT_READ`: the pages can be read.
pub const PROT_READ: u64 = 0x1;
/// `PROT_WRITE`: the pages can be written.
pub const PROT_WRITE: u64 = 0x2;
/// `PROT_EXEC`: the pages can be executed.
pub const PROT_EXEC: u64 = 0x4;
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
/// `MAP_FIXED_NOREPLACE`: map exactly at `addr`, failing with EEXIST if something is there.
pub const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;

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
