//! The serial console without a line discipline (`[subsystems] tty = false`): an output
//! device. Writes go to the UART byte for byte (no `\n` to `\r\n` translation); reads see end
//! of file; there are no terminal ioctls (ENOTTY) and no job control.

use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::KResult;
use tessera_abi::poll::PollEvents;
use tessera_sync::Once;

use super::file::FileOps;
use super::stat::Stat;

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

    fn link_name(&self) -> Vec<u8> {
        super::CONSOLE_PATH.to_vec()
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(super::console_stat())
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn poll(&self) -> PollEvents {
        PollEvents::IN | PollEvents::OUT
    }
}
