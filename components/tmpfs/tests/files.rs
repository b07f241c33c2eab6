//! Regular files, symlinks and device nodes: data, holes, sizes, blocks, limits, attributes;
//! run against both stat variants.

mod common;

use common::{DEV, clock, contents, set_time, tmpfs};
use tessera_abi::Errno;
use tessera_abi::fs::{
    S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_ISGID, S_ISUID, Timespec, makedev,
};
use tessera_tmpfs::{Limits, MAX_FILE_SIZE, StatVariant, TmpInode, Tmpfs};
use tessera_vfs::FileType;

fn root_reports_what_linux_tmpfs_does<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let m = fs.root().metadata().unwrap();
    assert_eq!(m.ino, 1);
    assert_eq!(m.mode, S_IFDIR | 0o1777);
    assert_eq!(
        (m.nlink, m.size, m.blocks, m.blksize, m.dev),
        (2, 40, 0, 4096, DEV)
    );
    assert_eq!((m.uid, m.gid, m.rdev), (0, 0, 0));
}

fn writes_extend_holes_read_as_zeros_and_cost_nothing<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let f = fs.root().create(b"f", S_IFREG | 0o644, 0).unwrap();
    let m = f.metadata().unwrap();
    assert_eq!(
        (m.mode, m.nlink, m.size, m.blocks),
        (S_IFREG | 0o644, 1, 0, 0)
    );
    assert_eq!(f.write_at(10_000, b"hello").unwrap(), 5);
    let m = f.metadata().unwrap();
    assert_eq!(m.size, 10_005);
    assert_eq!(m.blocks, 8, "only the page holding the data is allocated");
    let data = contents(&f);
    assert!(data[..10_000].iter().all(|&b| b == 0));
    assert_eq!(&data[10_000..], b"hello");
    // A write across a page boundary, and reads at and past the end.
    assert_eq!(f.write_at(4090, &[7u8; 12]).unwrap(), 12);
    assert_eq!(f.metadata().unwrap().blocks, 24);
    let mut buf = [0u8; 16];
    assert_eq!(f.read_at(4088, &mut buf).unwrap(), 16);
    assert_eq!(buf, [0, 0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0]);
    assert_eq!(f.read_at(10_005, &mut buf).unwrap(), 0);
    assert_eq!(f.read_at(u64::MAX, &mut buf).unwrap(), 0);
    assert_eq!(f.read_at(10_003, &mut buf).unwrap(), 2);
    assert_eq!(f.write_at(5, b"").unwrap(), 0);
    assert_eq!(fs.stats().used_pages, 3);
}

fn truncate_both_ways_zeroes_the_cut_tail<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let f = fs.root().create(b"f", S_IFREG | 0o600, 0).unwrap();
    f.write_at(0, &[1u8; 9000]).unwrap();
    assert_eq!(fs.stats().used_pages, 3);
    f.truncate(100).unwrap();
    assert_eq!(f.metadata().unwrap().size, 100);
    assert_eq!(fs.stats().used_pages, 1, "pages past the end are freed");
    f.truncate(5000).unwrap();
    let data = contents(&f);
    assert_eq!(data.len(), 5000);
    assert!(data[..100].iter().all(|&b| b == 1));
    assert!(
        data[100..].iter().all(|&b| b == 0),
        "bytes cut by a shrink come back as zeros"
    );
    f.truncate(0).unwrap();
    assert_eq!((f.metadata().unwrap().size, fs.stats().used_pages), (0, 0));
    assert_eq!(f.truncate(MAX_FILE_SIZE + 1), Err(Errno::EFBIG));
    f.truncate(MAX_FILE_SIZE).unwrap();
    assert_eq!(
        f.metadata().unwrap().blocks,
        0,
        "a huge sparse file uses nothing"
    );
    assert_eq!(f.write_at(MAX_FILE_SIZE - 1, b"ab"), Err(Errno::EFBIG));
    assert_eq!(f.write_at(u64::MAX, b"a"), Err(Errno::EFBIG));
}

