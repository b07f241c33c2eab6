//! Tables built here as firmware lays them out, read back through a fake physical memory.

use super::*;

/// Physical memory as a few byte regions.
struct Memory(Vec<(u64, Vec<u8>)>);

impl PhysMemory for Memory {
    fn read(&self, paddr: u64, buf: &mut [u8]) -> bool {
        self.0.iter().any(|(start, bytes)| {
            let Some(offset) = paddr.checked_sub(*start) else {
                return false;
            };
            let offset = offset as usize;
            match bytes.get(offset..offset + buf.len()) {
                Some(src) => {
                    buf.copy_from_slice(src);
                    true
                }
                None => false,
            }
        })
    }
}

fn fix_checksum(bytes: &mut [u8], at: usize) {
    bytes[at] = 0;
    let sum = bytes.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    bytes[at] = 0u8.wrapping_sub(sum);
}

fn table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(signature);
    t.extend_from_slice(&((HEADER_LEN + body.len()) as u32).to_le_bytes());
    t.push(1); // revision
    t.push(0); // checksum
    t.extend_from_slice(b"TESSRA");
    t.extend_from_slice(&[0; 8 + 4 + 4 + 4]);
    t.extend_from_slice(body);
    fix_checksum(&mut t, 9);
    t
}

fn lapic(apic_id: u8, flags: u32) -> Vec<u8> {
    let mut e = vec![0, 8, apic_id, apic_id];
    e.extend_from_slice(&flags.to_le_bytes());
    e
}

fn x2apic(apic_id: u32, flags: u32) -> Vec<u8> {
    let mut e = vec![9, 16, 0, 0];
    e.extend_from_slice(&apic_id.to_le_bytes());
    e.extend_from_slice(&flags.to_le_bytes());
    e.extend_from_slice(&apic_id.to_le_bytes());
    e
}

fn madt(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut body = 0xfee0_0000u32.to_le_bytes().to_vec();
    body.extend_from_slice(&1u32.to_le_bytes()); // PCAT_COMPAT
    for e in entries {
        body.extend_from_slice(e);
    }
    table(b"APIC", &body)
}

fn rsdp(revision: u8, rsdt: u32, xsdt: u64) -> Vec<u8> {
    let mut r = b"RSD PTR ".to_vec();
    r.push(0);
    r.extend_from_slice(b"TESSRA");
    r.push(revision);
    r.extend_from_slice(&rsdt.to_le_bytes());
    fix_checksum(&mut r[..20], 8);
    if revision >= 2 {
        r.extend_from_slice(&36u32.to_le_bytes());
        r.extend_from_slice(&xsdt.to_le_bytes());
        r.extend_from_slice(&[0; 4]);
        fix_checksum(&mut r, 32);
    }
    r
}

/// A machine with an RSDP (revision 0) in the BIOS area, an RSDT listing a FACP-like table
/// and the MADT.
fn machine(madt_bytes: Vec<u8>) -> Memory {
    let facp = table(b"FACP", &[0; 16]);
    let mut rsdt_body = 0x7000_0100u32.to_le_bytes().to_vec();
    rsdt_body.extend_from_slice(&0x7000_0200u32.to_le_bytes());
    Memory(vec![
        (0x400, vec![0; 0x100]),
        (0xf5a30, rsdp(0, 0x7000_0000, 0)),
        (0x7000_0000, table(b"RSDT", &rsdt_body)),
        (0x7000_0100, facp),
        (0x7000_0200, madt_bytes),
    ])
}

#[test]
fn cpus_of_a_madt_found_by_scanning_the_bios_area() {
    let mem = machine(madt(&[lapic(0, 1), lapic(1, 1), lapic(2, 0), lapic(3, 2)]));
    let rsdp = find_rsdp(&mem, None).expect("rsdp");
    assert_eq!(rsdp, 0xf5a30);
    let madt = read_madt(&mem, rsdp).unwrap();
    assert_eq!(madt.lapic_address, 0xfee0_0000);
    // Disabled and not online-capable (flags 0) is left out; online-capable kept.
    assert_eq!(madt.apic_ids(), &[0, 1, 3]);
}

#[test]
fn x2apic_entries_and_duplicates() {
    let mem = machine(madt(&[lapic(0, 1), x2apic(0, 1), x2apic(300, 1)]));
    let madt = read_madt(&mem, find_rsdp(&mem, None).unwrap()).unwrap();
    assert_eq!(madt.apic_ids(), &[0, 300]);
}

#[test]
fn the_hint_is_used_and_checked() {
    let mem = machine(madt(&[lapic(0, 1)]));
    assert_eq!(find_rsdp(&mem, Some(0xf5a30)), Some(0xf5a30));
    assert_eq!(find_rsdp(&mem, Some(0xf5a40)), None);
}

#[test]
fn a_bad_checksum_is_refused() {
    let mut bytes = madt(&[lapic(0, 1)]);
    bytes[40] ^= 1;
    let mem = machine(bytes);
    let rsdp = find_rsdp(&mem, None).unwrap();
    assert_eq!(read_madt(&mem, rsdp), Err(AcpiError::BadTable(*b"APIC")));
}

#[test]
fn revision_2_uses_the_xsdt() {
    let mut xsdt_body = 0x7000_0200u64.to_le_bytes().to_vec();
    xsdt_body.extend_from_slice(&0u64.to_le_bytes());
    let mem = Memory(vec![
        (0xe0000, rsdp(2, 0, 0x7100_0000)),
        (0x7100_0000, table(b"XSDT", &xsdt_body[..8])),
        (0x7000_0200, madt(&[lapic(0, 1), lapic(5, 1)])),
    ]);
    let rsdp = find_rsdp(&mem, None).unwrap();
    assert_eq!(read_madt(&mem, rsdp).unwrap().apic_ids(), &[0, 5]);
}

#[test]
fn no_madt_and_no_rsdp() {
    let mem = Memory(vec![
        (0xe0000, rsdp(0, 0x7000_0000, 0)),
        (0x7000_0000, table(b"RSDT", &[])),
    ]);
    assert_eq!(read_madt(&mem, 0xe0000), Err(AcpiError::NoMadt));
    assert_eq!(find_rsdp(&Memory(vec![(0xe0000, vec![0; 64])]), None), None);
}

#[test]
fn more_cpus_than_kept_are_counted() {
    let entries: Vec<_> = (0..70u32).map(|id| x2apic(id, 1)).collect();
    let mem = machine(madt(&entries));
    let madt = read_madt(&mem, find_rsdp(&mem, None).unwrap()).unwrap();
    assert_eq!(madt.apic_ids().len(), MAX_CPUS);
    assert_eq!(madt.dropped, 6);
}
