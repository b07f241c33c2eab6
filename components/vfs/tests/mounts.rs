//! Mounts: hiding, crossing down and up (`..`), stacking, nesting, umount, and the errors
//! of namespace operations at mount boundaries; both dentry cache variants.

mod common;

use std::sync::Arc;

use common::{Fixture, Tmpfs, clock};
use tessera_abi::Errno;
use tessera_vfs::{Dcache, Inode, MountInfo};

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

fn info(source: &str, fs_type: &str, flags: u64) -> MountInfo {
    MountInfo {
        source: source.into(),
        fs_type: fs_type.into(),
        flags,
    }
}

/// The mount table as `/proc/mounts` reads it: the root first, then every mount in the
/// order it was made, each with what it was mounted as and its place in the tree.
fn mount_table_lists_mounts_in_order<C: Dcache + Default>() {
    let t = setup::<C>();
    t.mkdir("/a").unwrap();
    let listed = |t: &Fixture<C>| -> Vec<(String, String, String, u64)> {
        t.vfs
            .mount_roots()
            .iter()
            .map(|root| {
                let info = root.mount_info();
                (
                    String::from_utf8(info.source.clone()).unwrap(),
                    Fixture::<C>::path_of(root),
                    String::from_utf8(info.fs_type.clone()).unwrap(),
                    info.flags,
                )
            })
            .collect()
    };
    let root_only = listed(&t);
    assert_eq!(root_only, [(String::new(), "/".into(), String::new(), 0)]);
    assert!(t.root.mountpoint().is_none());

    let a = t
        .vfs
        .mount_with(
            &t.get("/mnt").unwrap(),
            new_fs(7),
            info("tmpfs", "tmpfs", 2),
        )
        .unwrap();
    t.mkdir("/mnt/in").unwrap();
    let nested = t
        .vfs
        .mount_with(
            &t.get("/mnt/in").unwrap(),
            new_fs(8),
            info("proc", "proc", 0),
        )
        .unwrap();
    t.vfs
        .mount_with(&t.get("/a").unwrap(), new_fs(9), info("x y", "devtmpfs", 4))
        .unwrap();
    let rows = listed(&t);
    let want = [
        ("", "/", "", 0),
        ("tmpfs", "/mnt", "tmpfs", 2),
        ("proc", "/mnt/in", "proc", 0),
        ("x y", "/a", "devtmpfs", 4),
    ];
    assert_eq!(rows.len(), want.len());
    for (row, (source, path, fs_type, flags)) in rows.iter().zip(want) {
        assert_eq!(row, &(source.into(), path.into(), fs_type.into(), flags));
    }
    // A dentry inside a mount knows its mount's info and mount point.
    let inside = t.get("/mnt/in").unwrap();
    assert_eq!(inside.mount_info().fs_type, b"proc");
    assert_eq!(
        Fixture::<C>::path_of(&nested.mountpoint().unwrap()),
        "/mnt/in"
    );
    assert_eq!(t.get("/f").unwrap().mount_info(), &MountInfo::default());
    // Unmounting takes it off the list; the others keep their order.
    t.vfs.umount(&nested).unwrap();
    t.vfs.umount(&a).unwrap();
    let paths: Vec<String> = listed(&t).into_iter().map(|r| r.1).collect();
    assert_eq!(paths, ["/", "/a"]);
}

/// A root file system described at creation.
#[test]
fn root_mount_info() {
    let vfs = tessera_vfs::Vfs::<tessera_vfs::NoDcache>::new_with_info(
        new_fs(1),
        info("rootfs", "rootfs", 0),
    );
    let roots = vfs.mount_roots();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].mount_info().fs_type, b"rootfs");
    assert_eq!(vfs.root().mount_info().source, b"rootfs");
}

both_caches!(
    mount_table_lists_mounts_in_order,
    mount_over_the_root,
    mounting_hides_and_crossing_works,
    umount_restores_and_refuses_non_mounts,
    stacked_and_nested_mounts,
    namespace_operations_at_mount_boundaries,
);
