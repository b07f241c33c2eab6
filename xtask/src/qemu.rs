//! Booting a kernel in QEMU (TCG: these machines have no KVM), on the terminal or captured.
//!
//! The same flags serve every use, so that a benchmark of Tessera and one of Linux differ only
//! in the kernel: `-machine q35 -cpu max -m MEM -smp N` (N: the config's `kernel.cpus`; 1 for
//! Linux), the debug-exit device, `-no-reboot`.
//! `--mode icount` adds `-icount shift=0,align=off,sleep=off`: one virtual nanosecond per guest
//! instruction, so a guest timing a loop measures instructions, identically on every run; and
//! `-rtc base=2026-01-01T00:00:00,clock=vm` ([`ICOUNT_RTC`]): the real-time clock starts at a
//! fixed date and follows virtual time, so the kernels' reading of it at boot (how long they
//! wait for an update in progress to end) does not depend on when the run started. In wall
//! mode QEMU's RTC follows the host's clock (`-rtc base=utc`, the default): the guest's date
//! is the host's.
//! [`Boot::net`] adds a virtio-net card on QEMU's user network (slirp: the guest is 10.0.2.15,
//! the host is reachable as 10.0.2.2) with `hostfwd` rules from host ports to the guest.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::args::Args;
use crate::console::{self, Console};
use crate::exit::{Code, Verdict};
use crate::kernel::{self, Kernel};
use crate::setup;
use crate::{initrd, rootfs_boot};

/// How guest time relates to host time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Plain TCG: guest time follows the host clock.
    Wall,
    /// `-icount shift=0`: guest time counts guest instructions.
    Icount,
}

impl Mode {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "wall" => Ok(Mode::Wall),
            "icount" => Ok(Mode::Icount),
            other => Err(format!("--mode {other}: allowed values: icount, wall")),
        }
    }
}

/// The real-time clock of icount runs: a fixed start, advancing with virtual time.
pub const ICOUNT_RTC: &str = "base=2026-01-01T00:00:00,clock=vm";

/// Everything that selects a QEMU run. The same for Tessera and for Linux (the baseline):
/// only `image`, `append` and `initrd` differ between them.
pub struct Boot {
    /// The kernel image given to `-kernel` (Tessera's ELF or Linux's bzImage).
    pub image: PathBuf,
    pub memory_mib: u32,
    /// CPUs (`-smp`).
    pub cpus: u32,
    /// The kernel command line.
    pub append: String,
    pub mode: Mode,
    /// A cpio archive given to `-initrd` (Tessera receives it as a PVH boot module).
    pub initrd: Option<PathBuf>,
    /// A virtio-net card on QEMU's user network, with these `hostfwd` rules (QEMU syntax,
    /// e.g. `tcp:127.0.0.1:8080-:80`); `None`: no network card.
    pub net: Option<Vec<String>>,
}

/// The host port `cargo xtask run` forwards to the guest's port 80 for a config with
/// networking, when it is free ([`default_hostfwd`] takes the next free one otherwise).
pub const DEFAULT_HOST_PORT: u16 = 8080;

/// The port forward of a run that asked for none: host 127.0.0.1:8080 to the guest's port
/// 80, or the first free port after 8080 when another program (a second kernel running,
/// say) holds it. The port is tried by binding it and letting it go, so another program may
/// take it in between; QEMU then fails saying so. `None` when no port up to 8180 is free.
pub fn default_hostfwd() -> Option<String> {
    (DEFAULT_HOST_PORT..DEFAULT_HOST_PORT + 100)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .map(|port| format!("tcp:127.0.0.1:{port}-:80"))
}

