//! Inode lookup: both variants (`lookup_inode_full`, `lookup_inode_fast`) must give exactly
//! the inode or error of `resolve(..).inode()`, for every dentry cache, on the cases the fast
//! walk handles itself, the ones it hands to the full walk, and random trees with symlinks,
//! mounts, `..` and directories that opt out of caching.

mod common;

use std::any::Any;
use std::sync::Arc;

use common::{Fixture, Tmpfs, clock};
use proptest::prelude::*;
use tessera_abi::fs::S_IFREG;
use tessera_abi::{Errno, KResult};
use tessera_vfs::{Dcache, Dentry, FileType, HashDcache, Inode, Metadata, NoDcache};

/// Where a lookup lands: (dev, ino, type) of the inode, comparable across walks even when a
/// file system hands out a new inode object per lookup.
type Landing = KResult<(u64, u64, FileType)>;

fn landing(r: KResult<Arc<dyn Inode>>) -> Landing {
    r.map(|i| {
        let m = i.metadata().unwrap();
        (m.dev, m.ino, i.file_type())
    })
}

/// The three ways to the inode of `path`, which must agree; returns where they land.
fn check<C: Dcache>(
    t: &Fixture<C>,
    start: &Arc<Dentry>,
    root: &Arc<Dentry>,
    path: &str,
    follow: bool,
) -> Landing {
    let p = path.as_bytes();
    // Fast first: on a cold cache it walks bare inodes; after `resolve` it finds dentries.
    let cold = landing(t.vfs.lookup_inode_fast(start, root, p, follow));
    let resolved = landing(
        t.vfs
            .resolve(start, root, p, follow)
            .map(|d| d.inode().clone()),
    );
    let full = landing(t.vfs.lookup_inode_full(start, root, p, follow));
    let warm = landing(t.vfs.lookup_inode_fast(start, root, p, follow));
    assert_eq!(full, resolved, "full {path:?} follow={follow}");
    assert_eq!(cold, resolved, "fast (cold) {path:?} follow={follow}");
    assert_eq!(warm, resolved, "fast (warm) {path:?} follow={follow}");
    resolved
}

fn ino<C: Dcache>(t: &Fixture<C>, path: &str) -> u64 {
    t.lget(path).unwrap().inode().metadata().unwrap().ino
}

fn common_cases_and_errors<C: Dcache + Default>() {
    let t = Fixture::<C>::new();
    let r = t.root.clone();
    t.mkdir("/a").unwrap();
    t.mkdir("/a/b").unwrap();
    t.file("/a/b/f", b"x").unwrap();
    t.symlink("b/f", "/a/lf").unwrap();
    t.symlink("/a/b", "/lb").unwrap();
    t.symlink("nowhere", "/dangling").unwrap();
    t.symlink("loop", "/loop").unwrap();
    let b = t.get("/a/b").unwrap();
    let found = |p: &str, follow| check(&t, &r, &r, p, follow).map(|(_, ino, _)| ino);
    assert_eq!(found("/a/b/f", true), Ok(ino(&t, "/a/b/f")));
    assert_eq!(found("//a/./b//f", false), Ok(ino(&t, "/a/b/f")));
    assert_eq!(found("/a/b/", true), Ok(ino(&t, "/a/b")));
    assert_eq!(found("/", true), Ok(ino(&t, "/")));
    assert_eq!(found("///.", true), Ok(ino(&t, "/")));
    assert_eq!(
        check(&t, &b, &r, "f", true).map(|l| l.1),
        Ok(ino(&t, "/a/b/f"))
    );
    assert_eq!(
        check(&t, &b, &r, ".", true).map(|l| l.1),
        Ok(ino(&t, "/a/b"))
    );
    // Symlinks: not followed last (the fast walk returns the link), followed (full walk).
    assert_eq!(found("/a/lf", false), Ok(ino(&t, "/a/lf")));
    assert_eq!(found("/a/lf", true), Ok(ino(&t, "/a/b/f")));
    assert_eq!(found("/lb/f", false), Ok(ino(&t, "/a/b/f")));
    assert_eq!(found("/lb/", false), Ok(ino(&t, "/a/b")));
    assert_eq!(found("/a/b/..", true), Ok(ino(&t, "/a")));
    assert_eq!(
        check(&t, &b, &b, "../../..", true).map(|l| l.1),
        Ok(ino(&t, "/a/b"))
    );
    // Errors, each in resolve's order.
    assert_eq!(found("", true), Err(Errno::ENOENT));
    assert_eq!(found("/nope", true), Err(Errno::ENOENT));
    assert_eq!(found("/nope/..", true), Err(Errno::ENOENT));
    assert_eq!(found("/a/b/f/", true), Err(Errno::ENOTDIR));
    assert_eq!(found("/a/b/f/x", true), Err(Errno::ENOTDIR));
    assert_eq!(found("/a/b/f/..", true), Err(Errno::ENOTDIR));
    assert_eq!(
        found(&format!("/{}", "x".repeat(256)), true),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        found(&format!("/nope/{}", "x".repeat(256)), true),
        Err(Errno::ENOENT)
    );
    assert_eq!(found(&"/".repeat(4096), true), Err(Errno::ENAMETOOLONG));
    assert_eq!(found("/dangling", true), Err(Errno::ENOENT));
    assert_eq!(found("/dangling", false), Ok(ino(&t, "/dangling")));
    assert_eq!(found("/loop", true), Err(Errno::ELOOP));
    assert_eq!(found("/loop/", false), Err(Errno::ELOOP));
}