fn the_page_limit_gives_enospc_and_partial_writes<S: StatVariant>() {
    let fs = Tmpfs::<S>::with_page_limit(DEV, clock, 2);
    let f = fs.root().create(b"f", S_IFREG | 0o600, 0).unwrap();
    assert_eq!(
        f.write_at(0, &[3u8; 3 * 4096]).unwrap(),
        2 * 4096,
        "a short write up to the limit"
    );
    assert_eq!(f.write_at(2 * 4096, b"x"), Err(Errno::ENOSPC));
    assert_eq!(f.metadata().unwrap().size, 2 * 4096);
    // Writing inside allocated pages still works; freeing pages makes room again.
    assert_eq!(f.write_at(10, b"y").unwrap(), 1);
    fs.root().unlink(b"f").unwrap();
    assert_eq!(fs.stats().used_pages, 2, "the unlinked file is still held");
    drop(f);
    assert_eq!(fs.stats().used_pages, 0);
    assert_eq!(fs.stats().page_limit, Some(2));
}

fn the_inode_limit_counts_the_root_and_gives_enospc<S: StatVariant>() {
    let limits = Limits {
        inodes: Some(3),
        ..Limits::default()
    };
    let fs = Tmpfs::<S>::with_limits(DEV, clock, limits);
    let root = fs.root();
    assert_eq!(fs.stats().inodes, 1, "the root is one");
    let f = root.create(b"a", S_IFREG | 0o600, 0).unwrap();
    root.mkdir(b"d", 0o755).unwrap();
    assert_eq!(
        root.create(b"b", S_IFREG | 0o600, 0).err(),
        Some(Errno::ENOSPC)
    );
    assert_eq!(root.mkdir(b"e", 0o755).err(), Some(Errno::ENOSPC));
    assert_eq!(root.symlink(b"l", b"a").err(), Some(Errno::ENOSPC));
    assert_eq!(
        root.lookup(b"b").err(),
        Some(Errno::ENOENT),
        "nothing half-made"
    );
    // An unlinked file still held keeps its inode; dropping it makes room.
    root.unlink(b"a").unwrap();
    assert_eq!(
        root.create(b"b", S_IFREG | 0o600, 0).err(),
        Some(Errno::ENOSPC)
    );
    drop(f);
    root.create(b"b", S_IFREG | 0o600, 0).unwrap();
    assert_eq!(fs.stats().inode_limit, Some(3));
}

fn io_on_the_wrong_type_fails_like_linux<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    let dir = root.mkdir(b"d", 0o755).unwrap();
    let link = root.symlink(b"l", b"d").unwrap();
    let fifo = root.create(b"p", S_IFIFO | 0o600, 0).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(dir.read_at(0, &mut buf), Err(Errno::EISDIR));
    assert_eq!(dir.write_at(0, b"x"), Err(Errno::EISDIR));
    assert_eq!(dir.truncate(0), Err(Errno::EISDIR));
    assert_eq!(link.read_at(0, &mut buf), Err(Errno::EINVAL));
    assert_eq!(fifo.write_at(0, b"x"), Err(Errno::EINVAL));
    assert_eq!(fifo.truncate(0), Err(Errno::EINVAL));
    assert_eq!(dir.readlink(), Err(Errno::EINVAL));
    let file = root.create(b"f", 0o644, 0).unwrap();
    assert_eq!(
        file.metadata().unwrap().mode & S_IFMT,
        S_IFREG,
        "type 0 means regular"
    );
    assert_eq!(file.lookup(b"x").err(), Some(Errno::ENOTDIR));
    assert_eq!(file.readdir(0, &mut |_| true), Err(Errno::ENOTDIR));
    // Only regular files can be mapped (Linux's shmem_mmap); mmap of the rest is ENODEV.
    assert!(file.mappable());
    assert!(!dir.mappable() && !link.mappable() && !fifo.mappable());
    assert_eq!(
        root.create(b"x", S_IFDIR | 0o755, 0).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        root.create(b"x", S_IFLNK | 0o777, 0).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(root.create(b"x", 0o170_000, 0).err(), Some(Errno::EINVAL));
}

fn symlinks_store_their_target<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    let short = root.symlink(b"s", b"../some/where").unwrap();
    let m = short.metadata().unwrap();
    assert_eq!(
        (m.mode, m.size, m.blocks, m.nlink),
        (S_IFLNK | 0o777, 13, 0, 1)
    );
    assert_eq!(short.readlink().unwrap(), b"../some/where");
    assert_eq!(short.file_type(), FileType::Symlink);
    let long = root.symlink(b"long", &[b'a'; 200]).unwrap();
    assert_eq!(
        long.metadata().unwrap().blocks,
        8,
        "a long target takes a page"
    );
    assert_eq!(root.symlink(b"e", b"").err(), Some(Errno::ENOENT));
    assert_eq!(
        root.symlink(b"big", &[b'a'; 4096]).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(root.symlink(b"s", b"x").err(), Some(Errno::EEXIST));
}

