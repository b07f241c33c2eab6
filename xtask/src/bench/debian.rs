//! The Debian boot: the Debian benchmarks of one kernel (`python_startup`, `bash_script`),
//! in a boot of their own.
//!
//! They run Debian's own programs, so their archive is Debian's root file system
//! (`target/rootfs/debian`, built by `cargo xtask rootfs debian` when not current: about
//! 80 MB) with the benchmark program as `/init` and its `/bench-args`
//! ([`program::debian_archive`]); and the machine has the memory of a root file system
//! boot ([`MEMORY_MIB`]), since the tree is held in RAM. Nothing of that reaches the
//! other boots: their archives and memory stay what they were. The archive is written
//! once per command and boots every kernel and every run, in the view `--mode` asks for.

use super::program::{self, Programs};
use super::target::Prepared;
use super::{BootKind, Request, Run};
use crate::initrd::Private;

/// RAM of the Debian boots, for every kernel: what `cargo xtask run --rootfs` gives.
pub const MEMORY_MIB: u32 = crate::rootfs_boot::DEFAULT_MEMORY_MIB;

/// What every Debian boot of a command shares: the archive, the request.
pub struct DebianBench {
    initrd: Private,
    request: Request,
}

impl DebianBench {
    /// Builds the program and the tree and writes the archive, for `request` (the Debian
    /// benchmarks).
    pub fn start(request: Request) -> Result<DebianBench, String> {
        let programs: Programs = program::build()?;
        let tree = crate::rootfs_boot::tree("debian")?;
        let args = program::args_text(request.quick, &request.benchmarks, None);
        let initrd = program::debian_initrd("bench-debian", &programs, &args, &tree)?;
        Ok(DebianBench { initrd, request })
    }

    /// The Debian benchmarks of `kernel`: one boot.
    pub fn run(&self, kernel: &Prepared) -> Result<Run, String> {
        super::run(kernel, &self.initrd, &self.request, BootKind::Debian)
    }
}
