// bootsign's SBAT generation number, the one place it is written (the firmware's `.sbat`
// section and the host test that checks it both include this file).
//
// Bump it for security fixes that must revoke older images: shim refuses every image
// whose generation is below the one a revocation (SbatLevel) names for `bootsign`. Never
// bump it for ordinary releases; the version field says which release an image is.
macro_rules! sbat_generation {
    () => {
        "1"
    };
}
