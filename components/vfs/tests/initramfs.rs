//! The initramfs unpacker and the newc reader, with archives written by the test.

mod common;

use common::{Fixture, Member, archive, read_all, write_entry};
use proptest::prelude::*;
use tessera_abi::Errno;
use tessera_abi::fs::{S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, Timespec, makedev};
use tessera_vfs::{
    CpioErrorKind, CpioReader, FileType, HashDcache, NoDcache, UnpackError, unpack_cpio_newc,
    unpack_cpio_newc_detailed,
};

fn member<'a>(name: &'a str, mode: u32, data: &'a [u8]) -> Member<'a> {
    Member::new(name, mode, data)
}

fn typical() -> Vec<u8> {
    let mut busybox = member("bin/busybox", S_IFREG | 0o4755, b"\x7fELF...");
    busybox.mtime = 1_600_000_000;
    busybox.uid = 0;
    let mut passwd = member(
        "./etc/passwd",
        S_IFREG | 0o644,
        b"root:x:0:0::/root:/bin/sh\n",
    );
    passwd.uid = 1000;
    passwd.gid = 100;
    let mut console = member("dev/console", S_IFCHR | 0o600, b"");
    console.rdev = (5, 1);
    let mut bin = member("bin", S_IFDIR | 0o755, b"");
    bin.mtime = 1_500_000_000;
    archive(&[
        member(".", S_IFDIR | 0o755, b""),
        bin,
        busybox,
        member("bin/sh", S_IFLNK | 0o777, b"busybox"),
        member("dev", S_IFDIR | 0o755, b""),
        console,
        passwd,
        member("/run/fifo", S_IFIFO | 0o644, b""),
        member("run/sock", S_IFSOCK | 0o755, b""),
        member("usr/share/deep/file", S_IFREG | 0o600, &[b'z'; 5000]),
    ])
}

fn unpacks_every_file_type<C: tessera_vfs::Dcache + Default>() {
    let t = Fixture::<C>::new();
    let data = typical();
    let stats = unpack_cpio_newc_detailed(&t.vfs, &t.root, &data).unwrap();
    assert_eq!(stats.entries, 10);
    assert_eq!(stats.file_bytes, 7 + 26 + 5000);
    let meta = |p: &str| t.lget(p).unwrap().inode().metadata().unwrap();
    assert_eq!(
        meta("/").mode,
        S_IFDIR | 0o755,
        "the `.` entry sets the root's mode"
    );
    let bb = meta("/bin/busybox");
    assert_eq!(
        (bb.mode, bb.size, bb.mtime),
        (S_IFREG | 0o4755, 7, Timespec::new(1_600_000_000, 0))
    );
    assert_eq!(
        read_all(t.get("/bin/sh").unwrap().inode()),
        b"\x7fELF...",
        "the symlink leads to busybox"
    );
    assert_eq!(
        t.lget("/bin/sh").unwrap().inode().readlink().unwrap(),
        b"busybox"
    );
    assert_eq!(
        meta("/bin").mtime,
        Timespec::new(1_500_000_000, 0),
        "directory mtimes are set last"
    );
    let console = meta("/dev/console");
    assert_eq!(
        (console.mode, console.rdev),
        (S_IFCHR | 0o600, makedev(5, 1))
    );
    let passwd = meta("/etc/passwd");
    assert_eq!(
        (passwd.uid, passwd.gid, passwd.mode),
        (1000, 100, S_IFREG | 0o644)
    );
    assert_eq!(
        meta("/etc").mode,
        S_IFDIR | 0o755,
        "missing parents are created"
    );
    assert_eq!(t.get("/run/fifo").unwrap().file_type(), FileType::Fifo);
    assert_eq!(t.get("/run/sock").unwrap().file_type(), FileType::Socket);
    assert_eq!(
        read_all(t.get("/usr/share/deep/file").unwrap().inode()),
        vec![b'z'; 5000]
    );
    assert_eq!(t.ls("/"), ["bin", "dev", "etc", "run", "usr"]);
    assert_eq!(
        unpack_cpio_newc(&t.vfs, &t.root, &data),
        Ok(()),
        "unpacking twice replaces in place"
    );
    assert_eq!(meta("/bin/busybox").size, 7);
}

