//! Which variant of each component this kernel was compiled with.
//!
//! One place names them all: to add a variant, add its feature in `Cargo.toml`, its schema
//! entry in `xtask/config`, and an arm here. Config validation lets a config choose exactly
//! one variant of each component, and the build script refuses features other than the
//! config's; a hand-made feature set with two variants of one component, or none, is the
//! compile error here, never a silent priority. The components themselves do not check it, so
//! that their host tests build with every variant.

use tessera_page_alloc::PageAllocator;
use tessera_sync::IrqPolicy;
pub use tessera_sync::{SubsystemLock, SubsystemPolicy};

cfg_if::cfg_if! {
    if #[cfg(all(feature = "page-alloc-bitmap", feature = "page-alloc-buddy"))] {
        compile_error!("two page-alloc variants selected: enable exactly one of page-alloc-bitmap, page-alloc-buddy");
    } else if #[cfg(feature = "page-alloc-bitmap")] {
        /// The page allocator chosen by the config.
        pub type PageAlloc = tessera_page_alloc::bitmap::BitmapAllocator;
    } else if #[cfg(feature = "page-alloc-buddy")] {
        /// The page allocator chosen by the config.
        pub type PageAlloc = tessera_page_alloc::buddy::BuddyAllocator;
    } else {
        compile_error!("no page-alloc variant selected: enable one of page-alloc-bitmap, page-alloc-buddy");
    }
}

/// The variants of components that only user space uses (`[subsystems] userspace`).
#[cfg(feature = "userspace")]
mod user {
    cfg_if::cfg_if! {
        if #[cfg(all(feature = "dcache-off", feature = "dcache-hashbrown"))] {
            compile_error!("two dcache variants selected: enable exactly one of dcache-off, dcache-hashbrown");
        } else if #[cfg(feature = "dcache-off")] {
            /// The dentry cache chosen by the config: none.
            pub type Dcache = tessera_vfs::NoDcache;
            pub(super) const DCACHE: &str = "off";
        } else if #[cfg(feature = "dcache-hashbrown")] {
            /// The dentry cache chosen by the config.
            pub type Dcache = tessera_vfs::HashDcache;
            pub(super) const DCACHE: &str = "hashbrown";
        } else {
            compile_error!("no dcache variant selected: enable one of dcache-off, dcache-hashbrown");
        }
    }

    cfg_if::cfg_if! {
        if #[cfg(all(feature = "path-buf-heap", feature = "path-buf-stack"))] {
            compile_error!("two path-buf variants selected: enable exactly one of path-buf-heap, path-buf-stack");
        } else if #[cfg(feature = "path-buf-heap")] {
            /// How path arguments are read (see `user::read_path`).
            pub type PathBuf = tessera_vfs::HeapPath;
        } else if #[cfg(feature = "path-buf-stack")] {
            /// How path arguments are read (see `user::read_path`).
            pub type PathBuf = tessera_vfs::StackPath;
        } else {
            compile_error!("no path-buf variant selected: enable one of path-buf-heap, path-buf-stack");
        }
    }

    cfg_if::cfg_if! {
        if #[cfg(all(feature = "pipe-simple", feature = "pipe-fast"))] {
            compile_error!("two pipe variants selected: enable exactly one of pipe-simple, pipe-fast");
        } else if #[cfg(feature = "pipe-simple")] {
            /// How pipes wait, wake and copy (see `fs::pipe`).
            pub type Pipe = tessera_pipe::Simple;
        } else if #[cfg(feature = "pipe-fast")] {
            /// How pipes wait, wake and copy (see `fs::pipe`).
            pub type Pipe = tessera_pipe::Fast;
        } else {
            compile_error!("no pipe variant selected: enable one of pipe-simple, pipe-fast");
        }
    }

    cfg_if::cfg_if! {
        if #[cfg(feature = "sched-round-robin")] {
            /// The scheduling policy over task handles `T` (see `process::sched`).
            pub type Sched<T> = tessera_sched::RoundRobin<T>;
        } else {
            compile_error!("no sched variant selected: enable sched-round-robin");
        }
    }
}
#[cfg(feature = "userspace")]
pub use user::*;

/// The banner's names of the variants of components only user space uses (path-buf, pipe,
/// page-zero, file-private, dcache, lookup, tmpfs-stat, sched), or [`NOT_COMPILED`].
#[cfg(feature = "userspace")]
const USER_NAMES: [&str; 8] = [
    <PathBuf as tessera_vfs::PathReader>::NAME,
    <Pipe as tessera_pipe::PipePolicy>::NAME,
    <PageZero as tessera_page_alloc::PageZero>::NAME,
    <FilePrivate as tessera_page_alloc::FilePrivate>::NAME,
    user::DCACHE,
    LOOKUP,
    TMPFS_STAT,
    <Sched<()> as tessera_sched::SchedPolicy<()>>::NAME,
];
#[cfg(not(feature = "userspace"))]
const USER_NAMES: [&str; 8] = [NOT_COMPILED; 8];

/// What [`COMPILED`] says of a component whose code is not in this kernel.
pub const NOT_COMPILED: &str = "(not compiled)";

