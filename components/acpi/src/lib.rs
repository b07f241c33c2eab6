//! The ACPI tables the kernel reads at boot, to find its CPUs: the RSDP (Root System
//! Description Pointer), the RSDT or XSDT it points at, and in it the MADT (Multiple APIC
//! Description Table, signature `APIC`), whose entries list the processors' local APICs.
//! Layouts and rules from the ACPI specification 6.5: 5.2.5 (RSDP: the `RSD PTR `
//! signature on a 16-byte boundary in the first KiB of the EBDA or in 0xE0000-0xFFFFF; a
//! checksum over the first 20 bytes, and over `length` bytes from revision 2 on), 5.2.6
//! (every table's 36-byte header and its byte checksum), 5.2.7/5.2.8 (RSDT: 32-bit
//! pointers; XSDT: 64-bit), 5.2.12 (MADT: the local APIC address, then entries of type 0,
//! Processor Local APIC, and type 9, Processor Local x2APIC, with flag bit 0 "enabled" and
//! bit 1 "online capable").
//!
//! The crate reads physical memory only through [`PhysMemory`], so the parser runs on the
//! host against tables built in a test.
#![cfg_attr(not(test), no_std)]

/// Reads physical memory: the kernel implements it over its direct map.
pub trait PhysMemory {
    /// Copies `buf.len()` bytes from physical address `paddr`; false if that memory cannot
    /// be read.
    fn read(&self, paddr: u64, buf: &mut [u8]) -> bool;
}

/// Why the CPUs could not be listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// No RSDP where the firmware must put it.
    NoRsdp,
    /// A table whose checksum or length is wrong (its signature).
    BadTable([u8; 4]),
    /// The RSDT/XSDT lists no MADT.
    NoMadt,
}

/// The most CPUs the kernel keeps track of.
pub const MAX_CPUS: usize = 64;

/// The processors the MADT lists, in its order (the boot processor is usually first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Madt {
    /// Physical address of the local APIC registers.
    pub lapic_address: u64,
    apic_ids: [u32; MAX_CPUS],
    count: usize,
    /// Entries past [`MAX_CPUS`], not kept.
    pub dropped: usize,
}

impl Madt {
    /// The local APIC ids of the usable processors (enabled, or online capable).
    pub fn apic_ids(&self) -> &[u32] {
        &self.apic_ids[..self.count]
    }
}

const HEADER_LEN: usize = 36;

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |sum, b| sum.wrapping_add(*b)) == 0
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32_at(bytes, at)) | (u64::from(u32_at(bytes, at + 4)) << 32)
}

/// The RSDP's address: `hint` if the boot loader gave one (PVH's `rsdp_paddr`), else the
/// first valid one in the first KiB of the EBDA (its segment at 0x40E) or in the BIOS area.
pub fn find_rsdp(mem: &dyn PhysMemory, hint: Option<u64>) -> Option<u64> {
    if let Some(paddr) = hint.filter(|&p| p != 0) {
        return valid_rsdp(mem, paddr).then_some(paddr);
    }
    let mut segment = [0u8; 2];
    let ebda = if mem.read(0x40e, &mut segment) {
        u64::from(u16::from_le_bytes(segment)) << 4
    } else {
        0
    };
    let areas = [(ebda, ebda + 1024), (0xe0000, 0x100000)];
    areas
        .into_iter()
        .filter(|&(start, _)| start != 0)
        .flat_map(|(start, end)| (start..end).step_by(16))
        .find(|&paddr| valid_rsdp(mem, paddr))
}

fn valid_rsdp(mem: &dyn PhysMemory, paddr: u64) -> bool {
    let mut rsdp = [0u8; 36];
    if !mem.read(paddr, &mut rsdp[..20]) || &rsdp[..8] != b"RSD PTR " || !checksum_ok(&rsdp[..20]) {
        return false;
    }
    // Revision 2 and later: a 36-byte structure with its own extended checksum.
    rsdp[15] < 2 || (mem.read(paddr, &mut rsdp) && checksum_ok(&rsdp))
}

