//! `net = "none"`: no network card driver and no IP stack are compiled; `socket(AF_INET, ...)`
//! fails with EAFNOSUPPORT. Unix sockets are unaffected.

use alloc::sync::Arc;

use tessera_abi::{Errno, KResult};

use crate::fs::file::FileOps;

/// Nothing to start.
pub fn init() {}

/// No stack timers.
pub fn on_tick(_now: u64) {}

/// AF_INET sockets are not available.
pub fn inet_available() -> bool {
    false
}

/// Never called ([`inet_available`] is false): EAFNOSUPPORT.
pub fn new_inet_socket(_kind: u32, _protocol: u32) -> KResult<Arc<dyn FileOps>> {
    Err(Errno::EAFNOSUPPORT)
}
