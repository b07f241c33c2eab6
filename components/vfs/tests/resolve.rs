//! Path resolution edge cases, each compared with what Linux returns; run against both
//! dentry cache variants.

mod common;

use std::sync::Arc;

use common::Fixture;
use tessera_abi::Errno;
use tessera_vfs::{Dcache, FileType, Last};

fn setup<C: Dcache + Default>() -> Fixture<C> {
    let t = Fixture::<C>::new();
    t.mkdir("/a").unwrap();
    t.mkdir("/a/b").unwrap();
    t.file("/a/b/f", b"data").unwrap();
    t.file("/top", b"").unwrap();
    t
}

fn absolute_relative_dots_and_slashes<C: Dcache + Default>() {
    let t = setup::<C>();
    let f = t.ino("/a/b/f");
    let b = t.get("/a/b").unwrap();
    assert_eq!(t.ino("/a/b/f"), f);
    assert_eq!(
        t.get_at(&b, "f").unwrap().inode().metadata().unwrap().ino,
        f
    );
    for p in [
        "//a///b//f",
        "/./a/./b/./f",
        "/a/b/../b/f",
        "/a/../a/b/f",
        "/../../a/b/f",
        "/a/b/../../a/b/f",
    ] {
        assert_eq!(t.ino(p), f, "{p}");
    }
    assert_eq!(
        t.get_at(&b, "../../../../a/b/f")
            .unwrap()
            .inode()
            .metadata()
            .unwrap()
            .ino,
        f
    );
    assert_eq!(
        t.ino("/.."),
        t.ino("/"),
        "`..` at the root stays at the root"
    );
    assert_eq!(t.ino("/a/b/.."), t.ino("/a"));
    assert_eq!(t.ino("/a/b/."), t.ino("/a/b"));
    assert_eq!(t.ino("/a/b/"), t.ino("/a/b"));
    assert_eq!(t.ino("/a/b//"), t.ino("/a/b"));
    assert_eq!(t.ino("///"), t.ino("/"));
    assert_eq!(
        t.get_at(&b, ".").unwrap().inode().metadata().unwrap().ino,
        t.ino("/a/b")
    );
    assert_eq!(
        Fixture::<C>::path_of(&t.get("/a/./b/../b/f").unwrap()),
        "/a/b/f"
    );
    assert_eq!(Fixture::<C>::path_of(&t.get("/").unwrap()), "/");
}

fn errors<C: Dcache + Default>() {
    let t = setup::<C>();
    assert_eq!(t.get("").err(), Some(Errno::ENOENT), "empty path");
    assert_eq!(t.get("/nope").err(), Some(Errno::ENOENT));
    assert_eq!(t.get("/nope/f").err(), Some(Errno::ENOENT));
    assert_eq!(t.get("/nope/..").err(), Some(Errno::ENOENT));
    assert_eq!(
        t.get("/top/").err(),
        Some(Errno::ENOTDIR),
        "trailing slash on a file"
    );
    assert_eq!(t.get("/top/.").err(), Some(Errno::ENOTDIR));
    assert_eq!(t.get("/top/..").err(), Some(Errno::ENOTDIR));
    assert_eq!(
        t.get("/top/x").err(),
        Some(Errno::ENOTDIR),
        "a file in the middle"
    );
    assert_eq!(t.get("/a/b/f/g/h").err(), Some(Errno::ENOTDIR));
    let file = t.get("/top").unwrap();
    assert_eq!(
        t.get_at(&file, "x").err(),
        Some(Errno::ENOTDIR),
        "relative to a file"
    );
    assert_eq!(
        t.get_at(&file, "/a")
            .unwrap()
            .inode()
            .metadata()
            .unwrap()
            .ino,
        t.ino("/a")
    );
}

