//! Property test: random sequences of create/write/truncate/unlink/rename/mkdir/rmdir on
//! tmpfs, checked step by step against a simple in-memory tree (results and errors), with
//! listings, contents, sizes and link counts compared after every step. Both stat variants
//! run the same operations side by side, and every inode's whole `stat` must agree between
//! them after every step (the lock-free one keeps size and blocks itself).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{contents, list_from, set_time, tmpfs};
use proptest::prelude::*;
use tessera_abi::fs::S_IFREG;
use tessera_abi::{Errno, KResult};
use tessera_tmpfs::{LockedStat, LockfreeStat, StatVariant};
use tessera_vfs::{FileType, Inode};

/// The model: a tree of directories and files (no hard links: one path per inode).
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Dir(BTreeMap<String, Node>),
    File(Vec<u8>),
}

type Path = Vec<String>;

#[derive(Clone, Debug)]
enum Op {
    Create(Path),
    Mkdir(Path),
    Write(Path, u16, u16, u8),
    Truncate(Path, u16),
    Unlink(Path),
    Rmdir(Path),
    Rename(Path, Path),
}

/// Paths over two names, mostly short, so that most operations find what they name.
fn path() -> impl Strategy<Value = Path> {
    let name = || prop::sample::select(vec!["a", "b"]).prop_map(String::from);
    prop_oneof![
        3 => prop::collection::vec(name(), 1..=1),
        3 => prop::collection::vec(name(), 2..=2),
        1 => prop::collection::vec(name(), 3..=3),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => path().prop_map(Op::Create),
        2 => path().prop_map(Op::Mkdir),
        2 => (path(), 0..9000u16, 0..5000u16, any::<u8>()).prop_map(|(p, o, l, b)| Op::Write(p, o, l, b)),
        1 => (path(), 0..9000u16).prop_map(|(p, l)| Op::Truncate(p, l)),
        1 => path().prop_map(Op::Unlink),
        1 => path().prop_map(Op::Rmdir),
        2 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
    ]
}

/// Walk `dirs` in the model the way the test walks tmpfs: ENOENT for a missing name,
/// ENOTDIR for a lookup inside a file.
fn model_dir<'a>(root: &'a mut Node, dirs: &[String]) -> KResult<&'a mut BTreeMap<String, Node>> {
    let mut cur = root;
    for name in dirs {
        match cur {
            Node::Dir(entries) => cur = entries.get_mut(name).ok_or(Errno::ENOENT)?,
            Node::File(_) => return Err(Errno::ENOTDIR),
        }
    }
    match cur {
        Node::Dir(entries) => Ok(entries),
        Node::File(_) => Err(Errno::ENOTDIR),
    }
}

fn tmp_dir(root: &Arc<dyn Inode>, dirs: &[String]) -> KResult<Arc<dyn Inode>> {
    let mut cur = root.clone();
    for name in dirs {
        cur = cur.lookup(name.as_bytes())?;
    }
    if cur.file_type().is_dir() {
        Ok(cur)
    } else {
        Err(Errno::ENOTDIR)
    }
}

fn split(p: &Path) -> (&[String], &String) {
    (&p[..p.len() - 1], &p[p.len() - 1])
}

