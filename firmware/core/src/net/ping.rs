//! ICMP echo (`ping`): one request, and the wait for its reply.

use alloc::string::String;
use alloc::vec;

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::socket::icmp;
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, IpAddress, Ipv4Address};

use super::Net;

impl Net {
    /// Sends an echo request of `size` bytes of data to `to` (sequence `seq`; the
    /// identifier is the MAC's last two bytes, so guests on one network differ) and waits
    /// up to `timeout_ms` for the matching reply; returns the reply's size and round trip
    /// in milliseconds.
    pub fn ping(
        &mut self,
        to: Ipv4Address,
        seq: u16,
        size: usize,
        timeout_ms: u64,
    ) -> Result<(usize, u64), String> {
        let mac = self.dev.mac();
        let ident = u16::from_be_bytes([mac[4], mac[5]]);
        let buffer =
            || icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0u8; 4 * (size + 64)]);
        let mut socket = icmp::Socket::new(buffer(), buffer());
        socket
            .bind(icmp::Endpoint::Ident(ident))
            .map_err(|e| alloc::format!("cannot open an ICMP socket: {e:?}"))?;
        let handle = self.sockets.add(socket);
        let data: alloc::vec::Vec<u8> = (0..size).map(|i| i as u8).collect();
        let request = Icmpv4Repr::EchoRequest { ident, seq_no: seq, data: &data };
        let started = self.clock.now_ms();
        let sent = {
            let socket = self.sockets.get_mut::<icmp::Socket>(handle);
            match socket.send(request.buffer_len(), IpAddress::Ipv4(to)) {
                Ok(buf) => {
                    request.emit(&mut Icmpv4Packet::new_unchecked(buf), &ChecksumCapabilities::default());
                    Ok(())
                }
                Err(e) => Err(alloc::format!("cannot send to {to}: {e:?}")),
            }
        };
        let result = sent.and_then(|()| {
            self.wait(timeout_ms, |net| {
                let socket = net.sockets.get_mut::<icmp::Socket>(handle);
                while let Ok((payload, from)) = socket.recv() {
                    let Ok(packet) = Icmpv4Packet::new_checked(payload) else { continue };
                    let Ok(Icmpv4Repr::EchoReply { ident: i, seq_no, data }) =
                        Icmpv4Repr::parse(&packet, &ChecksumCapabilities::default())
                    else {
                        continue;
                    };
                    if i == ident && seq_no == seq && from == IpAddress::Ipv4(to) {
                        return Some(data.len());
                    }
                }
                None
            })
            .map(|len| (len, self.clock.now_ms() - started))
            .ok_or_else(|| String::from("timed out"))
        });
        self.sockets.remove(handle);
        result
    }
}
