//! Arbitrary text as a boot script: lexing, expansion and interpretation over a machine
//! whose every operation fails must never panic. (Scripts with `goto` may loop forever
//! by design, so those are only lexed.)
#![no_main]

use bootsign_script::lex::{expand, lines, split};
use bootsign_script::{Boot, Interpreter, Machine, TrustPolicy};
use libfuzzer_sys::fuzz_target;

struct Refuser;

impl Machine for Refuser {
    type Proof = ();
    type Meta = ();
    fn print(&mut self, _: &str) {}
    fn dhcp(&mut self, _: &str) -> Result<Vec<(String, String)>, String> {
        Ok(vec![("ip".into(), "10.0.2.15".into())])
    }
    fn interface(&mut self, _: &str, _: &str) -> Result<(), String> {
        Err("no".into())
    }
    fn fetch(&mut self, uri: &str) -> Result<(Vec<u8>, ()), String> {
        if uri.len() % 2 == 0 { Ok((uri.as_bytes().to_vec(), ())) } else { Err("no".into()) }
    }
    fn verify(&mut self, d: &[u8], _: &(), s: &[u8], _: Option<&str>) -> Result<((), String), String> {
        if d == s { Ok(((), String::new())) } else { Err("no".into()) }
    }
    fn boot(&mut self, _: Boot<'_, ()>) -> String {
        "no".into()
    }
    fn sleep(&mut self, _: u64) {}
    fn reboot(&mut self) -> String {
        "no".into()
    }
    fn poweroff(&mut self) -> String {
        "no".into()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    for line in lines(text) {
        let _ = line;
    }
    let expanded = expand(text, &|n| (n.len() < 8).then(|| n.repeat(2)));
    let _ = split(&expanded);
    if !text.contains("goto") && !text.contains("chain") && !text.contains("imgexec") {
        let mut i = Interpreter::new(Refuser, TrustPolicy::default());
        let _ = i.run(text, Some("http://s/x.ipxe"));
    }
});
