//! Mounts: hiding, crossing down and up (`..`), stacking, nesting, umount, and the errors
//! of namespace operations at mount boundaries; both dentry cache variants.

mod common;

use std::sync::Arc;

use common::{Fixture, Tmpfs, clock};
use tessera_abi::Errno;
use tessera_vfs::{Dcache, Inode};

fn new_fs(dev: u64) -> Arc<dyn Inode> {
    Tmpfs::new(dev, clock).root()
}

fn setup<C: Dcache + Default>() -> Fixture<C> {
    let t = Fixture::<C>::new();
    t.mkdir("/mnt").unwrap();
    t.file("/mnt/hidden", b"").unwrap();
    t.file("/f", b"").unwrap();
    t
}

fn mounting_hides_and_crossing_works<C: Dcache + Default>() {
    let t = setup::<C>();
    assert!(t.get("/mnt/hidden").is_ok());
    let covered = t.get("/mnt").unwrap();
    assert!(!t.vfs.is_mountpoint(&covered));
    let root = t.vfs.mount(&covered, new_fs(7)).unwrap();
    assert!(t.vfs.is_mountpoint(&covered));
    assert!(!t.vfs.is_mountpoint(&root));
    assert!(root.is_mount_root());
    assert_eq!(
        t.get("/mnt/hidden").err(),
        Some(Errno::ENOENT),
        "the covered contents are hidden"
    );
    let m = t.get("/mnt").unwrap();
    assert!(Arc::ptr_eq(&m, &root), "walks end on the mounted root");
    assert_eq!(m.inode().metadata().unwrap().dev, 7);
    t.file("/mnt/new", b"x").unwrap();
    assert_eq!(
        t.get("/mnt/new").unwrap().inode().metadata().unwrap().dev,
        7
    );
    assert_eq!(
        Fixture::<C>::path_of(&t.get("/mnt/new").unwrap()),
        "/mnt/new"
    );
    assert_eq!(
        t.ino("/mnt/.."),
        t.ino("/"),
        "`..` of a mounted root is the mount point's parent"
    );
    t.mkdir("/mnt/sub").unwrap();
    assert_eq!(t.ino("/mnt/sub/../../f"), t.ino("/f"));
    t.symlink("/f", "/mnt/abs").unwrap();
    assert_eq!(
        t.ino("/mnt/abs"),
        t.ino("/f"),
        "absolute links leave the mount"
    );
    t.symlink("../f", "/mnt/up").unwrap();
    assert_eq!(
        t.ino("/mnt/up"),
        t.ino("/f"),
        "relative `..` in a link crosses up too"
    );
    // A process rooted at the mount stays inside it.
    let r = t.vfs.resolve(&root, &root, b"../../new", true).unwrap();
    assert_eq!(r.inode().metadata().unwrap().dev, 7);
    assert_eq!(
        t.get("/mnt/new").unwrap().path_from(&root).unwrap(),
        b"/new"
    );
    // Mounting needs directories.
    assert_eq!(
        t.vfs.mount(&t.get("/f").unwrap(), new_fs(8)).err(),
        Some(Errno::ENOTDIR)
    );
    let file_root = t.get("/f").unwrap().inode().clone();
    assert_eq!(
        t.vfs.mount(&t.get("/mnt/sub").unwrap(), file_root).err(),
        Some(Errno::ENOTDIR)
    );
}

fn umount_restores_and_refuses_non_mounts<C: Dcache + Default>() {
    let t = setup::<C>();
    let held_mountpoint = t.get("/mnt").unwrap();
    t.vfs.mount(&held_mountpoint, new_fs(7)).unwrap();
    t.mkdir("/mnt/d").unwrap();
    let inside = t.get("/mnt/d").unwrap();
    assert_eq!(t.vfs.umount(&t.get("/f").unwrap()), Err(Errno::EINVAL));
    assert_eq!(
        t.vfs.umount(&t.root),
        Err(Errno::EINVAL),
        "the root of the tree is not unmountable"
    );
    assert_eq!(t.vfs.umount(&inside), Err(Errno::EINVAL));
    // A dentry of the mount point held from before the mount still names the covered dir.
    assert!(t.get_at(&held_mountpoint, "hidden").is_ok());
    t.vfs.umount(&t.get("/mnt").unwrap()).unwrap();
    assert!(
        t.get("/mnt/hidden").is_ok(),
        "the covered contents are back"
    );
    assert_eq!(t.get("/mnt/d").err(), Some(Errno::ENOENT));
    // A dentry held inside the unmounted file system keeps working, detached.
    t.vfs.mkdir(&inside, &t.root, b"later", 0o755).unwrap();
    assert_eq!(
        t.vfs
            .resolve(&inside, &t.root, b"later", true)
            .unwrap()
            .inode()
            .metadata()
            .unwrap()
            .dev,
        7
    );
    assert_eq!(Fixture::<C>::path_of(&inside), "/mnt/d");
}

