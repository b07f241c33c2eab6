//! PCI configuration space through the legacy I/O ports (configuration mechanism #1:
//! address at 0xCF8, data at 0xCFC), present on every PC and on QEMU's q35 and i440fx.
//!
//! The firmware (SeaBIOS, which runs before the PVH entry under QEMU) has already assigned
//! the BARs and routed each device's INTx pin to a legacy PIC line, written in its
//! Interrupt Line register; [`find`] reports both, [`enable`] turns on memory decoding and
//! bus mastering (DMA).

use spin::Mutex;
use x86_64::instructions::port::Port;

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

/// Serializes the two-step address/data access (the only state the mechanism has).
static CONFIG: Mutex<()> = Mutex::new(());

/// The location of a PCI function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// Bus number (0..256).
    pub bus: u8,
    /// Device number on the bus (0..32).
    pub device: u8,
    /// Function number (0..8).
    pub function: u8,
}

impl Location {
    fn address(self, offset: u8) -> u32 {
        0x8000_0000
            | u32::from(self.bus) << 16
            | u32::from(self.device & 31) << 11
            | u32::from(self.function & 7) << 8
            | u32::from(offset & 0xfc)
    }
}

/// Reads the 32-bit configuration register at `offset` (rounded down to 4).
pub fn read(at: Location, offset: u8) -> u32 {
    let _guard = CONFIG.lock();
    // SAFETY: ports 0xCF8/0xCFC are the PCI configuration mechanism; selecting a register
    // and reading it has no effect on memory, and the lock keeps the pair of accesses whole.
    unsafe {
        Port::<u32>::new(CONFIG_ADDRESS).write(at.address(offset));
        Port::<u32>::new(CONFIG_DATA).read()
    }
}

/// Writes the 32-bit configuration register at `offset` (rounded down to 4).
pub fn write(at: Location, offset: u8, value: u32) {
    let _guard = CONFIG.lock();
    // SAFETY: as in read(); configuration writes program the device (BARs, command), which
    // the callers in this crate do deliberately, with the device not yet in use.
    unsafe {
        Port::<u32>::new(CONFIG_ADDRESS).write(at.address(offset));
        Port::<u32>::new(CONFIG_DATA).write(value);
    }
}

/// A PCI function found by [`find`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// Where it is.
    pub location: Location,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// The legacy PIC line its INTx pin is routed to, if it uses one.
    pub irq: Option<u8>,
}

/// The first function with `vendor` and one of `devices` as IDs, scanning every bus.
pub fn find(vendor: u16, devices: &[u16]) -> Option<Device> {
    for bus in 0..=255u8 {
        for device in 0..32u8 {
            for function in 0..8u8 {
                let location = Location {
                    bus,
                    device,
                    function,
                };
                let id = read(location, 0);
                if id & 0xffff == 0xffff {
                    if function == 0 {
                        break; // no device here at all
                    }
                    continue;
                }
                if id & 0xffff == u32::from(vendor) && devices.contains(&((id >> 16) as u16)) {
                    let interrupt = read(location, 0x3c);
                    let (line, pin) = (interrupt as u8, (interrupt >> 8) as u8);
                    return Some(Device {
                        location,
                        vendor,
                        device: (id >> 16) as u16,
                        irq: (pin != 0 && line < 16).then_some(line),
                    });
                }
                let multifunction = read(location, 0x0c) & (0x80 << 16) != 0;
                if function == 0 && !multifunction {
                    break;
                }
            }
        }
    }
    None
}

/// Turns on memory and I/O decoding and bus mastering, and lets the device raise INTx.
pub fn enable(at: Location) {
    const IO: u32 = 1;
    const MEMORY: u32 = 1 << 1;
    const BUS_MASTER: u32 = 1 << 2;
    const INTX_DISABLE: u32 = 1 << 10;
    let command = read(at, 0x04) & 0xffff;
    write(
        at,
        0x04,
        (command | IO | MEMORY | BUS_MASTER) & !INTX_DISABLE,
    );
}
