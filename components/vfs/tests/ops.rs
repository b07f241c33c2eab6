//! Namespace operations through the VFS, with Linux's errors; both dentry cache variants.

mod common;

use common::{Fixture, read_all};
use tessera_abi::Errno;
use tessera_abi::fs::{
    O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, makedev,
};
use tessera_vfs::{Dcache, FileType, OpenHow};

fn setup<C: Dcache + Default>() -> Fixture<C> {
    let t = Fixture::<C>::new();
    t.mkdir("/d").unwrap();
    t.mkdir("/d/sub").unwrap();
    t.file("/f", b"file").unwrap();
    t.symlink("/f", "/lf").unwrap();
    t.symlink("/d", "/ld").unwrap();
    t
}

fn create_operations<C: Dcache + Default>() {
    let t = setup::<C>();
    // mkdir: EEXIST for anything that exists, `.`/`..`/`/` included; trailing slash fine.
    assert!(t.mkdir("/new/").is_ok());
    assert_eq!(t.mkdir("/d").err(), Some(Errno::EEXIST));
    assert_eq!(
        t.mkdir("/lf").err(),
        Some(Errno::EEXIST),
        "a symlink is not followed"
    );
    assert_eq!(t.mkdir("/d/.").err(), Some(Errno::EEXIST));
    assert_eq!(t.mkdir("/d/..").err(), Some(Errno::EEXIST));
    assert_eq!(t.mkdir("/").err(), Some(Errno::EEXIST));
    assert_eq!(t.mkdir("/nope/x").err(), Some(Errno::ENOENT));
    assert_eq!(t.mkdir("/f/x").err(), Some(Errno::ENOTDIR));
    assert_eq!(
        t.get("/ld/sub").unwrap().inode().metadata().unwrap().mode & S_IFMT,
        S_IFDIR
    );
    // mknod: types, and the trailing-slash rule of filename_create.
    let (r, root) = (&t.root, &t.root);
    let dev = t
        .vfs
        .mknod(r, root, b"/tty", S_IFCHR | 0o600, makedev(4, 1))
        .unwrap();
    assert_eq!(dev.inode().metadata().unwrap().rdev, makedev(4, 1));
    let fifo = t.vfs.mknod(r, root, b"/fifo", S_IFIFO | 0o644, 0).unwrap();
    assert_eq!(fifo.file_type(), FileType::Fifo);
    let plain = t.vfs.mknod(r, root, b"/plain", 0o644, 0).unwrap();
    assert_eq!(
        plain.file_type(),
        FileType::Regular,
        "type 0 is a regular file"
    );
    assert_eq!(
        t.vfs.mknod(r, root, b"/x", S_IFDIR | 0o755, 0).err(),
        Some(Errno::EPERM)
    );
    assert_eq!(
        t.vfs.mknod(r, root, b"/x", 0o170_000, 0).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        t.vfs.mknod(r, root, b"/x/", S_IFIFO, 0).err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(
        t.vfs.mknod(r, root, b"/f/", S_IFIFO, 0).err(),
        Some(Errno::EEXIST)
    );
    // symlink
    assert_eq!(t.symlink("", "/e").err(), Some(Errno::ENOENT));
    assert_eq!(t.symlink("x", "/lf").err(), Some(Errno::EEXIST));
    assert_eq!(
        t.symlink(&"x".repeat(4096), "/e").err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(t.lget("/lf").unwrap().inode().readlink().unwrap(), b"/f");
    // The created dentries are what later walks find.
    assert!(t.get("/tty").unwrap().same_location(&dev));
}

fn open_with_and_without_create<C: Dcache + Default>() {
    let t = setup::<C>();
    let how = |flags: u32| OpenHow::from_flags(flags, 0o640);
    let o = t.open("/f", how(0)).unwrap();
    assert!(!o.created);
    assert_eq!(read_all(o.dentry.inode()), b"file");
    assert!(
        t.open("/lf", how(0))
            .unwrap()
            .dentry
            .same_location(&o.dentry)
    );
    assert_eq!(t.open("/lf", how(O_NOFOLLOW)).err(), Some(Errno::ELOOP));
    let link = t.open("/lf", how(O_PATH | O_NOFOLLOW)).unwrap();
    assert_eq!(
        link.dentry.file_type(),
        FileType::Symlink,
        "O_PATH opens the link"
    );
    assert!(
        t.open("/lf", how(O_PATH))
            .unwrap()
            .dentry
            .same_location(&o.dentry),
        "O_PATH without O_NOFOLLOW follows it"
    );
    assert_eq!(
        t.open("/nope", how(O_PATH | O_CREAT)).err(),
        Some(Errno::ENOENT),
        "O_PATH ignores O_CREAT"
    );
    assert_eq!(t.open("/f", how(O_DIRECTORY)).err(), Some(Errno::ENOTDIR));
    assert!(t.open("/ld", how(O_DIRECTORY)).unwrap().dentry.is_dir());
    assert_eq!(t.open("/nope", how(0)).err(), Some(Errno::ENOENT));
    let c = t.open("/new", how(O_CREAT)).unwrap();
    assert!(c.created);
    assert_eq!(c.dentry.inode().metadata().unwrap().mode & 0o7777, 0o640);
    assert!(!t.open("/new", how(O_CREAT)).unwrap().created);
    assert_eq!(
        t.open("/new", how(O_CREAT | O_EXCL)).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(
        t.open("/lf", how(O_CREAT | O_EXCL)).err(),
        Some(Errno::EEXIST),
        "O_EXCL: links not followed"
    );
    assert!(
        t.open("/lf", how(O_CREAT))
            .unwrap()
            .dentry
            .same_location(&o.dentry)
    );
    assert_eq!(
        t.open("/lf", how(O_CREAT | O_NOFOLLOW)).err(),
        Some(Errno::ELOOP)
    );
    assert_eq!(t.open("/d", how(O_CREAT)).err(), Some(Errno::EISDIR));
    assert_eq!(t.open("/d/.", how(O_CREAT)).err(), Some(Errno::EISDIR));
    assert_eq!(t.open("/", how(O_CREAT)).err(), Some(Errno::EISDIR));
    assert_eq!(t.open("/other/", how(O_CREAT)).err(), Some(Errno::EISDIR));
    assert_eq!(t.open("/f/", how(O_CREAT)).err(), Some(Errno::EISDIR));
    assert_eq!(
        t.open("/x", how(O_CREAT | O_DIRECTORY)).err(),
        Some(Errno::EINVAL)
    );
    // A dangling link is followed to create its target, relative to the link's directory.
    t.symlink("target", "/d/dangling").unwrap();
    let made = t.open("/d/dangling", how(O_CREAT)).unwrap();
    assert!(made.created);
    assert_eq!(Fixture::<C>::path_of(&made.dentry), "/d/target");
    t.symlink("/d/abs_target", "/dangling_abs").unwrap();
    assert!(t.open("/dangling_abs", how(O_CREAT)).unwrap().created);
    assert!(t.get("/d/abs_target").is_ok());
    t.symlink("/loop_b", "/loop_a").unwrap();
    t.symlink("/loop_a", "/loop_b").unwrap();
    assert_eq!(t.open("/loop_a", how(O_CREAT)).err(), Some(Errno::ELOOP));
}

fn link_and_unlink<C: Dcache + Default>() {
    let t = setup::<C>();
    let (r, root) = (&t.root, &t.root);
    let l = t.vfs.link(r, b"/f", r, b"/d/hard", root, false).unwrap();
    assert!(l.same_location(&t.get("/d/hard").unwrap()));
    assert_eq!(t.get("/f").unwrap().inode().metadata().unwrap().nlink, 2);
    let not_followed = t.vfs.link(r, b"/lf", r, b"/lf2", root, false).unwrap();
    assert_eq!(
        not_followed.file_type(),
        FileType::Symlink,
        "linkat without AT_SYMLINK_FOLLOW links the link"
    );
    let followed = t.vfs.link(r, b"/lf", r, b"/f3", root, true).unwrap();
    assert_eq!(followed.file_type(), FileType::Regular);
    assert_eq!(
        t.vfs.link(r, b"/d", r, b"/d2", root, false).err(),
        Some(Errno::EPERM)
    );
    assert_eq!(
        t.vfs.link(r, b"/f", r, b"/d/hard", root, false).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(
        t.vfs.link(r, b"/nope", r, b"/x", root, false).err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(
        t.vfs.link(r, b"/f", r, b"/x/", root, false).err(),
        Some(Errno::ENOENT)
    );
    // unlink
    assert_eq!(t.unlink("/d").err(), Some(Errno::EISDIR));
    assert_eq!(t.unlink("/d/").err(), Some(Errno::EISDIR));
    assert_eq!(t.unlink("/f/").err(), Some(Errno::ENOTDIR));
    assert_eq!(t.unlink("/nope").err(), Some(Errno::ENOENT));
    assert_eq!(t.unlink("/").err(), Some(Errno::EISDIR));
    assert_eq!(t.unlink("/d/..").err(), Some(Errno::EISDIR));
    let held = t.get("/d/hard").unwrap();
    t.unlink("/d/hard").unwrap();
    assert!(held.is_deleted(), "the unlinked name's dentry knows");
    assert_eq!(t.get("/d/hard").err(), Some(Errno::ENOENT));
    assert!(!t.get("/f").unwrap().is_deleted());
    t.unlink("/lf").unwrap();
    assert!(t.get("/f").is_ok(), "unlinking a link leaves its target");
    assert_eq!(t.get("/lf2").unwrap().file_type(), FileType::Regular);
}

fn rmdir_cases<C: Dcache + Default>() {
    let t = setup::<C>();
    assert_eq!(t.rmdir("/d").err(), Some(Errno::ENOTEMPTY));
    assert_eq!(t.rmdir("/f").err(), Some(Errno::ENOTDIR));
    assert_eq!(
        t.rmdir("/ld").err(),
        Some(Errno::ENOTDIR),
        "a link to a directory is not one"
    );
    assert_eq!(t.rmdir("/d/sub/.").err(), Some(Errno::EINVAL));
    assert_eq!(t.rmdir("/d/sub/..").err(), Some(Errno::ENOTEMPTY));
    assert_eq!(t.rmdir("/").err(), Some(Errno::EBUSY));
    assert_eq!(t.rmdir("/nope").err(), Some(Errno::ENOENT));
    let cwd = t.get("/d/sub").unwrap();
    t.rmdir("/d/sub/").unwrap();
    assert!(cwd.is_deleted(), "getcwd in a removed directory is ENOENT");
    assert_eq!(t.get_at(&cwd, "x").err(), Some(Errno::ENOENT));
    assert_eq!(
        t.vfs.mkdir(&cwd, &t.root, b"x", 0o755).err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(t.get("/d/sub").err(), Some(Errno::ENOENT));
    assert_eq!(t.ls("/d"), Vec::<String>::new());
}

fn rename_cases<C: Dcache + Default>() {
    let t = setup::<C>();
    t.file("/d/sub/inner", b"").unwrap();
    t.mkdir("/empty").unwrap();
    let e = |a: &str, b: &str| t.rename(a, b).err();
    assert_eq!(e("/nope", "/x"), Some(Errno::ENOENT));
    assert_eq!(
        e("/d", "/d/sub/x"),
        Some(Errno::EINVAL),
        "into its own subtree"
    );
    assert_eq!(e("/d", "/d/x"), Some(Errno::EINVAL));
    // Linux's "trap": a target that is an ancestor of the source's directory is ENOTEMPTY,
    // before the file-over-directory check.
    assert_eq!(e("/d/sub/inner", "/d"), Some(Errno::ENOTEMPTY));
    assert_eq!(
        e("/d/sub", "/d"),
        Some(Errno::ENOTEMPTY),
        "onto its own ancestor"
    );
    assert_eq!(e("/d", "/f"), Some(Errno::ENOTDIR));
    assert_eq!(e("/f", "/d"), Some(Errno::EISDIR));
    assert_eq!(e("/d", "/empty/.."), Some(Errno::EBUSY));
    assert_eq!(e("/d/.", "/x"), Some(Errno::EBUSY));
    assert_eq!(e("/", "/x"), Some(Errno::EBUSY));
    assert_eq!(
        e("/f/", "/x"),
        Some(Errno::ENOTDIR),
        "trailing slash on a file source"
    );
    assert_eq!(
        e("/f", "/x/"),
        Some(Errno::ENOTDIR),
        "trailing slash on a file target"
    );
    let r = &t.root;
    assert_eq!(
        t.vfs.rename(r, b"/f", r, b"/lf", r, true).err(),
        Some(Errno::EEXIST),
        "RENAME_NOREPLACE"
    );
    assert_eq!(
        t.vfs.rename(r, b"/f", r, b"/.", r, true).err(),
        Some(Errno::EEXIST)
    );
    // Same name, and two names of one inode: nothing happens.
    t.rename("/f", "/f").unwrap();
    t.vfs.link(r, b"/f", r, b"/f_again", r, false).unwrap();
    t.rename("/f", "/f_again").unwrap();
    assert!(t.get("/f").is_ok() && t.get("/f_again").is_ok());
    // A directory onto an empty one, with a trailing slash.
    t.rename("/d/sub/", "/empty/").unwrap();
    assert_eq!(t.ls("/empty"), ["inner"]);
    assert_eq!(t.get("/d/sub").err(), Some(Errno::ENOENT));
    // Moving a symlink keeps its (relative) target text.
    t.symlink("f", "/rel").unwrap();
    t.rename("/rel", "/d/rel").unwrap();
    assert_eq!(
        t.get("/d/rel").err(),
        Some(Errno::ENOENT),
        "now relative to /d"
    );
    t.rename("/f", "/d/f").unwrap();
    assert!(t.get("/d/rel").is_ok());
}

both_caches!(
    create_operations,
    open_with_and_without_create,
    link_and_unlink,
    rmdir_cases,
    rename_cases
);
