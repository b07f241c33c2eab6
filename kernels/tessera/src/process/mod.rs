//! Processes: tasks, the scheduler, address spaces, signals, and the program loader.
//!
//! A process has one task (thread): what statically linked glibc and musl programs, BusyBox
//! included, need. The kernel is not preemptible: a task runs in the kernel until it returns
//! to user mode or blocks; the timer preempts user mode only (on the way back to it).

pub mod exec;
pub mod exit;
pub mod sched;
pub mod signal;
pub mod task;
pub mod vm;

pub use task::{Task, current};
