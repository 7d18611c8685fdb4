//! x86 port I/O, for the PC's fixed devices this platform drives directly: the UART,
//! the PIT, the CMOS clock, the VGA CRTC, the keyboard controller, PCI configuration and
//! the chipset's power and reset ports. Each caller owns the ports it names.

/// Writes a byte to `port`.
pub fn outb(port: u16, value: u8) {
    // SAFETY: port I/O has no memory effects; the callers write only ports of the
    // devices they drive (listed above), which nothing else in this program uses.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack)) };
}

/// Writes a word to `port`.
pub fn outw(port: u16, value: u16) {
    // SAFETY: as `outb`.
    unsafe { core::arch::asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack)) };
}

/// Writes a double word to `port`.
pub fn outl(port: u16, value: u32) {
    // SAFETY: as `outb`.
    unsafe { core::arch::asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack)) };
}

/// Reads a byte from `port`.
pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as `outb`; reads of these devices' status and data ports.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack)) };
    value
}

/// Reads a double word from `port`.
pub fn inl(port: u16) -> u32 {
    let value: u32;
    // SAFETY: as `inb`.
    unsafe { core::arch::asm!("in eax, dx", in("dx") port, out("eax") value, options(nomem, nostack)) };
    value
}