fn hard_links_share_one_inode<C: tessera_vfs::Dcache + Default>() {
    let t = Fixture::<C>::new();
    let linked = |name, data| {
        let mut m = member(name, S_IFREG | 0o755, data);
        (m.ino, m.nlink) = (77, 3);
        m
    };
    let data = archive(&[
        linked("bin/a", b""),
        linked("bin/b", b""),
        linked("sbin/c", b"payload"),
    ]);
    unpack_cpio_newc(&t.vfs, &t.root, &data).unwrap();
    let ino = t.ino("/bin/a");
    assert_eq!((t.ino("/bin/b"), t.ino("/sbin/c")), (ino, ino));
    assert_eq!(
        t.get("/bin/a").unwrap().inode().metadata().unwrap().nlink,
        3
    );
    assert_eq!(
        read_all(t.get("/bin/a").unwrap().inode()),
        b"payload",
        "the data comes with the last link"
    );
}

fn existing_names_are_replaced_like_linux<C: tessera_vfs::Dcache + Default>() {
    let t = Fixture::<C>::new();
    t.mkdir("/usr").unwrap();
    t.mkdir("/usr/lib").unwrap();
    t.symlink("usr/lib", "/lib").unwrap();
    t.file("/was_file", b"old contents, long").unwrap();
    t.file("/same", b"old contents, long").unwrap();
    t.mkdir("/was_dir").unwrap();
    t.symlink("x", "/was_link").unwrap();
    let data = archive(&[
        member("was_file", S_IFDIR | 0o700, b""),
        member("same", S_IFREG | 0o600, b"new"),
        member("was_dir", S_IFREG | 0o644, b"f"),
        member("was_link", S_IFLNK | 0o777, b"y"),
        member("lib/libc.so", S_IFREG | 0o755, b"so"),
    ]);
    unpack_cpio_newc(&t.vfs, &t.root, &data).unwrap();
    assert!(t.get("/was_file").unwrap().is_dir());
    assert_eq!(
        read_all(t.get("/same").unwrap().inode()),
        b"new",
        "an existing file is truncated"
    );
    assert_eq!(t.get("/was_dir").unwrap().file_type(), FileType::Regular);
    assert_eq!(
        t.lget("/was_link").unwrap().inode().readlink().unwrap(),
        b"y"
    );
    assert_eq!(
        read_all(t.get("/usr/lib/libc.so").unwrap().inode()),
        b"so",
        "symlinked parents are followed"
    );
}

fn concatenated_archives_and_padding<C: tessera_vfs::Dcache + Default>() {
    let t = Fixture::<C>::new();
    let mut data = vec![0u8; 8];
    data.extend(archive(&[member("one", S_IFREG | 0o644, b"1")]));
    data.extend([0u8; 512]);
    data.extend(archive(&[member("two", S_IFREG | 0o644, b"2")]));
    data.extend([0u8; 4]);
    // A last archive without a trailer is accepted too.
    write_entry(&mut data, &member("three", S_IFDIR | 0o755, b""));
    assert_eq!(
        unpack_cpio_newc_detailed(&t.vfs, &t.root, &data)
            .unwrap()
            .entries,
        3
    );
    assert_eq!(t.ls("/"), ["one", "three", "two"]);
    let empty = Fixture::<C>::new();
    assert_eq!(unpack_cpio_newc(&empty.vfs, &empty.root, &[]), Ok(()));
    assert_eq!(
        unpack_cpio_newc(&empty.vfs, &empty.root, &archive(&[])),
        Ok(())
    );
}

fn file_system_errors_name_the_entry<C: tessera_vfs::Dcache + Default>() {
    let t = Fixture::<C>::new();
    let data = archive(&[
        member("f", S_IFREG | 0o644, b""),
        member("f/x", S_IFREG | 0o644, b""),
    ]);
    let err = unpack_cpio_newc_detailed(&t.vfs, &t.root, &data).unwrap_err();
    assert_eq!(
        err,
        UnpackError::Fs {
            name: b"f/x",
            errno: Errno::ENOTDIR
        }
    );
    assert_eq!(err.to_string(), "initramfs: f/x: ENOTDIR");
    let bad_type = archive(&[member("odd", 0o170_644, b"")]);
    let err = unpack_cpio_newc_detailed(&t.vfs, &t.root, &bad_type).unwrap_err();
    assert_eq!(
        err,
        UnpackError::BadType {
            name: b"odd",
            mode: 0o170_644
        }
    );
    assert_eq!(Errno::from(err), Errno::EINVAL);
}

both_caches!(
    unpacks_every_file_type,
    hard_links_share_one_inode,
    existing_names_are_replaced_like_linux,
    concatenated_archives_and_padding,
    file_system_errors_name_the_entry,
);

