//! Socket addresses in Linux's layouts: `struct sockaddr_in` and `struct sockaddr_un`, as the
//! kernel copies them from and to user memory.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use tessera_abi::net::{AF_INET, AF_UNIX, SOCKADDR_IN_LEN, SOCKADDR_UN_LEN, UNIX_PATH_MAX};
use tessera_abi::{Errno, KResult};

/// The family of a `sockaddr` (its first two bytes); EINVAL if too short to have one.
pub fn family(bytes: &[u8]) -> KResult<u32> {
    match bytes {
        [a, b, ..] => Ok(u16::from_le_bytes([*a, *b]) as u32),
        _ => Err(Errno::EINVAL),
    }
}

/// Decodes a `sockaddr_in`: EINVAL if shorter than 16 bytes, EAFNOSUPPORT for another
/// family.
pub fn parse_in(bytes: &[u8]) -> KResult<SocketAddrV4> {
    if bytes.len() < SOCKADDR_IN_LEN {
        return Err(Errno::EINVAL);
    }
    if family(bytes)? != AF_INET {
        return Err(Errno::EAFNOSUPPORT);
    }
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
    Ok(SocketAddrV4::new(ip, port))
}

/// Encodes a `sockaddr_in`.
pub fn encode_in(addr: SocketAddrV4) -> [u8; SOCKADDR_IN_LEN] {
    let mut out = [0u8; SOCKADDR_IN_LEN];
    out[..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
    out[2..4].copy_from_slice(&addr.port().to_be_bytes());
    out[4..8].copy_from_slice(&addr.ip().octets());
    out
}

/// A Unix socket name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnixAddr {
    /// No name (an unbound socket, or one end of a socketpair).
    Unnamed,
    /// A path name (without the NUL).
    Path(Vec<u8>),
    /// A name in the abstract namespace (`sun_path[0] == 0`; the bytes after it).
    Abstract(Vec<u8>),
}

/// Decodes a `sockaddr_un` of `bytes.len()` (the `addrlen` the caller passed): EINVAL if it
/// is too short or too long, EAFNOSUPPORT for another family. A path ends at its first NUL.
pub fn parse_un(bytes: &[u8]) -> KResult<UnixAddr> {
    if bytes.len() < 2 || bytes.len() > SOCKADDR_UN_LEN {
        return Err(Errno::EINVAL);
    }
    if family(bytes)? != AF_UNIX {
        return Err(Errno::EINVAL);
    }
    let path = &bytes[2..];
    Ok(match path.first() {
        None => UnixAddr::Unnamed,
        Some(0) => UnixAddr::Abstract(path[1..].to_vec()),
        Some(_) => {
            let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
            UnixAddr::Path(path[..end].to_vec())
        }
    })
}

/// Encodes a `sockaddr_un` the way Linux returns it: the family, then the path with its NUL
/// (an unnamed socket is the family alone).
pub fn encode_un(addr: &UnixAddr) -> Vec<u8> {
    let mut out = (AF_UNIX as u16).to_le_bytes().to_vec();
    match addr {
        UnixAddr::Unnamed => {}
        UnixAddr::Path(path) => {
            out.extend_from_slice(&path[..path.len().min(UNIX_PATH_MAX - 1)]);
            out.push(0);
        }
        UnixAddr::Abstract(name) => {
            out.push(0);
            out.extend_from_slice(&name[..name.len().min(UNIX_PATH_MAX - 1)]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_in_round_trips_with_network_byte_order() {
        let addr = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 2), 8080);
        let raw = encode_in(addr);
        assert_eq!(&raw[..8], &[2, 0, 0x1f, 0x90, 10, 0, 2, 2]);
        assert_eq!(parse_in(&raw), Ok(addr));
        assert_eq!(parse_in(&raw[..15]), Err(Errno::EINVAL));
        let mut unix = raw;
        unix[0] = 1;
        assert_eq!(parse_in(&unix), Err(Errno::EAFNOSUPPORT));
    }

    #[test]
    fn sockaddr_un_paths_abstract_names_and_unnamed() {
        let mut raw = vec![1, 0];
        raw.extend_from_slice(b"/tmp/s\0garbage");
        assert_eq!(parse_un(&raw), Ok(UnixAddr::Path(b"/tmp/s".to_vec())));
        assert_eq!(
            encode_un(&UnixAddr::Path(b"/tmp/s".to_vec())),
            b"\x01\0/tmp/s\0"
        );
        assert_eq!(
            parse_un(b"\x01\0\0name"),
            Ok(UnixAddr::Abstract(b"name".to_vec()))
        );
        assert_eq!(parse_un(b"\x01\0"), Ok(UnixAddr::Unnamed));
        assert_eq!(encode_un(&UnixAddr::Unnamed), b"\x01\0");
        assert_eq!(parse_un(b"\x02\0/x"), Err(Errno::EINVAL));
        assert_eq!(parse_un(&[1u8; 111]), Err(Errno::EINVAL));
    }
}