/// A `--hostfwd` rule in QEMU's syntax. Short forms name only the ports and listen on the
/// host's loopback: `8080-:80` and `tcp:8080-:80` become `tcp:127.0.0.1:8080-:80`
/// (`udp:` likewise); a rule with a host address (`tcp::8080-:80` for every interface,
/// `tcp:127.0.0.1:8080-10.0.2.15:80`) is kept as given.
pub fn hostfwd_rule(spec: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "--hostfwd {spec}: expected [tcp:|udp:][HOSTADDR:]HOSTPORT-[GUESTADDR]:GUESTPORT, \
             e.g. tcp:8080-:80"
        )
    };
    let (proto, rest) = match spec.split_once(':') {
        Some((p @ ("tcp" | "udp"), rest)) => (p, rest),
        _ => ("tcp", spec),
    };
    let (host, guest) = rest.split_once('-').ok_or_else(bad)?;
    let (host_addr, host_port) = match host.rsplit_once(':') {
        Some((addr, port)) => (addr.to_string(), port),
        None => ("127.0.0.1".to_string(), host),
    };
    let (guest_addr, guest_port) = guest.rsplit_once(':').ok_or_else(bad)?;
    let addr_ok = |a: &str| a.is_empty() || a.parse::<std::net::Ipv4Addr>().is_ok();
    if host_port.parse::<u16>().is_err()
        || guest_port.parse::<u16>().is_err()
        || !addr_ok(&host_addr)
        || !addr_ok(guest_addr)
    {
        return Err(bad());
    }
    Ok(format!(
        "{proto}:{host_addr}:{host_port}-{guest_addr}:{guest_port}"
    ))
}

impl Boot {
    /// Boots a Tessera kernel built from a config.
    pub fn tessera(kernel: &Kernel, append: &str, mode: Mode) -> Self {
        Boot {
            image: kernel.elf.clone(),
            memory_mib: kernel.config.memory_mib,
            cpus: kernel.config.cpus,
            append: append.into(),
            mode,
            initrd: None,
            net: None,
        }
    }

    /// The QEMU command line, without the console wiring.
    pub(crate) fn command(&self) -> Command {
        let mut qemu = Command::new(setup::QEMU);
        qemu.args(["-machine", "q35", "-cpu", "max"])
            .args(["-smp", &self.cpus.to_string()])
            .args(["-m", &format!("{}M", self.memory_mib)])
            .arg("-kernel")
            .arg(&self.image)
            .args(["-append", &self.append])
            .args(["-display", "none", "-no-reboot"])
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        if let Some(initrd) = &self.initrd {
            qemu.arg("-initrd").arg(initrd);
        }
        if let Some(rules) = &self.net {
            let mut netdev = String::from("user,id=n0");
            for rule in rules {
                netdev.push_str(",hostfwd=");
                netdev.push_str(rule);
            }
            // romfile= : no iPXE boot ROM (nothing boots from the network; not every QEMU
            // install has the file).
            qemu.args(["-netdev", &netdev])
                .args(["-device", "virtio-net-pci,netdev=n0,romfile="]);
        }
        if self.mode == Mode::Icount {
            qemu.args(["-icount", "shift=0,align=off,sleep=off"])
                .args(["-rtc", ICOUNT_RTC]);
        }
        qemu
    }
}

/// Option `--NAME N`, a whole number in `range` (`what` names its unit in the error).
fn number_in(
    args: &mut Args,
    name: &str,
    range: std::ops::RangeInclusive<u32>,
    what: &str,
) -> Result<Option<u32>, String> {
    args.value(name)?
        .map(|text| match text.parse::<u32>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(format!(
                "--{name} {text}: {what}from {} to {}",
                range.start(),
                range.end()
            )),
        })
        .transpose()
}

