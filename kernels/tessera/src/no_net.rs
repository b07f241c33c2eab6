//! No sockets in this kernel (`[subsystems] sockets = false`): nothing to start or poll.

/// Nothing to start.
pub fn init() {}

/// No socket timers.
pub fn on_tick() {}
