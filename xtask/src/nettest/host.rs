//! The host side: deterministic test files, a tiny HTTP/1.0 server on 127.0.0.1 (the
//! guest's 10.0.2.2), an HTTP client, CRC-32 as BusyBox's `crc32` prints it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::loopback::LoopbackServer;

/// The files the host serves and the guest serves back: (name, size, seed).
pub const FILES: [(&str, usize, u64); 3] =
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
pub struct HostServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    _server: LoopbackServer,
}

impl HostServer {
    /// Starts serving [`FILES`] on a free port.
    pub fn start() -> Result<HostServer, String> {
        let files: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
            FILES
                .iter()
                .map(|(name, len, seed)| (name.to_string(), pattern(*len, *seed)))
                .collect(),
        );
        let server = LoopbackServer::start(move |conn| serve(conn, &files))
            .map_err(|e| format!("host server: {e}"))?;
        Ok(HostServer {
            port: server.port,
            _server: server,
        })
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
pub fn http_get(port: u16, path: &str) -> Result<Vec<u8>, String> {
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
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
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
