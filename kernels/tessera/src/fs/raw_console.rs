//! The serial console without a line discipline (`[subsystems] tty = false`): an output
//! device. Writes go to the UART byte for byte (no `\n` to `\r\n` translation); reads see end
//! of file; there are no terminal ioctls (ENOTTY) and no job control.

use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::KResult;
use tessera_abi::poll::PollEvents;
use tessera_sync::Once;

use super::file::FileOps;
use super::stat::{S_IFCHR, Stat, makedev};

/// No input to start and no terminal to control.
pub fn init(_sid: u32) {}

struct ConsoleFile;

static CONSOLE_FILE: Once<Arc<ConsoleFile>> = Once::new();

/// The console device (all of /dev/console, /dev/tty and /dev/ttyS0).
pub fn file() -> Arc<dyn FileOps> {
    CONSOLE_FILE.call_once(|| Arc::new(ConsoleFile)).clone()
}

impl FileOps for ConsoleFile {
    fn read(&self, _offset: u64, _buf: &mut [u8], _nonblock: bool) -> KResult<usize> {
        Ok(0)
    }

    fn write(&self, _offset: u64, buf: &[u8], _nonblock: bool) -> KResult<usize> {
        tessera_platform::console::write_raw(buf);
        Ok(buf.len())
    }

    /// PID 1's console has no path of its own (it is opened before `/dev` exists); on Linux
    /// it is the initramfs's `/dev/console`.
    fn link_name(&self) -> Vec<u8> {
        b"/dev/console".to_vec()
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            mode: S_IFCHR | 0o620,
            rdev: makedev(5, 1),
            nlink: 1,
            blksize: 1024,
            dev: 5,
            ..Stat::default()
        })
    }

    fn poll(&self) -> PollEvents {
        PollEvents::IN | PollEvents::OUT
    }
}
