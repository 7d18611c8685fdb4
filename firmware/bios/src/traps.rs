//! The processor's exceptions in long mode: an IDT whose 32 entries lead (through the
//! stubs in `prefix.s`) to [`rust_exception`], which names the exception, the error code
//! and where it happened on the console and powers off, instead of a silent triple fault
//! and reset.

use core::mem::size_of;

/// One IDT gate: a 64-bit interrupt gate into the 64-bit code segment.
#[derive(Clone, Copy)]
#[repr(C, packed)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    flags: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

const EMPTY: Gate =
    Gate { offset_low: 0, selector: 0, ist: 0, flags: 0, offset_mid: 0, offset_high: 0, reserved: 0 };

/// The IDT; written once by [`init`], then read only by the processor.
struct Table(core::cell::UnsafeCell<[Gate; 32]>);

// SAFETY: one processor; written once before it is loaded, never again.
unsafe impl Sync for Table {}

static IDT: Table = Table(core::cell::UnsafeCell::new([EMPTY; 32]));

unsafe extern "C" {
    /// The stubs' addresses, by vector.
    static exception_stubs: [u64; 32];
}

#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

const NAMES: [&str; 32] = [
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack fault",
    "general protection fault",
    "page fault",
    "reserved (15)",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point error",
    "virtualization exception",
    "control protection exception",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "hypervisor injection",
    "VMM communication",
    "security exception",
    "reserved (31)",
];

/// Installs the IDT.
pub fn init() {
    // SAFETY: called once, before anything could raise an exception it handles; the IDT
    // is a static that lives for the program, written only here.
    unsafe {
        let idt = &mut *IDT.0.get();
        for (gate, &stub) in idt.iter_mut().zip(exception_stubs.iter()) {
            *gate = Gate {
                offset_low: stub as u16,
                selector: 0x08,
                ist: 0,
                flags: 0x8e,
                offset_mid: (stub >> 16) as u16,
                offset_high: (stub >> 32) as u32,
                reserved: 0,
            };
        }
        let pointer = Pointer { limit: (size_of::<[Gate; 32]>() - 1) as u16, base: idt.as_ptr() as u64 };
        core::arch::asm!("lidt [{}]", in(reg) &pointer, options(readonly, nostack));
    }
}

/// Reports an exception and powers off.
#[unsafe(no_mangle)]
extern "C" fn rust_exception(vector: u64, error: u64, rip: u64, cr2: u64) -> ! {
    let name = NAMES.get(vector as usize).copied().unwrap_or("exception");
    crate::println!("bootsign: {name} (vector {vector}, error code {error:#x}) at {rip:#x}, CR2 {cr2:#x}");
    crate::println!("bootsign: nothing was booted");
    crate::machine::power_off()
}