fn mounts_are_crossed_both_ways<C: Dcache + Default>() {
    let t = Fixture::<C>::new();
    let r = t.root.clone();
    t.mkdir("/mnt").unwrap();
    t.mkdir("/mnt/hidden").unwrap();
    let covered = t.get("/mnt").unwrap();
    let top = t.vfs.mount(&covered, Tmpfs::new(7, clock).root()).unwrap();
    t.mkdir("/mnt/d").unwrap();
    // A second file system stacked on the first, and one mounted on a subdirectory.
    let stacked = t.vfs.mount(&top, Tmpfs::new(8, clock).root()).unwrap();
    t.mkdir("/mnt/s").unwrap();
    let s = t.get("/mnt/s").unwrap();
    t.vfs.mount(&s, Tmpfs::new(9, clock).root()).unwrap();
    t.file("/mnt/s/f", b"").unwrap();
    assert_eq!(check(&t, &r, &r, "/mnt", true).map(|l| l.0), Ok(8));
    assert_eq!(check(&t, &r, &r, "/mnt/s/f", true).map(|l| l.0), Ok(9));
    assert_eq!(check(&t, &r, &r, "/mnt/hidden", true), Err(Errno::ENOENT));
    assert_eq!(check(&t, &r, &r, "/mnt/d", true), Err(Errno::ENOENT));
    assert_eq!(check(&t, &r, &r, "/mnt/s/..", true).map(|l| l.0), Ok(8));
    // A process rooted in a mount; the start dentry itself is not crossed (as resolve).
    assert_eq!(
        check(&t, &stacked, &stacked, "/s/f", true).map(|l| l.0),
        Ok(9)
    );
    assert_eq!(check(&t, &covered, &r, ".", true).map(|l| l.0), Ok(1));
    assert_eq!(check(&t, &covered, &r, "hidden", true).map(|l| l.0), Ok(1));
    t.vfs.umount(&t.get("/mnt/s").unwrap()).unwrap();
    assert_eq!(check(&t, &r, &r, "/mnt/s/f", true), Err(Errno::ENOENT));
}

/// A cached name left stale by a change made behind the VFS's back (see `Vfs::invalidate_child`)
/// gives the same answer both ways: the fast walk asks the cache where `resolve` would.
fn stale_cache_entries_are_seen_alike<C: Dcache + Default>() {
    let t = Fixture::<C>::new();
    let r = t.root.clone();
    t.mkdir("/a").unwrap();
    t.file("/a/f", b"").unwrap();
    let old = check(&t, &r, &r, "/a/f", true).unwrap();
    // Replace `f` behind the VFS's back: the file system now has another inode there.
    let a = t.get("/a").unwrap();
    a.inode().unlink(b"f").unwrap();
    a.inode().create(b"f", S_IFREG | 0o644, 0).unwrap();
    let new = landing(a.inode().lookup(b"f"));
    assert_ne!(Ok(old), new);
    let got = check(&t, &r, &r, "/a/f", true);
    let stale = C::NAME == "hashbrown";
    assert_eq!(
        got,
        if stale { Ok(old) } else { new },
        "only a cache can be stale"
    );
    t.vfs.invalidate_child(&a, b"f");
    assert_eq!(check(&t, &r, &r, "/a/f", true), new);
}

