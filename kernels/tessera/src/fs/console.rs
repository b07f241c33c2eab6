//! The serial console as a terminal: `tessera-tty`'s line discipline between the UART and the
//! processes that read and write /dev/console (PID 1's stdin, stdout and stderr).
//!
//! Input arrives by interrupt (IRQ 4): each byte goes through the line discipline, which may
//! echo it, complete a line (waking readers) or raise a signal for the foreground process
//! group (Ctrl-C is SIGINT).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_sync::{IrqSave, Once, SpinLock};
use tessera_tty::{IoctlArg, IoctlCaller, IoctlResult, Tty, TtyRead, ioctl_spec};

use super::file::FileOps;
use super::stat::Stat;
use crate::process::sched::WaitQueue;
use crate::process::{current, signal, task};

struct Console {
    tty: SpinLock<Tty, IrqSave>,
    readers: WaitQueue,
}

static CONSOLE: Once<Console> = Once::new();

fn console() -> &'static Console {
    CONSOLE.call_once(|| Console {
        tty: SpinLock::new(Tty::new()),
        readers: WaitQueue::new(),
    })
}

/// Starts console input; the console becomes the controlling terminal of `sid` (PID 1's
/// session), with that group in the foreground.
pub fn init(sid: u32) {
    console().tty.lock().set_controlling(sid as i32, sid as i32);
    tessera_platform::console::on_input(on_input);
}

fn emit(bytes: &[u8]) {
    tessera_platform::console::write_raw(bytes);
}

fn signal_group(pgid: i32, sig: u32) {
    for task in task::all_processes() {
        if task.process.pgid.load(Ordering::Relaxed) as i32 == pgid {
            signal::send(&task, sig);
        }
    }
}

/// IRQ 4: feed every received byte to the line discipline, as an interrupt context of its
/// own for lock order checking (see `tessera_sync::interrupt_context`).
fn on_input() {
    tessera_sync::interrupt_context(feed_input);
}

fn feed_input() {
    let console = console();
    while let Some(byte) = tessera_platform::console::try_read_byte() {
        let (echo, sig, wake, foreground) = {
            let mut tty = console.tty.lock();
            let foreground = tty.foreground();
            let effects = tty.ldisc.input(byte);
            (
                effects.echo.to_vec(),
                effects.signal.map(|s| s.number()),
                effects.wake_readers,
                foreground,
            )
        };
        if !echo.is_empty() {
            emit(&echo);
        }
        if let (Some(sig), Some(pgid)) = (sig, foreground) {
            signal_group(pgid, sig);
        }
        if wake || sig.is_some() {
            console.readers.wake_all();
        }
    }
}

struct ConsoleFile;

static CONSOLE_FILE: Once<Arc<ConsoleFile>> = Once::new();

/// The console device (all of /dev/console, /dev/tty and /dev/ttyS0).
pub fn file() -> Arc<dyn FileOps> {
    CONSOLE_FILE.call_once(|| Arc::new(ConsoleFile)).clone()
}

impl FileOps for ConsoleFile {
    fn read(&self, _offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        let console = console();
        console
            .readers
            .wait_until(true, || match console.tty.lock().ldisc.try_read(buf) {
                TtyRead::Data(n) => Some(Ok(n)),
                TtyRead::Eof => Some(Ok(0)),
                TtyRead::WouldBlock if nonblock => Some(Err(Errno::EAGAIN)),
                TtyRead::WouldBlock => None,
            })?
    }

    fn write(&self, _offset: u64, buf: &[u8], _nonblock: bool) -> KResult<usize> {
        let mut out = Vec::with_capacity(buf.len() + buf.len() / 8);
        console()
            .tty
            .lock()
            .ldisc
            .process_output(buf, &mut |b| out.push(b));
        emit(&out);
        Ok(buf.len())
    }

    fn link_name(&self) -> Vec<u8> {
        super::CONSOLE_PATH.to_vec()
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(super::console_stat())
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> KResult<isize> {
        let spec = ioctl_spec(cmd)?;
        let arg_in = match spec.arg {
            IoctlArg::In(n) => crate::user::read_bytes(arg, n)?,
            _ => Vec::new(),
        };
        let task = current();
        let sid = task.process.sid.load(Ordering::Relaxed) as i32;
        let result = {
            let mut tty = console().tty.lock();
            let caller = IoctlCaller {
                pid: task.tgid() as i32,
                pgid: task.process.pgid.load(Ordering::Relaxed) as i32,
                sid,
                // The console is the only terminal: a session has one when it has this
                // one (after setsid a session has none, and TIOCSCTTY may give it one).
                has_controlling_tty: tty.session() == Some(sid),
                privileged: true,
            };
            tty.ioctl(cmd, arg as usize, &arg_in, &caller)?
        };
        match result {
            IoctlResult::Done | IoctlResult::Acquired { .. } | IoctlResult::OutputRestarted => {}
            IoctlResult::CopyOut(out) => crate::user::write_bytes(arg, out.as_bytes())?,
            IoctlResult::Signal { signal: sig, pgrp } => signal_group(pgrp, sig.number()),
            IoctlResult::SetForeground(pgid) => {
                if !task::all()
                    .iter()
                    .any(|t| t.process.pgid.load(Ordering::Relaxed) as i32 == pgid)
                {
                    return Err(Errno::ESRCH);
                }
                console().tty.lock().set_foreground(pgid);
            }
            IoctlResult::Released { hangup } => {
                if let Some(pgid) = hangup {
                    signal_group(pgid, signal::SIGHUP);
                    signal_group(pgid, signal::SIGCONT);
                }
            }
            IoctlResult::SendByte(byte) => emit(&[byte]),
        }
        console().readers.wake_all();
        Ok(0)
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn wait_queues(&self, add: &mut dyn FnMut(&WaitQueue)) {
        add(&console().readers);
    }

    fn poll(&self) -> PollEvents {
        if console().tty.lock().ldisc.poll_readable() {
            PollEvents::IN | PollEvents::OUT
        } else {
            PollEvents::OUT
        }
    }
}
