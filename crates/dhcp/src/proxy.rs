//! ProxyDHCP (PXE 2.1), as iPXE handles it. A ProxyDHCP server answers a client's
//! DHCPDISCOVER beside the real DHCP server, without an address: its offer names the boot
//! file (or a PXE boot menu), and carries option 60 `PXEClient`. The client keeps it as
//! the `proxydhcp` settings. When the offer has no boot file or menu, the client asks the
//! proxy for one with a DHCPREQUEST to its port 4011, and takes the answer instead.
//!
//! A packet is a proxy offer when its vendor class starts with `PXEClient` and it names a
//! server (option 54, else siaddr, else the sender): iPXE's "pseudo server identifier". A
//! DHCP server that also speaks PXE sends one packet that is both a lease and a proxy offer.

use alloc::vec::Vec;

use crate::client::ClientArch;
use crate::{COOKIE, DhcpError, OPTIONS, message_type, options, reply};

/// The port a ProxyDHCP server answers requests on (PXE's boot server port).
pub const PORT: u16 = 4011;

/// How long a client waits for proxy offers after the discovery started, once it has
/// a lease, and for the proxy's answer to a request: iPXE's 2 s for each.
pub const WAIT_MS: u64 = 2000;

/// A ProxyDHCP offer, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyOffer {
    /// The proxy's pseudo server identifier: option 54, else siaddr, else the sender.
    pub server: [u8; 4],
    /// Whether it already names a boot file (siaddr and a file) or a PXE boot menu
    /// (option 43, sub-option 9); if not, the client asks the proxy on port 4011.
    pub has_pxe_options: bool,
}

fn option<'a>(opts: &[(u8, &'a [u8])], code: u8) -> Option<&'a [u8]> {
    opts.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
}

/// Whether `msg` (a DHCP reply from `source`, to the client with hardware address
/// `mac`) is a ProxyDHCP offer or answer: a DHCPOFFER, DHCPACK or BOOTP reply whose
/// vendor class starts with `PXEClient` and that names a server.
pub fn offer(msg: &[u8], mac: &[u8; 6], source: [u8; 4]) -> Result<Option<ProxyOffer>, DhcpError> {
    let msg = reply(msg)?;
    if msg[28..34] != mac[..] {
        return Ok(None);
    }
    let opts = options(msg)?;
    if !matches!(message_type(&opts), 0 | 2 | 5) {
        return Ok(None);
    }
    if !option(&opts, 60).is_some_and(|v| v.starts_with(b"PXEClient")) {
        return Ok(None);
    }
    let siaddr: [u8; 4] = msg[20..24].try_into().expect("four bytes");
    let server = match option(&opts, 54).and_then(|v| <[u8; 4]>::try_from(v).ok()) {
        Some(id) if id != [0; 4] => id,
        _ if siaddr != [0; 4] => siaddr,
        _ => source,
    };
    if server == [0; 4] {
        return Ok(None);
    }
    let file = msg[108..236].iter().any(|&b| b != 0) || option(&opts, 67).is_some_and(|v| !v.is_empty());
    let menu = option(&opts, 43).is_some_and(|v| suboption(v, 9).is_some());
    Ok(Some(ProxyOffer { server, has_pxe_options: (siaddr != [0; 4] && file) || menu }))
}

/// The transaction id of a DHCP reply, checked as a reply.
pub fn xid(msg: &[u8]) -> Option<u32> {
    let msg = reply(msg).ok()?;
    Some(u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]))
}

/// The transaction id of `msg` when it offers (or acknowledges) a lease to the client
/// with hardware address `mac`: a reply naming an address (yiaddr). A proxy offer counts
/// only if it answers the same DISCOVER as such a lease.
pub fn lease_xid(msg: &[u8], mac: &[u8; 6]) -> Option<u32> {
    let reply = reply(msg).ok()?;
    (reply[28..34] == mac[..] && reply[16..20] != [0; 4]).then(|| xid(reply)).flatten()
}

