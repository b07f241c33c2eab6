//! What the boot loader tells us: the memory map, the command line and boot modules.
//!
//! Two protocols deliver the same facts: PVH (`hvm_start_info`, what QEMU's `-kernel` uses)
//! and Multiboot2 (GRUB). Both are read once, early, through the boot mapping of the first GiB,
//! into a protocol-independent [`BootInfo`].

use crate::mm::KERNEL_VMA;

const PVH_MAGIC: u32 = 0x336e_c578;
const MULTIBOOT2_MAGIC: u32 = 0x36d7_6289;
const MAX_REGIONS: usize = 64;
const MAX_MODULES: usize = 4;
const CMDLINE_MAX: usize = 512;

/// A physical address range `[start, end)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysRange {
    pub start: u64,
    pub end: u64,
}

impl PhysRange {
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Which boot protocol started the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootProtocol {
    Pvh,
    Multiboot2,
}

/// The boot loader's facts, independent of the protocol.
pub struct BootInfo {
    pub protocol: BootProtocol,
    ram: [PhysRange; MAX_REGIONS],
    ram_count: usize,
    modules: [PhysRange; MAX_MODULES],
    module_count: usize,
    cmdline: [u8; CMDLINE_MAX],
    cmdline_len: usize,
    /// Where the boot loader's own structure lives (kept out of the free memory).
    pub(crate) info_range: PhysRange,
}

impl BootInfo {
    /// RAM as the firmware reported it (before the kernel's own reservations).
    pub fn ram(&self) -> &[PhysRange] {
        &self.ram[..self.ram_count]
    }

    /// Boot modules (e.g. an initrd), in the order given.
    pub fn modules(&self) -> &[PhysRange] {
        &self.modules[..self.module_count]
    }

    /// The bytes of boot module `index` (e.g. the initrd). Modules are kept out of the free
    /// memory, so nothing ever writes them.
    pub fn module_data(&self, index: usize) -> Option<&'static [u8]> {
        let module = self.modules().get(index)?;
        if module.end > crate::mm::direct_map_end() {
            return None;
        }
        let start = crate::mm::phys_to_virt(module.start) as *const u8;
        // SAFETY: the range is RAM below the end of the direct map, mapped there; mm::init
        // removed it from the free regions, so it is never handed out or written.
        Some(unsafe { core::slice::from_raw_parts(start, module.len() as usize) })
    }

    /// The kernel command line (`-append` in QEMU).
    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }

    /// The value of `key=value` on the command line, if present.
    pub fn cmdline_value(&self, key: &str) -> Option<&str> {
        self.cmdline()
            .split_ascii_whitespace()
            .find_map(|arg| arg.strip_prefix(key)?.strip_prefix('='))
    }

    fn add_ram(&mut self, start: u64, len: u64) {
        if self.ram_count < MAX_REGIONS && len > 0 {
            self.ram[self.ram_count] = PhysRange {
                start,
                end: start + len,
            };
            self.ram_count += 1;
        }
    }

    fn add_module(&mut self, start: u64, end: u64) {
        if self.module_count < MAX_MODULES && end > start {
            self.modules[self.module_count] = PhysRange { start, end };
            self.module_count += 1;
        }
    }

    fn set_cmdline(&mut self, paddr: u64) {
        if paddr == 0 {
            return;
        }
        let mut len = 0;
        while len < CMDLINE_MAX {
            let byte = read::<u8>(paddr + len as u64);
            if byte == 0 {
                break;
            }
            self.cmdline[len] = byte;
            len += 1;
        }
        self.cmdline_len = len;
    }
}

/// Reads a boot structure field through the boot mapping of the first GiB.
fn read<T: Copy>(paddr: u64) -> T {
    assert!(
        paddr < (1 << 30),
        "boot information above 1 GiB: {paddr:#x}"
    );
    // SAFETY: boot.rs maps physical [0, 1 GiB) at KERNEL_VMA for the whole boot; the boot
    // loader placed its structures in RAM there; read_unaligned has no alignment requirement.
    unsafe { core::ptr::read_unaligned((KERNEL_VMA + paddr) as *const T) }
}

/// Parses the boot loader's information (`magic` in EAX and `info` in EBX at entry).
pub(crate) fn parse(magic: u32, info: u64) -> BootInfo {
    let mut boot = BootInfo {
        protocol: BootProtocol::Pvh,
        ram: [PhysRange::default(); MAX_REGIONS],
        ram_count: 0,
        modules: [PhysRange::default(); MAX_MODULES],
        module_count: 0,
        cmdline: [0; CMDLINE_MAX],
        cmdline_len: 0,
        info_range: PhysRange::default(),
    };
    if magic == MULTIBOOT2_MAGIC {
        boot.protocol = BootProtocol::Multiboot2;
        parse_multiboot2(&mut boot, info);
    } else if read::<u32>(info) == PVH_MAGIC {
        parse_pvh(&mut boot, info);
    } else {
        panic!("unknown boot protocol: EAX={magic:#x}, EBX={info:#x} (expected PVH or Multiboot2)");
    }
    boot
}

fn parse_pvh(boot: &mut BootInfo, info: u64) {
    // struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h), version >= 1.
    let version = read::<u32>(info + 4);
    let nr_modules = read::<u32>(info + 12);
    let modlist = read::<u64>(info + 16);
    boot.set_cmdline(read::<u64>(info + 24));
    boot.info_range = PhysRange {
        start: info,
        end: info + 56,
    };
    for i in 0..u64::from(nr_modules) {
        let entry = modlist + i * 32;
        let start = read::<u64>(entry);
        boot.add_module(start, start + read::<u64>(entry + 8));
    }
    assert!(
        version >= 1,
        "PVH start info version {version} has no memory map"
    );
    let memmap = read::<u64>(info + 40);
    let entries = read::<u32>(info + 48);
    for i in 0..u64::from(entries) {
        let entry = memmap + i * 24;
        if read::<u32>(entry + 16) == 1 {
            boot.add_ram(read::<u64>(entry), read::<u64>(entry + 8));
        }
    }
}

fn parse_multiboot2(boot: &mut BootInfo, info: u64) {
    let total = u64::from(read::<u32>(info));
    boot.info_range = PhysRange {
        start: info,
        end: info + total,
    };
    let mut tag = info + 8;
    while tag + 8 <= info + total {
        let kind = read::<u32>(tag);
        let size = u64::from(read::<u32>(tag + 4));
        match kind {
            0 => break,
            1 => boot.set_cmdline(tag + 8),
            3 => boot.add_module(
                u64::from(read::<u32>(tag + 8)),
                u64::from(read::<u32>(tag + 12)),
            ),
            6 => {
                let entry_size = u64::from(read::<u32>(tag + 8)).max(24);
                let mut entry = tag + 16;
                while entry + 24 <= tag + size {
                    if read::<u32>(entry + 16) == 1 {
                        boot.add_ram(read::<u64>(entry), read::<u64>(entry + 8));
                    }
                    entry += entry_size;
                }
            }
            _ => {}
        }
        tag += (size + 7) & !7;
    }
}