#[cfg(feature = "userspace")]
cfg_if::cfg_if! {
    if #[cfg(all(feature = "file-private-copy", feature = "file-private-share"))] {
        compile_error!("two file-private variants selected: enable exactly one of file-private-copy, file-private-share");
    } else if #[cfg(feature = "file-private-copy")] {
        /// Where pages of private file mappings get their frames (see `mm::vm`).
        pub type FilePrivate = tessera_page_alloc::PrivateCopy;
    } else if #[cfg(feature = "file-private-share")] {
        /// Where pages of private file mappings get their frames (see `mm::vm`).
        pub type FilePrivate = tessera_page_alloc::PrivateShare;
    } else {
        compile_error!("no file-private variant selected: enable one of file-private-copy, file-private-share");
    }
}

#[cfg(feature = "userspace")]
cfg_if::cfg_if! {
    if #[cfg(all(feature = "page-zero-twice", feature = "page-zero-once"))] {
        compile_error!("two page-zero variants selected: enable exactly one of page-zero-twice, page-zero-once");
    } else if #[cfg(feature = "page-zero-twice")] {
        /// When user frames are cleared (see `mm::user_frames`).
        pub type PageZero = tessera_page_alloc::ZeroTwice;
    } else if #[cfg(feature = "page-zero-once")] {
        /// When user frames are cleared (see `mm::user_frames`).
        pub type PageZero = tessera_page_alloc::ZeroOnce;
    } else {
        compile_error!("no page-zero variant selected: enable one of page-zero-twice, page-zero-once");
    }
}

/// Exactly one of two features: its variant name, or a compile error naming the key.
macro_rules! one_of {
    ($key:literal, $a:literal => $va:literal, $b:literal => $vb:literal) => {{
        #[cfg(all(feature = $a, feature = $b))]
        compile_error!(concat!(
            "two ",
            $key,
            " variants selected: enable exactly one of ",
            $a,
            ", ",
            $b
        ));
        #[cfg(not(any(feature = $a, feature = $b)))]
        compile_error!(concat!(
            "no ",
            $key,
            " variant selected: enable one of ",
            $a,
            ", ",
            $b
        ));
        if cfg!(feature = $a) { $va } else { $vb }
    }};
}

/// Whether two strings are equal, in a constant expression (`==` on `&str` is not `const`).
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// memops and lock resolve inside their crates (the platform layer and other components use
// them too): exactly one feature each, and the crate resolved to that one (not to another a
// dependency turned on).
const _: () = assert!(
    same(
        tessera_memops::VARIANT,
        one_of!("memops", "memops-simple" => "simple", "memops-erms" => "erms")
    ),
    "tessera-memops resolved to another variant than the memops-* feature names"
);
const _: () = assert!(
    same(
        <SubsystemPolicy as IrqPolicy>::NAME,
        one_of!("lock", "lock-irq-save" => "irq-save", "lock-no-irq" => "no-irq")
    ),
    "tessera-sync's SubsystemPolicy is another variant than the lock-* feature names"
);

/// The vDSO: `off` or `on` (see `mm::vdso`).
pub const VDSO: &str = one_of!("vdso", "vdso-off" => "off", "vdso-on" => "on");

/// Networking: `none` or `smoltcp` (see `net`).
pub const NET: &str = one_of!("net", "net-none" => "none", "net-smoltcp" => "smoltcp");

/// Inode lookup for stat and friends: `full` or `fast` (crate `tessera-vfs`).
#[cfg(feature = "userspace")]
pub const LOOKUP: &str = one_of!("lookup", "lookup-full" => "full", "lookup-fast" => "fast");
/// tmpfs metadata: `locked` or `lockfree` (crate `tessera-tmpfs`).
#[cfg(feature = "userspace")]
pub const TMPFS_STAT: &str =
    one_of!("tmpfs-stat", "tmpfs-stat-locked" => "locked", "tmpfs-stat-lockfree" => "lockfree");

/// (component key, variant) as compiled, in config order: what the banner shows.
pub const COMPILED: [(&str, &str); 13] = [
    ("page-alloc", <PageAlloc as PageAllocator>::NAME),
    ("memops", tessera_memops::VARIANT),
    ("lock", <SubsystemPolicy as IrqPolicy>::NAME),
    ("path-buf", USER_NAMES[0]),
    ("pipe", USER_NAMES[1]),
    ("page-zero", USER_NAMES[2]),
    ("file-private", USER_NAMES[3]),
    ("dcache", USER_NAMES[4]),
    ("lookup", USER_NAMES[5]),
    ("tmpfs-stat", USER_NAMES[6]),
    ("net", NET),
    ("sched", USER_NAMES[7]),
    ("vdso", VDSO),
];

/// Panics if the compiled variants differ from the config's (the build script prevents it;
/// this catches a component whose NAME disagrees with its schema entry).
pub fn check_against_config() {
    for (key, variant) in crate::config::COMPONENTS {
        let compiled = COMPILED.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
        if compiled == Some(NOT_COMPILED) {
            continue;
        }
        assert_eq!(
            compiled,
            Some(*variant),
            "component {key}: config says {variant}, kernel has {compiled:?}"
        );
    }
}
