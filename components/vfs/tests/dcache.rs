//! The dentry cache: the hashbrown variant must be indistinguishable from no cache (no stale
//! entry ever), must spare the file system repeated lookups, and must keep one dentry per
//! name in use (so rename moves held dentries, as Linux's `d_move`).

mod common;

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Fixture, Tmpfs, clock};
use proptest::prelude::*;
use std::sync::Mutex;
use tessera_abi::fs::S_IFREG;
use tessera_abi::{Errno, KResult};
use tessera_vfs::{Dcache, FileType, HashDcache, Inode, Metadata, NoDcache, Vfs};

/// Wraps an inode to count the lookups the VFS makes into the file system.
struct Counting {
    inner: Arc<dyn Inode>,
    lookups: Arc<AtomicUsize>,
}

impl Inode for Counting {
    fn metadata(&self) -> KResult<Metadata> {
        self.inner.metadata()
    }
    fn file_type(&self) -> FileType {
        self.inner.file_type()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner.lookup(name)?;
        Ok(Arc::new(Counting {
            inner,
            lookups: self.lookups.clone(),
        }))
    }
}

fn lookups_for_two_walks<C: Dcache + Default>() -> (usize, usize, Vfs<C>) {
    let fs = Tmpfs::new(1, clock);
    let root = fs.root();
    root.mkdir(b"a", 0o755)
        .unwrap()
        .mkdir(b"b", 0o755)
        .unwrap()
        .create(b"c", S_IFREG, 0)
        .unwrap();
    let lookups = Arc::new(AtomicUsize::new(0));
    let vfs = Vfs::<C>::new(Arc::new(Counting {
        inner: root,
        lookups: lookups.clone(),
    }));
    let r = vfs.root().clone();
    vfs.resolve(&r, &r, b"/a/b/c", true).unwrap();
    let first = lookups.load(Ordering::Relaxed);
    vfs.resolve(&r, &r, b"/a/b/c", true).unwrap();
    (first, lookups.load(Ordering::Relaxed) - first, vfs)
}

#[test]
fn repeated_walks_do_not_call_the_file_system() {
    let (first, second, vfs) = lookups_for_two_walks::<HashDcache>();
    assert_eq!((first, second), (3, 0));
    let stats = vfs.dcache().stats();
    assert_eq!((stats.hits, stats.misses, stats.entries), (3, 3, 3));
    let (first, second, vfs) = lookups_for_two_walks::<NoDcache>();
    assert_eq!(
        (first, second),
        (3, 3),
        "without a cache every walk asks the file system"
    );
    assert_eq!(vfs.dcache().stats().entries, 0);
    assert_eq!((NoDcache::NAME, HashDcache::NAME), ("off", "hashbrown"));
}

#[test]
fn eviction_only_drops_unused_dentries() {
    let t = Fixture::with_cache(HashDcache::with_limit(8));
    t.mkdir("/d").unwrap();
    let held: Vec<_> = (0..20)
        .map(|i| t.file(&format!("/d/held{i}"), b"").unwrap())
        .collect();
    for i in 0..200 {
        t.file(&format!("/d/tmp{i}"), b"").unwrap();
        t.get(&format!("/d/tmp{i}")).unwrap();
    }
    let entries = t.vfs.dcache().stats().entries;
    assert!(entries < 70, "unused entries are swept ({entries} left)");
    for (i, d) in held.iter().enumerate() {
        let again = t.get(&format!("/d/held{i}")).unwrap();
        assert!(
            Arc::ptr_eq(d, &again),
            "a dentry in use stays the one dentry of its name"
        );
    }
}