/// The cache sees both walks alike: the fast walk's step from a dentry is the full walk's, so
/// a cold path is a miss per component for either walk (and fills a cache), a warm one a hit.
/// Without a cache the fast walk builds no dentries at all (none ever reaches the cache).
fn both_walks_fill_and_hit_the_cache_alike<C: Dcache + Default>() {
    type Walk<C> = fn(&Fixture<C>, &Arc<Dentry>, &[u8]) -> KResult<Arc<dyn Inode>>;
    let walks: [(&str, Walk<C>); 2] = [
        ("full", |t, r, p| t.vfs.lookup_inode_full(r, r, p, true)),
        ("fast", |t, r, p| t.vfs.lookup_inode_fast(r, r, p, true)),
    ];
    for (name, walk) in walks {
        let t = Fixture::<C>::new();
        let r = t.root.clone();
        // Made on the inodes, behind the VFS's back, so that no dentry of them exists yet.
        let a = r.inode().mkdir(b"a", 0o755).unwrap();
        let b = a.mkdir(b"b", 0o755).unwrap();
        b.create(b"f", S_IFREG | 0o644, 0).unwrap();
        let before = t.vfs.dcache().stats();
        walk(&t, &r, b"/a/b/f").unwrap();
        let cold = t.vfs.dcache().stats();
        walk(&t, &r, b"/a/b/f").unwrap();
        let warm = t.vfs.dcache().stats();
        if C::CACHES {
            assert_eq!(cold.misses - before.misses, 3, "{name}: cold misses");
            assert_eq!(warm.hits - cold.hits, 3, "{name}: warm hits");
            assert_eq!(warm.misses, cold.misses, "{name}: warm misses");
        } else {
            assert_eq!(warm.entries, 0, "{name}");
        }
    }
}

both_caches!(
    common_cases_and_errors,
    mounts_are_crossed_both_ways,
    stale_cache_entries_are_seen_alike,
    both_walks_fill_and_hit_the_cache_alike,
);

/// A directory tree whose directories opt out of the dentry cache and hand out a new inode
/// object per lookup (as a procfs does): wraps a tmpfs inode.
struct Uncached(Arc<dyn Inode>);

impl Inode for Uncached {
    fn metadata(&self) -> KResult<Metadata> {
        self.0.metadata()
    }
    fn file_type(&self) -> FileType {
        self.0.file_type()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn cache_children(&self) -> bool {
        false
    }
    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        Ok(Arc::new(Uncached(self.0.lookup(name)?)))
    }
    fn readlink(&self) -> KResult<Vec<u8>> {
        self.0.readlink()
    }
}

/// A new uncached file system with `a/b/`, a file `f` and a symlink `l -> a`.
fn uncached_fs(dev: u64) -> Arc<dyn Inode> {
    let fs = Tmpfs::new(dev, clock);
    let root = fs.root();
    root.mkdir(b"a", 0o755).unwrap().mkdir(b"b", 0o755).unwrap();
    root.create(b"f", S_IFREG | 0o644, 0).unwrap();
    root.symlink(b"l", b"a").unwrap();
    Arc::new(Uncached(root))
}

