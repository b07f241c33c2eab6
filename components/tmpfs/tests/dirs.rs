//! Directories: entries, link counts, removal, readdir cookies, hard links and rename; run
//! against both stat variants.

mod common;

use common::{list_from, names, tmpfs};
use tessera_abi::Errno;
use tessera_abi::fs::{S_IFREG, S_IFSOCK};
use tessera_tmpfs::StatVariant;
use tessera_vfs::{FileType, Inode};

fn create_lookup_and_name_errors<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    let f = root.create(b"f", S_IFREG | 0o644, 0).unwrap();
    let again = root.lookup(b"f").unwrap();
    assert_eq!(again.metadata().unwrap().ino, f.metadata().unwrap().ino);
    assert!(std::sync::Arc::ptr_eq(&f, &again), "one object per inode");
    assert_eq!(root.lookup(b"nope").err(), Some(Errno::ENOENT));
    assert_eq!(root.create(b"f", S_IFREG, 0).err(), Some(Errno::EEXIST));
    assert_eq!(root.mkdir(b"f", 0o755).err(), Some(Errno::EEXIST));
    assert_eq!(root.mkdir(b".", 0o755).err(), Some(Errno::EEXIST));
    assert_eq!(root.mkdir(b"..", 0o755).err(), Some(Errno::EEXIST));
    assert_eq!(
        root.mkdir(&[b'x'; 256], 0o755).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(root.lookup(&[b'x'; 256]).err(), Some(Errno::ENAMETOOLONG));
    root.mkdir(&[b'x'; 255], 0o755).unwrap();
    assert_eq!(root.create(b"a/b", S_IFREG, 0).err(), Some(Errno::EINVAL));
    assert_eq!(root.create(b"", S_IFREG, 0).err(), Some(Errno::EINVAL));
    assert_eq!(f.create(b"x", S_IFREG, 0).err(), Some(Errno::ENOTDIR));
    assert_eq!(f.mkdir(b"x", 0o755).err(), Some(Errno::ENOTDIR));
    let sock = root.create(b"sock", S_IFSOCK | 0o755, 0).unwrap();
    assert_eq!(sock.file_type(), FileType::Socket);
}

fn dot_entries_and_link_counts<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    let a = root.mkdir(b"a", 0o755).unwrap();
    let b = a.mkdir(b"b", 0o700).unwrap();
    a.create(b"f", S_IFREG, 0).unwrap();
    let ino = |i: &std::sync::Arc<dyn Inode>| i.metadata().unwrap().ino;
    assert_eq!(ino(&b.lookup(b"..").unwrap()), ino(&a));
    assert_eq!(ino(&b.lookup(b".").unwrap()), ino(&b));
    assert_eq!(
        ino(&root.lookup(b"..").unwrap()),
        ino(&root),
        "the root is its own parent"
    );
    assert_eq!(root.metadata().unwrap().nlink, 3);
    assert_eq!(
        a.metadata().unwrap().nlink,
        3,
        "2 + one subdirectory; files do not count"
    );
    assert_eq!(a.metadata().unwrap().size, 80, "40 + 20 per entry");
    let listing = list_from(&b, 0).unwrap();
    assert_eq!(listing[0].0, b".");
    assert_eq!(
        listing[1],
        (b"..".to_vec(), ino(&a), FileType::Directory, 2)
    );
}

