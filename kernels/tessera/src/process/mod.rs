//! Processes: tasks, the scheduler, address spaces, signals, and the program loader.
//!
//! A task is one thread; a process is the group of tasks that share a `Process` (see
//! `task.rs` and docs/architecture.md, "Threads"). The kernel is not preemptible: a task runs
//! in the kernel until it returns to user mode or blocks; the timer preempts user mode only
//! (on the way back to it).

pub mod exec;
pub mod exit;
pub mod futex;
pub mod pid;
pub mod sched;
mod sigcommon;
#[cfg(feature = "signals")]
pub mod signal;
#[cfg(not(feature = "signals"))]
#[path = "no_signal.rs"]
pub mod signal;
pub mod task;

pub use task::{Task, current};

/// A file was truncated to `len` bytes: every address space drops its pages of the file past
/// the new end (see `Vm::file_truncated`).
pub fn file_truncated(inode: &alloc::sync::Arc<dyn tessera_vfs::Inode>, len: u64) {
    let id = tessera_vfs::inode_key(inode);
    // Every address space once, however many tasks share it.
    let mut seen: alloc::vec::Vec<*const crate::mm::vm::VmCell> = alloc::vec::Vec::new();
    for task in task::all() {
        let cell = task.vm();
        if seen.contains(&alloc::sync::Arc::as_ptr(&cell)) {
            continue;
        }
        seen.push(alloc::sync::Arc::as_ptr(&cell));
        let write_backs = match cell.lock().as_mut() {
            Some(vm) => {
                vm.file_truncated(id, len);
                vm.take_write_backs()
            }
            None => continue,
        };
        crate::mm::vm::run_write_backs(write_backs);
    }
}
