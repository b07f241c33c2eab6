//! The network boot: the network benchmarks of one kernel, in a boot of their own.
//!
//! The kernel boots with a virtio-net card on QEMU's user network (`Boot::net`, no port
//! forwarded: the guest connects out to 10.0.2.2, which QEMU turns into the host's
//! 127.0.0.1) and the benchmark program as `/init`, given the host [`Peer`]'s address.
//! Tessera configures the card at boot; Linux's archive carries the card's modules, which
//! the program loads before configuring lo and eth0 (`userland/bench/net.c`). A kernel
//! without network gets "not applicable" and no boot.
//!
//! Every boot has a peer of its own (a fresh port, a fresh tally), so nothing of another
//! boot, `ab`'s interleaved ones included, can reach its count. The view is wall time
//! whatever `--mode` says (docs/benchmarks.md, "Why network figures are wall figures").
//! After each boot, once the peer has served every connection, every figure the guest
//! printed must be backed by exactly the traffic the peer counted for it
//! ([`super::peer::Tally::backs`], the count its catalog entry names), and any error the
//! peer saw is a problem of the run.

use super::catalog;
use super::parse::Outcome;
use super::peer::{Peer, Tally};
use super::program::{self, Programs};
use super::target::{Network, Prepared};
use super::{BootKind, Request, Run};

/// The host as the guest sees it on QEMU's user network.
pub const PEER_ADDRESS: &str = "10.0.2.2";

/// What every network boot of a command shares: the programs, the request.
pub struct NetBench {
    programs: Programs,
    request: Request,
}

impl NetBench {
    /// Builds the program, for `request` (the network benchmarks).
    pub fn start(request: Request) -> Result<NetBench, String> {
        Ok(NetBench {
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
                BootKind::Network,
            )),
            Network::Unavailable(why) => Ok(Run::without_boot(
                benchmarks,
                Outcome::Failed(why.clone()),
                BootKind::Network,
            )),
            Network::Kernel => self.boot(kernel, &[]),
            Network::Modules(modules) => self.boot(kernel, modules),
        }
    }

    fn boot(&self, kernel: &Prepared, modules: &[std::path::PathBuf]) -> Result<Run, String> {
        let peer = Peer::start()?;
        let address = format!("{PEER_ADDRESS}:{}", peer.port);
        let args = program::args_text(self.request.quick, &self.request.benchmarks, Some(&address));
        // This boot's own (the port is in its arguments), deleted after it.
        let initrd = program::initrd(
            &format!("bench-net-{}-{}", kernel.identity.kind, peer.port),
            &self.programs,
            &args,
            modules,
            program::Extras::default(),
        )?;
        let mut run = super::run(kernel, &initrd, &self.request, BootKind::Network)?;
        drop(initrd);
        check(&mut run, &peer.finish());
        Ok(run)
    }
}

/// Holds `run` to what the peer saw: its errors are problems of the run, and a figure the
/// traffic does not back exactly is a failure.
fn check(run: &mut Run, tally: &Tally) {
    run.problems
        .extend(tally.errors.iter().map(|e| format!("host peer: {e}")));
    for (name, outcome) in &mut run.outcomes {
        if let Outcome::Measured(m) = outcome {
            let backed = match catalog::info(name).and_then(|i| i.traffic) {
                Some(traffic) => tally.backs(traffic, m),
                None => Err(format!("no count of the host peer backs {name}")),
            };
            if let Err(why) = backed {
                *outcome = Outcome::Failed(why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::parse::Measurement;

    fn measured(iters: u64, bytes_per_op: Option<u64>) -> Outcome {
        Outcome::Measured(Measurement {
            iters,
            total_ns: 1,
            bytes_per_op,
        })
    }

    #[test]
    fn figures_need_the_peers_traffic_and_its_errors_fail_the_run() {
        let mut run = Run::without_boot(&[], Outcome::Failed(String::new()), BootKind::Network);
        run.outcomes = vec![
            ("tcp_tx".into(), measured(2, Some(1_000_000))),
            ("tcp_rx".into(), measured(2, Some(1_000_000))),
            ("tcp_connect".into(), measured(20, None)),
            ("getpid".into(), measured(20, None)),
        ];
        let tally = Tally {
            verified: 3_000_000,
            sent: 2_000_000, // the warm-up's MB is missing
            pongs: 22,
            errors: vec!["ping 3: broken pipe".into()],
        };
        check(&mut run, &tally);
        assert_eq!(run.problems, ["host peer: ping 3: broken pipe"]);
        let failed: Vec<&str> = run
            .outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
            .map(|(n, _)| n.as_str())
            .collect();
        // getpid: not a network benchmark, so no count backs it: never passed unchecked.
        assert_eq!(failed, ["tcp_rx", "getpid"]);
    }
}