/// The error the reader reports for `data`, if any.
fn read_error(data: &[u8]) -> Option<(usize, CpioErrorKind)> {
    CpioReader::new(data)
        .find_map(|e| e.err())
        .map(|e| (e.offset, e.kind))
}

#[test]
fn malformed_archives_are_reported_with_their_offset() {
    let good = archive(&[member("file", S_IFREG | 0o644, b"hello")]);
    assert_eq!(read_error(&good), None);
    assert_eq!(
        read_error(b"\x1f\x8b\x08\x00gzip"),
        Some((0, CpioErrorKind::BadMagic))
    );
    assert_eq!(
        read_error(b"070707 old binary cpio"),
        Some((0, CpioErrorKind::BadMagic))
    );
    assert_eq!(read_error(&good[..50]), Some((0, CpioErrorKind::Truncated)));
    assert_eq!(
        read_error(&good[..112]),
        Some((110, CpioErrorKind::Truncated)),
        "inside the name"
    );
    assert_eq!(
        read_error(&good[..119]),
        Some((115, CpioErrorKind::Truncated)),
        "inside the data"
    );
    assert_eq!(
        read_error(&good[..122]),
        None,
        "only the padding after the data is missing"
    );
    let mut bad_hex = good.clone();
    bad_hex[6 + 8 * 6 + 3] = b'g';
    assert_eq!(
        read_error(&bad_hex),
        Some((6 + 8 * 6, CpioErrorKind::BadNumber))
    );
    let mut no_nul = good.clone();
    no_nul[114] = b'x';
    assert_eq!(read_error(&no_nul), Some((110, CpioErrorKind::BadName)));
    let mut zero_name = good.clone();
    zero_name[6 + 8 * 11..6 + 8 * 12].copy_from_slice(b"00000000");
    assert_eq!(read_error(&zero_name), Some((110, CpioErrorKind::BadName)));
    let mut junk_after = good.clone();
    junk_after.extend(b"\0\0junk");
    assert_eq!(
        read_error(&junk_after),
        Some((good.len() + 2, CpioErrorKind::Misaligned))
    );
    let mut crc = good.clone();
    crc[5] = b'2';
    assert_eq!(
        read_error(&crc),
        None,
        "070702 (with checksums) is read the same way"
    );
    let t = Fixture::<NoDcache>::new();
    assert_eq!(
        unpack_cpio_newc(&t.vfs, &t.root, b"\x1f\x8b\x08\x00"),
        Err(Errno::EINVAL)
    );
    let err = unpack_cpio_newc_detailed(&t.vfs, &t.root, &good[..119]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "initramfs: archive truncated at offset 0x73"
    );
}

#[test]
fn the_reader_returns_each_member_once() {
    let mut m = member("dev/tty", S_IFCHR | 0o620, b"");
    (m.ino, m.uid, m.gid, m.nlink, m.mtime, m.rdev) = (9, 1, 2, 1, 3, (4, 64));
    let data = archive(&[m, member("x", S_IFREG | 0o644, b"abc")]);
    let entries: Vec<_> = CpioReader::new(&data).map(Result::unwrap).collect();
    assert_eq!(entries.len(), 2, "the trailer is not returned");
    let e = &entries[0];
    assert_eq!(
        (e.offset, e.ino, e.mode, e.uid, e.gid, e.mtime),
        (0, 9, S_IFCHR | 0o620, 1, 2, 3)
    );
    assert_eq!(
        (e.rdev_major, e.rdev_minor, e.name, e.data),
        (4, 64, &b"dev/tty"[..], &b""[..])
    );
    assert_eq!((entries[1].name, entries[1].data), (&b"x"[..], &b"abc"[..]));
}

proptest! {
    /// Truncated, corrupted or random archives give an error or a partial tree, never a panic.
    #[test]
    fn damaged_archives_never_panic(
        cut in 0..400usize,
        flips in prop::collection::vec((0..400usize, any::<u8>()), 0..6),
        random in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut data = typical();
        data.truncate(cut.min(data.len()));
        for (at, byte) in flips {
            if let Some(b) = data.get_mut(at) {
                *b = byte;
            }
        }
        for input in [&data[..], &random[..]] {
            let t = Fixture::<HashDcache>::new();
            let result = unpack_cpio_newc_detailed(&t.vfs, &t.root, input);
            if let Err(UnpackError::Malformed(e)) = result {
                prop_assert!(e.offset <= input.len());
            }
        }
    }
}
