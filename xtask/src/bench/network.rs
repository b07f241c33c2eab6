//! The network boot: the network benchmarks of one kernel, in a boot of their own.
//!
//! The kernel boots with a virtio-net card on QEMU's user network (`Boot::net`, no port
//! forwarded: the guest connects out to 10.0.2.2, which QEMU turns into the host's
//! 127.0.0.1) and the benchmark program as `/init`, given the host [`Peer`]'s address.
//! Tessera configures the card at boot; Linux's archive carries the card's modules, which
//! the program loads before configuring lo and eth0 (`userland/bench/net.c`). A kernel
//! without network gets "not applicable" and no boot.
//!
//! The view is wall time whatever `--mode` says (docs/benchmarks.md, "Why network figures
//! are wall figures"). After each boot, every figure the guest printed must be backed by
//! traffic the peer verified ([`super::peer::Tally::backs`]), and any error the peer saw
//! is a problem of the run.

use super::parse::Outcome;
use super::peer::Peer;
use super::program::{self, Programs};
use super::target::{Network, Prepared};
use super::{Request, Run};

/// The host as the guest sees it on QEMU's user network.
pub const PEER_ADDRESS: &str = "10.0.2.2";

/// What every network boot of a command shares: the peer, the programs, the request.
pub struct NetBench {
    pub peer: Peer,
    programs: Programs,
    request: Request,
}

impl NetBench {
    /// Starts the host peer and builds the program, for `request` (the network
    /// benchmarks).
    pub fn start(request: Request) -> Result<NetBench, String> {
        Ok(NetBench {
            peer: Peer::start()?,
            programs: program::build()?,
            request,
        })
    }

    /// Whether `kernel` boots for the network benchmarks at all (it does not when it has
    /// no network: they do not apply).
    pub fn applies(&self, kernel: &Prepared) -> bool {
        !matches!(kernel.network, Network::Absent(_))
    }

    /// The network benchmarks of `kernel`: a network boot, or a run without boot when
    /// they do not apply or cannot be set up.
    pub fn run(&self, kernel: &Prepared) -> Result<Run, String> {
        let benchmarks = &self.request.benchmarks;
        match &kernel.network {
            Network::Absent(why) => Ok(Run::without_boot(
                benchmarks,
                Outcome::NotApplicable(why.clone()),
                true,
            )),
            Network::Unavailable(why) => Ok(Run::without_boot(
                benchmarks,
                Outcome::Failed(why.clone()),
                true,
            )),
            Network::Kernel => self.boot(kernel, &[]),
            Network::Modules(modules) => self.boot(kernel, modules),
        }
    }

    fn boot(&self, kernel: &Prepared, modules: &[std::path::PathBuf]) -> Result<Run, String> {
        let peer = format!("{PEER_ADDRESS}:{}", self.peer.port);
        let args = program::args_text(self.request.quick, &self.request.benchmarks, Some(&peer));
        let initrd = program::initrd(
            &format!("bench-net-{}", kernel.identity.kind),
            &self.programs,
            &args,
            modules,
        )?;
        // Only this boot's traffic counts.
        self.peer.take();
        let mut run = super::run(kernel, &initrd, &self.request, true)?;
        let tally = self.peer.take();
        run.problems
            .extend(tally.errors.iter().map(|e| format!("host peer: {e}")));
        for (name, outcome) in &mut run.outcomes {
            if let Outcome::Measured(m) = outcome {
                let bytes = m.iters * m.bytes_per_op.unwrap_or(0);
                if let Err(why) = tally.backs(name, m.iters, bytes) {
                    *outcome = Outcome::Failed(why);
                }
            }
        }
        Ok(run)
    }
}
