//! Starting user space: the initramfs becomes the root filesystem and PID 1 runs `/init`.

use alloc::vec;
use alloc::vec::Vec;

use tessera_platform::exit::{ExitCode, exit};
use tessera_platform::println;
use tessera_platform::trap::TrapFrame;

use crate::process::{Task, exec, sched};

/// Unpacks the initramfs, starts `init` as PID 1 and runs the scheduler until the machine
/// stops (init exits or powers off).
pub fn run(initrd: &[u8], init: &str) -> ! {
    let fs = match crate::fs::init_root(initrd) {
        Ok(fs) => fs,
        Err(e) => {
            println!("tessera: cannot unpack the initramfs: {e}");
            exit(ExitCode::TestFailure);
        }
    };
    let files = crate::fs::console::stdio_table();
    let task = match Task::new("init", None, files, fs) {
        Ok(task) => task,
        Err(e) => panic!("cannot create init: {e}"),
    };
    crate::fs::console::init(task.pid);
    let mut frame = TrapFrame::default();
    let argv: Vec<Vec<u8>> = vec![init.as_bytes().to_vec()];
    let envp: Vec<Vec<u8>> = vec![
        b"HOME=/".to_vec(),
        b"TERM=linux".to_vec(),
        b"PATH=/bin:/sbin:/usr/bin:/usr/sbin".to_vec(),
    ];
    let started = sched::with_current(&task, || {
        exec::execve(init.as_bytes(), argv, envp, &mut frame)
    });
    if let Err(e) = started {
        println!("tessera: cannot run {init}: {e}");
        exit(ExitCode::TestFailure);
    }
    task.kernel_stack
        .lock()
        .as_mut()
        .expect("a new task has a stack")
        .init_user_return(&frame, sched::context(task.slot));
    sched::spawn(task);
    sched::idle_loop(|| true);
    unreachable!("the idle loop only ends when the machine stops");
}
