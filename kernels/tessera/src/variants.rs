//! Which variant of each component this kernel was compiled with.
//!
//! One place names them all: to add a variant, add its feature in `Cargo.toml`, its schema
//! entry in `xtask/config`, and an arm here. Two variants of one component at once is a
//! compile error, never a silent priority.

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

cfg_if::cfg_if! {
    if #[cfg(all(feature = "dcache-off", feature = "dcache-hashbrown"))] {
        compile_error!("two dcache variants selected: enable exactly one of dcache-off, dcache-hashbrown");
    } else if #[cfg(feature = "dcache-off")] {
        const DCACHE: &str = "off";
    } else if #[cfg(feature = "dcache-hashbrown")] {
        const DCACHE: &str = "hashbrown";
    } else {
        compile_error!("no dcache variant selected: enable one of dcache-off, dcache-hashbrown");
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

/// Path arguments: `heap` or `stack` (see `user::read_path`).
pub const PATH_BUF: &str =
    one_of!("path-buf", "path-buf-heap" => "heap", "path-buf-stack" => "stack");
/// Pipe paths: `simple` or `fast` (see `fs::pipe`).
pub const PIPE: &str = one_of!("pipe", "pipe-simple" => "simple", "pipe-fast" => "fast");
/// Fresh user pages: zeroed `twice` or `once` (see `memory::alloc_user_frame`).
pub const PAGE_ZERO: &str =
    one_of!("page-zero", "page-zero-twice" => "twice", "page-zero-once" => "once");
/// Private file mappings: `copy` or `share` (see `process::vm`).
pub const FILE_PRIVATE: &str =
    one_of!("file-private", "file-private-copy" => "copy", "file-private-share" => "share");
/// Whether private file mappings map the page cache's frames copy-on-write.
pub const FILE_PRIVATE_SHARED: bool = cfg!(feature = "file-private-share");

/// Networking: `none` or `smoltcp` (see `net`).
pub const NET: &str = one_of!("net", "net-none" => "none", "net-smoltcp" => "smoltcp");

/// Inode lookup for stat and friends: `full` or `fast` (crate `tessera-vfs`).
pub const LOOKUP: &str = one_of!("lookup", "lookup-full" => "full", "lookup-fast" => "fast");
/// tmpfs metadata: `locked` or `lockfree` (crate `tessera-tmpfs`).
pub const TMPFS_STAT: &str =
    one_of!("tmpfs-stat", "tmpfs-stat-locked" => "locked", "tmpfs-stat-lockfree" => "lockfree");

/// (component key, variant) as compiled, in config order: what the banner shows.
pub const COMPILED: [(&str, &str); 11] = [
    ("page-alloc", <PageAlloc as PageAllocator>::NAME),
    ("memops", tessera_memops::VARIANT),
    ("lock", <SubsystemPolicy as IrqPolicy>::NAME),
    ("path-buf", PATH_BUF),
    ("pipe", PIPE),
    ("page-zero", PAGE_ZERO),
    ("file-private", FILE_PRIVATE),
    ("dcache", DCACHE),
    ("lookup", LOOKUP),
    ("tmpfs-stat", TMPFS_STAT),
    ("net", NET),
];

/// Panics if the compiled variants differ from the config's (the build script prevents it;
/// this catches a component whose NAME disagrees with its schema entry).
pub fn check_against_config() {
    for (key, variant) in crate::config::COMPONENTS {
        let compiled = COMPILED.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
        assert_eq!(
            compiled,
            Some(*variant),
            "component {key}: config says {variant}, kernel has {compiled:?}"
        );
    }
}