/// `cargo xtask run`: build, then boot on this terminal. Ctrl-A X leaves QEMU.
///
/// The initramfs: `--initrd FILE` as given, `--init PATH` packs that one static binary as
/// `/init`, `--rootfs debian|DIR` a root file system tree (`rootfs_boot.rs`: Debian's bash
/// on the console, or with `-- CMD ARGS...` that command, whose status `run` exits with),
/// and by default what the config's `kernel.userland` names (`initrd::for_config`: none,
/// the hello program, or the interactive BusyBox system); when that cannot be built (no
/// network for the first fetch, no C compiler) the kernel boots without one, after a
/// warning. `--kernel linux` boots Debian's Linux instead of Tessera on the same machine;
/// `--memory MIB` sets the RAM (default: the config's, and
/// [`rootfs_boot::DEFAULT_MEMORY_MIB`] for a root file system).
pub fn run_command(args: &mut Args) -> Result<std::process::ExitCode, String> {
    let config = args.value("config")?.unwrap_or_else(|| "fast".into());
    let append = args.value("append")?;
    let mode = Mode::parse(&args.value("mode")?.unwrap_or_else(|| "wall".into()))?;
    let timeout = args
        .value("timeout")?
        .map(|t| {
            t.parse::<u64>()
                .map_err(|_| format!("--timeout {t}: a number of seconds"))
        })
        .transpose()?;
    let memory = number_in(args, "memory", 32..=4096, "MiB, ")?;
    let cpus = number_in(args, "cpus", 1..=64, "")?;
    let linux = match args.value("kernel")?.as_deref() {
        None | Some("tessera") => false,
        Some("linux") => true,
        Some(other) => return Err(format!("--kernel {other}: allowed: tessera, linux")),
    };
    let initrd_arg = args.value("initrd")?;
    let init_arg = args.value("init")?;
    let rootfs = args.value("rootfs")?;
    let mut hostfwd = Vec::new();
    while let Some(rule) = args.value("hostfwd")? {
        hostfwd.push(hostfwd_rule(&rule)?);
    }
    let command = args.rest();
    args.finish()?;
    if !command.is_empty() && rootfs.is_none() {
        return Err("`-- CMD ARGS...` runs a command on a root file system: add --rootfs".into());
    }
    if linux && !hostfwd.is_empty() {
        return Err("--hostfwd: only with Tessera (Linux boots without a network card)".into());
    }
    setup::ensure_qemu()?;
    let config = kernel::load_config(&config)?;
    let mut rootfs_archive = None;
    let initrd = match (initrd_arg, init_arg, rootfs) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return Err("--initrd, --init and --rootfs exclude each other".into());
        }
        (Some(file), None, None) => {
            let file = PathBuf::from(file);
            if !file.is_file() {
                return Err(format!("--initrd {}: no such file", file.display()));
            }
            Some(file)
        }
        (None, Some(binary), None) => Some(initrd::single_init(std::path::Path::new(&binary))?),
        (None, None, Some(spec)) => {
            let tree = rootfs_boot::tree(&spec)?;
            let archive = rootfs_boot::archive(&tree, &command, &[])?;
            let path = archive.to_path_buf();
            rootfs_archive = Some(archive);
            Some(path)
        }
        (None, None, None) => match initrd::for_config(&config) {
            Ok(archive) => archive,
            Err(why) => {
                eprintln!("xtask: warning: no initramfs, booting without one: {why}");
                None
            }
        },
    };
    let memory_mib = memory.unwrap_or(match rootfs_archive {
        Some(_) => rootfs_boot::DEFAULT_MEMORY_MIB,
        None => config.memory_mib,
    });
    let boot = if linux {
        let image = crate::linux::kernel()?;
        let initrd = initrd
            .as_deref()
            .ok_or("--kernel linux needs an initramfs (--rootfs, --initrd or --init)")?;
        let mut boot = crate::linux::boot(&image, memory_mib, initrd, mode);
        boot.cpus = cpus.unwrap_or(1);
        if let Some(append) = &append {
            boot.append = format!("{} {append}", boot.append);
        }
        boot
    } else {
        let kernel = kernel::build(&config)?;
        let mut boot = Boot::tessera(&kernel, append.as_deref().unwrap_or_default(), mode);
        boot.initrd = initrd;
        boot.memory_mib = memory_mib;
        boot.cpus = cpus.unwrap_or(kernel.config.cpus);
        if kernel.config.variant("net") == Some("smoltcp") {
            if hostfwd.is_empty() {
                hostfwd.push(default_hostfwd().ok_or(
                    "no free host port from 8080 to 8179 to forward to the guest's port 80 \
                     (give one with --hostfwd)",
                )?);
            }
            eprintln!(
                "xtask: network: the guest is 10.0.2.15, the host 10.0.2.2; forwarded: {}",
                hostfwd.join(", ")
            );
            boot.net = Some(hostfwd);
        } else if !hostfwd.is_empty() {
            return Err(format!(
                "--hostfwd: config `{}` has no network (net = \"none\")",
                kernel.config.name
            ));
        }
        boot
    };
    eprintln!(
        "xtask: booting {}{} in QEMU ({} mode, {} MiB, {} CPU(s)); Ctrl-A X quits",
        kernel::display_path(&boot.image),
        boot.initrd
            .as_ref()
            .map(|i| format!(" with {}", kernel::display_path(i)))
            .unwrap_or_default(),
        if mode == Mode::Icount {
            "icount"
        } else {
            "wall"
        },
        boot.memory_mib,
        boot.cpus
    );
    let mut qemu = boot.command();
    // A multiplexed stdio console: the guest gets Ctrl-C (signal=off), Ctrl-A X reaches QEMU.
    qemu.args([
        "-chardev",
        "stdio,id=console,signal=off,mux=on",
        "-serial",
        "chardev:console",
    ])
    .args(["-mon", "chardev=console,mode=readline"]);
    if rootfs_archive.is_none() {
        let mut child = qemu
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", setup::QEMU))?;
        let verdict = console::wait_exit(&mut child, timeout.map(Duration::from_secs), None)?;
        eprintln!("xtask: {}", verdict.describe());
        return Ok(verdict.code().into());
    }
    // A root file system: the console is copied through, and its last lines kept for the
    // program's status.
    let (verdict, tail) = console::tee(&mut qemu, timeout.map(Duration::from_secs))?;
    drop(rootfs_archive);
    match rootfs_boot::status(&tail) {
        Some(status) => {
            eprintln!("xtask: the program exited with status {status}");
            Ok(std::process::ExitCode::from(status.clamp(0, 255) as u8))
        }
        None => {
            eprintln!("xtask: {} (no status from rootfs-init)", verdict.describe());
            Ok(match verdict.code() {
                Code::Ok => Code::NoVerdict,
                code => code,
            }
            .into())
        }
    }
}

