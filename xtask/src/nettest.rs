//! The network test: a Tessera boot with a virtio-net card on QEMU's user network, driven
//! from its serial console while the host talks to it over TCP.
//!
//! | check | how |
//! |---|---|
//! | host -> guest, 1 MiB and 10 MiB | guest `wget` from a Rust HTTP server on 127.0.0.1 (the guest's 10.0.2.2); `crc32` in the guest equals the host's |
//! | guest -> host, same files | guest `httpd -f -p 80 -h /www`, host GET through the forwarded port; bytes identical |
//! | 200 short connections | 200 GETs in a row, each a new connection, all answered |
//! | a client leaving mid-transfer | a GET of 10 MiB dropped after 256 KiB; the next GET is served whole |
//! | `nc` | the guest's `nc 10.0.2.2 PORT` reaches a host listener |
//! | socket semantics | `userland/net/inet.c` (TCP and UDP over loopback: errors, resets, timeouts, poll) run natively on the host's Linux and in the guest: the same lines |
//!
//! [`measure`] times the same transfers (`cargo xtask nettest --bench`): bulk throughput
//! each way and the connection rate.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::exit::Verdict;
use crate::kernel::Kernel;
use crate::qemu::{self, Boot, Mode};

/// The files the host serves and the guest serves back: (name, size, seed).
const FILES: [(&str, usize, u64); 3] =
    [("small", 1000, 1), ("1m", 1 << 20, 2), ("10m", 10 << 20, 3)];

/// Deterministic pseudo-random bytes (xorshift64).
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// CRC-32 (IEEE 802.3, as zlib computes it): what BusyBox's `crc32` prints, in hex.
pub fn crc32(data: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !data.iter().fold(!0u32, |crc, &b| {
        table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// A tiny HTTP/1.0 server on 127.0.0.1 serving [`FILES`], one thread per connection.
struct HostServer {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl HostServer {
    fn start() -> Result<HostServer, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("host server: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let files: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
            FILES
                .iter()
                .map(|(name, len, seed)| (name.to_string(), pattern(*len, *seed)))
                .collect(),
        );
        let stopping = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let files = files.clone();
                std::thread::spawn(move || serve(conn, &files));
            }
        });
        Ok(HostServer { port, stop })
    }
}

impl Drop for HostServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Unblock accept.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(mut conn: TcpStream, files: &[(String, Vec<u8>)]) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let response = match files.iter().find(|(name, _)| path == format!("/{name}")) {
        Some((_, body)) => {
            let mut r =
                format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
            r.extend_from_slice(body);
            r
        }
        None => b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
    };
    let _ = conn.write_all(&response);
    let _ = conn.shutdown(Shutdown::Write);
}

/// GET `path` from 127.0.0.1:`port`: the body of a 200 response.
fn http_get(port: u16, path: &str) -> Result<Vec<u8>, String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    conn.write_all(format!("GET {path} HTTP/1.0\r\nHost: guest\r\n\r\n").as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut response = Vec::new();
    conn.read_to_end(&mut response)
        .map_err(|e| format!("receive: {e}"))?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: no HTTP header in {} bytes", response.len()))?;
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    if !head.starts_with("HTTP/1.") || !head.lines().next().unwrap_or("").contains(" 200") {
        return Err(format!("GET {path}: {}", head.lines().next().unwrap_or("")));
    }
    Ok(response[split + 4..].to_vec())
}

/// A port on 127.0.0.1 that was free a moment ago (for QEMU's hostfwd).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// The guest's serial console: type lines, wait for output.
struct Console {
    child: Child,
    stdin: std::process::ChildStdin,
    output: Arc<Mutex<String>>,
    seen: usize,
}