/// Reads the table at `paddr` into `buf` (header first, then as much of the body as fits)
/// and checks its checksum; returns its signature and length.
fn read_table(
    mem: &dyn PhysMemory,
    paddr: u64,
    buf: &mut [u8],
) -> Result<([u8; 4], usize), AcpiError> {
    if !mem.read(paddr, &mut buf[..HEADER_LEN]) {
        return Err(AcpiError::BadTable(*b"????"));
    }
    let signature = [buf[0], buf[1], buf[2], buf[3]];
    let length = u32_at(buf, 4) as usize;
    if length < HEADER_LEN || length > buf.len() || !mem.read(paddr, &mut buf[..length]) {
        return Err(AcpiError::BadTable(signature));
    }
    if !checksum_ok(&buf[..length]) {
        return Err(AcpiError::BadTable(signature));
    }
    Ok((signature, length))
}

/// Tables larger than this are refused (a MADT with 64 CPUs is under 1 KiB).
const TABLE_MAX: usize = 8192;

/// The MADT found from the RSDP at `rsdp`.
pub fn read_madt(mem: &dyn PhysMemory, rsdp: u64) -> Result<Madt, AcpiError> {
    let mut head = [0u8; 36];
    if !mem.read(rsdp, &mut head[..20]) {
        return Err(AcpiError::NoRsdp);
    }
    let revision = head[15];
    // The XSDT (64-bit entries) from revision 2 on, if the firmware gives one.
    let (root, entry_size) = if revision >= 2 && mem.read(rsdp, &mut head) && u64_at(&head, 24) != 0
    {
        (u64_at(&head, 24), 8)
    } else {
        (u64::from(u32_at(&head, 16)), 4)
    };
    let mut table = [0u8; TABLE_MAX];
    let (_, length) = read_table(mem, root, &mut table)?;
    let entries: [u64; 64] = core::array::from_fn(|i| {
        let at = HEADER_LEN + i * entry_size;
        match (at + entry_size <= length, entry_size) {
            (false, _) => 0,
            (true, 8) => u64_at(&table, at),
            (true, _) => u64::from(u32_at(&table, at)),
        }
    });
    for paddr in entries.into_iter().filter(|&p| p != 0) {
        let (signature, length) = read_table(mem, paddr, &mut table)?;
        if &signature == b"APIC" {
            return parse_madt(&table[..length]);
        }
    }
    Err(AcpiError::NoMadt)
}

/// The processors of a MADT (header included, checksum already checked).
fn parse_madt(table: &[u8]) -> Result<Madt, AcpiError> {
    if table.len() < HEADER_LEN + 8 {
        return Err(AcpiError::BadTable(*b"APIC"));
    }
    let mut madt = Madt {
        lapic_address: u64::from(u32_at(table, HEADER_LEN)),
        apic_ids: [0; MAX_CPUS],
        count: 0,
        dropped: 0,
    };
    let mut at = HEADER_LEN + 8;
    while at + 2 <= table.len() {
        let (kind, length) = (table[at], usize::from(table[at + 1]));
        if length < 2 || at + length > table.len() {
            return Err(AcpiError::BadTable(*b"APIC"));
        }
        let entry = &table[at..at + length];
        let cpu = match (kind, length) {
            // Processor Local APIC: uid (1), APIC id (1), flags (4).
            (0, 8) => Some((u32::from(entry[3]), u32_at(entry, 4))),
            // Processor Local x2APIC: reserved (2), x2APIC id (4), flags (4), uid (4).
            (9, 16) => Some((u32_at(entry, 4), u32_at(entry, 8))),
            // Local APIC Address Override: the 64-bit address.
            (5, 12) => {
                madt.lapic_address = u64_at(entry, 4);
                None
            }
            _ => None,
        };
        if let Some((apic_id, flags)) = cpu {
            let usable = flags & 0b11 != 0;
            let known = madt.apic_ids().contains(&apic_id);
            if usable && !known {
                if madt.count < MAX_CPUS {
                    madt.apic_ids[madt.count] = apic_id;
                    madt.count += 1;
                } else {
                    madt.dropped += 1;
                }
            }
        }
        at += length;
    }
    Ok(madt)
}

#[cfg(test)]
mod tests;