fn stacked_and_nested_mounts<C: Dcache + Default>() {
    let t = setup::<C>();
    let lower = t.vfs.mount(&t.get("/mnt").unwrap(), new_fs(7)).unwrap();
    t.file("/mnt/in_lower", b"").unwrap();
    let upper = t.vfs.mount(&t.get("/mnt").unwrap(), new_fs(8)).unwrap();
    assert_eq!(
        t.get("/mnt").unwrap().inode().metadata().unwrap().dev,
        8,
        "the last mount is on top"
    );
    assert_eq!(t.ino("/mnt/.."), t.ino("/"), "`..` crosses both mounts");
    assert_eq!(
        t.vfs.umount(&lower),
        Err(Errno::EBUSY),
        "the lower mount has a mount inside"
    );
    t.vfs.umount(&upper).unwrap();
    assert!(t.get("/mnt/in_lower").is_ok());
    // Nested: a mount inside a mount.
    t.mkdir("/mnt/sub").unwrap();
    let nested = t.vfs.mount(&t.get("/mnt/sub").unwrap(), new_fs(9)).unwrap();
    assert_eq!(
        t.get("/mnt/sub").unwrap().inode().metadata().unwrap().dev,
        9
    );
    assert_eq!(t.ino("/mnt/sub/.."), t.ino("/mnt"));
    assert_eq!(
        Fixture::<C>::path_of(&t.vfs.mkdir(&nested, &t.root, b"x", 0o755).unwrap()),
        "/mnt/sub/x"
    );
    assert_eq!(t.vfs.umount(&lower), Err(Errno::EBUSY));
    t.vfs.umount(&nested).unwrap();
    t.vfs.umount(&lower).unwrap();
    assert_eq!(t.ls("/mnt"), ["hidden"]);
    assert_eq!(
        t.vfs.umount(&lower),
        Err(Errno::EINVAL),
        "already unmounted"
    );
}

fn namespace_operations_at_mount_boundaries<C: Dcache + Default>() {
    let t = setup::<C>();
    t.mkdir("/empty").unwrap();
    t.vfs.mount(&t.get("/mnt").unwrap(), new_fs(7)).unwrap();
    t.file("/mnt/g", b"").unwrap();
    assert_eq!(t.rmdir("/mnt"), Err(Errno::EBUSY));
    assert_eq!(t.rename("/mnt", "/moved"), Err(Errno::EBUSY));
    assert_eq!(t.rename("/empty", "/mnt"), Err(Errno::EBUSY));
    assert_eq!(t.rename("/f", "/mnt/f"), Err(Errno::EXDEV));
    assert_eq!(t.rename("/mnt/g", "/g"), Err(Errno::EXDEV));
    let r = &t.root;
    assert_eq!(
        t.vfs.link(r, b"/f", r, b"/mnt/f", r, false).err(),
        Some(Errno::EXDEV)
    );
    assert_eq!(t.unlink("/mnt"), Err(Errno::EISDIR));
    // Within the mounted file system everything works.
    t.rename("/mnt/g", "/mnt/h").unwrap();
    assert_eq!(t.ls("/mnt"), ["h"]);
}

fn mount_over_the_root<C: Dcache + Default>() {
    let t = setup::<C>();
    let over = t.vfs.mount(&t.root, new_fs(7)).unwrap();
    // As in Linux: walks start at the process root itself, `..` follows mounts.
    assert_eq!(t.get("/").unwrap().inode().metadata().unwrap().dev, 1);
    assert!(t.get("/f").is_ok());
    assert!(Arc::ptr_eq(&t.get("/..").unwrap(), &over));
    assert!(Arc::ptr_eq(&t.get("/mnt/..").unwrap(), &over));
    assert!(Arc::ptr_eq(
        &t.vfs.resolve(&over, &over, b"..", true).unwrap(),
        &over
    ));
    t.vfs.umount(&over).unwrap();
    assert_eq!(t.get("/..").unwrap().inode().metadata().unwrap().dev, 1);
}

both_caches!(
    mount_over_the_root,
    mounting_hides_and_crossing_works,
    umount_restores_and_refuses_non_mounts,
    stacked_and_nested_mounts,
    namespace_operations_at_mount_boundaries,
);