fn apply_model(root: &mut Node, op: &Op) -> KResult<()> {
    match op {
        Op::Create(p) | Op::Mkdir(p) => {
            let (dirs, name) = split(p);
            let entries = model_dir(root, dirs)?;
            if entries.contains_key(name) {
                return Err(Errno::EEXIST);
            }
            let node = if matches!(op, Op::Mkdir(_)) {
                Node::Dir(BTreeMap::new())
            } else {
                Node::File(vec![])
            };
            entries.insert(name.clone(), node);
            Ok(())
        }
        Op::Write(p, off, len, byte) => {
            let (dirs, name) = split(p);
            match model_dir(root, dirs)?.get_mut(name).ok_or(Errno::ENOENT)? {
                Node::Dir(_) => Err(Errno::EISDIR),
                Node::File(data) => {
                    let end = (*off + *len) as usize;
                    if *len > 0 && data.len() < end {
                        data.resize(end, 0);
                    }
                    // A write of 0 bytes changes nothing, wherever it is.
                    let stop = end.min(data.len());
                    let start = (*off as usize).min(stop);
                    data[start..stop].fill(*byte);
                    Ok(())
                }
            }
        }
        Op::Truncate(p, len) => {
            let (dirs, name) = split(p);
            match model_dir(root, dirs)?.get_mut(name).ok_or(Errno::ENOENT)? {
                Node::Dir(_) => Err(Errno::EISDIR),
                Node::File(data) => {
                    data.resize(*len as usize, 0);
                    Ok(())
                }
            }
        }
        Op::Unlink(p) | Op::Rmdir(p) => {
            let (dirs, name) = split(p);
            let entries = model_dir(root, dirs)?;
            match (entries.get(name).ok_or(Errno::ENOENT)?, op) {
                (Node::Dir(_), Op::Unlink(_)) => return Err(Errno::EISDIR),
                (Node::File(_), Op::Rmdir(_)) => return Err(Errno::ENOTDIR),
                (Node::Dir(e), _) if !e.is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
            entries.remove(name);
            Ok(())
        }
        Op::Rename(from, to) => {
            let ((fdirs, fname), (tdirs, tname)) = (split(from), split(to));
            model_dir(root, fdirs)?;
            model_dir(root, tdirs)?;
            let src = model_dir(root, fdirs)?
                .get(fname)
                .ok_or(Errno::ENOENT)?
                .clone();
            if from == to {
                return Ok(());
            }
            if matches!(src, Node::Dir(_)) && tdirs.starts_with(from) {
                return Err(Errno::EINVAL);
            }
            match (&src, model_dir(root, tdirs)?.get(tname)) {
                (Node::Dir(_), Some(Node::File(_))) => return Err(Errno::ENOTDIR),
                (Node::File(_), Some(Node::Dir(_))) => return Err(Errno::EISDIR),
                (Node::Dir(_), Some(Node::Dir(e))) if !e.is_empty() => {
                    return Err(Errno::ENOTEMPTY);
                }
                _ => {}
            }
            model_dir(root, fdirs)?.remove(fname);
            model_dir(root, tdirs)?.insert(tname.clone(), src);
            Ok(())
        }
    }
}

fn apply_tmpfs(root: &Arc<dyn Inode>, op: &Op) -> KResult<()> {
    let at = |p: &Path| -> KResult<(Arc<dyn Inode>, Vec<u8>)> {
        let (dirs, name) = split(p);
        Ok((tmp_dir(root, dirs)?, name.as_bytes().to_vec()))
    };
    match op {
        Op::Create(p) => at(p).and_then(|(d, n)| d.create(&n, S_IFREG | 0o644, 0).map(drop)),
        Op::Mkdir(p) => at(p).and_then(|(d, n)| d.mkdir(&n, 0o755).map(drop)),
        Op::Write(p, off, len, byte) => {
            let (d, n) = at(p)?;
            let f = d.lookup(&n)?;
            let written = f.write_at(u64::from(*off), &vec![*byte; *len as usize])?;
            assert_eq!(written, *len as usize);
            Ok(())
        }
        Op::Truncate(p, len) => at(p).and_then(|(d, n)| d.lookup(&n)?.truncate(u64::from(*len))),
        Op::Unlink(p) => at(p).and_then(|(d, n)| d.unlink(&n)),
        Op::Rmdir(p) => at(p).and_then(|(d, n)| d.rmdir(&n)),
        Op::Rename(from, to) => {
            let (fd, fname) = at(from)?;
            let (td, tname) = at(to)?;
            fd.rename(&fname, &td, &tname)
        }
    }
}

/// Compare a tmpfs directory with a model directory, recursively.
fn check_dir(dir: &Arc<dyn Inode>, model: &BTreeMap<String, Node>, parent_ino: u64) {
    let listing = list_from(dir, 0).unwrap();
    let meta = dir.metadata().unwrap();
    assert_eq!(listing[0].0, b".");
    assert_eq!(listing[0].1, meta.ino);
    assert_eq!(
        (listing[1].0.as_slice(), listing[1].1),
        (&b".."[..], parent_ino)
    );
    let mut listed: Vec<(String, FileType)> = listing[2..]
        .iter()
        .map(|(n, _, t, _)| (String::from_utf8(n.clone()).unwrap(), *t))
        .collect();
    listed.sort();
    let expected: Vec<(String, FileType)> = model
        .iter()
        .map(|(n, node)| {
            (
                n.clone(),
                if matches!(node, Node::Dir(_)) {
                    FileType::Directory
                } else {
                    FileType::Regular
                },
            )
        })
        .collect();
    assert_eq!(listed, expected);
    let subdirs = model.values().filter(|n| matches!(n, Node::Dir(_))).count() as u32;
    assert_eq!(meta.nlink, 2 + subdirs);
    assert_eq!(meta.size, 40 + 20 * model.len() as u64);
    for (name, node) in model {
        let child = dir.lookup(name.as_bytes()).unwrap();
        match node {
            Node::Dir(entries) => check_dir(&child, entries, meta.ino),
            Node::File(data) => {
                assert_eq!(&contents(&child), data, "contents of {name}");
                let meta = child.metadata().unwrap();
                assert_eq!(meta.nlink, 1);
                assert!(
                    meta.blocks <= meta.size.div_ceil(4096) * 8,
                    "no page past the end"
                );
            }
        }
    }
}

/// Every inode's whole `stat` must be the same in two trees built by the same operations
/// (one per stat variant), recursively.
fn same_stats(a: &Arc<dyn Inode>, b: &Arc<dyn Inode>) {
    assert_eq!(a.metadata().unwrap(), b.metadata().unwrap());
    if !a.file_type().is_dir() {
        return;
    }
    let (la, lb) = (list_from(a, 2).unwrap(), list_from(b, 2).unwrap());
    assert_eq!(la, lb);
    for (name, ..) in la {
        same_stats(&a.lookup(&name).unwrap(), &b.lookup(&name).unwrap());
    }
}

/// Remove everything below `dir`.
fn remove_all(dir: &Arc<dyn Inode>) {
    for (name, _, kind, _) in list_from(dir, 2).unwrap() {
        if kind.is_dir() {
            remove_all(&dir.lookup(&name).unwrap());
            dir.rmdir(&name).unwrap();
        } else {
            dir.unlink(&name).unwrap();
        }
    }
}

/// Remove the whole tree of `fs`: then no page is used and only the root is alive.
fn emptied_frees_everything<S: StatVariant>(fs: &tessera_tmpfs::Tmpfs<S>) -> bool {
    remove_all(&fs.root());
    fs.stats().used_pages == 0 && fs.stats().inodes == 1
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn tmpfs_matches_the_model(ops in prop::collection::vec(op(), 1..60)) {
        let locked = tmpfs::<LockedStat>();
        let lockfree = tmpfs::<LockfreeStat>();
        let mut model = Node::Dir(BTreeMap::new());
        for (step, op) in ops.iter().enumerate() {
            // Time moves, so the time stamps of both variants are compared too.
            set_time(2_000 + step as i64);
            let expected = apply_model(&mut model, op);
            let Node::Dir(entries) = &model else { unreachable!() };
            for root in [locked.root(), lockfree.root()] {
                let got = apply_tmpfs(&root, op);
                prop_assert_eq!(got, expected, "{:?}", op);
                let root_ino = root.metadata().unwrap().ino;
                check_dir(&root, entries, root_ino);
            }
            same_stats(&locked.root(), &lockfree.root());
        }
        // Every page and inode is accounted for: removing the whole tree frees them all.
        prop_assert!(emptied_frees_everything(&locked));
        prop_assert!(emptied_frees_everything(&lockfree));
    }

    /// A listing continued from any cookie after random removals and additions shows each
    /// entry that survived exactly once and never one removed before it was reached.
    #[test]
    fn readdir_cookies_are_stable(
        initial in 1..60usize,
        stop_after in 0..70usize,
        removed in prop::collection::btree_set(0..60usize, 0..30),
        added in 0..10usize,
        lockfree in any::<bool>(),
    ) {
        // Listing does not depend on the stat variant: each case picks one.
        let root = if lockfree { tmpfs::<LockfreeStat>().root() } else { tmpfs::<LockedStat>().root() };
        for i in 0..initial {
            root.create(format!("f{i}").as_bytes(), S_IFREG, 0).unwrap();
        }
        let mut first = Vec::new();
        let mut cookie = 0;
        root.readdir(0, &mut |e| {
            if first.len() == stop_after {
                return false;
            }
            first.push(String::from_utf8(e.name.to_vec()).unwrap());
            cookie = e.next;
            true
        }).unwrap();
        for &i in removed.iter().filter(|&&i| i < initial) {
            root.unlink(format!("f{i}").as_bytes()).unwrap();
        }
        for i in 0..added {
            root.create(format!("new{i}").as_bytes(), S_IFREG, 0).unwrap();
        }
        let rest: Vec<String> = list_from(&root, cookie).unwrap().into_iter()
            .map(|(n, ..)| String::from_utf8(n).unwrap()).collect();
        let mut all = first.clone();
        all.extend(rest.iter().cloned());
        let mut dedup = all.clone();
        dedup.sort();
        dedup.dedup();
        prop_assert_eq!(dedup.len(), all.len(), "no entry twice");
        for i in 0..initial {
            let name = format!("f{i}");
            let survived = !removed.contains(&i);
            let listed_early = first.contains(&name);
            prop_assert_eq!(all.contains(&name), survived || listed_early, "{}", name);
        }
        for i in 0..added {
            let name = format!("new{i}");
            prop_assert!(all.contains(&name), "entries added at the end appear");
        }
    }
}
