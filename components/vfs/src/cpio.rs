//! Reader of `newc` cpio archives (magic "070701", or "070702" whose checksums are not
//! verified, as Linux does not either): the initramfs format.
//!
//! Layout of one entry: a 110-byte ASCII header (magic, then 13 eight-digit hex fields),
//! the name with its NUL, padding to a multiple of 4, the data, padding to a multiple of 4.
//! The entry named `TRAILER!!!` ends an archive; NUL bytes may follow, and another archive
//! may follow those (Linux accepts concatenated archives, e.g. microcode + root file system).

use core::fmt;

/// One archive member, borrowing its name and data from the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpioEntry<'a> {
    /// Offset of the entry's header in the archive (for error messages).
    pub offset: usize,
    /// Inode number in the archive (identifies hard links, with `dev_*`).
    pub ino: u32,
    /// File type and permissions (`S_IF*` and `S_IALLUGO` bits).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Number of links: 2 or more marks a member of a hard-link group.
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Major number of the device the file was on.
    pub dev_major: u32,
    /// Minor number of the device the file was on.
    pub dev_minor: u32,
    /// Major number of a device node.
    pub rdev_major: u32,
    /// Minor number of a device node.
    pub rdev_minor: u32,
    /// The path, without its NUL.
    pub name: &'a [u8],
    /// The contents (a symlink's target, a regular file's data).
    pub data: &'a [u8],
}

/// What is wrong with a malformed archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpioErrorKind {
    /// The archive ends inside a header, name or data.
    Truncated,
    /// A header does not start with "070701"/"070702" (compressed archives are not supported).
    BadMagic,
    /// A header field is not 8 hexadecimal digits.
    BadNumber,
    /// A name is empty or not NUL-terminated.
    BadName,
    /// A header is not at a multiple of 4 bytes from the start.
    Misaligned,
}

/// A malformed archive: what and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpioError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// The problem.
    pub kind: CpioErrorKind,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            CpioErrorKind::Truncated => "archive truncated",
            CpioErrorKind::BadMagic => "no cpio newc magic (compressed archives are not supported)",
            CpioErrorKind::BadNumber => "header field is not hexadecimal",
            CpioErrorKind::BadName => "name empty or not NUL-terminated",
            CpioErrorKind::Misaligned => "header not 4-byte aligned",
        };
        write!(f, "{what} at offset {:#x}", self.offset)
    }
}

/// Size of a newc header.
pub const HEADER_LEN: usize = 110;

/// Iterator over the entries of one or more concatenated newc archives. Trailers are
/// consumed, not returned. After an error it returns `None`.
pub struct CpioReader<'a> {
    archive: &'a [u8],
    pos: usize,
    /// Between archives (at the start or after a trailer): NUL padding may be skipped.
    at_boundary: bool,
    failed: bool,
}

impl<'a> CpioReader<'a> {
    /// A reader over `archive`.
    pub fn new(archive: &'a [u8]) -> CpioReader<'a> {
        CpioReader {
            archive,
            pos: 0,
            at_boundary: true,
            failed: false,
        }
    }

    fn fail(
        &mut self,
        offset: usize,
        kind: CpioErrorKind,
    ) -> Option<Result<CpioEntry<'a>, CpioError>> {
        self.failed = true;
        Some(Err(CpioError { offset, kind }))
    }
}

/// The 8-digit hexadecimal field `index` (0 = ino) of the header at `h`.
fn field(h: &[u8], index: usize) -> Option<u32> {
    let digits = &h[6 + 8 * index..6 + 8 * (index + 1)];
    digits.iter().try_fold(0u32, |acc, &c| {
        let v = (c as char).to_digit(16)?;
        Some(acc << 4 | v)
    })
}

/// `n` rounded up to a multiple of 4, `None` on overflow.
fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|m| m & !3)
}

impl<'a> Iterator for CpioReader<'a> {
    type Item = Result<CpioEntry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            let a = self.archive;
            if self.at_boundary {
                while self.pos < a.len() && a[self.pos] == 0 {
                    self.pos += 1;
                }
                if self.pos == a.len() {
                    return None;
                }
            } else if self.pos == a.len() {
                // An archive without a trailer that ends between entries: accepted.
                return None;
            }
            let offset = self.pos;
            if !offset.is_multiple_of(4) {
                return self.fail(offset, CpioErrorKind::Misaligned);
            }
            // The magic first, even in a short input: "not cpio" says more than "truncated".
            let magic = &a[offset..a.len().min(offset + 6)];
            if !b"070701".starts_with(magic) && !b"070702".starts_with(magic) {
                return self.fail(offset, CpioErrorKind::BadMagic);
            }
            let Some(h) = a.get(offset..offset + HEADER_LEN) else {
                return self.fail(offset, CpioErrorKind::Truncated);
            };
            let mut f = [0u32; 13];
            for (i, slot) in f.iter_mut().enumerate() {
                match field(h, i) {
                    Some(v) => *slot = v,
                    None => return self.fail(offset + 6 + 8 * i, CpioErrorKind::BadNumber),
                }
            }
            let [
                ino,
                mode,
                uid,
                gid,
                nlink,
                mtime,
                filesize,
                dev_major,
                dev_minor,
                rdev_major,
                rdev_minor,
                namesize,
                _check,
            ] = f;
            let name_start = offset + HEADER_LEN;
            let (namesize, filesize) = (namesize as usize, filesize as usize);
            let Some(name_with_nul) = a.get(name_start..name_start.saturating_add(namesize)) else {
                return self.fail(name_start, CpioErrorKind::Truncated);
            };
            let Some((&0, name)) = name_with_nul.split_last() else {
                return self.fail(name_start, CpioErrorKind::BadName);
            };
            if name.is_empty() {
                return self.fail(name_start, CpioErrorKind::BadName);
            }
            let data_start = align4(name_start + namesize);
            let data = data_start.and_then(|s| a.get(s..s.checked_add(filesize)?));
            let (Some(data_start), Some(data)) = (data_start, data) else {
                return self.fail(name_start + namesize, CpioErrorKind::Truncated);
            };
            let end = align4(data_start + filesize).unwrap_or(usize::MAX);
            // Padding after the last member may be missing at the very end of the archive.
            self.pos = end.min(a.len());
            if name == b"TRAILER!!!" {
                self.at_boundary = true;
                continue;
            }
            self.at_boundary = false;
            return Some(Ok(CpioEntry {
                offset,
                ino,
                mode,
                uid,
                gid,
                nlink,
                mtime,
                dev_major,
                dev_minor,
                rdev_major,
                rdev_minor,
                name,
                data,
            }));
        }
    }
}
