//! Where the frame for a page of a file mapping comes from: the `file-private` config key.
//!
//! A shared mapping (`MAP_SHARED`) always maps the page cache's frame: every mapping and
//! `read()` see one copy of the page. A private mapping (`MAP_PRIVATE`: program text, read-only
//! data, private files) has two ways: map the cache's frame copy-on-write, so that readers
//! share it until one writes (`share`, what Linux does), or give each process a frame of its
//! own with a copy of the file's bytes on first touch (`copy`). The kernel asks [`FilePrivate::frame`]
//! on the first touch of each page.

/// Where a page of a file mapping gets its frame (see [`FilePrivate::frame`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFrame {
    /// The page cache's frame: as it is for a shared mapping, read-only and copy-on-write for
    /// a private one.
    Cached,
    /// A new frame of the process's own, holding a copy of the file's bytes (zeros past them).
    Copy,
}

/// The policy for private file mappings; the kernel picks one implementor at build time.
pub trait FilePrivate {
    /// The variant's name in the config (`file-private = "..."`).
    const NAME: &'static str;
    /// Whether a private mapping's read fault on a page of file data maps the cache's frame.
    const SHARES_CACHE: bool;

    /// The frame for the first touch of a page of a file mapping: `shared` for a
    /// `MAP_SHARED` mapping, `write` for a write fault, `whole` when the page holds file data
    /// only (it ends at or before where the area's file data ends: a page that also holds
    /// zeros, such as the start of a program's bss, needs a frame of its own).
    #[inline(always)]
    fn frame(shared: bool, write: bool, whole: bool) -> FileFrame {
        if shared || (Self::SHARES_CACHE && !write && whole) {
            FileFrame::Cached
        } else {
            FileFrame::Copy
        }
    }
}

/// `file-private = "copy"`: each process copies a page of a private mapping into a frame of
/// its own on first touch. For A/B comparisons only: a page that was only read then misses
/// later writes to the file, which Linux shows.
pub struct PrivateCopy;

impl FilePrivate for PrivateCopy {
    const NAME: &'static str = "copy";
    const SHARES_CACHE: bool = false;
}

/// `file-private = "share"`: the page cache's frame is mapped copy-on-write into every process
/// that reads it (what Linux does); a write gets the writer a copy.
pub struct PrivateShare;

impl FilePrivate for PrivateShare {
    const NAME: &'static str = "share";
    const SHARES_CACHE: bool = true;
}

#[cfg(test)]
mod tests {
    use super::{FileFrame, FilePrivate, PrivateCopy, PrivateShare};

    /// Every fault a mapping can take: (shared, write, whole).
    fn faults() -> impl Iterator<Item = (bool, bool, bool)> {
        (0..8).map(|bits| (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0))
    }

    /// What both variants do: a shared mapping always maps the cache's frame; a write to a
    /// private one, or a page of it that is not all file data, always gets a copy.
    fn common<P: FilePrivate>() {
        for (shared, write, whole) in faults() {
            let frame = P::frame(shared, write, whole);
            if shared {
                assert_eq!(frame, FileFrame::Cached, "{}: shared mapping", P::NAME);
            } else if write || !whole {
                assert_eq!(frame, FileFrame::Copy, "{}: {write} {whole}", P::NAME);
            }
        }
    }

    /// Instantiates the shared checks and the variant's own answer for a private read of a
    /// whole page of file data, the one fault on which the variants differ.
    macro_rules! variant_suite {
        ($($module:ident: $ty:ty, $name:literal, $private_read:expr;)*) => {$(
            mod $module {
                use super::*;

                #[test]
                fn name() {
                    assert_eq!(<$ty as FilePrivate>::NAME, $name);
                }

                #[test]
                fn shared_mappings_and_writes() {
                    common::<$ty>();
                }

                #[test]
                fn private_read_of_file_data() {
                    assert_eq!(<$ty as FilePrivate>::frame(false, false, true), $private_read);
                }
            }
        )*};
    }

    variant_suite! {
        copy: PrivateCopy, "copy", FileFrame::Copy;
        share: PrivateShare, "share", FileFrame::Cached;
    }
}
