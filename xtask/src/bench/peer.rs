//! The host side of the network benchmarks: a TCP server on 127.0.0.1 that the guest
//! reaches as 10.0.2.2 through QEMU's user network (protocol: `userland/bench/net.c`).
//!
//! | request | the peer |
//! |---|---|
//! | `tx BYTES SEED` | reads BYTES, checks each against the stream of SEED, answers `ok BYTES` or `bad REASON` once it has read them all (after a wrong byte too); more bytes after the stream are an error |
//! | `rx BYTES SEED` | sends BYTES of the stream of SEED, then closes |
//! | `ping N` | answers `pong N`, then closes |
//!
//! The peer also counts what it verified, sent and answered, and records every protocol or
//! data error, before the connection it concerns is closed: the harness checks after each
//! boot ([`Peer::finish`] waits for the connections still being served) that each of the
//! guest's figures is backed by exactly the traffic it implies ([`Tally::backs`]), so a
//! benchmark cannot pass by moving wrong bytes, or none, or with another's traffic.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::catalog;
use super::parse::Measurement;
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

/// What the peer did.
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

/// Which count of the peer's [`Tally`] backs a network benchmark's figure: every network
/// benchmark of the catalog names one (`catalog::Info::traffic`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// Bytes of `tx` streams the peer verified (`tcp_tx`).
    Verified,
    /// Bytes of `rx` streams the peer sent (`tcp_rx`).
    Sent,
    /// Pings the peer answered, one per operation (`tcp_connect`).
    Pongs,
}

impl Tally {
    /// Whether this traffic, all of one boot, is exactly that of a benchmark measured as
    /// `m`: its timed operations and the program's untimed warm-up ones
    /// ([`catalog::warm_up`]); `Err` says what differs. More counts as much as less: it
    /// would be traffic the figure does not account for.
    pub fn backs(&self, traffic: Traffic, m: &Measurement) -> Result<(), String> {
        let (have, per_op, what) = match traffic {
            Traffic::Verified => (self.verified, m.bytes_per_op, "bytes verified"),
            Traffic::Sent => (self.sent, m.bytes_per_op, "bytes sent"),
            Traffic::Pongs => (self.pongs, Some(1), "pings answered"),
        };
        let per_op = per_op.ok_or("the guest's figure has no bytes_per_op")?;
        let warm = catalog::warm_up(m.iters);
        let want = (m.iters + warm) * per_op;
        if have == want {
            Ok(())
        } else {
            Err(format!(
                "the host peer has {have} {what}, not the {want} of the {} operations the \
                 guest timed and the {warm} of its warm-up",
                m.iters
            ))
        }
    }
}

/// The running server.
pub struct Peer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    tally: Arc<Mutex<Tally>>,
    server: LoopbackServer,
}

impl Peer {
    /// Starts serving on a free port of 127.0.0.1, one thread per connection.
    pub fn start() -> Result<Peer, String> {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let tallying = tally.clone();
        let server = LoopbackServer::start(move |conn| {
            // Recorded before the connection closes: a guest (or test) that has seen the
            // end of it finds the error in the tally.
            if let Err(why) = serve(&conn, &tallying) {
                tallying.lock().unwrap().errors.push(why);
            }
            drop(conn);
        })
        .map_err(|e| format!("host peer: {e}"))?;
        Ok(Peer {
            port: server.port,
            tally,
            server,
        })
    }

    /// Stops the peer once every connection it accepted has been served (a guest's end
    /// when its machine is gone), and returns what happened.
    pub fn finish(self) -> Tally {
        self.server.finish();
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

fn serve(conn: &TcpStream, tally: &Mutex<Tally>) -> Result<(), String> {
    conn.set_read_timeout(Some(IDLE))
        .map_err(|e| e.to_string())?;
    conn.set_write_timeout(Some(IDLE))
        .map_err(|e| e.to_string())?;
    let mut writer = conn;
    let mut reader = BufReader::with_capacity(BLOCK, conn);
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
            // The end of the answer (the guest waits for the newline or this), then
            // whether anything follows the stream, which the guest sees no more of.
            let _ = conn.shutdown(Shutdown::Write);
            nothing_follows(&mut reader)
                .map_err(|why| format!("tx of {a} bytes, after the answer: {why}"))?;
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
            let _ = conn.shutdown(Shutdown::Write);
        }
        _ => {
            tally.lock().unwrap().pongs += 1;
            writer
                .write_all(format!("pong {a}\n").as_bytes())
                .map_err(io)?;
            let _ = conn.shutdown(Shutdown::Write);
        }
    }
    Ok(())
}

