//! Arbitrary text as a boot script: lexing, expansion, every setting type's parser and
//! formatter, and interpretation over a machine whose every operation fails must never
//! panic; a value a type parsed formats and parses back to the same bytes. Scripts run
//! with a command budget, so their loops (`goto`, chains) end.
#![no_main]

use bootsign_script::expand::expand;
use bootsign_script::lex::{commands, lines};
use bootsign_script::settings::SettingType;
use bootsign_script::{Boot, Interpreter, Machine, Proof, TrustPolicy};
use libfuzzer_sys::fuzz_target;

struct Refuser;

/// A proof that holds a copy of the bytes it was made over.
struct Same(Vec<u8>);

impl Proof for Same {
    fn recheck(&self, bytes: &[u8]) -> Result<(), String> {
        if bytes == self.0 { Ok(()) } else { Err("differs".into()) }
    }
    fn covers_every_byte(&self) -> bool {
        true
    }
}

impl Machine for Refuser {
    type Proof = Same;
    type Meta = ();
    fn print(&mut self, _: &str) {}
    fn dhcp(&mut self, _: &str) -> Result<Vec<(String, String)>, String> {
        Ok(vec![("ip".into(), "10.0.2.15".into())])
    }
    fn interface(&mut self, _: &str, _: &str) -> Result<(), String> {
        Err("no".into())
    }
    fn fetch(&mut self, uri: &str, _timeout_ms: Option<u64>) -> Result<(Vec<u8>, ()), String> {
        if uri.len() % 2 == 0 { Ok((uri.as_bytes().to_vec(), ())) } else { Err("no".into()) }
    }
    fn verify(&mut self, d: &[u8], _: &(), s: &[u8], _: Option<&str>) -> Result<(Same, String), String> {
        if d == s { Ok((Same(d.to_vec()), String::new())) } else { Err("no".into()) }
    }
    fn boot(&mut self, boot: Boot<'_, Same>) -> String {
        // What the launcher would start: verified bytes are always the ones the proof covers.
        for admitted in core::iter::once(boot.image()).chain(boot.initrds()) {
            let checked = admitted.bytes().expect("nothing changes an image after verification");
            if let Some(proof) = checked.proof() {
                assert_eq!(proof.0, checked.as_slice());
            }
        }
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
    // Decompression sees every input, text or not.
    let _ = bootsign_script::extract::extract(data);
    let Ok(text) = core::str::from_utf8(data) else { return };
    for line in lines(text) {
        let _ = commands(&line.command);
    }
    let expanded = expand(text, &|n| (n.len() < 8).then(|| n.repeat(2)));
    let _ = commands(&expanded);
    for ty in ["string", "uristring", "ipv4", "int8", "int16", "int32", "uint8", "uint16", "uint32", "hex", "hexhyp", "hexraw", "base64", "uuid", "guid", "busdevfn"] {
        let ty = SettingType::from_name(ty).unwrap();
        let _ = ty.format(data);
        if let Ok(raw) = ty.parse(text)
            && ty != SettingType::String
        {
            let shown = ty.format(&raw).expect("what a type parsed, it formats");
            assert_eq!(ty.parse(&shown).as_deref(), Ok(&raw[..]), "{ty:?} {text:?}");
        }
    }
    // A command budget ends the loops scripts may make (`goto`, chained scripts).
    let mut i = Interpreter::new(Refuser, TrustPolicy::default());
    i.limit_commands(500);
    let _ = i.run(text, Some("http://s/x.ipxe"));
});
