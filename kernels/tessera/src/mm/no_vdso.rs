//! No vDSO (`vdso = "off"`): nothing is mapped and `AT_SYSINFO_EHDR` is not passed, so the C
//! libraries make the clock system calls themselves. The same functions as `mm/vdso.rs`.

use crate::mm::vm::Vm;

/// Nothing above the stack.
pub const SPAN: u64 = 0;

/// Nothing to set up.
pub fn init() {}

/// Nothing reads the realtime offset outside the kernel.
pub fn set_realtime_offset(_offset_ns: u64) {}

/// No vDSO to map.
pub fn map(_vm: &mut Vm, _at: u64) -> Option<u64> {
    None
}