/// Reads `bytes` of the stream of `seed` and checks each. After a wrong byte it reads on,
/// unchecked, up to `bytes` (or the end of the connection) before giving its verdict: the
/// guest is still writing then, and a connection closed under it would reset, and the
/// guest report that instead of the reason.
fn receive(reader: &mut impl Read, bytes: u64, seed: u64) -> Result<(), String> {
    let mut buf = vec![0u8; BLOCK];
    let mut block = new_block();
    let mut offset = 0u64;
    let mut wrong = None;
    while offset < bytes {
        // Each read stays within one block of the stream.
        let (index, within) = (offset / BLOCK as u64, (offset % BLOCK as u64) as usize);
        let want = (bytes - offset).min((BLOCK - within) as u64) as usize;
        let got = match reader.read(&mut buf[..want]) {
            Ok(0) => {
                let end = format!("the stream ended after {offset} of {bytes} bytes");
                return Err(wrong.map_or(end.clone(), |w: String| format!("{w}; {end}")));
            }
            Ok(got) => got,
            Err(e) => return Err(wrong.unwrap_or(format!("after {offset} bytes: {e}"))),
        };
        if wrong.is_none() {
            if within == 0 {
                pattern_block(seed, index, &mut block);
            }
            let expected = &block.as_flattened()[within..within + got];
            if buf[..got] != *expected {
                let i = (0..got).find(|&i| buf[i] != expected[i]).unwrap_or(0);
                wrong = Some(format!("wrong byte at offset {}", offset + i as u64));
            }
        }
        offset += got as u64;
    }
    wrong.map_or(Ok(()), Err)
}

