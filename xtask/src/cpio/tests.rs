//! The newc writer checked by an independent reader: layout, order, determinism, and a
//! property test against a model of what the archive should hold.

use super::*;

/// One entry as read back.
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    pub name: String,
    pub ino: u32,
    pub mode: u32,
    pub nlink: u32,
    pub rdev: (u32, u32),
    pub data: Vec<u8>,
}

/// A reader of newc archives, independent of the writer, to check what it wrote.
pub(crate) fn parse(bytes: &[u8]) -> Vec<Parsed> {
    let mut at = 0;
    let mut entries = Vec::new();
    loop {
        assert_eq!(&bytes[at..at + 6], b"070701", "magic at {at}");
        let field = |i: usize| {
            let text = std::str::from_utf8(&bytes[at + 6 + 8 * i..at + 14 + 8 * i]).unwrap();
            u32::from_str_radix(text, 16).unwrap()
        };
        assert_eq!(field(5), 0, "mtime");
        assert_eq!((field(2), field(3)), (0, 0), "owner root");
        let size = field(6) as usize;
        let namesize = field(11) as usize;
        let name_start = at + 110;
        let name = std::str::from_utf8(&bytes[name_start..name_start + namesize - 1])
            .unwrap()
            .to_string();
        assert_eq!(bytes[name_start + namesize - 1], 0, "name NUL");
        let data_start = (name_start + namesize).next_multiple_of(4);
        let entry = Parsed {
            name,
            ino: field(0),
            mode: field(1),
            nlink: field(4),
            rdev: (field(9), field(10)),
            data: bytes[data_start..data_start + size].to_vec(),
        };
        at = (data_start + size).next_multiple_of(4);
        if entry.name == TRAILER {
            assert_eq!(at, bytes.len(), "nothing after the trailer");
            return entries;
        }
        entries.push(entry);
    }
}

fn names(entries: &[Parsed]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

#[test]
fn entries_round_trip_with_types_and_modes() {
    let mut archive = Archive::new();
    archive
        .file("/init", 0o755, b"#!/bin/sh\n".to_vec())
        .symlink("bin/sh", "/bin/busybox")
        .char_device("dev/console", 0o600, 5, 1)
        .dir("tmp", 0o1777);
    let entries = parse(&archive.to_bytes());
    assert_eq!(
        names(&entries),
        ["bin", "bin/sh", "dev", "dev/console", "init", "tmp"]
    );
    let get = |n: &str| entries.iter().find(|e| e.name == n).unwrap();
    assert_eq!(get("init").mode, S_IFREG | 0o755);
    assert_eq!(get("init").data, b"#!/bin/sh\n");
    assert_eq!(get("bin").mode, S_IFDIR | 0o755, "implied parent");
    assert_eq!(get("bin").nlink, 2, "directories have 2 links");
    assert_eq!(get("bin/sh").mode, S_IFLNK | 0o777);
    assert_eq!(
        get("bin/sh").data,
        b"/bin/busybox",
        "the target is the data"
    );
    assert_eq!(get("dev/console").mode, S_IFCHR | 0o600);
    assert_eq!(get("dev/console").rdev, (5, 1));
    assert_eq!(get("tmp").mode, S_IFDIR | 0o1777);
}

#[test]
fn parents_precede_children_even_when_added_later() {
    let mut archive = Archive::new();
    archive
        .file("a/b/c", 0o644, vec![1])
        .file("a-b", 0o644, vec![2])
        .dir("a", 0o700);
    let entries = parse(&archive.to_bytes());
    assert_eq!(names(&entries), ["a", "a-b", "a/b", "a/b/c"]);
    assert_eq!(
        entries[0].mode,
        S_IFDIR | 0o700,
        "an explicit dir keeps its mode"
    );
}

#[test]
fn output_is_deterministic_and_aligned() {
    let build = |order: &[(&str, &[u8])]| {
        let mut archive = Archive::new();
        for (path, data) in order {
            archive.file(path, 0o644, data.to_vec());
        }
        archive.to_bytes()
    };
    let one = build(&[("x", b"12345"), ("y/z", b"1"), ("y/w", b"")]);
    let two = build(&[("y/w", b""), ("x", b"12345"), ("y/z", b"1")]);
    assert_eq!(one, two, "insertion order does not matter");
    assert_eq!(one.len() % 4, 0);
    let entries = parse(&one);
    assert_eq!(names(&entries), ["x", "y", "y/w", "y/z"]);
    let inos: Vec<u32> = entries.iter().map(|e| e.ino).collect();
    assert_eq!(
        inos,
        [1, 2, 3, 4],
        "inode numbers count from 1 in path order"
    );
    assert_eq!(entries[0].data, b"12345");
}

#[test]
fn empty_archive_is_just_the_trailer() {
    let bytes = Archive::new().to_bytes();
    assert!(parse(&bytes).is_empty());
    assert_eq!(bytes.len(), (110 + TRAILER.len() + 1).next_multiple_of(4));
}

#[test]
fn leading_and_trailing_slashes_name_the_same_entry() {
    let mut archive = Archive::new();
    archive
        .dir("/etc/", 0o755)
        .file("/etc/passwd", 0o644, vec![]);
    assert!(archive.contains("etc") && archive.contains("/etc/passwd"));
    assert_eq!(parse(&archive.to_bytes()).len(), 2);
}

#[test]
fn a_later_entry_replaces_an_earlier_one() {
    let mut archive = Archive::new();
    archive
        .file("f", 0o644, vec![1])
        .file("f", 0o600, vec![2, 3]);
    let entries = parse(&archive.to_bytes());
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].mode, entries[0].data.as_slice()),
        (S_IFREG | 0o600, &[2, 3][..])
    );
}

mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// What an archive should hold: path -> (mode with file type, data).
    type Model = BTreeMap<String, (u32, Vec<u8>)>;

    #[derive(Clone, Debug)]
    enum Op {
        Dir(String, u32),
        File(String, u32, Vec<u8>),
        Symlink(String, String),
    }

    fn path() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof!["a", "b", "a-b", "c.d"], 1..4)
            .prop_map(|parts| parts.join("/"))
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (path(), 0u32..0o7777).prop_map(|(p, m)| Op::Dir(p, m)),
            (
                path(),
                0u32..0o7777,
                proptest::collection::vec(any::<u8>(), 0..9)
            )
                .prop_map(|(p, m, d)| Op::File(p, m, d)),
            (path(), "[a-z/]{1,8}").prop_map(|(p, t)| Op::Symlink(p, t)),
        ]
    }

    /// The model's rule: an entry replaces what was at its path; missing parents
    /// appear as 0755 directories; an existing parent is left as it is.
    fn apply(model: &mut Model, path: &str, entry: (u32, Vec<u8>)) {
        let mut parent = path;
        while let Some((up, _)) = parent.rsplit_once('/') {
            model
                .entry(up.to_string())
                .or_insert((S_IFDIR | 0o755, Vec::new()));
            parent = up;
        }
        model.insert(path.to_string(), entry);
    }

    proptest! {
        #[test]
        fn archive_holds_what_the_model_says(ops in proptest::collection::vec(op(), 0..24)) {
            let mut archive = Archive::new();
            let mut model = Model::new();
            for op in &ops {
                match op.clone() {
                    Op::Dir(p, m) => {
                        archive.dir(&p, m);
                        apply(&mut model, &p, (S_IFDIR | m, Vec::new()));
                    }
                    Op::File(p, m, d) => {
                        archive.file(&p, m, d.clone());
                        apply(&mut model, &p, (S_IFREG | m, d));
                    }
                    Op::Symlink(p, t) => {
                        archive.symlink(&p, &t);
                        apply(&mut model, &p, (S_IFLNK | 0o777, t.into_bytes()));
                    }
                }
            }
            let bytes = archive.to_bytes();
            prop_assert_eq!(&bytes, &archive.to_bytes(), "deterministic");
            let parsed = parse(&bytes);
            let got: Model = parsed
                .iter()
                .map(|e| (e.name.clone(), (e.mode, e.data.clone())))
                .collect();
            prop_assert_eq!(&got, &model);
            // Each parent comes before its children, and inode numbers count from 1.
            for (i, entry) in parsed.iter().enumerate() {
                prop_assert_eq!(entry.ino as usize, i + 1);
                if let Some((parent, _)) = entry.name.rsplit_once('/') {
                    let at = parsed.iter().position(|e| e.name == parent);
                    prop_assert!(at.is_some_and(|at| at < i), "{} before {}", parent, entry.name);
                }
            }
        }
    }
}
