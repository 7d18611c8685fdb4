//! Starting Linux through its 16-bit boot protocol, as iPXE, ISOLINUX and GRUB's
//! `linux16` do: the kernel's real-mode setup code runs first and asks the BIOS for the
//! memory map, EDD and the video mode itself. The header is read and filled in by the
//! sans-IO `bootsign-bzimage` crate; here the bytes are put in place and the processor
//! goes back to real mode (`linux16.s`), never to return.

use alloc::alloc::{Layout, alloc};
use alloc::string::String;
use alloc::vec::Vec;

use bootsign_bzimage::{CMDLINE_AT, KERNEL_AT, Kernel, SETUP_AT};
use bootsign_firmware_core::hash::PartialSha256;
use bootsign_firmware_core::proof::ImageProof;
use bootsign_script::Boot;

core::arch::global_asm!(include_str!("linux16.s"), options(att_syntax));

unsafe extern "C" {
    static linux16_start: u8;
    static linux16_params: u8;
    static linux16_end: u8;
}

/// Where the stub runs (`LINUX16_AT` in `linux16.s`): free conventional memory above the
/// BIOS data area, below where the kernel's setup code goes.
const LINUX16_AT: usize = 0x5000;

/// Bytes in page-aligned heap memory that is never freed: what the kernel reads after
/// this firmware is gone.
fn leak_aligned(bytes: &[u8]) -> Result<&'static [u8], String> {
    let layout = Layout::from_size_align(bytes.len().max(1), 4096).map_err(|_| String::from("too large"))?;
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { alloc(layout) };
    if ptr.is_null() {
        return Err(alloc::format!("out of memory for {} bytes", bytes.len()));
    }
    // SAFETY: `ptr` holds `bytes.len()` bytes, just allocated and never freed, so the
    // slice may live for the rest of the program.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
        Ok(core::slice::from_raw_parts(ptr, bytes.len()))
    }
}

/// A verified-or-admitted kernel, its command line and initrds, laid out for the 16-bit
/// entry; the error says why it cannot start. `release` runs at the last moment something
/// can still fail (it gives the NICs up: their DMA must stop before the jump).
pub fn boot(boot: &Boot<'_, ImageProof, PartialSha256>, release: impl FnOnce()) -> String {
    match prepare(boot) {
        Ok(handoff) => {
            release();
            handoff.jump()
        }
        Err(why) => why,
    }
}

/// What the stub needs: three copies and the setup segment.
struct Handoff {
    copies: [(u32, u32, u32); 3],
    setup_segment: u16,
    /// The buffers the copies read from, kept until the jump.
    _keep: Vec<&'static [u8]>,
}

fn prepare(boot: &Boot<'_, ImageProof, PartialSha256>) -> Result<Handoff, String> {
    // The gate's re-check: bytes that changed since `imgverify` are not started.
    let checked = boot.image().bytes()?;
    let name = alloc::string::ToString::to_string(&bootsign_pki::text::escape(boot.image().image().name()));
    let kernel =
        Kernel::parse(checked.as_slice()).map_err(|e| alloc::format!("'{name}' cannot be booted: {e}"))?;
    let initrds = boot.initrds().iter().map(|i| i.bytes()).collect::<Result<Vec<_>, _>>()?;
    let parts: Vec<&[u8]> = initrds.iter().map(|c| c.as_slice()).collect();
    let initrd = match parts.is_empty() {
        true => None,
        false => Some(leak_aligned(&bootsign_firmware_core::initrd::concatenate(&parts))?),
    };
    let cmdline = boot.image().image().cmdline();
    let room = crate::heap::kernel_room();
    let setup = kernel
        .plan(cmdline, initrd.map(|i| (i.as_ptr() as u64, i.len() as u64)), room)
        .map_err(|e| alloc::format!("'{name}' cannot be booted: {e}"))?;
    let setup = leak_aligned(&setup)?;
    let mut line = Vec::with_capacity(cmdline.len() + 1);
    line.extend_from_slice(cmdline.as_bytes());
    line.push(0);
    let line = leak_aligned(&line)?;
    let pm = leak_aligned(kernel.protected_mode())?;
    let at = |s: &[u8]| s.as_ptr() as u64;
    for s in [setup, line, pm] {
        if at(s) + s.len() as u64 > u64::from(u32::MAX) {
            return Err("the kernel's parts are above 4 GiB, out of the boot protocol's reach".into());
        }
    }
    Ok(Handoff {
        copies: [
            (at(pm) as u32, KERNEL_AT, pm.len() as u32),
            (at(setup) as u32, SETUP_AT, setup.len() as u32),
            (at(line) as u32, CMDLINE_AT, line.len() as u32),
        ],
        setup_segment: (SETUP_AT >> 4) as u16,
        _keep: [setup, line, pm].into_iter().chain(initrd).collect(),
    })
}

impl Handoff {
    /// Copies the stub to low memory with its parameters and jumps to it.
    fn jump(self) -> ! {
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