fn unlink_and_rmdir_errors<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    let d = root.mkdir(b"d", 0o755).unwrap();
    d.create(b"f", S_IFREG, 0).unwrap();
    root.create(b"f", S_IFREG, 0).unwrap();
    assert_eq!(root.unlink(b"d"), Err(Errno::EISDIR));
    assert_eq!(root.unlink(b"nope"), Err(Errno::ENOENT));
    assert_eq!(root.rmdir(b"nope"), Err(Errno::ENOENT));
    assert_eq!(root.rmdir(b"f"), Err(Errno::ENOTDIR));
    assert_eq!(root.rmdir(b"d"), Err(Errno::ENOTEMPTY));
    assert_eq!(root.rmdir(b"."), Err(Errno::EINVAL));
    assert_eq!(root.rmdir(b".."), Err(Errno::ENOTEMPTY));
    assert_eq!(root.unlink(b"."), Err(Errno::EISDIR));
    d.unlink(b"f").unwrap();
    root.rmdir(b"d").unwrap();
    assert_eq!(root.metadata().unwrap().nlink, 2);
    let m = d.metadata().unwrap();
    assert_eq!(m.nlink, 0, "a removed directory has no links");
    // A removed directory can be neither listed nor filled, like Linux's dead directories.
    assert_eq!(d.readdir(0, &mut |_| true), Err(Errno::ENOENT));
    assert_eq!(d.create(b"g", S_IFREG, 0).err(), Some(Errno::ENOENT));
    assert_eq!(d.mkdir(b"g", 0o755).err(), Some(Errno::ENOENT));
    assert_eq!(d.lookup(b"g").err(), Some(Errno::ENOENT));
}

fn readdir_cookies_survive_unlinks_and_creations<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    for i in 0..100 {
        root.create(format!("f{i:03}").as_bytes(), S_IFREG, 0)
            .unwrap();
    }
    // Read `.`, `..` and 40 entries, as a getdents call with a small buffer would.
    let mut seen = Vec::new();
    let mut cookie = 0;
    root.readdir(0, &mut |e| {
        if seen.len() == 42 {
            return false;
        }
        seen.push(String::from_utf8(e.name.to_vec()).unwrap());
        cookie = e.next;
        true
    })
    .unwrap();
    // Remove some listed and some unlisted entries, add new ones, then continue.
    for i in (0..100).step_by(3) {
        root.unlink(format!("f{i:03}").as_bytes()).unwrap();
    }
    root.create(b"new", S_IFREG, 0).unwrap();
    let rest: Vec<String> = list_from(&root, cookie)
        .unwrap()
        .into_iter()
        .map(|(n, ..)| String::from_utf8(n).unwrap())
        .collect();
    seen.extend(rest);
    let mut expected: Vec<String> = [".", ".."].iter().map(|s| s.to_string()).collect();
    expected.extend((0..40).map(|i| format!("f{i:03}")));
    expected.extend((40..100).filter(|i| i % 3 != 0).map(|i| format!("f{i:03}")));
    expected.push("new".into());
    assert_eq!(
        seen, expected,
        "each surviving entry exactly once, removed unlisted ones never"
    );
}

fn readdir_sink_can_stop_at_every_entry<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    for i in 0..70 {
        root.create(format!("{i}").as_bytes(), S_IFREG, 0).unwrap();
    }
    // One entry per call, like a one-entry getdents buffer.
    let mut cookie = 0;
    let mut all = Vec::new();
    loop {
        let mut got = None;
        root.readdir(cookie, &mut |e| {
            if got.is_some() {
                return false;
            }
            got = Some((e.name.to_vec(), e.next));
            true
        })
        .unwrap();
        let Some((name, next)) = got else { break };
        all.push(String::from_utf8(name).unwrap());
        cookie = next;
    }
    assert_eq!(all.len(), 72);
    assert_eq!(&all[2..], &names(&root)[..]);
}

fn hard_links_count_and_keep_data_alive<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    let d = root.mkdir(b"d", 0o755).unwrap();
    let f = root.create(b"f", S_IFREG | 0o644, 0).unwrap();
    f.write_at(0, b"data").unwrap();
    d.link(b"g", &f).unwrap();
    assert_eq!(f.metadata().unwrap().nlink, 2);
    assert_eq!(
        d.lookup(b"g").unwrap().metadata().unwrap().ino,
        f.metadata().unwrap().ino
    );
    assert_eq!(d.link(b"g", &f), Err(Errno::EEXIST));
    assert_eq!(root.link(b"d2", &d), Err(Errno::EPERM));
    let other = tmpfs::<S>();
    assert_eq!(other.root().link(b"x", &f), Err(Errno::EXDEV));
    root.unlink(b"f").unwrap();
    assert_eq!(f.metadata().unwrap().nlink, 1);
    d.unlink(b"g").unwrap();
    assert_eq!(f.metadata().unwrap().nlink, 0);
    let mut buf = [0u8; 4];
    assert_eq!(
        f.read_at(0, &mut buf).unwrap(),
        4,
        "an unlinked open file stays readable"
    );
    assert_eq!(&buf, b"data");
    assert_eq!(
        root.link(b"back", &f),
        Err(Errno::ENOENT),
        "no new name for an unlinked file"
    );
}

