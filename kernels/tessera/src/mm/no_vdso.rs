//! No vDSO (`vdso = "off"`): nothing is mapped and `AT_SYSINFO_EHDR` is not passed, so the C
//! libraries make the clock system calls themselves. The same functions as `mm/vdso.rs`.

use tessera_abi::KResult;

use crate::mm::vm::Vm;

/// Nothing to set up.
pub fn init() {}

/// Nothing reads the realtime offset outside the kernel.
pub fn set_realtime_offset(_offset_ns: u64) {}

/// No vDSO to map.
pub fn map(_vm: &mut Vm) -> KResult<Option<u64>> {
    Ok(None)
}
