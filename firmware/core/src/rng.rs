//! Randomness for TLS: the platform's own source where it has one (UEFI's
//! EFI_RNG_PROTOCOL), else the CPU's RDRAND, else an HMAC-DRBG seeded from CPU timing
//! jitter behind the SP 800-90B health tests (crates/entropy). Never a fixed or time-derived seed: when the jitter source fails
//! its health tests, HTTPS is refused with the failed test named.
//!
//! The machine part of the jitter source lives here: the TSC read across a round of
//! memory accesses spread over a buffer larger than the L2 cache, one page apart, one raw
//! sample per round. Cache, TLB and memory timing (and, in a virtual machine, the host's scheduling)
//! make those differences vary; the crate decides whether they vary enough.

use alloc::vec;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Once;

use bootsign_entropy::{HealthError, HmacDrbg, JitterSource, Seed};
use bootsign_tls::{RandomSource, RngError};

/// A platform's own random source (UEFI's EFI_RNG_PROTOCOL).
pub trait PlatformRandom: Sync {
    /// Its name, for the banner.
    fn name(&self) -> &'static str;
    /// Fills `buf`; false when the source failed.
    fn fill(&self, buf: &mut [u8]) -> bool;
}

static PLATFORM: Once<&'static dyn PlatformRandom> = Once::new();

/// The firmware's random source.
#[derive(Debug)]
pub struct FirmwareRng;

pub static RNG: FirmwareRng = FirmwareRng;

/// Which source serves the random bytes, as [`init`] found it.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// Nothing chosen yet: [`init`] has not run.
    Unset,
    /// The platform's own source, by name.
    Platform(&'static str),
    Rdrand,
    /// The jitter-seeded DRBG: samples tested for the first seed, and how long they took.
    Jitter {
        samples: u64,
        ms: u64,
    },
    /// The jitter source failed its health tests: no randomness.
    Failed(HealthError),
}

/// Memory the workload walks: 4 MiB, more than the L2 cache of most x86 cores and more
/// pages than a TLB maps, so accesses miss caches and TLBs in varying ways (and, under
/// emulation, the emulator's own software TLB and the host's caches). With an L1-sized
/// buffer the differences under QEMU's TCG were too regular on a loaded host: up to 82 %
/// of a window alike, and three quarters of the samples stuck.
const WORKLOAD_BYTES: usize = 4 << 20;
/// Accesses per sample.
const ACCESSES: usize = 64;
/// The walk's step: a page and some lines and a byte, odd, so every access lands on
/// another page and line, and the walk covers the whole buffer before repeating.
const STRIDE: usize = 4096 + 64 * 7 + 1;

/// The jitter state: the source (whose health tests run on every sample, reseeds
/// included), the generator it keys and the workload's memory.
struct Jitter {
    source: JitterSource,
    drbg: Option<HmacDrbg>,
    memory: Vec<u8>,
    pos: usize,
}

/// The state behind [`RNG`], for a single-threaded firmware: a busy flag instead of a
/// lock that could spin forever.
struct State {
    busy: AtomicBool,
    source: UnsafeCell<Source>,
    jitter: UnsafeCell<Option<Jitter>>,
}

// SAFETY: UEFI boot services run on one processor with no preemption of this code by
// itself; every access to the cells goes through `State::with`, which takes the busy flag
// first and refuses re-entry, so no two references to the contents exist at once.
unsafe impl Sync for State {}

static STATE: State = State {
    busy: AtomicBool::new(false),
    source: UnsafeCell::new(Source::Unset),
    jitter: UnsafeCell::new(None),
};

impl State {
    fn with<R>(&self, f: impl FnOnce(&mut Source, &mut Option<Jitter>) -> R) -> Option<R> {
        if self.busy.swap(true, Ordering::Acquire) {
            return None;
        }
        // SAFETY: the busy flag is ours (taken above, released below), so these are the
        // only references to the cells' contents while `f` runs.
        let r = unsafe { f(&mut *self.source.get(), &mut *self.jitter.get()) };
        self.busy.store(false, Ordering::Release);
        Some(r)
    }
}

use crate::clock::tsc;

impl Jitter {
    /// One raw sample: the TSC difference across one round of the memory workload.
    fn sample(&mut self) -> u64 {
        let t0 = tsc();
        for _ in 0..ACCESSES {
            self.pos = (self.pos + STRIDE) % WORKLOAD_BYTES;
            self.memory[self.pos] = self.memory[self.pos].wrapping_add(1);
        }
        core::hint::black_box(&mut self.memory);
        tsc().wrapping_sub(t0)
    }

    /// Samples until the source yields a seed or fails a health test.
    fn next_seed(&mut self) -> Result<Seed, HealthError> {
        loop {
            let delta = self.sample();
            if let Some(seed) = self.source.push(delta)? {
                return Ok(seed);
            }
        }
    }
}

fn rdrand_supported() -> bool {
    core::arch::x86_64::__cpuid_count(1, 0).ecx & (1 << 30) != 0
}

fn rdrand64() -> Option<u64> {
    // Intel's guidance: retry a few times; a persistent failure means a broken RNG.
    for _ in 0..10 {
        let (value, ok): (u64, u8);
        // SAFETY: RDRAND is present (checked by the caller via CPUID); it only writes
        // the output register and the carry flag.
        unsafe {
            core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok, options(nomem, nostack));
        }
        // All ones with the carry set is what some AMD parts return once RDRAND is
        // broken (after a resume, or on old microcode): never a value to use.
        if ok == 1 && value != u64::MAX {
            return Some(value);
        }
    }
    None
}

