//! The host side of the network benchmarks: a TCP server on 127.0.0.1 that the guest
//! reaches as 10.0.2.2 through QEMU's user network (protocol: `userland/bench/net.c`).
//!
//! | request | the peer |
//! |---|---|
//! | `tx BYTES SEED` | reads BYTES, checks each against the stream of SEED, answers `ok BYTES` or `bad ...` |
//! | `rx BYTES SEED` | sends BYTES of the stream of SEED, then closes |
//! | `ping N` | answers `pong N`, then closes |
//!
//! The peer also counts what it verified, sent and answered, and records every protocol or
//! data error: the harness checks after each boot that the guest's figures are backed by
//! that much verified traffic ([`Tally::backs`]), so a benchmark cannot pass by moving
//! wrong bytes, or none.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::loopback::LoopbackServer;

/// splitmix64's increment: word `i` of a stream mixes `seed + i * GOLDEN`.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream is made and checked a block at a time: bytes `[i * BLOCK, (i + 1) * BLOCK)`
/// are block `i`, built a word at a time (one splitmix64 per 8 bytes, not one per byte)
/// and compared with `memcmp`. The peer runs in `cargo xtask`'s unoptimised build during
/// the timed part, so its cost counts (`peer_throughput` below measures it).
const BLOCK: usize = 64 * 1024;

/// A block as words of 8 bytes (`as_flattened` gives its bytes).
fn new_block() -> Vec<[u8; 8]> {
    vec![[0; 8]; BLOCK / 8]
}

/// Block `index` of the stream with `seed`, as the guest stores it: word `i` of the stream
/// is `mix(seed + i * GOLDEN)` (splitmix64, as `pattern_word` in `net.c`), little-endian.
/// Shaped for the unoptimised build: a slice iterator over whole words and the state
/// advanced by an addition (slicing bytes for each word made it 3x slower there).
fn pattern_block(seed: u64, index: u64, block: &mut [[u8; 8]]) {
    let mut state = seed.wrapping_add((index * (BLOCK / 8) as u64).wrapping_mul(GOLDEN));
    for word in block.iter_mut() {
        *word = mix(state).to_le_bytes();
        state = state.wrapping_add(GOLDEN);
    }
}

/// The largest transfer a request may ask for (a sanity limit: the benchmark's full run
/// moves 16 MB).
const MAX_BYTES: u64 = 1 << 30;

/// How long the peer waits for a silent guest before giving up on a connection.
const IDLE: Duration = Duration::from_secs(120);

/// What the peer did since the last [`Peer::take`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Bytes of `tx` streams received and found correct (whole streams only).
    pub verified: u64,
    /// Bytes of `rx` streams sent in full.
    pub sent: u64,
    /// `ping`s answered.
    pub pongs: u64,
    /// Everything that went wrong, described.
    pub errors: Vec<String>,
}

impl Tally {
    /// Whether this traffic backs a guest's claim of `bytes` moved by `benchmark` (`iters`
    /// connections for tcp_connect); `Err` says what is missing.
    pub fn backs(&self, benchmark: &str, iters: u64, bytes: u64) -> Result<(), String> {
        let (have, want, what) = match benchmark {
            "tcp_tx" => (self.verified, bytes, "bytes verified"),
            "tcp_rx" => (self.sent, bytes, "bytes sent"),
            "tcp_connect" => (self.pongs, iters, "pings answered"),
            _ => return Ok(()),
        };
        if have >= want {
            Ok(())
        } else {
            Err(format!(
                "the host peer has {have} {what}, fewer than the {want} the guest timed"
            ))
        }
    }
}

/// The running server.
pub struct Peer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    tally: Arc<Mutex<Tally>>,
    _server: LoopbackServer,
}

