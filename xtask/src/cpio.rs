//! A writer of "newc" cpio archives (magic `070701`), the format Linux's initramfs unpacker
//! and Tessera's read: directories, regular files, symlinks and character devices.
//!
//! The output is deterministic: entries sorted by path (a parent always precedes what it
//! contains, so an unpacker never meets a file before its directory), every mtime 0, owner
//! root, inode numbers counted from 1 in that order. Two builds of the same tree give the
//! same bytes. Missing parent directories are added (mode 0755).

use std::collections::BTreeMap;

/// What an entry is, with its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Directory,
    File(Vec<u8>),
    /// The target path, stored as the entry's data (as cpio does).
    Symlink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
}

#[derive(Clone, Debug)]
struct Entry {
    kind: Kind,
    /// Permission bits (and setuid/setgid/sticky); the file type comes from `kind`.
    mode: u32,
}

/// An archive being assembled; paths are relative to the archive root ("bin/sh"; a leading
/// "/" is ignored).
#[derive(Default)]
pub struct Archive {
    entries: BTreeMap<String, Entry>,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// The name of the entry that ends every cpio archive.
const TRAILER: &str = "TRAILER!!!";

fn normalize(path: &str) -> String {
    path.trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

impl Archive {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    fn insert(&mut self, path: &str, kind: Kind, mode: u32) {
        let path = normalize(path);
        assert!(!path.is_empty(), "cpio: an entry needs a name");
        let mut parent = path.as_str();
        while let Some((up, _)) = parent.rsplit_once('/') {
            self.entries.entry(up.to_string()).or_insert(Entry {
                kind: Kind::Directory,
                mode: 0o755,
            });
            parent = up;
        }
        self.entries.insert(path, Entry { kind, mode });
    }

    /// Adds a directory (replacing an implied one, to set its mode).
    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.insert(path, Kind::Directory, mode);
        self
    }

    /// Adds a regular file.
    pub fn file(&mut self, path: &str, mode: u32, data: Vec<u8>) -> &mut Self {
        self.insert(path, Kind::File(data), mode);
        self
    }

    /// Adds a symbolic link to `target`.
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.insert(path, Kind::Symlink(target.to_string()), 0o777);
        self
    }

    /// Adds a character device node.
    pub fn char_device(&mut self, path: &str, mode: u32, major: u32, minor: u32) -> &mut Self {
        self.insert(path, Kind::CharDevice { major, minor }, mode);
        self
    }

    /// Whether the archive has an entry at `path`.
    #[cfg(test)]
    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(&normalize(path))
    }

    /// The archive's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (ino, (path, entry)) in self.entries.iter().enumerate() {
            let (file_type, data, nlink, rdev): (u32, &[u8], u32, (u32, u32)) = match &entry.kind {
                Kind::Directory => (S_IFDIR, &[], 2, (0, 0)),
                Kind::File(data) => (S_IFREG, data, 1, (0, 0)),
                Kind::Symlink(target) => (S_IFLNK, target.as_bytes(), 1, (0, 0)),
                Kind::CharDevice { major, minor } => (S_IFCHR, &[], 1, (*major, *minor)),
            };
            let header = Header {
                ino: ino as u32 + 1,
                mode: file_type | (entry.mode & 0o7777),
                nlink,
                size: data.len() as u32,
                rdev,
            };
            write_entry(&mut out, &header, path, data);
        }
        let trailer = Header {
            ino: 0,
            mode: 0,
            nlink: 1,
            size: 0,
            rdev: (0, 0),
        };
        write_entry(&mut out, &trailer, TRAILER, &[]);
        out
    }
}

struct Header {
    ino: u32,
    mode: u32,
    nlink: u32,
    size: u32,
    rdev: (u32, u32),
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// One newc entry: the 110-byte header (magic and 13 fields of 8 hex digits), the name
/// with its NUL padded to 4 bytes, the data padded to 4 bytes.
fn write_entry(out: &mut Vec<u8>, h: &Header, name: &str, data: &[u8]) {
    let fields = [
        h.ino,
        h.mode,
        0, // uid
        0, // gid
        h.nlink,
        0, // mtime
        h.size,
        0, // devmajor
        0, // devminor
        h.rdev.0,
        h.rdev.1,
        name.len() as u32 + 1,
        0, // check (unused by newc)
    ];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

#[cfg(test)]
pub(crate) mod tests {
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
}
