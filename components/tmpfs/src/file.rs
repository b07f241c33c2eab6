//! Regular file contents: sparse, in page-sized chunks. Pages never written are holes (they
//! read as zeros and use no memory), so `blocks` counts what is really allocated, as
//! Linux's tmpfs reports it.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};

use crate::Shared;

/// Size of one chunk of file data.
pub const PAGE_SIZE: usize = 4096;
/// Largest file size (Linux's `MAX_LFS_FILESIZE` on 64-bit).
pub const MAX_FILE_SIZE: u64 = tessera_abi::fs::MAX_FILE_OFFSET;

/// The data of a regular file.
#[derive(Default)]
pub(crate) struct FileData {
    /// Page index -> page; absent pages are holes.
    pages: BTreeMap<u64, Box<[u8]>>,
    size: u64,
}

impl FileData {
    /// Size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Pages allocated.
    pub(crate) fn pages(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Copy from `offset` into `buf`; returns the bytes read (0 at or past the end).
    pub(crate) fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.size {
            return 0;
        }
        let len = buf
            .len()
            .min((self.size - offset).min(usize::MAX as u64) as usize);
        let mut done = 0;
        while done < len {
            let pos = offset + done as u64;
            let (index, in_page) = (pos / PAGE_SIZE as u64, (pos % PAGE_SIZE as u64) as usize);
            let n = (PAGE_SIZE - in_page).min(len - done);
            let dst = &mut buf[done..done + n];
            match self.pages.get(&index) {
                Some(page) => dst.copy_from_slice(&page[in_page..in_page + n]),
                None => dst.fill(0),
            }
            done += n;
        }
        len
    }

    /// Copy `buf` to `offset`, extending the file. EFBIG past [`MAX_FILE_SIZE`]; ENOSPC when
    /// no page can be had (a partial write returns what was written).
    pub(crate) fn write(&mut self, offset: u64, buf: &[u8], fs: &Shared) -> KResult<usize> {
        let end = offset.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (index, in_page) = (pos / PAGE_SIZE as u64, (pos % PAGE_SIZE as u64) as usize);
            let n = (PAGE_SIZE - in_page).min(buf.len() - done);
            let page = match self.pages.get_mut(&index) {
                Some(page) => page,
                None => match fs.alloc_page() {
                    Ok(page) => self.pages.entry(index).or_insert(page),
                    Err(e) if done == 0 => return Err(e),
                    Err(_) => break,
                },
            };
            page[in_page..in_page + n].copy_from_slice(&buf[done..done + n]);
            done += n;
        }
        self.size = self.size.max(offset + done as u64);
        Ok(done)
    }

    /// Set the size to `len`: pages past it are freed (returned to `fs`), the tail of the
    /// last page zeroed so a later extension reads zeros. EFBIG past [`MAX_FILE_SIZE`].
    pub(crate) fn truncate(&mut self, len: u64, fs: &Shared) -> KResult<()> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if len < self.size {
            let first_gone = len.div_ceil(PAGE_SIZE as u64);
            let gone: Vec<u64> = self.pages.range(first_gone..).map(|(&i, _)| i).collect();
            for index in &gone {
                self.pages.remove(index);
            }
            fs.free_pages(gone.len() as u64);
            let in_page = (len % PAGE_SIZE as u64) as usize;
            if in_page != 0
                && let Some(page) = self.pages.get_mut(&(len / PAGE_SIZE as u64))
            {
                page[in_page..].fill(0);
            }
        }
        self.size = len;
        Ok(())
    }
}
