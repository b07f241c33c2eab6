//! The point of the fast inode lookup: no heap allocation on the way (no dentry, no copy of
//! a name), where the full walk allocates a dentry per component the cache does not hold.
//! Its own test binary: `allocation-counter` replaces the global allocator of the binary that
//! uses it, and counts per thread.

mod common;

use std::hint::black_box;

use allocation_counter::measure;
use common::Fixture;
use tessera_vfs::{Dcache, HashDcache, NoDcache};

/// Allocations of one `lookup_inode_fast` and one `lookup_inode_full` of `path`, each after a
/// warm-up call (which fills the hash cache, when there is one).
fn allocations<C: Dcache>(t: &Fixture<C>, path: &str, follow: bool) -> (u64, u64) {
    let (r, p) = (&t.root, path.as_bytes());
    t.vfs.lookup_inode_fast(r, r, p, follow).unwrap();
    let fast = measure(|| drop(black_box(t.vfs.lookup_inode_fast(r, r, p, follow))));
    t.vfs.lookup_inode_full(r, r, p, follow).unwrap();
    let full = measure(|| drop(black_box(t.vfs.lookup_inode_full(r, r, p, follow))));
    (fast.count_total, full.count_total)
}

fn tree<C: Dcache + Default>() -> Fixture<C> {
    let t = Fixture::<C>::new();
    t.mkdir("/a").unwrap();
    t.mkdir("/a/b").unwrap();
    t.file("/a/b/c", b"data").unwrap();
    t.symlink("b/c", "/a/l").unwrap();
    t
}

#[test]
fn the_fast_walk_allocates_nothing() {
    let off = tree::<NoDcache>();
    let hash = tree::<HashDcache>();
    for path in ["/a/b/c", "/a/./b//c", "/", "/a/b/", "/a/l"] {
        assert_eq!(
            allocations(&off, path, false).0,
            0,
            "{path} without a cache"
        );
        assert_eq!(
            allocations(&hash, path, false).0,
            0,
            "{path} with a hash cache"
        );
    }
    // Without a cache the full walk builds a dentry and copies a name per component.
    let (_, full) = allocations(&off, "/a/b/c", false);
    assert!(full >= 3, "the full walk allocates per component: {full}");
    // A symlink to follow goes through the full walk (reading the link allocates).
    assert!(allocations(&off, "/a/l", true).0 > 0);
}

/// With a lookup feature on (as in the kernel), `lookup_inode` is the variant it names: with
/// no cache, the full walk allocates and the fast one does not.
#[cfg(any(feature = "lookup-full", feature = "lookup-fast"))]
#[test]
fn lookup_inode_calls_the_configured_variant() {
    let t = tree::<NoDcache>();
    let r = &t.root;
    let count = measure(|| drop(black_box(t.vfs.lookup_inode(r, r, b"/a/b/c", false))));
    if cfg!(feature = "lookup-full") {
        assert!(count.count_total >= 3, "{}", count.count_total);
    } else {
        assert_eq!(count.count_total, 0);
    }
}