/// Whether a DHCP lease says to ignore ProxyDHCP: iPXE's option 175, sub-option 176
/// (`no-pxedhcp`) set.
pub fn ignores_proxies(msg: &[u8]) -> bool {
    let Ok(msg) = reply(msg) else { return false };
    let Ok(opts) = options(msg) else { return false };
    option(&opts, 175).and_then(|v| suboption(v, 176)).is_some_and(|v| v.iter().any(|&b| b != 0))
}

/// Sub-option `code` of an encapsulated option (TLV, as option 43 and 175 hold).
fn suboption(mut data: &[u8], code: u8) -> Option<&[u8]> {
    while let [c, rest @ ..] = data {
        match c {
            0 => data = rest,
            255 => return None,
            _ => {
                let (&len, rest) = rest.split_first()?;
                let value = rest.get(..usize::from(len))?;
                if *c == code {
                    return Some(value);
                }
                data = &rest[usize::from(len)..];
            }
        }
    }
    None
}

/// The DHCPREQUEST a client sends to a proxy's port 4011 for its boot file: from
/// `client_ip` (the address its lease gave), with transaction id `xid`, naming the proxy
/// (option 54) and saying what the client is.
pub fn request(
    mac: &[u8; 6],
    xid: u32,
    client_ip: [u8; 4],
    server: [u8; 4],
    arch: ClientArch,
    user_class: &str,
) -> Vec<u8> {
    let mut m = alloc::vec![0u8; OPTIONS];
    m[..4].copy_from_slice(&[1, 1, 6, 0]);
    m[4..8].copy_from_slice(&xid.to_be_bytes());
    m[12..16].copy_from_slice(&client_ip);
    m[28..34].copy_from_slice(mac);
    m[236..240].copy_from_slice(&COOKIE);
    let mut put = |code: u8, value: &[u8]| {
        m.push(code);
        m.push(value.len() as u8);
        m.extend_from_slice(value);
    };
    put(53, &[3]);
    put(54, &server);
    for (code, value) in arch.options() {
        put(code, &value);
    }
    put(77, &user_class.as_bytes()[..user_class.len().min(255)]);
    m.push(255);
    m
}

