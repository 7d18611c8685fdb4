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

/// Port I/O to a PCI device's I/O BAR. Unlike the functions above, these are not
/// `nomem`: a doorbell written here must not be moved before the writes to the DMA
/// memory it announces (a device reads that memory when it sees the doorbell).
pub mod device {
    use bootsign_firmware_core::pci::Width;

    /// Writes `value` of `width` to `port`.
    pub fn write(port: u16, width: Width, value: u32) {
        // SAFETY: port I/O to a BAR of the PCI function the caller drives (held by one
        // driver only); the device may read DMA memory, so this is ordered with memory.
        unsafe {
            match width {
                Width::U8 => {
                    core::arch::asm!("out dx, al", in("dx") port, in("al") value as u8, options(nostack))
                }
                Width::U16 => {
                    core::arch::asm!("out dx, ax", in("dx") port, in("ax") value as u16, options(nostack))
                }
                Width::U32 => {
                    core::arch::asm!("out dx, eax", in("dx") port, in("eax") value, options(nostack))
                }
            }
        }
    }

    /// Reads a value of `width` from `port`, zero-extended.
    pub fn read(port: u16, width: Width) -> u32 {
        // SAFETY: as `write`.
        unsafe {
            match width {
                Width::U8 => {
                    let v: u8;
                    core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nostack));
                    u32::from(v)
                }
                Width::U16 => {
                    let v: u16;
                    core::arch::asm!("in ax, dx", in("dx") port, out("ax") v, options(nostack));
                    u32::from(v)
                }
                Width::U32 => {
                    let v: u32;
                    core::arch::asm!("in eax, dx", in("dx") port, out("eax") v, options(nostack));
                    v
                }
            }
        }
    }
}
