//! Host tests. The emulated interrupt flag is one global, so every test that uses an irq-save
//! lock or looks at the flag holds [`serial`] for its whole run.

mod exclusion;
mod irq;
#[cfg(feature = "tracking")]
mod order;
#[cfg(feature = "tracking")]
mod tracking;

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::host_irq;

static IF_USERS: Mutex<()> = Mutex::new(());

/// Serialises tests that touch the emulated interrupt flag, and starts them with it set to
/// `enabled`. Poisoning is ignored: `should_panic` tests poison the mutex on purpose.
fn serial(enabled: bool) -> MutexGuard<'static, ()> {
    let turn = IF_USERS.lock().unwrap_or_else(PoisonError::into_inner);
    host_irq::set_enabled(enabled);
    turn
}