/// After a stream and its verdict, the guest sends nothing and closes: bytes beyond the
/// stream it announced are an error. (A reset or timeout here is not: the verdict is out.)
fn nothing_follows(reader: &mut impl Read) -> Result<(), String> {
    let mut extra = [0u8; 64];
    match reader.read(&mut extra) {
        Ok(n) if n > 0 => Err(format!("more bytes followed the stream ({n} read)")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Peer {
        /// What happened so far, and a fresh count.
        fn take(&self) -> Tally {
            std::mem::take(&mut *self.tally.lock().unwrap())
        }
    }

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
            let mut reader = Trickle(&bad);
            assert_eq!(
                receive(&mut reader, total, 5),
                Err(format!("wrong byte at offset {wrong}"))
            );
            assert!(reader.0.is_empty(), "the rest of the stream was read");
        }
        // A stream of another seed (stale bytes of an earlier transfer).
        assert_eq!(
            receive(&mut Trickle(&stream(6, total)), total, 5),
            Err("wrong byte at offset 0".into())
        );
        let mut short = good[..BLOCK + 10].to_vec();
        assert_eq!(
            receive(&mut Trickle(&short), total, 5),
            Err(format!(
                "the stream ended after {} of {total} bytes",
                BLOCK + 10
            ))
        );
        short[3] ^= 1;
        assert_eq!(
            receive(&mut Trickle(&short), total, 5),
            Err(format!(
                "wrong byte at offset 3; the stream ended after {} of {total} bytes",
                BLOCK + 10
            ))
        );
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

    /// Errors are in the tally by the time the connection ends: no waiting in the tests.
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
        let tally = peer.take();
        assert_eq!(tally.verified, 0);
        assert_eq!(tally.errors.len(), 2, "{:?}", tally.errors);
        assert!(tally.errors[0].contains("wrong byte at offset 77777"));
    }

    /// A guest still writing when the peer finds a wrong byte gets the reason, not a reset:
    /// the peer reads the whole stream before it answers.
    #[test]
    fn a_wrong_byte_is_answered_after_the_whole_stream() {
        let peer = Peer::start().unwrap();
        let bytes = 16 << 20; // far more than the sockets buffer
        let mut request = format!("tx {bytes} 4\n").into_bytes();
        let start = request.len();
        request.extend(stream(4, bytes));
        request[start + 10] ^= 0x80;
        // write_all fails (reset, broken pipe) if the peer closes before reading it all.
        assert_eq!(ask(peer.port, &request), b"bad wrong byte at offset 10\n");
        let tally = peer.finish();
        assert_eq!(
            tally.errors,
            [format!("tx of {bytes} bytes: wrong byte at offset 10")]
        );
    }

    /// The stream is exactly what the request announced: more is an error, found after
    /// the verdict (the guest sends nothing after the stream, then closes).
    #[test]
    fn bytes_after_the_stream_are_an_error() {
        let peer = Peer::start().unwrap();
        let mut request = b"tx 1000 2\n".to_vec();
        request.extend(stream(2, 1000));
        request.extend(b"extra");
        assert_eq!(ask(peer.port, &request), b"ok 1000\n");
        let tally = peer.finish();
        assert_eq!(tally.verified, 1000);
        assert_eq!(
            tally.errors,
            ["tx of 1000 bytes, after the answer: more bytes followed the stream (5 read)"]
        );
    }

    #[test]
    fn rx_sends_the_stream_and_ping_answers() {
        let peer = Peer::start().unwrap();
        assert_eq!(ask(peer.port, b"rx 70000 3\n"), stream(3, 70_000));
        assert_eq!(ask(peer.port, b"ping 12\n"), b"pong 12\n");
        assert!(ask(peer.port, b"GET / HTTP/1.0\r\n\r\n").is_empty());
        let tally = peer.take();
        assert_eq!((tally.sent, tally.pongs), (70_000, 1));
        assert_eq!(tally.errors.len(), 1, "{:?}", tally.errors);
        assert_eq!(peer.take(), Tally::default(), "take starts a fresh count");
        assert_eq!(peer.finish(), Tally::default());
    }

    fn measured(iters: u64, bytes_per_op: Option<u64>) -> Measurement {
        Measurement {
            iters,
            total_ns: 1,
            bytes_per_op,
        }
    }

    #[test]
    fn a_figure_needs_exactly_its_traffic() {
        let tally = Tally {
            verified: 3_000_000,
            sent: 0,
            pongs: 22,
            errors: vec![],
        };
        // 2 timed MB and the warm-up's 1 (a tenth, at least one).
        let two_mb = measured(2, Some(1_000_000));
        assert_eq!(tally.backs(Traffic::Verified, &two_mb), Ok(()));
        let err = tally
            .backs(Traffic::Verified, &measured(3, Some(1_000_000)))
            .unwrap_err();
        assert!(
            err.contains("3000000 bytes verified, not the 4000000"),
            "{err}"
        );
        let err = tally
            .backs(Traffic::Verified, &measured(1, Some(1_000_000)))
            .unwrap_err();
        assert!(
            err.contains("not the 2000000"),
            "more is refused too: {err}"
        );
        assert!(
            tally
                .backs(Traffic::Sent, &two_mb)
                .unwrap_err()
                .contains("0 bytes sent")
        );
        assert!(tally.backs(Traffic::Verified, &measured(2, None)).is_err());
        assert_eq!(tally.backs(Traffic::Pongs, &measured(20, None)), Ok(()));
        assert!(tally.backs(Traffic::Pongs, &measured(21, None)).is_err());
        assert!(tally.backs(Traffic::Pongs, &measured(19, None)).is_err());
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
        assert!(peer.finish().errors.is_empty());
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
        let tally = peer.finish();
        assert!(tally.errors.is_empty(), "{:?}", tally.errors);
        // Quick counts: 2 MB each way plus the warm-up's 1 MB, 20 + 2 connections...
        assert_eq!(
            (tally.verified, tally.sent, tally.pongs),
            (3_000_000, 3_000_000, 22)
        );
        // ... which is what the harness's check expects of these figures.
        for name in ["tcp_tx", "tcp_rx", "tcp_connect"] {
            let super::super::parse::Outcome::Measured(m) = &parsed.outcomes[name] else {
                unreachable!()
            };
            let traffic = catalog::info(name).unwrap().traffic.unwrap();
            assert_eq!(tally.backs(traffic, m), Ok(()), "{name}");
        }
    }
}