fn device_nodes_carry_rdev_and_are_recognised_by_type<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let tty = fs
        .root()
        .create(b"tty1", S_IFCHR | 0o620, makedev(4, 1))
        .unwrap();
    let m = tty.metadata().unwrap();
    assert_eq!(
        (m.mode, m.rdev, m.size),
        (S_IFCHR | 0o620, makedev(4, 1), 0)
    );
    assert_eq!(tty.file_type(), FileType::CharDevice);
    let fifo = fs.root().create(b"fifo", S_IFIFO | 0o644, 1234).unwrap();
    assert_eq!(
        fifo.metadata().unwrap().rdev,
        0,
        "only device nodes keep rdev"
    );
    assert!(tty.as_any().downcast_ref::<TmpInode<S>>().is_some());
    assert_eq!(
        tty.as_any()
            .downcast_ref::<TmpInode<S>>()
            .unwrap()
            .fs_stats()
            .dev,
        DEV
    );
}

fn timestamps_follow_linux_rules<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    set_time(100);
    let f = root.create(b"f", S_IFREG | 0o644, 0).unwrap();
    let t = |s| Timespec::new(s, 0);
    let m = f.metadata().unwrap();
    assert_eq!((m.atime, m.mtime, m.ctime), (t(100), t(100), t(100)));
    assert_eq!(
        root.metadata().unwrap().mtime,
        t(100),
        "creating touches the directory"
    );
    set_time(200);
    f.write_at(0, b"abc").unwrap();
    let m = f.metadata().unwrap();
    assert_eq!((m.atime, m.mtime, m.ctime), (t(100), t(200), t(200)));
    set_time(300);
    let mut buf = [0u8; 3];
    f.read_at(0, &mut buf).unwrap();
    assert_eq!(
        f.metadata().unwrap().atime,
        t(300),
        "relatime: atime older than mtime is updated"
    );
    set_time(400);
    f.read_at(0, &mut buf).unwrap();
    assert_eq!(
        f.metadata().unwrap().atime,
        t(300),
        "relatime: a recent atime is kept"
    );
    set_time(300 + 86_400);
    f.read_at(0, &mut buf).unwrap();
    assert_eq!(
        f.metadata().unwrap().atime,
        t(300 + 86_400),
        "relatime: a day-old atime is updated"
    );
    set_time(500_000);
    f.set_mode(0o600).unwrap();
    let m = f.metadata().unwrap();
    assert_eq!(
        (m.mode, m.ctime, m.mtime),
        (S_IFREG | 0o600, t(500_000), t(200))
    );
    set_time(600_000);
    f.set_times(Some(t(5)), None).unwrap();
    let m = f.metadata().unwrap();
    assert_eq!((m.atime, m.mtime, m.ctime), (t(5), t(200), t(600_000)));
    f.set_times(None, Some(t(7))).unwrap();
    assert_eq!(f.metadata().unwrap().mtime, t(7));
    set_time(700_000);
    f.truncate(3).unwrap();
    assert_eq!(
        f.metadata().unwrap().mtime,
        t(7),
        "a truncate to the same size changes nothing"
    );
    f.truncate(1).unwrap();
    assert_eq!(f.metadata().unwrap().mtime, t(700_000));
    set_time(800_000);
    root.unlink(b"f").unwrap();
    assert_eq!(root.metadata().unwrap().mtime, t(800_000));
    assert_eq!(
        f.metadata().unwrap().ctime,
        t(800_000),
        "the link count change touches ctime"
    );
}