impl Peer {
    /// Starts serving on a free port of 127.0.0.1, one thread per connection.
    pub fn start() -> Result<Peer, String> {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let tallying = tally.clone();
        let server = LoopbackServer::start(move |conn| {
            if let Err(why) = serve(conn, &tallying) {
                tallying.lock().unwrap().errors.push(why);
            }
        })
        .map_err(|e| format!("host peer: {e}"))?;
        Ok(Peer {
            port: server.port,
            tally,
            _server: server,
        })
    }

    /// What happened since the last call, and a fresh count.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut *self.tally.lock().unwrap())
    }
}

/// One request: `(verb, a, b)` of `verb a [b]`.
fn request(line: &str) -> Result<(&str, u64, u64), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |i: usize| -> Result<u64, String> {
        words
            .get(i)
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| format!("malformed request {line:?}"))
    };
    match words.first().copied() {
        Some(verb @ ("tx" | "rx")) if words.len() == 3 => {
            let bytes = number(1)?;
            if bytes > MAX_BYTES {
                return Err(format!("request {line:?}: more than {MAX_BYTES} bytes"));
            }
            Ok((verb, bytes, number(2)?))
        }
        Some("ping") if words.len() == 2 => Ok(("ping", number(1)?, 0)),
        _ => Err(format!("malformed request {line:?}")),
    }
}

fn serve(conn: TcpStream, tally: &Mutex<Tally>) -> Result<(), String> {
    conn.set_read_timeout(Some(IDLE))
        .map_err(|e| e.to_string())?;
    conn.set_write_timeout(Some(IDLE))
        .map_err(|e| e.to_string())?;
    let mut writer = conn.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(64 * 1024, conn);
    let mut line = String::new();
    // At most one short line: a request is never longer.
    (&mut reader)
        .take(80)
        .read_line(&mut line)
        .map_err(|e| format!("reading a request: {e}"))?;
    if line.is_empty() {
        return Ok(()); // a connection that said nothing (the harness waking the listener)
    }
    let (verb, a, b) = request(line.trim_end_matches('\n'))?;
    let io = |e: std::io::Error| format!("{verb} {a}: {e}");
    match verb {
        // Counted before the answer goes out: the guest may power off as soon as it has it.
        "tx" => {
            let verdict = receive(&mut reader, a, b);
            let answer = match &verdict {
                Ok(()) => {
                    tally.lock().unwrap().verified += a;
                    format!("ok {a}\n")
                }
                Err(why) => format!("bad {why}\n"),
            };
            writer.write_all(answer.as_bytes()).map_err(io)?;
            verdict.map_err(|why| format!("tx of {a} bytes: {why}"))?;
        }
        "rx" => {
            let mut block = new_block();
            let mut offset = 0u64;
            while offset < a {
                let len = (a - offset).min(BLOCK as u64) as usize;
                pattern_block(b, offset / BLOCK as u64, &mut block);
                writer.write_all(&block.as_flattened()[..len]).map_err(io)?;
                offset += len as u64;
            }
            // Before the end of the stream, which the guest waits for.
            tally.lock().unwrap().sent += a;
        }
        _ => {
            tally.lock().unwrap().pongs += 1;
            writer
                .write_all(format!("pong {a}\n").as_bytes())
                .map_err(io)?;
        }
    }
    let _ = writer.shutdown(Shutdown::Write);
    Ok(())
}