/// The result of a captured boot.
pub struct Captured {
    pub verdict: Verdict,
    /// Everything the kernel wrote to the serial console.
    pub output: String,
}

/// Boots with the console captured (stdin empty) and a hard timeout. `echo` copies the
/// console to stderr as it arrives.
pub fn run_captured(boot: &Boot, timeout: Duration, echo: bool) -> Result<Captured, String> {
    run_captured_until(boot, timeout, echo, None)
}

/// [`run_captured`], and when `finish` is `Some((line, grace))`: once the console printed
/// that line, the guest has `grace` to stop; a guest still running then is killed and the
/// verdict is a timeout, without waiting for the whole `timeout` (a kernel that hangs on
/// its way to power-off is caught in seconds, not in the minutes a run may take).
pub fn run_captured_until(
    boot: &Boot,
    timeout: Duration,
    echo: bool,
    finish: Option<(&'static str, Duration)>,
) -> Result<Captured, String> {
    let mut console = Console::start(boot, false, echo)?;
    let verdict = console.wait_exit(timeout, finish)?;
    Ok(Captured {
        verdict,
        output: console.into_output(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second run while another holds 8080 forwards another port.
    #[test]
    fn default_forward_skips_a_taken_port() {
        let held = (DEFAULT_HOST_PORT..DEFAULT_HOST_PORT + 100)
            .find_map(|port| std::net::TcpListener::bind(("127.0.0.1", port)).ok());
        let Some(held) = held else {
            return; // every port taken: nothing to tell apart
        };
        let port = held.local_addr().unwrap().port();
        if let Some(rule) = default_hostfwd() {
            assert!(
                !rule.contains(&format!(":{port}-")),
                "{rule} uses the held port"
            );
            assert!(rule.starts_with("tcp:127.0.0.1:") && rule.ends_with("-:80"));
        }
    }

    #[test]
    fn hostfwd_short_forms_listen_on_loopback() {
        for (given, rule) in [
            ("tcp:8080-:80", "tcp:127.0.0.1:8080-:80"),
            ("8080-:80", "tcp:127.0.0.1:8080-:80"),
            ("udp:5353-:53", "udp:127.0.0.1:5353-:53"),
            ("tcp::8080-:80", "tcp::8080-:80"),
            (
                "tcp:0.0.0.0:80-10.0.2.15:8080",
                "tcp:0.0.0.0:80-10.0.2.15:8080",
            ),
        ] {
            assert_eq!(hostfwd_rule(given).as_deref(), Ok(rule), "{given}");
        }
        for bad in ["tcp:80", "tcp:x-:80", "8080-80", "sctp:1-:2", ""] {
            assert!(hostfwd_rule(bad).is_err(), "{bad}");
        }
    }
}