#[test]
fn rename_moves_held_dentries_with_the_cache() {
    let t = Fixture::<HashDcache>::new();
    t.mkdir("/a").unwrap();
    t.mkdir("/a/b").unwrap();
    t.mkdir("/z").unwrap();
    let cwd = t.get("/a/b").unwrap();
    t.rename("/a", "/z/moved").unwrap();
    assert_eq!(
        Fixture::<HashDcache>::path_of(&cwd),
        "/z/moved/b",
        "getcwd follows the rename"
    );
    assert!(!cwd.is_deleted());
    let up = t.get_at(&cwd, "../..").unwrap();
    assert!(
        up.same_location(&t.get("/z").unwrap()),
        "`..` follows the rename"
    );
    t.rename("/z/moved/b", "/b2").unwrap();
    assert_eq!(Fixture::<HashDcache>::path_of(&cwd), "/b2");
    t.mkdir("/c").unwrap();
    let replaced = t.get("/c").unwrap();
    t.rename("/b2", "/c").unwrap();
    assert!(
        replaced.is_deleted(),
        "the replaced directory's dentry is deleted"
    );
    assert_eq!(Fixture::<HashDcache>::path_of(&cwd), "/c");
}

#[test]
fn without_the_cache_held_dentries_keep_their_walked_path() {
    // The documented limit of variant `off`: nothing finds a held dentry to move it.
    let t = Fixture::<NoDcache>::new();
    t.mkdir("/a").unwrap();
    t.mkdir("/a/b").unwrap();
    let cwd = t.get("/a/b").unwrap();
    t.rename("/a", "/moved").unwrap();
    assert_eq!(
        Fixture::<NoDcache>::path_of(&cwd),
        "/a/b",
        "the path it was resolved by"
    );
    assert!(!cwd.is_deleted(), "its own name still leads to it");
    t.mkdir("/moved/b/x").unwrap();
    assert!(t.get_at(&cwd, "x").is_ok(), "lookups below it still work");
}

/// A directory whose entries change behind the VFS's back (like a procfs listing processes),
/// so it opts out of caching.
struct Dynamic {
    names: Mutex<Vec<&'static str>>,
    child: Arc<dyn Inode>,
}

impl Inode for Dynamic {
    fn metadata(&self) -> KResult<Metadata> {
        let mut m = self.child.metadata()?;
        m.mode = tessera_abi::fs::S_IFDIR | 0o555;
        m.ino = 4242;
        Ok(m)
    }
    fn file_type(&self) -> FileType {
        FileType::Directory
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn cache_children(&self) -> bool {
        false
    }
    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let names = self.names.lock().unwrap();
        names
            .iter()
            .find(|n| n.as_bytes() == name)
            .map(|_| self.child.clone())
            .ok_or(Errno::ENOENT)
    }
}

#[test]
fn directories_that_change_by_themselves_are_not_cached() {
    let t = Fixture::<HashDcache>::new();
    t.mkdir("/proc").unwrap();
    let file = Tmpfs::new(2, clock)
        .root()
        .create(b"status", S_IFREG, 0)
        .unwrap();
    let dynamic = Arc::new(Dynamic {
        names: Mutex::new(vec!["1"]),
        child: file,
    });
    let as_inode: Arc<dyn Inode> = dynamic.clone();
    t.vfs.mount(&t.get("/proc").unwrap(), as_inode).unwrap();
    assert!(t.get("/proc/1").is_ok());
    dynamic.names.lock().unwrap().clear();
    assert_eq!(
        t.get("/proc/1").err(),
        Some(Errno::ENOENT),
        "no stale entry"
    );
    dynamic.names.lock().unwrap().push("2");
    assert!(t.get("/proc/2").is_ok());
}

