//! Writing CMS SignedData the way `openssl cms -sign -binary -noattr -outform DER` does:
//! detached id-data content, SHA-256, no signed attributes, the signer identified by
//! issuer and serial number, and the signer's certificate plus the extra certificates
//! inside. DER `SET OF` elements are sorted as DER requires (and as OpenSSL sorts them),
//! so an RSA signature comes out byte-identical to OpenSSL's.

use anyhow::Result;
use der::Encode;

use crate::keys::Signer;
use crate::x509::cert::Cert;

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// One DER element: tag, definite minimal length, content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A DER `SET OF`: the encodings sorted as octet strings (X.690 §11.6).
fn set_of(mut items: Vec<Vec<u8>>, tag: u8) -> Vec<u8> {
    items.sort();
    tlv(tag, &items.concat())
}

/// The CMS ContentInfo for a detached signature over content with SHA-256 `digest`.
pub fn sign_detached(digest: &[u8], signer: &Cert, key: &dyn Signer, extra: &[Cert]) -> Result<Vec<u8>> {
    let signed_data = signed_data_detached(digest, signer, key, extra)?;
    Ok(tlv(0x30, &[tlv(0x06, OID_SIGNED_DATA), tlv(0xa0, &signed_data)].concat()))
}

/// The SignedData of [`sign_detached`] on its own, without the ContentInfo around it (as
/// UEFI's authenticated variables carry it).
pub fn signed_data_detached(
    digest: &[u8],
    signer: &Cert,
    key: &dyn Signer,
    extra: &[Cert],
) -> Result<Vec<u8>> {
    let sha256 = tlv(0x30, &tlv(0x06, OID_SHA256));
    let fields = signer.fields();
    let sid = tlv(0x30, &[fields.issuer, &tlv(0x02, fields.serial)].concat());
    let signature = key.sign_sha256_digest(digest)?;
    let signer_info = tlv(
        0x30,
        &[
            tlv(0x02, &[1]),
            sid,
            sha256.clone(),
            key.cms_signature_algorithm().to_der()?,
            tlv(0x04, &signature),
        ]
        .concat(),
    );
    let mut certs = vec![signer.der.clone()];
    for c in extra {
        if !certs.contains(&c.der) {
            certs.push(c.der.clone());
        }
    }
    Ok(tlv(
        0x30,
        &[
            tlv(0x02, &[1]),
            set_of(vec![sha256], 0x31),
            tlv(0x30, &tlv(0x06, OID_DATA)),
            set_of(certs, 0xa0),
            set_of(vec![signer_info], 0x31),
        ]
        .concat(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        assert_eq!(&tlv(0x04, &[0; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(&tlv(0x04, &[0; 0x1234])[..4], [0x04, 0x82, 0x12, 0x34]);
    }

    #[test]
    fn set_of_is_sorted() {
        assert_eq!(set_of(vec![vec![2, 0], vec![1, 9, 9]], 0x31), [0x31, 5, 1, 9, 9, 2, 0]);
    }
}
