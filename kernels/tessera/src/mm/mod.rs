//! Memory: physical frames and the kernel heap ([`frames`]), address spaces and page faults
//! ([`vm`]), and the page cache that file mappings share ([`pagecache`]).

mod frames;
pub mod pagecache;
pub mod vm;

pub use frames::*;