/// Whether `msg` from port 4011 answers `request`'s transaction `xid`: a proxy offer
/// or answer from the same proxy, with a boot file or menu.
pub fn is_answer(msg: &[u8], mac: &[u8; 6], xid: u32, server: [u8; 4], source: [u8; 4]) -> bool {
    let same_xid = msg.get(4..8).is_some_and(|x| x == xid.to_be_bytes());
    same_xid && matches!(offer(msg, mac, source), Ok(Some(o)) if o.server == server && o.has_pxe_options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

    fn packet(siaddr: [u8; 4], file: &[u8], options: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; OPTIONS];
        m[..4].copy_from_slice(&[2, 1, 6, 0]);
        m[4..8].copy_from_slice(&[1, 2, 3, 4]);
        m[20..24].copy_from_slice(&siaddr);
        m[28..34].copy_from_slice(&MAC);
        m[108..108 + file.len()].copy_from_slice(file);
        m[236..240].copy_from_slice(&COOKIE);
        m.extend_from_slice(options);
        m
    }

    const PXE: &[u8] = b"\x3c\x09PXEClient";

    #[test]
    fn offers_are_told_apart_as_ipxe_does() {
        let src = [10, 0, 2, 99];
        // A proxy offer with a boot file: option 60, option 54.
        let mut o = vec![53, 1, 2, 54, 4, 10, 0, 2, 98];
        o.extend_from_slice(PXE);
        o.push(255);
        let got = offer(&packet([10, 0, 2, 2], b"boot.ipxe", &o), &MAC, src).unwrap().unwrap();
        assert_eq!(got, ProxyOffer { server: [10, 0, 2, 98], has_pxe_options: true });
        // No option 54: siaddr, else the sender; no file and no menu: ask on 4011.
        let mut o = vec![53, 1, 2];
        o.extend_from_slice(PXE);
        o.push(255);
        let got = offer(&packet([0; 4], b"", &o), &MAC, src).unwrap().unwrap();
        assert_eq!(got, ProxyOffer { server: src, has_pxe_options: false });
        // A PXE boot menu (43.9) counts as PXE options.
        let mut m = o[..o.len() - 1].to_vec();
        m.extend_from_slice(&[43, 6, 6, 1, 8, 9, 1, 0, 255]);
        assert!(offer(&packet([0; 4], b"", &m), &MAC, src).unwrap().unwrap().has_pxe_options);
        // Not for this client, not PXEClient, a NAK: not a proxy offer.
        let mut other = MAC;
        other[5] = 0x57;
        assert_eq!(offer(&packet([0; 4], b"", &o), &other, src), Ok(None));
        assert_eq!(
            offer(&packet([0; 4], b"", &[53, 1, 2, 60, 3, b'a', b'b', b'c', 255]), &MAC, src),
            Ok(None)
        );
        let mut nak = vec![53, 1, 6];
        nak.extend_from_slice(PXE);
        assert_eq!(offer(&packet([0; 4], b"", &nak), &MAC, src), Ok(None));
        assert_eq!(offer(&packet([0; 4], b"", &[60, 20, b'P']), &MAC, src), Err(DhcpError::BadOption(60)));
    }

    #[test]
    fn leases_are_told_by_their_address_and_client() {
        let mut lease = packet([10, 0, 2, 2], b"", &[53, 1, 2, 255]);
        assert_eq!(lease_xid(&lease, &MAC), None, "no address offered");
        lease[16..20].copy_from_slice(&[10, 0, 2, 15]);
        assert_eq!(lease_xid(&lease, &MAC), Some(0x0102_0304));
        let mut other = MAC;
        other[0] = 0;
        assert_eq!(lease_xid(&lease, &other), None);
        assert_eq!(xid(&lease), Some(0x0102_0304));
        assert_eq!(xid(&lease[..100]), None);
    }

    #[test]
    fn a_lease_can_say_to_ignore_proxies() {
        assert!(ignores_proxies(&packet([0; 4], b"", &[175, 3, 176, 1, 1, 255])));
        assert!(!ignores_proxies(&packet([0; 4], b"", &[175, 3, 176, 1, 0, 255])));
        assert!(!ignores_proxies(&packet([0; 4], b"", &[175, 2, 176, 5, 255])));
        assert!(!ignores_proxies(&[0; 10]));
    }

    #[test]
    fn the_request_to_port_4011() {
        let r = request(&MAC, 0xdead_beef, [10, 0, 2, 15], [10, 0, 2, 99], ClientArch::UEFI_X86_64, "iPXE");
        assert_eq!(&r[..4], &[1, 1, 6, 0]);
        assert_eq!(&r[4..8], &0xdead_beef_u32.to_be_bytes());
        assert_eq!(&r[12..16], &[10, 0, 2, 15]);
        let mut expected = vec![53, 1, 3, 54, 4, 10, 0, 2, 99, 93, 2, 0, 7, 94, 3, 1, 3, 10, 60, 32];
        expected.extend_from_slice(b"PXEClient:Arch:00007:UNDI:003010");
        expected.extend_from_slice(&[77, 4, b'i', b'P', b'X', b'E', 255]);
        assert_eq!(&r[240..], &expected[..]);
        // An answer: same xid, same proxy, a boot file.
        let mut o = vec![53, 1, 5, 54, 4, 10, 0, 2, 99];
        o.extend_from_slice(PXE);
        o.push(255);
        let mut answer = packet([10, 0, 2, 2], b"x.ipxe", &o);
        answer[4..8].copy_from_slice(&0xdead_beef_u32.to_be_bytes());
        assert!(is_answer(&answer, &MAC, 0xdead_beef, [10, 0, 2, 99], [10, 0, 2, 99]));
        assert!(!is_answer(&answer, &MAC, 1, [10, 0, 2, 99], [10, 0, 2, 99]));
        assert!(!is_answer(&answer, &MAC, 0xdead_beef, [10, 0, 2, 98], [10, 0, 2, 99]));
    }
}