/// Operations of the equivalence test, on paths made of a few names.
#[derive(Clone, Debug)]
enum Op {
    Mkdir(String),
    Create(String),
    Symlink(&'static str, String),
    Link(String, String),
    Unlink(String),
    Rmdir(String),
    Rename(String, String),
    Mount(String),
    Umount(String),
    /// Unmount the path of the last successful mount (turned into `Umount` by the test).
    UmountLast,
}

/// Absolute paths over three names, mostly short, so that most operations find their path.
fn path() -> impl Strategy<Value = String> {
    let name = || prop::sample::select(vec!["a", "b", "l"]);
    prop_oneof![
        3 => prop::collection::vec(name(), 1..=1),
        4 => prop::collection::vec(name(), 2..=2),
        2 => prop::collection::vec(name(), 3..=3),
    ]
    .prop_map(|v| format!("/{}", v.join("/")))
}

fn op() -> impl Strategy<Value = Op> {
    let target = prop::sample::select(vec!["a", "../b", "/a/b", "l", ".", "/", "a/"]);
    prop_oneof![
        3 => path().prop_map(Op::Mkdir),
        2 => path().prop_map(Op::Create),
        2 => (target, path()).prop_map(|(t, p)| Op::Symlink(t, p)),
        3 => (path(), path()).prop_map(|(a, b)| Op::Link(a, b)),
        2 => path().prop_map(Op::Unlink),
        2 => path().prop_map(Op::Rmdir),
        3 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        2 => path().prop_map(Op::Mount),
        1 => path().prop_map(Op::Umount),
        1 => Just(Op::UmountLast),
    ]
}

/// What a resolution gives, comparable across two separate trees built the same way.
fn observe<C: Dcache>(
    t: &Fixture<C>,
    start: &Arc<tessera_vfs::Dentry>,
    path: &str,
) -> KResult<(u64, u64, FileType, Vec<u8>)> {
    let d = t.vfs.resolve(start, &t.root, path.as_bytes(), true)?;
    let m = d.inode().metadata()?;
    Ok((m.dev, m.ino, d.file_type(), d.path()))
}

fn apply<C: Dcache>(t: &Fixture<C>, op: &Op, dev: u64) -> KResult<()> {
    let r = &t.root;
    match op {
        Op::Mkdir(p) => t.mkdir(p).map(drop),
        Op::Create(p) => t.file(p, p.as_bytes()).map(drop),
        Op::Symlink(target, p) => t.symlink(target, p).map(drop),
        Op::Link(a, b) => t
            .vfs
            .link(r, a.as_bytes(), r, b.as_bytes(), r, false)
            .map(drop),
        Op::Unlink(p) => t.unlink(p),
        Op::Rmdir(p) => t.rmdir(p),
        Op::Rename(a, b) => t.rename(a, b),
        Op::Mount(p) => {
            let at = t.get(p)?;
            if at.same_location(r) {
                // Over the root, `/` and the `path()` of what is below no longer lead to the
                // same place (in Linux too): tested on its own, not here.
                return Err(Errno::EBUSY);
            }
            t.vfs.mount(&at, Tmpfs::new(dev, clock).root()).map(drop)
        }
        Op::Umount(p) => t.vfs.umount(&t.get(p)?),
        Op::UmountLast => unreachable!("replaced by Umount"),
    }
}

/// Every path the operations can name, plus a few with dots and slashes.
fn probes() -> Vec<String> {
    let names = ["a", "b", "l"];
    let mut out = vec![
        "/".to_string(),
        "/a/..".into(),
        "/a/b/../l".into(),
        "/l/".into(),
        "/a/./b/".into(),
    ];
    for x in names {
        out.push(format!("/{x}"));
        for y in names {
            out.push(format!("/{x}/{y}"));
            for z in names {
                out.push(format!("/{x}/{y}/{z}"));
            }
        }
    }
    out
}

/// The location part of an observation: what must agree between all variants.
fn location(o: &KResult<(u64, u64, FileType, Vec<u8>)>) -> KResult<(u64, u64, FileType)> {
    o.clone().map(|(dev, ino, kind, _)| (dev, ino, kind))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Random operation sequences on three trees: no cache, the default hash cache, and a
    /// hash cache so small it evicts all the time. Every result, and after every step every
    /// probe path (from the root and downwards from a held working directory), must agree.
    /// Paths (`getcwd`) are compared too, except with the cache off once something was
    /// mounted: a mount point keeps the path it was mounted by under `off` (see `Dentry`);
    /// instead, the cached variants' paths must lead back to the same inode. For the same
    /// reason, walks from the held directory are compared with `off` only while its walked
    /// path is still its real place.
    #[test]
    fn hash_cache_is_indistinguishable_from_no_cache(ops in prop::collection::vec(op(), 1..40)) {
        let off = Fixture::<NoDcache>::new();
        let hash = Fixture::<HashDcache>::new();
        let tiny = Fixture::with_cache(HashDcache::with_limit(2));
        let (off_cwd, hash_cwd, tiny_cwd) = (off.mkdir("/a").unwrap(), hash.mkdir("/a").unwrap(), tiny.mkdir("/a").unwrap());
        let probes = probes();
        let mut mounted = false;
        let mut mount_paths = Vec::new();
        for (step, op) in ops.iter().enumerate() {
            let op = &match op {
                Op::UmountLast => Op::Umount(mount_paths.pop().unwrap_or_else(|| "/".into())),
                other => other.clone(),
            };
            let dev = 100 + step as u64;
            let expected = apply(&off, op, dev);
            if let (Op::Mount(p), Ok(())) = (op, &expected) {
                mounted = true;
                mount_paths.push(p.clone());
            }
            prop_assert_eq!(&apply(&hash, op, dev), &expected, "{:?}", op);
            prop_assert_eq!(&apply(&tiny, op, dev), &expected, "{:?} (tiny cache)", op);
            // A held working directory's path (getcwd) leads back to it while the directory
            // exists (link count), unless hidden under a mount.
            for (t, cwd) in [(&hash, &hash_cwd), (&tiny, &tiny_cwd)] {
                let linked = cwd.inode().metadata().unwrap().nlink > 0;
                prop_assert_eq!(cwd.is_deleted(), !linked, "is_deleted after {:?}", op);
                if !mounted && linked {
                    let back = t.vfs.resolve(&t.root, &t.root, &cwd.path(), false).unwrap();
                    prop_assert!(back.same_location(cwd), "getcwd {:?} after {:?}", cwd.path(), op);
                }
            }
            let off_cwd_in_place = off
                .vfs
                .resolve(&off.root, &off.root, &off_cwd.path(), false)
                .is_ok_and(|d| d.same_location(&off_cwd));
            for p in &probes {
                let want = observe(&off, &off.root, p);
                let got = observe(&hash, &hash.root, p);
                prop_assert_eq!(&observe(&tiny, &tiny.root, p), &got, "{} after {:?} (tiny)", p, op);
                if mounted {
                    prop_assert_eq!(location(&got), location(&want), "{} after {:?}", p, op);
                } else {
                    prop_assert_eq!(&got, &want, "{} after {:?}", p, op);
                }
                if let Ok((dev, ino, _, path)) = &got {
                    let back = observe(&hash, &hash.root, std::str::from_utf8(path).unwrap());
                    let (bdev, bino, _, _) = back.unwrap();
                    prop_assert_eq!((bdev, bino), (*dev, *ino), "path {:?} of {} leads back", path, p);
                }
                let rel = &p[1..];
                if !rel.is_empty() && !rel.contains("..") {
                    let got = location(&observe(&hash, &hash_cwd, rel));
                    prop_assert_eq!(location(&observe(&tiny, &tiny_cwd, rel)), got, "./{} after {:?} (tiny)", rel, op);
                    // Under `off` a held directory keeps its walked parents: only while that
                    // is still its real place do links with `..` below it agree.
                    if off_cwd_in_place {
                        let want = location(&observe(&off, &off_cwd, rel));
                        prop_assert_eq!(got, want, "./{} after {:?}", rel, op);
                    }
                }
            }
        }
    }
}