fn name_and_path_limits<C: Dcache + Default>() {
    let t = setup::<C>();
    let long = "n".repeat(255);
    t.file(&format!("/a/{long}"), b"").unwrap();
    assert!(t.get(&format!("/a/{long}")).is_ok());
    let too_long = "n".repeat(256);
    assert_eq!(
        t.get(&format!("/a/{too_long}")).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        t.get(&format!("/{too_long}/x")).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        t.mkdir(&format!("/a/{too_long}")).err(),
        Some(Errno::ENAMETOOLONG)
    );
    // Errors earlier in the path win, as in Linux.
    assert_eq!(
        t.get(&format!("/nope/{too_long}")).err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(
        t.get(&format!("/top/{too_long}")).err(),
        Some(Errno::ENOTDIR)
    );
    // 4095 bytes (4096 with the NUL) is the longest path.
    let ok = format!("{}top", "/".repeat(4092));
    assert_eq!(ok.len(), 4095);
    assert_eq!(t.ino(&ok), t.ino("/top"));
    let over = format!("/{ok}");
    assert_eq!(t.get(&over).err(), Some(Errno::ENAMETOOLONG));
    assert_eq!(t.get(&"/".repeat(5000)).err(), Some(Errno::ENAMETOOLONG));
}

fn symlinks<C: Dcache + Default>() {
    let t = setup::<C>();
    t.symlink("b", "/a/rel").unwrap();
    t.symlink("/a/b", "/abs").unwrap();
    t.symlink("../a/b/f", "/a/up").unwrap();
    t.symlink("rel", "/a/chain").unwrap();
    t.symlink("nowhere", "/dangling").unwrap();
    t.symlink("/top", "/tolink").unwrap();
    let f = t.ino("/a/b/f");
    assert_eq!(t.ino("/a/rel/f"), f, "relative link in the middle");
    assert_eq!(t.ino("/abs/f"), f, "absolute link in the middle");
    assert_eq!(t.ino("/a/up"), f, "link at the end, followed");
    assert_eq!(t.ino("/a/chain/f"), f, "link to a link");
    assert_eq!(
        t.ino("/abs/../b/f"),
        f,
        "`..` after a link is taken from the link's target"
    );
    let l = t.lget("/a/up").unwrap();
    assert_eq!(
        l.file_type(),
        FileType::Symlink,
        "not followed at the end on request"
    );
    assert_eq!(Fixture::<C>::path_of(&l), "/a/up");
    assert_eq!(
        t.lget("/abs/").unwrap().file_type(),
        FileType::Directory,
        "trailing slash follows"
    );
    assert_eq!(t.lget("/abs/.").unwrap().file_type(), FileType::Directory);
    assert_eq!(
        t.get("/tolink/").err(),
        Some(Errno::ENOTDIR),
        "trailing slash through a link to a file"
    );
    assert_eq!(t.get("/dangling").err(), Some(Errno::ENOENT));
    assert_eq!(t.lget("/dangling").unwrap().file_type(), FileType::Symlink);
    assert_eq!(
        Fixture::<C>::path_of(&t.get("/abs/f").unwrap()),
        "/a/b/f",
        "paths are real locations"
    );
    // A link whose target ends in a slash must reach a directory.
    t.symlink("/top/", "/slashed").unwrap();
    assert_eq!(t.get("/slashed").err(), Some(Errno::ENOTDIR));
    t.symlink("/a/", "/slashdir").unwrap();
    assert_eq!(t.ino("/slashdir"), t.ino("/a"));
    t.symlink("/", "/toroot").unwrap();
    assert_eq!(t.ino("/toroot"), t.ino("/"));
    assert_eq!(t.ino("/toroot/a/b/f"), f);
}

fn symlink_loops_and_the_limit_of_40<C: Dcache + Default>() {
    let t = setup::<C>();
    t.symlink("loop2", "/loop1").unwrap();
    t.symlink("loop1", "/loop2").unwrap();
    assert_eq!(t.get("/loop1").err(), Some(Errno::ELOOP));
    assert_eq!(t.get("/loop1/x").err(), Some(Errno::ELOOP));
    t.symlink("self/x", "/self").unwrap();
    assert_eq!(t.get("/self").err(), Some(Errno::ELOOP));
    // A chain of n links: n = 40 resolves, 41 does not.
    for (prefix, n) in [("c", 40), ("d", 41)] {
        for i in 0..n {
            let target = if i + 1 == n {
                "/top".to_string()
            } else {
                format!("{prefix}{}", i + 1)
            };
            t.symlink(&target, &format!("/{prefix}{i}")).unwrap();
        }
    }
    assert_eq!(t.ino("/c0"), t.ino("/top"));
    assert_eq!(t.get("/d0").err(), Some(Errno::ELOOP));
    assert!(
        t.lget("/d0").is_ok(),
        "not following the last link counts nothing"
    );
    assert_eq!(
        t.get("/d1").unwrap().inode().metadata().unwrap().ino,
        t.ino("/top")
    );
}

fn process_root_confines_dotdot_and_absolute_links<C: Dcache + Default>() {
    let t = setup::<C>();
    t.symlink("/b/f", "/a/jailabs").unwrap();
    let jail = t.get("/a").unwrap();
    let r = |p: &str| t.vfs.resolve(&jail, &jail, p.as_bytes(), true);
    let f = t.ino("/a/b/f");
    assert_eq!(r("/b/f").unwrap().inode().metadata().unwrap().ino, f);
    assert_eq!(
        r("../../b/f").unwrap().inode().metadata().unwrap().ino,
        f,
        "`..` stops at the root"
    );
    assert_eq!(
        r("/jailabs").unwrap().inode().metadata().unwrap().ino,
        f,
        "absolute links start at the root"
    );
    let in_jail = r("b/f").unwrap();
    assert_eq!(in_jail.path_from(&jail).unwrap(), b"/b/f");
    assert_eq!(in_jail.path_from(&jail.clone()).unwrap(), b"/b/f");
    let outside = t.get("/top").unwrap();
    assert_eq!(
        outside.path_from(&jail),
        None,
        "not below the root: unreachable"
    );
    // A root resolved separately still confines (compared by location, not object).
    let jail2 = t.get("/a/b/..").unwrap();
    let d = t
        .vfs
        .resolve(&t.get("/a/b").unwrap(), &jail2, b"../../../..", true)
        .unwrap();
    assert!(d.same_location(&jail));
}

fn resolve_parent_gives_the_last_component<C: Dcache + Default>() {
    let t = setup::<C>();
    t.symlink("/a/b", "/abs").unwrap();
    let p = t.vfs.resolve_parent(&t.root, &t.root, b"/abs/new").unwrap();
    assert_eq!((p.last, p.trailing_slash), (Last::Normal(b"new"), false));
    assert!(
        p.dir.same_location(&t.get("/a/b").unwrap()),
        "links before the last are followed"
    );
    let p = t
        .vfs
        .resolve_parent(&t.root, &t.root, b"/a/b/new//")
        .unwrap();
    assert_eq!((p.last, p.trailing_slash), (Last::Normal(b"new"), true));
    let p = t.vfs.resolve_parent(&t.root, &t.root, b"/abs").unwrap();
    assert_eq!(
        p.last,
        Last::Normal(b"abs"),
        "the last link is not followed"
    );
    assert_eq!(
        t.vfs
            .resolve_parent(&t.root, &t.root, b"/a/.")
            .unwrap()
            .last,
        Last::Dot
    );
    assert_eq!(
        t.vfs
            .resolve_parent(&t.root, &t.root, b"a/..")
            .unwrap()
            .last,
        Last::DotDot
    );
    let p = t.vfs.resolve_parent(&t.root, &t.root, b"//").unwrap();
    assert_eq!(p.last, Last::Root);
    assert!(Arc::ptr_eq(&p.dir, &t.root));
    let e = |path: &[u8]| t.vfs.resolve_parent(&t.root, &t.root, path).err();
    assert_eq!(e(b"/top/x"), Some(Errno::ENOTDIR));
    assert_eq!(e(b"/nope/x"), Some(Errno::ENOENT));
    assert_eq!(e(b""), Some(Errno::ENOENT));
    assert_eq!(e("/a/".repeat(2).as_bytes()), None);
    assert_eq!(
        e(format!("/a/{}", "x".repeat(256)).as_bytes()),
        Some(Errno::ENAMETOOLONG)
    );
    let file = t.get("/top").unwrap();
    assert_eq!(
        t.vfs.resolve_parent(&file, &t.root, b"x").err(),
        Some(Errno::ENOTDIR)
    );
}

both_caches!(
    absolute_relative_dots_and_slashes,
    errors,
    name_and_path_limits,
    symlinks,
    symlink_loops_and_the_limit_of_40,
    process_root_confines_dotdot_and_absolute_links,
    resolve_parent_gives_the_last_component,
);
