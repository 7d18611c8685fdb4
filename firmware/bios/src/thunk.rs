//! Calls into real mode: a BIOS service (INT n) from long mode, through `rm_call` in
//! `prefix.s`, which leaves long mode, drops to real mode in the setup part's segment,
//! calls the handler with the registers given and brings the registers it returned back.
//! Each call costs some 60-190 µs under emulation (shared/reference/bios.md), so callers
//! poll at a few milliseconds' intervals, not in tight loops.

unsafe extern "C" {
    fn rm_call();
    static mut rm_target: [u16; 2];
    static mut rm_regs: Regs;
}

/// The registers a real-mode call takes and returns (the layout of `rm_regs`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Regs {
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
    pub esi: u32,
    pub edi: u32,
    pub ebp: u32,
    pub ds: u16,
    pub es: u16,
    pub eflags: u32,
}

impl Regs {
    /// Whether the zero flag was set on return.
    pub fn zero(&self) -> bool {
        self.eflags & 0x40 != 0
    }
}

/// The setup part's linear address, where `rm_target` and `rm_regs` lie (they are
/// linked at their offsets in it).
static SETUP_BASE: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// Whether calls can be made ([`init`] ran).
pub fn ready() -> bool {
    SETUP_BASE.load(core::sync::atomic::Ordering::Relaxed) != 0
}

/// Records where the setup part is (from `prefix.s`), before the first call.
pub fn init(setup_base: u32) {
    SETUP_BASE.store(setup_base, core::sync::atomic::Ordering::Relaxed);
}

/// Calls interrupt `n`'s real-mode handler (from the interrupt table at 0) with `regs`,
/// which get what it returned.
pub fn int(n: u8, regs: &mut Regs) {
    // SAFETY: the interrupt table lies at linear 0 (identity-mapped), 256 far pointers.
    let vector = unsafe { core::ptr::read_volatile((usize::from(n) * 4) as *const [u16; 2]) };
    call(vector, regs);
}

/// The setup part's real-mode segment, where `rm_call` runs and the low-memory blocks
/// linked into it lie.
pub fn setup_segment() -> u16 {
    (SETUP_BASE.load(core::sync::atomic::Ordering::Relaxed) >> 4) as u16
}

/// The linear address of `sym`, a symbol linked into the setup part (at its offset).
pub fn setup_address<T>(sym: *const T) -> usize {
    SETUP_BASE.load(core::sync::atomic::Ordering::Relaxed) as usize + sym as usize
}

/// Calls the real-mode routine at `target` (offset, segment) with `regs`, as an
/// interrupt handler is called (flags pushed).
pub fn call(target: [u16; 2], regs: &mut Regs) {
    let base = SETUP_BASE.load(core::sync::atomic::Ordering::Relaxed) as usize;
    assert!(base != 0, "thunk::init first");
    // The symbols are linked at their offsets in the setup part, which lies at `base`.
    let at = |sym: usize| base + sym;
    let (target_at, regs_at) = (at(&raw const rm_target as usize), at(&raw const rm_regs as usize));
    // SAFETY: both blocks are in the setup part (low memory, identity-mapped), used by
    // nothing else; the firmware runs on one processor with interrupts off, so no other
    // call is in flight. `rm_call` keeps the callee-saved registers and flags and
    // returns in long mode with the same stack.
    unsafe {
        core::ptr::write_volatile(target_at as *mut [u16; 2], target);
        core::ptr::write_volatile(regs_at as *mut Regs, *regs);
        rm_call();
        *regs = core::ptr::read_volatile(regs_at as *const Regs);
    }
}