fn chown_clears_setuid_and_setgid_of_executables_only<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let f = fs
        .root()
        .create(b"su", S_IFREG | S_ISUID | S_ISGID | 0o755, 0)
        .unwrap();
    f.set_owner(Some(1000), None).unwrap();
    let m = f.metadata().unwrap();
    assert_eq!((m.uid, m.gid, m.mode), (1000, 0, S_IFREG | 0o755));
    // setgid without group-execute is mandatory locking, not privilege: kept.
    f.set_mode(S_ISGID | 0o644).unwrap();
    f.set_owner(None, Some(5)).unwrap();
    assert_eq!(f.metadata().unwrap().mode, S_IFREG | S_ISGID | 0o644);
    let d = fs.root().mkdir(b"d", S_ISGID | 0o775).unwrap();
    d.set_owner(Some(1), Some(1)).unwrap();
    assert_eq!(
        d.metadata().unwrap().mode,
        S_IFDIR | S_ISGID | 0o775,
        "directories keep setgid"
    );
}

fn inode_numbers_are_unique_and_inodes_are_counted<S: StatVariant>() {
    let fs = tmpfs::<S>();
    let root = fs.root();
    let mut inos = vec![root.metadata().unwrap().ino];
    for i in 0..50u32 {
        let name = format!("n{i}");
        let node = if i % 2 == 0 {
            root.create(name.as_bytes(), S_IFREG | 0o644, 0).unwrap()
        } else {
            root.mkdir(name.as_bytes(), 0o755).unwrap()
        };
        inos.push(node.metadata().unwrap().ino);
    }
    let mut sorted = inos.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), inos.len());
    assert_eq!(fs.stats().inodes, 51);
    root.unlink(b"n0").unwrap();
    root.rmdir(b"n1").unwrap();
    assert_eq!(fs.stats().inodes, 49);
}

thread_local! {
    /// Room for this many more pages, as the kernel's headroom check would say (per thread:
    /// each variant's test runs in its own).
    static ROOM: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn no_room_is_enospc_for_data_and_inodes_alike<S: StatVariant>() {
    let room = |pages| ROOM.with(|room| room.get() >= pages);
    let limits = Limits {
        room: Some(room),
        ..Limits::default()
    };
    ROOM.with(|room| room.set(10));
    let fs = Tmpfs::<S>::with_limits(DEV, clock, limits);
    let root = fs.root();
    let f = root.create(b"f", S_IFREG | 0o600, 0).unwrap();
    assert_eq!(f.write_at(0, &[1; 8192]).unwrap(), 8192);
    ROOM.with(|room| room.set(0));
    assert_eq!(f.write_at(8192, &[1; 10]).err(), Some(Errno::ENOSPC));
    assert_eq!(
        f.write_at(0, &[2; 10]).unwrap(),
        10,
        "a page it has needs no room"
    );
    assert_eq!(
        root.create(b"g", S_IFREG | 0o600, 0).err(),
        Some(Errno::ENOSPC)
    );
    assert_eq!(root.mkdir(b"d", 0o755).err(), Some(Errno::ENOSPC));
    ROOM.with(|room| room.set(10));
    root.create(b"g", S_IFREG | 0o600, 0).unwrap();
}

both_stats!(
    root_reports_what_linux_tmpfs_does,
    writes_extend_holes_read_as_zeros_and_cost_nothing,
    truncate_both_ways_zeroes_the_cut_tail,
    the_page_limit_gives_enospc_and_partial_writes,
    the_inode_limit_counts_the_root_and_gives_enospc,
    io_on_the_wrong_type_fails_like_linux,
    symlinks_store_their_target,
    device_nodes_carry_rdev_and_are_recognised_by_type,
    timestamps_follow_linux_rules,
    chown_clears_setuid_and_setgid_of_executables_only,
    inode_numbers_are_unique_and_inodes_are_counted,
    no_room_is_enospc_for_data_and_inodes_alike,
);

/// With a stat feature on (as in the kernel), the kernel aliases name that variant.
#[cfg(any(feature = "stat-locked", feature = "stat-lockfree"))]
#[test]
fn kernel_aliases_name_the_configured_variant() {
    use tessera_tmpfs::{KernelStat, KernelTmpInode, KernelTmpfs};
    let expected = if cfg!(feature = "stat-locked") {
        "locked"
    } else {
        "lockfree"
    };
    assert_eq!(KernelStat::NAME, expected);
    let fs = KernelTmpfs::new(DEV, clock);
    let f = fs.root().create(b"f", S_IFREG | 0o644, 0).unwrap();
    assert_eq!(f.metadata().unwrap().mode, S_IFREG | 0o644);
    let inode = f.as_any().downcast_ref::<KernelTmpInode>().unwrap();
    assert_eq!(inode.fs_stats().inodes, 2);
}
