//! Writes sample encoded configurations into the directory given: the fuzzing seeds.

use bootsign_config::Config;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: seed DIR");
    let full = Config {
        anchors: vec![[0x11; 32], [0x22; 32]],
        certs: vec![&[0x30, 0x03, 0x02, 0x01, 0x05][..]],
        key: Some(&[0x30, 0x00]),
        script: Some("#!ipxe\ndhcp\nchain http://${next-server}/boot.ipxe\n"),
        settings: vec![("imgtrust-all", "1")],
        crosscert: Some("http://ca.example/auto"),
        crls: vec![&[0x30, 0x03, 0x02, 0x01, 0x07][..]],
    };
    std::fs::write(format!("{dir}/empty"), Config::default().encode().unwrap()).unwrap();
    std::fs::write(format!("{dir}/full"), full.encode().unwrap()).unwrap();
}
