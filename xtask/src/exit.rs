//! What `cargo xtask` exits with, and how QEMU's exit status maps to it.
//!
//! The kernel leaves QEMU through the `isa-debug-exit` device: writing v exits QEMU with
//! `(v << 1) | 1` (tessera-platform's `exit` module). QEMU exits 0 after a triple fault with
//! `-no-reboot`, so 0 from QEMU is never success.

/// The tool's exit codes (docs/exit-codes.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// 0: the kernel reported success (or the command needed no kernel).
    Ok = 0,
    /// 1: the tool itself failed: bad config, build error, missing dependency, bad arguments.
    ToolError = 1,
    /// 2: the kernel ran and reported a failed test.
    TestFailure = 2,
    /// 3: the kernel panicked or hit a CPU exception.
    KernelPanic = 3,
    /// 4: no result before the timeout (a hang).
    Timeout = 4,
    /// 5: QEMU stopped without a kernel verdict (triple fault, reset, QEMU error).
    NoVerdict = 5,
}

impl From<Code> for std::process::ExitCode {
    fn from(code: Code) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

/// QEMU's exit status for the kernel's debug-exit values 0x10, 0x11, 0x12.
pub const QEMU_SUCCESS: i32 = 33;
pub const QEMU_TEST_FAILURE: i32 = 35;
pub const QEMU_PANIC: i32 = 37;

/// How a QEMU run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(
    clippy::enum_variant_names,
    reason = "`NoVerdict` is the name of exit code 5 (`Code::NoVerdict`, docs/exit-codes.md)"
)]
pub enum Verdict {
    Success,
    TestFailure,
    Panic,
    Timeout,
    /// QEMU's own exit status, when it is none of the kernel's codes.
    QemuStatus(i32),
}

impl Verdict {
    pub fn from_qemu_status(status: Option<i32>) -> Self {
        match status {
            Some(QEMU_SUCCESS) => Verdict::Success,
            Some(QEMU_TEST_FAILURE) => Verdict::TestFailure,
            Some(QEMU_PANIC) => Verdict::Panic,
            Some(other) => Verdict::QemuStatus(other),
            None => Verdict::QemuStatus(-1),
        }
    }

    pub fn code(self) -> Code {
        match self {
            Verdict::Success => Code::Ok,
            Verdict::TestFailure => Code::TestFailure,
            Verdict::Panic => Code::KernelPanic,
            Verdict::Timeout => Code::Timeout,
            Verdict::QemuStatus(_) => Code::NoVerdict,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Verdict::Success => "the kernel reported success".into(),
            Verdict::TestFailure => "the kernel reported a test failure".into(),
            Verdict::Panic => "the kernel panicked".into(),
            Verdict::Timeout => "no result before the timeout (hang?)".into(),
            Verdict::QemuStatus(0) => {
                "QEMU exited 0 without a kernel verdict (triple fault or reset?)".into()
            }
            Verdict::QemuStatus(code) => format!("QEMU exited {code} without a kernel verdict"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_status_mapping() {
        assert_eq!(Verdict::from_qemu_status(Some(33)).code(), Code::Ok);
        assert_eq!(
            Verdict::from_qemu_status(Some(35)).code(),
            Code::TestFailure
        );
        assert_eq!(
            Verdict::from_qemu_status(Some(37)).code(),
            Code::KernelPanic
        );
        // A triple fault with -no-reboot exits 0: never success.
        assert_eq!(Verdict::from_qemu_status(Some(0)).code(), Code::NoVerdict);
        assert_eq!(Verdict::from_qemu_status(None).code(), Code::NoVerdict);
        assert_eq!(Verdict::Timeout.code(), Code::Timeout);
    }
}
