//! `bootsign script check`: what it reports, and its exit status.

mod common;

use common::Env;

#[test]
fn reports_each_line_that_cannot_run_and_fails() {
    let env = Env::new();
    env.write(
        "menu.ipxe",
        "#!ipxe\n:start\ndhcp || goto start\nvcreate --tag 5 net0\nset n:int32 0\ninc n\ngoto ${target} || goto nowhere\n",
    );
    env.write(
        "ok.ipxe",
        "#!ipxe\ndhcp\nchain http://${next-server}/${mac:hexhyp}.ipxe || shell_is_dynamic${x}\n",
    );
    let out = env.run(&["script", "check", "ok.ipxe", "menu.ipxe"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        "ok.ipxe: can run\n\
         menu.ipxe:4: vcreate --tag 5 net0\n    vcreate: not supported by bootsign yet (in iPXE it creates a VLAN interface)\n\
         menu.ipxe:7: goto ${target} || goto nowhere\n    goto: no label ':nowhere' in this script (iPXE refuses this line too)\n"
    );
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "error: 1 of 2 scripts cannot run as written\n");
    assert_eq!(env.ok(&["script", "check", "ok.ipxe"]), "ok.ipxe: can run\n");
    // A warning alone does not stop a script.
    env.write("warn.ipxe", "#!ipxe\necho ${mac:hexhpy}\n");
    assert_eq!(
        env.ok(&["script", "check", "warn.ipxe"]),
        "warn.ipxe:2: echo ${mac:hexhpy}\n    ${mac:hexhpy}: unknown setting type 'hexhpy', so it expands to nothing \
         (warning: iPXE and bootsign both run it so)\nwarn.ipxe: can run\n"
    );
    env.write("binary.ipxe", b"#!ipxe\n\xff\n");
    let err = env.fails(&["script", "check", "binary.ipxe"]);
    assert!(err.contains("the script 'binary.ipxe' is not UTF-8 text"), "{err}");
    let err = env.fails(&["script", "check", "missing.ipxe"]);
    assert!(err.contains("missing.ipxe"), "{err}");
}
