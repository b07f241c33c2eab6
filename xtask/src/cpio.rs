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
pub(crate) mod tests;
