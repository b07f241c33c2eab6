//! The network test: a Tessera boot with a virtio-net card on QEMU's user network, driven
//! from its serial console while the host talks to it over TCP.
//!
//! | check | how |
//! |---|---|
//! | host -> guest, 1 MiB and 10 MiB | guest `wget` from a Rust HTTP server on 127.0.0.1 (the guest's 10.0.2.2); `crc32` in the guest equals the host's |
//! | guest -> host, same files | guest `httpd -f -p 80 -h /www`, host GET through the forwarded port; bytes identical |
//! | 200 short connections | 200 GETs in a row, each a new connection, all answered |
//! | a client leaving mid-transfer | a GET of 10 MiB dropped after 256 KiB; the next GET is served whole |
//! | `nc` | the guest's `nc 10.0.2.2 PORT` reaches a host listener; the host reaches the guest's `nc -l -p 81` |
//! | socket semantics | `userland/net/inet.c` (TCP and UDP over loopback: errors, resets, timeouts, poll) run natively on the host's Linux and in the guest: the same lines |
//!
//! [`measure`] times the same transfers (`cargo xtask nettest --bench`): bulk throughput
//! each way and the connection rate.

mod host;
mod inet;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::console::Console;
use crate::kernel::Kernel;
use crate::qemu::{Boot, Mode};
use host::{FILES, HostServer, crc32, free_port, http_get, pattern};
use inet::{build_inet, check_lines, inet_on_host, initrd_with};

/// What a network session measured.
pub struct Measured {
    /// Host -> guest bulk throughput (guest wget of 10 MiB), bytes per second.
    pub to_guest: f64,
    /// Guest -> host bulk throughput (host GET of 10 MiB from guest httpd), bytes per second.
    pub to_host: f64,
    /// Short connections (GET of 1000 bytes from guest httpd) per second.
    pub connections: f64,
}

/// A booted guest and the host's side of it.
struct Session {
    console: Console,
    server: HostServer,
    /// The host port forwarded to the guest's port 80 (httpd).
    web_port: u16,
    /// The host port forwarded to the guest's port 81 (`nc -l`).
    nc_port: u16,
}

/// Boots `kernel` with a card and BusyBox, two ports forwarded, and the host's HTTP server
/// running.
fn boot(kernel: &Kernel, verbose: bool) -> Result<Session, String> {
    let server = HostServer::start()?;
    let (web_port, nc_port) = (free_port()?, free_port()?);
    let mut boot = Boot::tessera(kernel, "", Mode::Wall);
    boot.initrd = Some(initrd_with(&build_inet()?)?);
    boot.net = Some(vec![
        format!("tcp:127.0.0.1:{web_port}-:80"),
        format!("tcp:127.0.0.1:{nc_port}-:81"),
    ]);
    let console = Console::shell(&boot, verbose)?;
    Ok(Session {
        console,
        server,
        web_port,
        nc_port,
    })
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
    let Session {
        mut console,
        server,
        web_port,
        nc_port,
    } = boot(kernel, verbose)?;
    let result = checks(&mut console, &server, web_port, nc_port);
    let verdict = console.power_off();
    console.judge(result.and(verdict))
}

fn checks(
    console: &mut Console,
    server: &HostServer,
    guest_port: u16,
    guest_nc_port: u16,
) -> Result<(), String> {
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
    // nc listening in the guest, the host connecting through the forwarded port.
    console.run(
        "nc -l -p 81 > /tmp/nc-got & echo nc-''listening",
        "nc-listening",
        Duration::from_secs(30),
    )?;
    let start = Instant::now();
    loop {
        // QEMU accepts the host's connection before the guest does: a connection that
        // reaches no listener yet is closed without a byte; retry until the text is there.
        if let Ok(mut conn) = TcpStream::connect(("127.0.0.1", guest_nc_port)) {
            let _ = conn.write_all(b"hello-to-the-guest\n");
            drop(conn);
            std::thread::sleep(Duration::from_millis(500));
            let text = console.run(
                "cat /tmp/nc-got; echo cat-''done",
                "cat-done",
                Duration::from_secs(30),
            )?;
            if text.contains("\nhello-to-the-guest") {
                break;
            }
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err("nc -l in the guest never received the host's line".into());
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    Ok(())
}

/// Times the transfers: 10 MiB each way, and 100 short connections.
pub fn measure(kernel: &Kernel, verbose: bool) -> Result<Measured, String> {
    let Session {
        mut console,
        server,
        web_port: guest_port,
        ..
    } = boot(kernel, verbose)?;
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
    let _ = console.power_off();
    result.map_err(|e| format!("{e}\n--- console tail:\n{}", console.tail(25)))
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