/// RDRAND's self-test before it is chosen: eight values, none failing, none all ones and
/// no two alike (a stuck generator), as Linux and systemd check it. A broken RDRAND
/// leaves the choice to the jitter source.
fn rdrand_works() -> bool {
    let mut seen = [0u64; 8];
    for i in 0..seen.len() {
        let Some(v) = rdrand64() else { return false };
        if seen[..i].contains(&v) {
            return false;
        }
        seen[i] = v;
    }
    true
}

fn from_rdrand(buf: &mut [u8]) -> Result<(), RngError> {
    for chunk in buf.chunks_mut(8) {
        let v = rdrand64().ok_or(RngError)?.to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    Ok(())
}

/// Chooses the source: the platform's (`platform`), else RDRAND, else the jitter source,
/// whose start-up test and first seed run now. Returns what was chosen, for the banner.
pub fn init(clock: &crate::clock::Clock, platform: Option<&'static dyn PlatformRandom>) -> Source {
    let source = if let Some(platform) = platform {
        PLATFORM.call_once(|| platform);
        Source::Platform(platform.name())
    } else if rdrand_supported() && rdrand_works() {
        Source::Rdrand
    } else {
        let started = clock.now_ms();
        let mut jitter =
            Jitter { source: JitterSource::new(), drbg: None, memory: vec![0; WORKLOAD_BYTES], pos: 0 };
        // The nonce: half of a second seed, so it carries entropy of its own rather than
        // being a timestamp taken next to the first (SP 800-90A §8.6.7 prefers that).
        let source = match jitter.next_seed().and_then(|seed| Ok((seed, jitter.next_seed()?))) {
            Ok((seed, nonce)) => {
                jitter.drbg = Some(HmacDrbg::new(&seed.0, &nonce.0[..16], b"bootsign firmware"));
                Source::Jitter { samples: jitter.source.samples(), ms: clock.now_ms() - started }
            }
            Err(e) => Source::Failed(e),
        };
        STATE.with(|_, j| *j = Some(jitter));
        source
    };
    STATE.with(|s, _| *s = source);
    source
}

impl Source {
    /// The banner's line: which source serves.
    pub fn describe(&self) -> alloc::string::String {
        match self {
            Self::Unset => "randomness not initialised".into(),
            Self::Platform(name) => alloc::format!("randomness from {name}"),
            Self::Rdrand => "randomness from RDRAND".into(),
            Self::Jitter { samples, ms } => alloc::format!(
                "randomness from CPU timing jitter (SP 800-90B health tests passed, {samples} samples, {ms} ms)"
            ),
            Self::Failed(e) => {
                alloc::format!("no randomness: CPU timing jitter is unusable: {e}; HTTPS will be refused")
            }
        }
    }
}

impl FirmwareRng {
    /// `Ok` when random bytes can be had; otherwise why not, and what a person can do.
    pub fn ready(&self) -> Result<(), alloc::string::String> {
        let source = STATE.with(|s, _| *s).unwrap_or(Source::Unset);
        let failed = match source {
            Source::Platform(_) | Source::Rdrand | Source::Jitter { .. } => {
                match STATE.with(|_, j| j.as_ref().and_then(|j| j.source.failure())) {
                    Some(Some(e)) => e,
                    _ => return Ok(()),
                }
            }
            Source::Failed(e) => e,
            Source::Unset => return Err("the random number source was not initialised".into()),
        };
        Err(alloc::format!(
            "HTTPS needs randomness and this machine has neither a platform random source (UEFI: EFI_RNG_PROTOCOL) nor RDRAND, and its CPU timing \
             jitter is unusable: {failed}; add a virtio-rng device to the VM (QEMU: -device virtio-rng-pci) or give \
             it a CPU model with RDRAND (QEMU: -cpu host or -cpu max)"
        ))
    }
}

impl RandomSource for FirmwareRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        let source = STATE.with(|s, _| *s).ok_or(RngError)?;
        match source {
            Source::Platform(_) => {
                if PLATFORM.get().is_some_and(|p| p.fill(buf)) {
                    return Ok(());
                }
                if rdrand_supported() {
                    return from_rdrand(buf);
                }
                Err(RngError)
            }
            Source::Rdrand => from_rdrand(buf),
            Source::Jitter { .. } => {
                STATE.with(|_, j| fill_from_jitter(j.as_mut().ok_or(RngError)?, buf)).ok_or(RngError)?
            }
            Source::Unset | Source::Failed(_) => Err(RngError),
        }
    }
}

/// Fills from the DRBG, reseeding it from fresh jitter (health-tested like the first seed)
/// when its interval is up; a health-test failure then stops all further output.
fn fill_from_jitter(jitter: &mut Jitter, buf: &mut [u8]) -> Result<(), RngError> {
    for chunk in buf.chunks_mut(bootsign_entropy::drbg::MAX_REQUEST_BYTES) {
        if jitter.drbg.as_ref().ok_or(RngError)?.needs_reseed() {
            let seed = jitter.next_seed().map_err(|_| RngError)?;
            jitter.drbg.as_mut().ok_or(RngError)?.reseed(&seed.0, &tsc().to_le_bytes());
        }
        jitter.drbg.as_mut().ok_or(RngError)?.generate(chunk, &[]).map_err(|_| RngError)?;
    }
    Ok(())
}
