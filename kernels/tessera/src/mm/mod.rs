//! Memory: physical frames and the kernel heap ([`frames`]), frames mapped into user space
//! ([`user_frames`]), address spaces and page faults ([`vm`]), and the page cache that file
//! mappings share ([`pagecache`]), and the OOM killer ([`oom`]).

mod frames;
#[cfg(feature = "userspace")]
pub mod oom;
#[cfg(feature = "userspace")]
pub mod pagecache;
#[cfg(feature = "userspace")]
pub mod user_frames;
#[cfg(feature = "userspace")]
pub mod vm;

pub use frames::*;
