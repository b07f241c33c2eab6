//! The host-built probe (`tests/c/probe.c`) and its report, for the tests that compare
//! with the host Linux kernel.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Builds the probe once per flavour and test binary (so that two test binaries running
/// at once never write the file the other one executes); `None` (with a note) when there is no working `cc`.
pub fn probe(flavour: &'static str) -> Option<&'static Path> {
    static PROBES: [OnceLock<Option<PathBuf>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match flavour {
        "-static" => &PROBES[0],
        "-static-pie" => &PROBES[1],
        _ => &PROBES[2],
    };
    slot.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("probe{flavour}-{}", env!("CARGO_CRATE_NAME")));
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/probe.c");
        let built = Command::new("cc")
            .args([flavour, "-O1", "-o"])
            .arg(&out)
            .arg(&source)
            .status();
        match built {
            Ok(status) if status.success() => Some(out),
            other => {
                eprintln!("note: skipping: `cc {flavour}` unavailable ({other:?})");
                None
            }
        }
    })
    .as_deref()
}

#[derive(Debug, Default)]
pub struct Report {
    pub args: Vec<(u64, Vec<u8>)>,
    pub envs: Vec<(u64, Vec<u8>)>,
    pub aux: Vec<(u64, u64)>,
    pub execfn: Vec<u8>,
    pub platform: Vec<u8>,
    pub rsp: u64,
    pub norandom: bool,
    pub maps: Vec<(u64, u64, String, String)>,
}

impl Report {
    pub fn aux(&self, key: u64) -> u64 {
        self.aux
            .iter()
            .find(|(k, _)| *k == key)
            .map(|&(_, v)| v)
            .unwrap()
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex_u64(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap()
}

pub fn parse_report(stdout: &[u8]) -> Report {
    let mut r = Report::default();
    for line in String::from_utf8_lossy(stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let string = |i: usize| f.get(i).map_or(Vec::new(), |s| unhex(s));
        match f[0] {
            "arg" => r.args.push((hex_u64(f[1]), string(2))),
            "env" => r.envs.push((hex_u64(f[1]), string(2))),
            "aux" => r.aux.push((f[1].parse().unwrap(), hex_u64(f[2]))),
            "execfn" => r.execfn = string(1),
            "platform" => r.platform = string(1),
            "rsp" => r.rsp = hex_u64(f[1]),
            "norandom" => r.norandom = f[1] == "1",
            "map" => r.maps.push((
                hex_u64(f[1]),
                hex_u64(f[2]),
                f[3].to_string(),
                f[4].to_string(),
            )),
            other => panic!("unexpected probe line {other:?}"),
        }
    }
    r
}

pub fn run_probe(path: &Path, args: &[&str], env: &[(&str, &str)]) -> Report {
    let mut cmd = Command::new(path);
    cmd.arg0("probe-argv0")
        .args(args)
        .env_clear()
        .envs(env.iter().copied());
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "probe failed: {out:?}");
    parse_report(&out.stdout)
}
