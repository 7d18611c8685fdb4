//! Starting Linux through its 16-bit boot protocol, as iPXE, ISOLINUX and GRUB's
//! `linux16` do: the kernel's real-mode setup code runs first and asks the BIOS for the
//! memory map, EDD and the video mode itself. The header is read and filled in by the
//! sans-IO `bootsign-bzimage` crate; here the bytes are put in place and the processor
//! goes back to real mode (`linux16.s`), never to return.

use alloc::alloc::{Layout, alloc_zeroed, dealloc};
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::NonNull;

use bootsign_bzimage::{CMDLINE_AT, KERNEL_AT, Kernel, SETUP_AT};
use bootsign_firmware_core::hash::PartialSha256;
use bootsign_firmware_core::proof::ImageProof;
use bootsign_script::{Boot, Proof};

core::arch::global_asm!(include_str!("linux16.s"), options(att_syntax));

unsafe extern "C" {
    static linux16_start: u8;
    static linux16_params: u8;
    static linux16_end: u8;
}

/// Where the stub runs (`LINUX16_AT` in `linux16.s`): free conventional memory above the
/// BIOS data area, below where the kernel's setup code goes.
const LINUX16_AT: usize = 0x5000;

/// Page-aligned heap memory for what the kernel reads after this firmware is gone: freed
/// if the boot does not happen, kept for good by [`Handoff::jump`].
struct Aligned {
    ptr: NonNull<u8>,
    len: usize,
    /// As allocated (at least one byte).
    layout: Layout,
}

impl Aligned {
    /// `parts` one after another, each starting on a multiple of `align` (zero padding
    /// between them).
    fn concat(parts: &[&[u8]], align: usize) -> Result<Self, String> {
        let len = parts.iter().fold(0usize, |at, p| at.next_multiple_of(align) + p.len());
        let layout = Layout::from_size_align(len.max(1), 4096)
            .map_err(|_| String::from("the kernel's parts are too large"))?;
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) })
            .ok_or_else(|| alloc::format!("out of memory for {len} bytes of the kernel's parts"))?;
        let mut at = 0usize;
        for part in parts {
            at = at.next_multiple_of(align);
            // SAFETY: `at + part.len() <= len`, inside the allocation, which nothing
            // else refers to yet.
            unsafe { core::ptr::copy_nonoverlapping(part.as_ptr(), ptr.as_ptr().add(at), part.len()) };
            at += part.len();
        }
        Ok(Self { ptr, len, layout })
    }

    fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        // SAFETY: allocated in `concat` with this layout, freed once.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) };
    }
}

/// A kernel the trust gate admitted, with its command line and initrds, laid out for the
/// 16-bit entry; the error says why it cannot start. `release` gives the NICs up first:
/// their DMA must have stopped before the bytes are re-checked and copied (as on UEFI).
pub fn boot(
    boot: &Boot<'_, ImageProof, PartialSha256>,
    release: impl FnOnce() -> Result<(), String>,
) -> String {
    if let Err(why) = release() {
        return why;
    }
    match prepare(boot) {
        Ok(handoff) => handoff.jump(),
        Err(why) => why,
    }
}

/// What the stub needs: three copies and the setup segment, and the buffers they read.
struct Handoff {
    copies: [(u32, u32, u32); 3],
    setup_segment: u16,
    keep: Vec<Aligned>,
}

fn prepare(boot: &Boot<'_, ImageProof, PartialSha256>) -> Result<Handoff, String> {
    // The gate's re-check: bytes that changed since `imgverify` are not started.
    let checked = boot.image().bytes()?;
    let name = alloc::string::ToString::to_string(&bootsign_pki::text::escape(boot.image().image().name()));
    // An embedded (Authenticode) signature covers the PE image as a PE loader maps it;
    // this loader hands the kernel every byte of the file, the certificate table and any
    // gaps between sections included.
    if checked.proof().is_some_and(|p| !p.covers_every_byte()) {
        return Err(alloc::format!(
            "'{name}' was verified by a signature embedded in it, which does not cover every byte a BIOS \
             boot loads; sign it with a detached signature (bootsign sign) and imgverify it with that"
        ));
    }
    let kernel =
        Kernel::parse(checked.as_slice()).map_err(|e| alloc::format!("'{name}' cannot be booted: {e}"))?;
    let initrds = boot.initrds().iter().map(|i| i.bytes()).collect::<Result<Vec<_>, _>>()?;
    let parts: Vec<&[u8]> = initrds.iter().map(|c| c.as_slice()).collect();
    // As Linux reads concatenated archives: each on a 4-byte boundary.
    let initrd = (!parts.is_empty()).then(|| Aligned::concat(&parts, 4)).transpose()?;
    let cmdline = boot.image().image().cmdline();
    let setup = kernel
        .plan(cmdline, initrd.as_ref().map(|i| (i.addr(), i.len() as u64)), crate::heap::kernel_room())
        .map_err(|e| alloc::format!("'{name}' cannot be booted: {e}"))?;
    let setup = Aligned::concat(&[&setup], 1)?;
    let line = Aligned::concat(&[cmdline.as_bytes(), &[0]], 1)?;
    let pm = Aligned::concat(&[kernel.protected_mode()], 1)?;
    for part in [&setup, &line, &pm] {
        if part.addr() + part.len() as u64 > u64::from(u32::MAX) {
            return Err("the kernel's parts are above 4 GiB, out of the boot protocol's reach".into());
        }
    }
    Ok(Handoff {
        copies: [
            (pm.addr() as u32, KERNEL_AT, pm.len() as u32),
            (setup.addr() as u32, SETUP_AT, setup.len() as u32),
            (line.addr() as u32, CMDLINE_AT, line.len() as u32),
        ],
        setup_segment: (SETUP_AT >> 4) as u16,
        keep: [setup, line, pm].into_iter().chain(initrd).collect(),
    })
}

impl Handoff {
    /// Copies the stub to low memory with its parameters and jumps to it; the buffers the
    /// kernel reads are never freed.
    fn jump(self) -> ! {
        core::mem::forget(self.keep);
        // Linker symbols: only their addresses are used.
        let (start, params, end) =
            (&raw const linux16_start, &raw const linux16_params, &raw const linux16_end);
        let len = end as usize - start as usize;
        let params_at = LINUX16_AT + (params as usize - start as usize);
        let mut block = [0u8; 40];
        for (i, (src, dst, n)) in self.copies.iter().enumerate() {
            block[12 * i..12 * i + 4].copy_from_slice(&src.to_le_bytes());
            block[12 * i + 4..12 * i + 8].copy_from_slice(&dst.to_le_bytes());
            block[12 * i + 8..12 * i + 12].copy_from_slice(&n.to_le_bytes());
        }
        block[36..38].copy_from_slice(&self.setup_segment.to_le_bytes());
        // SAFETY: LINUX16_AT.. is free conventional memory (above the BIOS data area,
        // below the setup code's 0x10000, not where the BIOS or this firmware keep
        // anything), identity-mapped; the stub is position-dependent on exactly this
        // address and never returns. Interrupts are off (they are throughout this
        // firmware), and the NICs were stopped by `release`.
        unsafe {
            core::ptr::copy_nonoverlapping(start, LINUX16_AT as *mut u8, len);
            core::ptr::copy_nonoverlapping(block.as_ptr(), params_at as *mut u8, block.len());
            core::arch::asm!("jmp {}", in(reg) LINUX16_AT as u64, options(noreturn));
        }
    }
}