fn rename_moves_replaces_and_refuses_like_linux<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    let a = root.mkdir(b"a", 0o755).unwrap();
    let b = a.mkdir(b"b", 0o755).unwrap();
    let c = root.mkdir(b"c", 0o755).unwrap();
    c.create(b"inside", S_IFREG, 0).unwrap();
    let f = root.create(b"f", S_IFREG, 0).unwrap();
    let g = root.create(b"g", S_IFREG, 0).unwrap();
    let empty = root.mkdir(b"empty", 0o755).unwrap();
    assert_eq!(root.rename(b"nope", &root, b"x"), Err(Errno::ENOENT));
    assert_eq!(
        root.rename(b"a", &b, b"x"),
        Err(Errno::EINVAL),
        "into its own subdirectory"
    );
    assert_eq!(
        root.rename(b"a", &a, b"x"),
        Err(Errno::EINVAL),
        "into itself"
    );
    assert_eq!(root.rename(b"a", &root, b"f"), Err(Errno::ENOTDIR));
    assert_eq!(root.rename(b"f", &root, b"a"), Err(Errno::EISDIR));
    assert_eq!(root.rename(b"a", &root, b"c"), Err(Errno::ENOTEMPTY));
    assert_eq!(root.rename(b".", &root, b"x"), Err(Errno::EBUSY));
    assert_eq!(root.rename(b"f", &f, b"x"), Err(Errno::ENOTDIR));
    assert_eq!(
        root.rename(b"f", &tmpfs::<S>().root(), b"x"),
        Err(Errno::EXDEV)
    );
    // Same inode under both names: nothing happens.
    root.link(b"f2", &f).unwrap();
    root.rename(b"f", &root, b"f2").unwrap();
    assert_eq!(f.metadata().unwrap().nlink, 2);
    root.rename(b"f", &root, b"f").unwrap();
    // Replace a file: the old target loses its link.
    root.rename(b"g", &root, b"f2").unwrap();
    assert_eq!(
        (g.metadata().unwrap().nlink, f.metadata().unwrap().nlink),
        (1, 1)
    );
    assert_eq!(root.lookup(b"g").err(), Some(Errno::ENOENT));
    // Move a directory: link counts of both parents, and its `..`, follow.
    root.rename(b"c", &b, b"c2").unwrap();
    assert_eq!(
        (root.metadata().unwrap().nlink, b.metadata().unwrap().nlink),
        (4, 3)
    );
    let ino = |i: &std::sync::Arc<dyn Inode>| i.metadata().unwrap().ino;
    assert_eq!(ino(&c.lookup(b"..").unwrap()), ino(&b));
    assert_eq!(
        list_from(&c, 1).unwrap()[0].1,
        ino(&b),
        "readdir's `..` follows too"
    );
    // Replace an empty directory: it dies.
    b.rename(b"c2", &root, b"empty").unwrap();
    assert_eq!(empty.metadata().unwrap().nlink, 0);
    assert_eq!(empty.create(b"x", S_IFREG, 0).err(), Some(Errno::ENOENT));
    assert_eq!(root.metadata().unwrap().nlink, 4);
    assert_eq!(names(&root), ["a", "f", "f2", "empty"]);
    assert_eq!(names(&root.lookup(b"empty").unwrap()), ["inside"]);
}

both_stats!(
    create_lookup_and_name_errors,
    dot_entries_and_link_counts,
    unlink_and_rmdir_errors,
    readdir_cookies_survive_unlinks_and_creations,
    readdir_sink_can_stop_at_every_entry,
    hard_links_count_and_keep_data_alive,
    rename_moves_replaces_and_refuses_like_linux,
);