/// Reads `bytes` of the stream of `seed` and checks each; then nothing more may follow
/// before the guest reads the answer (it sends nothing else).
fn receive(reader: &mut impl Read, bytes: u64, seed: u64) -> Result<(), String> {
    let mut buf = vec![0u8; BLOCK];
    let mut block = new_block();
    let mut offset = 0u64;
    while offset < bytes {
        // Each read stays within one block of the stream.
        let (index, within) = (offset / BLOCK as u64, (offset % BLOCK as u64) as usize);
        if within == 0 {
            pattern_block(seed, index, &mut block);
        }
        let expected = block.as_flattened();
        let want = (bytes - offset).min((BLOCK - within) as u64) as usize;
        let got = reader
            .read(&mut buf[..want])
            .map_err(|e| format!("after {offset} bytes: {e}"))?;
        if got == 0 {
            return Err(format!("the stream ended after {offset} of {bytes} bytes"));
        }
        if buf[..got] != expected[within..within + got] {
            let i = (0..got).find(|&i| buf[i] != expected[within + i]).unwrap();
            return Err(format!("wrong byte at offset {}", offset + i as u64));
        }
        offset += got as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(port: u16, request: &[u8]) -> Vec<u8> {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.write_all(request).unwrap();
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).unwrap();
        answer
    }

    /// Word `index` of the stream with `seed`, by its definition (`pattern_word` in
    /// `net.c`).
    fn pattern_word(seed: u64, index: u64) -> u64 {
        mix(seed.wrapping_add(index.wrapping_mul(GOLDEN)))
    }

    /// The stream by its definition, byte by byte: the model the blocks must match.
    fn stream(seed: u64, len: u64) -> Vec<u8> {
        (0..len)
            .map(|i| pattern_word(seed, i / 8).to_le_bytes()[(i % 8) as usize])
            .collect()
    }

    #[test]
    fn the_pattern_is_splitmix64() {
        // splitmix64's first outputs for seed 0 (state advanced before mixing: index 1).
        assert_eq!(pattern_word(0, 1), 0xe220_a839_7b1d_cdaf);
        assert_eq!(
            pattern_word(1234567, 2),
            pattern_word(1234567 + 0x9e37_79b9_7f4a_7c15, 1)
        );
    }

    #[test]
    fn blocks_are_the_stream_in_order() {
        let model = stream(7, 3 * BLOCK as u64);
        let mut block = new_block();
        for index in 0..3 {
            pattern_block(7, index, &mut block);
            let start = index as usize * BLOCK;
            assert_eq!(
                block.as_flattened(),
                &model[start..start + BLOCK],
                "block {index}"
            );
        }
    }

    /// Reads of any size, across block boundaries, are checked at the right offsets.
    #[test]
    fn receive_checks_across_blocks() {
        let total = 2 * BLOCK as u64 + 1000;
        let good = stream(5, total);
        // A reader that returns 1,000 bytes at a time: reads straddle block boundaries.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(1000);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        assert_eq!(receive(&mut Trickle(&good), total, 5), Ok(()));
        for wrong in [0, BLOCK - 1, BLOCK, total as usize - 1] {
            let mut bad = good.clone();
            bad[wrong] ^= 0x40;
            assert_eq!(
                receive(&mut Trickle(&bad), total, 5),
                Err(format!("wrong byte at offset {wrong}"))
            );
        }
        // A stream of another seed (stale bytes of an earlier transfer) fails at once.
        assert!(receive(&mut Trickle(&stream(6, total)), total, 5).is_err());
    }

    #[test]
    fn requests_parse_strictly() {
        assert_eq!(request("tx 1000 5"), Ok(("tx", 1000, 5)));
        assert_eq!(request("ping 42"), Ok(("ping", 42, 0)));
        for bad in [
            "",
            "tx 10",
            "tx a 1",
            "rx 1 2 3",
            "ping",
            "get /",
            "tx 2000000000 1",
        ] {
            assert!(request(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tx_checks_every_byte() {
        let peer = Peer::start().unwrap();
        let mut good = b"tx 100000 9\n".to_vec();
        good.extend(stream(9, 100_000));
        assert_eq!(ask(peer.port, &good), b"ok 100000\n");
        assert_eq!(peer.take().verified, 100_000);
        let mut bad = good.clone();
        bad[12 + 77_777] ^= 1;
        assert_eq!(ask(peer.port, &bad), b"bad wrong byte at offset 77777\n");
        let short = &good[..good.len() - 1];
        let mut conn = TcpStream::connect(("127.0.0.1", peer.port)).unwrap();
        conn.write_all(short).unwrap();
        conn.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("bad the stream ended after 99999"),
            "{answer}"
        );
        std::thread::sleep(Duration::from_millis(100));
        let tally = peer.take();
        assert_eq!(tally.verified, 0);
        assert_eq!(tally.errors.len(), 2, "{:?}", tally.errors);
    }

    #[test]
    fn rx_sends_the_stream_and_ping_answers() {
        let peer = Peer::start().unwrap();
        assert_eq!(ask(peer.port, b"rx 70000 3\n"), stream(3, 70_000));
        assert_eq!(ask(peer.port, b"ping 12\n"), b"pong 12\n");
        assert!(ask(peer.port, b"GET / HTTP/1.0\r\n\r\n").is_empty());
        std::thread::sleep(Duration::from_millis(100));
        let tally = peer.take();
        assert_eq!((tally.sent, tally.pongs), (70_000, 1));
        assert_eq!(tally.errors.len(), 1, "{:?}", tally.errors);
        assert_eq!(peer.take(), Tally::default(), "take starts a fresh count");
    }

    #[test]
    fn a_figure_needs_the_traffic_behind_it() {
        let tally = Tally {
            verified: 2_000_000,
            sent: 0,
            pongs: 20,
            errors: vec![],
        };
        assert!(tally.backs("tcp_tx", 2, 2_000_000).is_ok());
        assert!(tally.backs("tcp_tx", 3, 3_000_000).is_err());
        assert!(
            tally
                .backs("tcp_rx", 1, 1_000_000)
                .unwrap_err()
                .contains("0 bytes sent")
        );
        assert!(tally.backs("tcp_connect", 20, 0).is_ok());
        assert!(tally.backs("tcp_connect", 21, 0).is_err());
        assert!(tally.backs("getpid", 1000, 0).is_ok());
    }

    /// What the peer costs: the benchmark program natively on this host (C, -O2, over
    /// loopback) against the peer at full counts, so the time per MB is almost all the
    /// peer's checking (`tcp_tx`) or generating (`tcp_rx`). The figures are printed, not
    /// checked: `cargo test -p xtask peer_throughput -- --ignored --nocapture` (the test
    /// build is unoptimised, like `cargo xtask`'s).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn peer_throughput() {
        let programs = super::super::program::build().unwrap();
        let peer = Peer::start().unwrap();
        let out = std::process::Command::new(&programs.bench)
            .args(["only=tcp_tx,tcp_rx"])
            .arg(format!("peer=127.0.0.1:{}", peer.port))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines().filter(|l| l.starts_with("BENCH name=")) {
            println!("{line}");
        }
        let parsed = super::super::parse::parse(&text);
        for name in ["tcp_tx", "tcp_rx"] {
            assert!(
                matches!(
                    parsed.outcomes[name],
                    super::super::parse::Outcome::Measured(_)
                ),
                "{name}: {text}"
            );
        }
        assert!(peer.take().errors.is_empty());
    }

    /// The benchmark program itself, natively on this host, against the peer: the two
    /// sides of the protocol agree (the guest's checks and the peer's).
    #[test]
    fn the_benchmark_program_talks_to_the_peer() {
        let programs = super::super::program::build().unwrap();
        let peer = Peer::start().unwrap();
        let out = std::process::Command::new(&programs.bench)
            .args(["quick", "only=tcp_tx,tcp_rx,tcp_connect"])
            .arg(format!("peer=127.0.0.1:{}", peer.port))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let parsed = super::super::parse::parse(&text);
        assert!(parsed.done, "{text}");
        for name in ["tcp_tx", "tcp_rx", "tcp_connect"] {
            assert!(
                matches!(
                    parsed.outcomes[name],
                    super::super::parse::Outcome::Measured(_)
                ),
                "{name}: {text}"
            );
        }
        let tally = peer.take();
        assert!(tally.errors.is_empty(), "{:?}", tally.errors);
        // Quick counts: 2 MB each way plus the warm-up's 1 MB, 20 + 2 connections.
        assert_eq!(
            (tally.verified, tally.sent, tally.pongs),
            (3_000_000, 3_000_000, 22)
        );
    }
}
