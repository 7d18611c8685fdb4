//! What the `tls_client` and `tls_legacy` targets share: a fixed random source and the
//! driving loop, a macro because the two client types have the same methods but no
//! common trait.

use bootsign_tls::{RandomSource, RngError};

/// A fixed "random" source: reproducible runs matter more here than secrecy.
#[derive(Debug)]
pub struct FixedRng;

impl RandomSource for FixedRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(7);
        }
        Ok(())
    }
}

pub static RNG: FixedRng = FixedRng;

/// Feeds `$data` (its first byte the piece size, in units of 8, the rest the server's
/// bytes) to the client `$new` makes: it must not panic, its ClientHello must be ready at
/// once, and once it has failed it must stay failed, with the failure recorded. With
/// `in_place`, odd piece sizes go through `feed_incoming_in_place` instead (which takes
/// whole records where they lie and holds only a cut one).
macro_rules! drive {
    ($data:expr, $new:expr) => {
        $crate::tls_drive::drive_with!($data, $new, |client, piece, _odd| client.feed_incoming(piece))
    };
    ($data:expr, $new:expr, in_place) => {
        $crate::tls_drive::drive_with!($data, $new, |client, piece, odd| {
            if odd {
                let mut piece = piece.to_vec();
                client.feed_incoming_in_place(&mut piece, &mut |_| {})
            } else {
                client.feed_incoming(piece)
            }
        })
    };
}

/// `drive!` with `$feed` (given the client, the piece and whether the size is odd)
/// feeding each piece.
macro_rules! drive_with {
    ($data:expr, $new:expr, |$c:ident, $p:ident, $o:ident| $feed:expr) => {{
        let data: &[u8] = $data;
        let Some((&step, records)) = data.split_first() else { return };
        let step = usize::from(step).max(1) * 8;
        let mut client = $new.expect("a valid name");
        let mut out = Vec::new();
        client.take_outgoing(&mut out);
        assert!(!out.is_empty(), "the ClientHello is ready at once");
        let _ = client.write_app(b"GET / HTTP/1.1\r\n\r\n");
        let mut failed = false;
        for piece in records.chunks(step) {
            let result = {
                let ($c, $p, $o) = (&mut client, piece, step % 16 == 8);
                $feed
            };
            client.take_outgoing(&mut out);
            let mut app = Vec::new();
            let _ = client.read_app(&mut app);
            if failed {
                assert!(result.is_err(), "a failed connection must stay failed");
            }
            if result.is_err() {
                failed = true;
                // A failure is final and explained.
                assert!(client.error().is_some());
                assert!(!client.is_handshaking());
            }
        }
        client.feed_eof();
        let _ = client.close();
    }};
}

pub(crate) use drive;
pub(crate) use drive_with;