/// Operations building the random trees.
#[derive(Clone, Debug)]
enum Op {
    Mkdir(String),
    Create(String),
    Symlink(&'static str, String),
    Unlink(String),
    Rmdir(String),
    Rename(String, String),
    Mount(String),
    MountUncached(String),
    Umount(String),
}

/// Absolute paths over a few names, mostly short, so that most operations find their path.
fn tree_path() -> impl Strategy<Value = String> {
    let name = || prop::sample::select(vec!["a", "b", "l", "f"]);
    prop::collection::vec(name(), 1..=3).prop_map(|v| format!("/{}", v.join("/")))
}

fn op() -> impl Strategy<Value = Op> {
    let target = prop::sample::select(vec![
        "a", "../b", "/a/b", "l", ".", "/", "a/", "f", "f/", "nope", "b/../a", "/l/l", "..",
    ]);
    prop_oneof![
        4 => tree_path().prop_map(Op::Mkdir),
        2 => tree_path().prop_map(Op::Create),
        3 => (target, tree_path()).prop_map(|(t, p)| Op::Symlink(t, p)),
        1 => tree_path().prop_map(Op::Unlink),
        1 => tree_path().prop_map(Op::Rmdir),
        1 => (tree_path(), tree_path()).prop_map(|(a, b)| Op::Rename(a, b)),
        2 => tree_path().prop_map(Op::Mount),
        1 => tree_path().prop_map(Op::MountUncached),
        1 => tree_path().prop_map(Op::Umount),
    ]
}

fn apply<C: Dcache>(t: &Fixture<C>, op: &Op, dev: u64) -> KResult<()> {
    match op {
        Op::Mkdir(p) => t.mkdir(p).map(drop),
        Op::Create(p) => t.file(p, b"").map(drop),
        Op::Symlink(target, p) => t.symlink(target, p).map(drop),
        Op::Unlink(p) => t.unlink(p),
        Op::Rmdir(p) => t.rmdir(p),
        Op::Rename(a, b) => t.rename(a, b),
        Op::Mount(p) => t
            .vfs
            .mount(&t.get(p)?, Tmpfs::new(dev, clock).root())
            .map(drop),
        Op::MountUncached(p) => t.vfs.mount(&t.get(p)?, uncached_fs(dev)).map(drop),
        Op::Umount(p) => t.vfs.umount(&t.get(p)?),
    }
}

/// A path to look up: where it starts, its components, slashes, and whether to follow.
#[derive(Clone, Debug)]
struct Probe {
    /// 0: the root, 1: a held directory (`/a` when the tree was empty), 2: the same
    /// directory as both start and process root (chroot).
    from: u8,
    absolute: bool,
    components: Vec<String>,
    doubled_slashes: bool,
    trailing_slash: bool,
    follow: bool,
}

impl Probe {
    fn path(&self) -> String {
        let sep = if self.doubled_slashes { "//" } else { "/" };
        let mut p = self.components.join(sep);
        if self.absolute {
            p.insert_str(0, sep);
        }
        if self.trailing_slash {
            p.push('/');
        }
        p
    }
}

fn probe() -> impl Strategy<Value = Probe> {
    let component = prop_oneof![
        8 => prop::sample::select(vec!["a", "b", "l", "f", ".", "..", "nope"]).prop_map(String::from),
        1 => Just("x".repeat(256)),
    ];
    (
        0..3u8,
        any::<bool>(),
        prop::collection::vec(component, 0..5),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(from, absolute, components, doubled_slashes, trailing_slash, follow)| Probe {
                from,
                absolute,
                components,
                doubled_slashes,
                trailing_slash,
                follow,
            },
        )
}

/// Build the tree in one fixture, then check every probe there after every step.
fn run<C: Dcache>(t: Fixture<C>, ops: &[Op], probes: &[Probe]) {
    let held = t.mkdir("/a").unwrap();
    for (step, op) in ops.iter().enumerate() {
        // Errors (a missing parent, a busy mount, ...) are part of building random trees.
        let _ = apply(&t, op, 100 + step as u64);
        for p in probes {
            let (start, root) = match p.from {
                0 => (&t.root, &t.root),
                1 => (&held, &t.root),
                _ => (&held, &held),
            };
            // `check` asserts; where the path leads is not needed here.
            let _ = check(&t, start, root, &p.path(), p.follow);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Random trees (symlinks with `..`, absolute and dangling targets, loops, mounts,
    /// stacked mounts, uncached file systems) and random paths: `lookup_inode_fast` and
    /// `lookup_inode_full` agree with `resolve` after every step, with no cache, the default
    /// hash cache, and a hash cache so small it evicts all the time.
    #[test]
    fn both_variants_find_what_resolve_finds(
        ops in prop::collection::vec(op(), 1..30),
        probes in prop::collection::vec(probe(), 1..24),
    ) {
        run(Fixture::<NoDcache>::new(), &ops, &probes);
        run(Fixture::<HashDcache>::new(), &ops, &probes);
        run(Fixture::with_cache(HashDcache::with_limit(2)), &ops, &probes);
    }
}

/// With a lookup feature on (as in the kernel), `lookup_inode` is the variant it names.
#[cfg(any(feature = "lookup-full", feature = "lookup-fast"))]
#[test]
fn lookup_inode_is_the_configured_variant() {
    let t = Fixture::<HashDcache>::new();
    let r = t.root.clone();
    t.mkdir("/a").unwrap();
    t.symlink("a", "/l").unwrap();
    let expected = if cfg!(feature = "lookup-full") {
        "full"
    } else {
        "fast"
    };
    assert_eq!(tessera_vfs::KERNEL_LOOKUP, expected);
    for (path, follow) in [("/a", true), ("/l", true), ("/l", false), ("/nope", true)] {
        let got = landing(t.vfs.lookup_inode(&r, &r, path.as_bytes(), follow));
        assert_eq!(got, check(&t, &r, &r, path, follow), "{path}");
    }
}