impl Console {
    fn start(boot: &Boot, verbose: bool) -> Result<Console, String> {
        let mut child = qemu::spawn_piped(boot)?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let output = Arc::new(Mutex::new(String::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if verbose {
                    eprint!("{text}");
                }
                sink.lock().expect("console lock").push_str(&text);
            }
        });
        let mut console = Console {
            child,
            stdin,
            output,
            seen: 0,
        };
        console.wait_for("/ # ", Duration::from_secs(90))?;
        Ok(console)
    }

    /// Waits for `needle` after what was already seen; returns the text up to it.
    fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        let start = Instant::now();
        loop {
            {
                let out = self.output.lock().expect("console lock");
                if let Some(at) = out[self.seen..].find(needle) {
                    let text = out[self.seen..self.seen + at].to_string();
                    self.seen += at + needle.len();
                    return Ok(text);
                }
            }
            if start.elapsed() > timeout {
                return Err(format!("no {needle:?} within {} s", timeout.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `line`, waits for `marker` (which the line's echo must not contain: build it
    /// from pieces in the command), then for the next prompt.
    fn run(&mut self, line: &str, marker: &str, timeout: Duration) -> Result<String, String> {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| e.to_string())?;
        let text = self
            .wait_for(marker, timeout)
            .map_err(|e| format!("after `{line}`: {e}"))?;
        self.wait_for("/ # ", Duration::from_secs(30))?;
        Ok(text)
    }

    fn tail(&self) -> String {
        let out = self.output.lock().expect("console lock");
        let lines: Vec<&str> = out.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }

    /// Powers the guest off; its verdict.
    fn finish(mut self) -> Verdict {
        let _ = self.stdin.write_all(b"poweroff -f\n");
        let _ = self.stdin.flush();
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Verdict::from_qemu_status(status.code());
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Verdict::Timeout;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// What a network session measured.
pub struct Measured {
    /// Host -> guest bulk throughput (guest wget of 10 MiB), bytes per second.
    pub to_guest: f64,
    /// Guest -> host bulk throughput (host GET of 10 MiB from guest httpd), bytes per second.
    pub to_host: f64,
    /// Short connections (GET of 1000 bytes from guest httpd) per second.
    pub connections: f64,
}

/// `userland/net/inet.c`, built like the userland tests (`cc -static -O2 -Wall -Werror`,
/// with their `check.h`) into `target/userland/bin/net-inet`.
fn build_inet() -> Result<PathBuf, String> {
    let source = crate::root().join("userland/net/inet.c");
    let output = crate::userland::bin_dir().join("net-inet");
    let out = Command::new("cc")
        .args(["-static", "-O2", "-Wall", "-Werror", "-I"])
        .arg(crate::userland::source_dir())
        .arg("-o")
        .arg(&output)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "compiling {}:\n{}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(output)
}

/// The BusyBox initramfs plus `/bin/inet-checks` (`target/initrd/busybox-net.cpio`).
fn initrd_with(inet: &Path) -> Result<PathBuf, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let programs = crate::userland::build()?;
    let busybox = crate::busybox::binary()?;
    let applets = crate::busybox::applets(&busybox)?;
    let mut archive = crate::initrd::busybox_archive(&read(&busybox)?, &applets, &programs)?;
    archive.file("bin/inet-checks", 0o755, read(inet)?);
    crate::initrd::write("busybox-net", &archive)
}

/// The `ok`/`FAIL` lines of a check program's output.
fn check_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with("ok ") || l.starts_with("FAIL "))
        .map(str::to_string)
        .collect()
}

/// Runs the inet checks on the host: its lines, which must all be `ok`.
fn inet_on_host(inet: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(inet)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", inet.display()))?;
    let lines = check_lines(&String::from_utf8_lossy(&out.stdout));
    if !out.status.success() || lines.iter().any(|l| l.starts_with("FAIL")) || lines.is_empty() {
        return Err(format!(
            "userland/net/inet.c fails on the host's Linux (exit {:?}):\n{}",
            out.status.code(),
            lines.join("\n")
        ));
    }
    Ok(lines)
}

/// Boots `kernel` with a card and BusyBox; returns the console, the host server and the
/// host port forwarded to the guest's port 80.
fn boot(kernel: &Kernel, verbose: bool) -> Result<(Console, HostServer, u16), String> {
    let server = HostServer::start()?;
    let guest_port = free_port()?;
    let mut boot = Boot::tessera(kernel, "", Mode::Wall);
    boot.initrd = Some(initrd_with(&build_inet()?)?);
    boot.net = Some(vec![format!("tcp:127.0.0.1:{guest_port}-:80")]);
    let console = Console::start(&boot, verbose)?;
    Ok((console, server, guest_port))
}

/// Starts the guest's httpd on /www and waits until the host reaches it.
fn start_httpd(console: &mut Console, guest_port: u16) -> Result<(), String> {
    console.run(
        "mkdir -p /www && httpd -f -p 80 -h /www & echo http''d-started",
        "httpd-started",
        Duration::from_secs(30),
    )?;
    let start = Instant::now();
    loop {
        match http_get(guest_port, "/small") {
            Ok(_) => return Ok(()),
            Err(e) if start.elapsed() > Duration::from_secs(20) => {
                return Err(format!("guest httpd unreachable: {e}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// The checks of the module doc. `Ok` only if every one passed and the guest powered off.
pub fn run(kernel: &Kernel, verbose: bool) -> Result<(), String> {
    let (mut console, server, guest_port) = boot(kernel, verbose)?;
    let result = checks(&mut console, &server, guest_port);
    let tail = console.tail();
    let verdict = console.finish();
    result.map_err(|e| format!("{e}\n--- console tail:\n{tail}"))?;
    match verdict {
        Verdict::Success => Ok(()),
        other => Err(format!("{}\n--- console tail:\n{tail}", other.describe())),
    }
}

fn checks(console: &mut Console, server: &HostServer, guest_port: u16) -> Result<(), String> {
    let long = Duration::from_secs(180);
    // Socket semantics: the same lines as on the host's Linux.
    let host = inet_on_host(&crate::userland::bin_dir().join("net-inet"))?;
    let text = console.run("/bin/inet-checks; echo inet-''exit=$?", "inet-exit=", long)?;
    let guest = check_lines(&text);
    if guest != host {
        let diff: Vec<String> = host
            .iter()
            .zip(guest.iter().chain(std::iter::repeat(&String::new())))
            .filter(|(h, g)| h != g)
            .map(|(h, g)| format!("- {h}\n+ {g}"))
            .take(10)
            .collect();
        return Err(format!(
            "inet checks: the guest's {} lines differ from Linux's {}:\n{}",
            guest.len(),
            host.len(),
            diff.join("\n")
        ));
    }
    // Host -> guest: wget each file into /www; the guest's CRC-32 must be the host's.
    console.run("mkdir -p /www", "", Duration::from_secs(10))?;
    for (name, len, seed) in FILES {
        let data = pattern(len, seed);
        let text = console.run(
            &format!(
                "wget -q -O /www/{name} http://10.0.2.2:{}/{name} && crc32 /www/{name} && echo wget-''done",
                server.port
            ),
            "wget-done",
            long,
        )?;
        let expect = format!("{:08x} /www/{name}", crc32(&data));
        if !text.contains(&expect) {
            return Err(format!(
                "wget of {name}: expected `{expect}`, console:\n{text}"
            ));
        }
    }
    // Guest -> host: httpd serves them back, byte for byte.
    start_httpd(console, guest_port)?;
    for (name, len, seed) in FILES {
        let body = http_get(guest_port, &format!("/{name}"))?;
        if body != pattern(len, seed) {
            return Err(format!(
                "GET /{name} from the guest: {} bytes, crc32 {:08x} (expected {len}, {:08x})",
                body.len(),
                crc32(&body),
                crc32(&pattern(len, seed))
            ));
        }
    }
    // 200 short connections in a row.
    let small = pattern(FILES[0].1, FILES[0].2);
    for i in 0..200 {
        let body = http_get(guest_port, "/small").map_err(|e| format!("connection {i}: {e}"))?;
        if body != small {
            return Err(format!("connection {i}: wrong body ({} bytes)", body.len()));
        }
    }
    // A client that leaves mid-transfer: the server keeps serving.
    {
        let mut conn = TcpStream::connect(("127.0.0.1", guest_port)).map_err(|e| e.to_string())?;
        conn.write_all(b"GET /10m HTTP/1.0\r\n\r\n")
            .map_err(|e| e.to_string())?;
        let mut got = 0;
        let mut buf = [0u8; 16384];
        while got < 256 * 1024 {
            match conn.read(&mut buf) {
                Ok(0) => return Err("GET /10m ended early".into()),
                Ok(n) => got += n,
                Err(e) => return Err(format!("GET /10m: {e}")),
            }
        }
    }
    let body = http_get(guest_port, "/1m")?;
    if body != pattern(FILES[1].1, FILES[1].2) {
        return Err("GET /1m after an abandoned transfer: wrong body".into());
    }
    // nc from the guest to a host listener.
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let nc_port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let reader = std::thread::spawn(move || -> Result<String, String> {
        let (mut conn, _) = listener.accept().map_err(|e| e.to_string())?;
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let mut text = String::new();
        conn.read_to_string(&mut text).map_err(|e| e.to_string())?;
        Ok(text)
    });
    console.run(
        &format!("echo hello-over-nc | nc 10.0.2.2 {nc_port}; echo nc-''done"),
        "nc-done",
        Duration::from_secs(30),
    )?;
    let got = reader.join().map_err(|_| "nc reader panicked")??;
    if got.trim() != "hello-over-nc" {
        return Err(format!("nc: the host received {got:?}"));
    }
    Ok(())
}

/// Times the transfers: 10 MiB each way, and 100 short connections.
pub fn measure(kernel: &Kernel, verbose: bool) -> Result<Measured, String> {
    let (mut console, server, guest_port) = boot(kernel, verbose)?;
    let result = (|| -> Result<Measured, String> {
        let (name, len, _) = FILES[2];
        console.run("mkdir -p /www", "", Duration::from_secs(10))?;
        let started = Instant::now();
        console.run(
            &format!(
                "wget -q -O /www/{name} http://10.0.2.2:{}/{name}; echo wget-''done",
                server.port
            ),
            "wget-done",
            Duration::from_secs(300),
        )?;
        let to_guest = len as f64 / started.elapsed().as_secs_f64();
        console.run(
            &format!(
                "wget -q -O /www/small http://10.0.2.2:{}/small",
                server.port
            ),
            "",
            Duration::from_secs(30),
        )?;
        start_httpd(&mut console, guest_port)?;
        let started = Instant::now();
        let body = http_get(guest_port, &format!("/{name}"))?;
        let to_host = body.len() as f64 / started.elapsed().as_secs_f64();
        let started = Instant::now();
        for _ in 0..100 {
            http_get(guest_port, "/small")?;
        }
        let connections = 100.0 / started.elapsed().as_secs_f64();
        Ok(Measured {
            to_guest,
            to_host,
            connections,
        })
    })();
    let tail = console.tail();
    console.finish();
    result.map_err(|e| format!("{e}\n--- console tail:\n{tail}"))
}

/// `cargo xtask nettest [--config NAME] [--bench] [--verbose]`: the network checks, or with
/// `--bench` their timings.
pub fn nettest_command(args: &mut crate::args::Args) -> Result<crate::exit::Code, String> {
    let config = args.value("config")?.unwrap_or_else(|| "fast".into());
    let bench = args.flag("bench");
    let verbose = args.flag("verbose");
    args.finish()?;
    crate::setup::ensure_qemu()?;
    let kernel = crate::kernel::build(&crate::kernel::load_config(&config)?)?;
    if kernel.config.variant("net") != Some("smoltcp") {
        return Err(format!(
            "config {config} has no network (net = \"smoltcp\" needed)"
        ));
    }
    if bench {
        let m = measure(&kernel, verbose)?;
        let mib = |bps: f64| bps / (1024.0 * 1024.0);
        println!(
            "net/{config}: host -> guest  {:.2} MiB/s (10 MiB, guest wget)",
            mib(m.to_guest)
        );
        println!(
            "net/{config}: guest -> host  {:.2} MiB/s (10 MiB, guest httpd)",
            mib(m.to_host)
        );
        println!(
            "net/{config}: connections   {:.1} /s (GET of 1000 bytes, guest httpd)",
            m.connections
        );
        return Ok(crate::exit::Code::Ok);
    }
    run(&kernel, verbose)?;
    println!("net/{config}: ok");
    Ok(crate::exit::Code::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_busybox_crc32() {
        // The CRC-32 check value, and `printf abc | busybox crc32`.
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"abc"), 0x3524_41c2);
    }

    #[test]
    fn the_host_server_serves_its_files_and_404s_others() {
        let server = HostServer::start().unwrap();
        assert_eq!(http_get(server.port, "/1m").unwrap(), pattern(1 << 20, 2));
        assert!(http_get(server.port, "/nope").unwrap_err().contains("404"));
    }
}
