//! Links the firmware with its own layout: the real-mode setup part (a Linux bzImage
//! header, so loaders put it below 1 MiB) and the 64-bit core at 1 MiB.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-arg=-T{dir}/link.ld");
    println!("cargo:rustc-link-arg=--no-rosegment");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=src/prefix.s");
    println!("cargo:rerun-if-changed=src/san16.s");
}
