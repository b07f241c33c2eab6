//! Memory: physical frames and the kernel heap ([`frames`]), frames mapped into user space
//! ([`user_frames`]), address spaces and page faults ([`vm`]), and the page cache that file
//! mappings share ([`pagecache`]), the OOM killer ([`oom`]), and the vDSO ([`vdso`]; with
//! `vdso = "off"`, `no_vdso.rs`: nothing is mapped).

mod frames;
#[cfg(feature = "userspace")]
pub mod oom;
#[cfg(feature = "userspace")]
pub mod pagecache;
#[cfg(feature = "userspace")]
pub mod user_frames;
#[cfg(all(feature = "userspace", feature = "vdso-on"))]
pub mod vdso;
#[cfg(all(feature = "userspace", not(feature = "vdso-on")))]
#[path = "no_vdso.rs"]
pub mod vdso;
#[cfg(feature = "userspace")]
pub mod vm;

pub use frames::*;
