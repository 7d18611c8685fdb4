//! Writing Authenticode signatures into PE images, as sbsign and osslsigncode do and as
//! UEFI Secure Boot (EDK2's `DxeImageVerificationLib`) reads them.
//!
//! The PKCS#7 SignedData carries an `SpcIndirectDataContent` with the image's SHA-256
//! Authenticode digest, signed attributes (contentType SPC_INDIRECT_DATA,
//! SpcStatementType individual code signing, messageDigest over the content's contents
//! octets) and an RSA PKCS#1 v1.5 SHA-256 signature; the signer's certificate (and any
//! chain given) inside. No signingTime: the same inputs give the same bytes.
//!
//! EDK2 reads the digest algorithm's OID at byte 32 of the blob and wants byte 1 to be
//! 0x82, which holds when ContentInfo, its `[0]` and the SignedData have two-byte
//! lengths: the blob must be 256 bytes to 64 KiB (a certificate alone passes 256; more
//! than 64 KiB of chain is refused).

use anyhow::{Result, bail};

use crate::keys::Signer;
use crate::x509::cert::Cert;
use crate::x509::cms::tlv;

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// 1.3.6.1.4.1.311.2.1.4
const OID_SPC_INDIRECT_DATA: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x04];
/// 1.3.6.1.4.1.311.2.1.15
const OID_SPC_PE_IMAGE_DATA: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0f];
/// 1.3.6.1.4.1.311.2.1.11
const OID_SPC_STATEMENT_TYPE: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0b];
/// 1.3.6.1.4.1.311.2.1.21
const OID_SPC_INDIVIDUAL_SP_KEY_PURPOSE: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x15];

/// The largest blob whose outer lengths keep the two-byte form EDK2 requires.
const MAX_BLOB: usize = 0xffff;

/// `AlgorithmIdentifier { sha256, NULL }`, as Authenticode writes it.
fn sha256_with_null() -> Vec<u8> {
    tlv(0x30, &[tlv(0x06, OID_SHA256), vec![0x05, 0x00]].concat())
}

/// The SpcIndirectDataContent for an image whose SHA-256 Authenticode digest is `digest`.
fn indirect_data(digest: &[u8]) -> Vec<u8> {
    // SpcPeImageData { flags BIT STRING (empty), file [0] SpcLink ::= [2] SpcString ::=
    // [0] BMPString "<<<Obsolete>>>" }, as sbsign writes it.
    let obsolete: Vec<u8> = "<<<Obsolete>>>".encode_utf16().flat_map(|c| c.to_be_bytes()).collect();
    let link = tlv(0xa0, &tlv(0xa2, &tlv(0x80, &obsolete)));
    let pe_image_data = tlv(0x30, &[vec![0x03, 0x01, 0x00], link].concat());
    let data = tlv(0x30, &[tlv(0x06, OID_SPC_PE_IMAGE_DATA), pe_image_data].concat());
    let digest_info = tlv(0x30, &[sha256_with_null(), tlv(0x04, digest)].concat());
    tlv(0x30, &[data, digest_info].concat())
}

fn attribute(oid: &[u8], value: Vec<u8>) -> Vec<u8> {
    tlv(0x30, &[tlv(0x06, oid), tlv(0x31, &value)].concat())
}

/// The PKCS#7 SignedData (ContentInfo, DER) of an Authenticode signature over an image
/// whose SHA-256 Authenticode digest is `image_digest`, by `signer` with `key` (RSA),
/// carrying `chain` too.
pub fn signature(image_digest: &[u8], signer: &Cert, key: &dyn Signer, chain: &[Cert]) -> Result<Vec<u8>> {
    if !key.is_rsa() {
        bail!(
            "the key is {}: UEFI Secure Boot verifies RSA signatures only, so Authenticode signing needs an RSA key",
            key.describe()
        );
    }
    let content = indirect_data(image_digest);
    // messageDigest covers the content's contents octets: without the SEQUENCE header.
    let header = bootsign_pki::der_view::read_tlv(&content).expect("just encoded").0;
    let content_octets = header.value;
    let message_digest = <sha2::Sha256 as sha2::Digest>::digest(content_octets);
    let mut attributes = [
        attribute(OID_CONTENT_TYPE, tlv(0x06, OID_SPC_INDIRECT_DATA)),
        attribute(OID_SPC_STATEMENT_TYPE, tlv(0x30, &tlv(0x06, OID_SPC_INDIVIDUAL_SP_KEY_PURPOSE))),
        attribute(OID_MESSAGE_DIGEST, tlv(0x04, &message_digest)),
    ];
    // DER SET OF: sorted by encoding. The signature is over the SET; the SignerInfo
    // carries the same bytes under [0] IMPLICIT.
    attributes.sort();
    let attributes = attributes.concat();
    let attribute_set = tlv(0x31, &attributes);
    let signature = key.sign(&attribute_set)?;
    let fields = signer.fields();
    let signer_info = tlv(
        0x30,
        &[
            tlv(0x02, &[1]),
            tlv(0x30, &[fields.issuer, &tlv(0x02, fields.serial)].concat()),
            sha256_with_null(),
            tlv(0xa0, &attributes),
            tlv(0x30, &[tlv(0x06, OID_RSA_ENCRYPTION), vec![0x05, 0x00]].concat()),
            tlv(0x04, &signature),
        ]
        .concat(),
    );
    let mut certs = vec![signer.der.clone()];
    for c in chain {
        if !certs.contains(&c.der) {
            certs.push(c.der.clone());
        }
    }
    certs.sort();
    let signed_data = tlv(
        0x30,
        &[
            tlv(0x02, &[1]),
            tlv(0x31, &sha256_with_null()),
            tlv(0x30, &[tlv(0x06, OID_SPC_INDIRECT_DATA), tlv(0xa0, &content)].concat()),
            tlv(0xa0, &certs.concat()),
            tlv(0x31, &signer_info),
        ]
        .concat(),
    );
    let blob = tlv(0x30, &[tlv(0x06, OID_SIGNED_DATA), tlv(0xa0, &signed_data)].concat());
    if blob.len() > MAX_BLOB {
        bail!(
            "the signature would be {} bytes; UEFI firmware reads at most 64 KiB (give fewer chain certificates)",
            blob.len()
        );
    }
    debug_assert!(blob[1] == 0x82 && blob[30..32] == [0x06, 0x09], "EDK2's fixed offsets");
    Ok(blob)
}

/// Signs the PE image `image` (unsigned, or already signed: the new signature is
/// appended after the others): returns the signed image.
pub fn sign_image(image: &[u8], signer: &Cert, key: &dyn Signer, chain: &[Cert]) -> Result<Vec<u8>> {
    sign_image_aligned(image, signer, key, chain, 0, 8)
}

/// [`sign_image`] for an image that will sit at `base` in a container padded to `align`
/// (a PCI option ROM: 512): the certificate table is padded to reach that boundary.
pub fn sign_image_aligned(
    image: &[u8],
    signer: &Cert,
    key: &dyn Signer,
    chain: &[Cert],
    base: usize,
    align: usize,
) -> Result<Vec<u8>> {
    use bootsign_pe::authenticode::{append_signature_aligned, prepare_for_signing};
    let prepared = prepare_for_signing(image)?;
    let digest = bootsign_pki::authenticode::image_digest(&prepared, bootsign_pki::HashAlgorithm::Sha256)?;
    let blob = signature(&digest, signer, key, chain)?;
    Ok(append_signature_aligned(&prepared, &blob, base, align)?)
}
