//! Arbitrary bytes as a boot image (ROM, ISO, GPT or MBR disk, FAT, or a bare program):
//! finding the program must never panic or loop, its size can never exceed the input's
//! (so a declared size is never allocated on trust), and the bytes read stay within a
//! small multiple of the input. The same bytes as a BIOS `sanboot` image: a CD's boot
//! image lies within the input and in conventional memory, a disk has its 55 AA.
#![no_main]

use bootsign_image_read::{BiosBoot, Error, ReadAt, bios_boot, read_boot_program};
use libfuzzer_sys::fuzz_target;

/// The slice, counting what is read.
struct Counted<'a> {
    data: &'a [u8],
    read: u64,
}

impl ReadAt for Counted<'_> {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.read += buf.len() as u64;
        let mut data = self.data;
        data.read_at(offset, buf)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut image = Counted { data, read: 0 };
    match read_boot_program(&mut image, 64 << 20) {
        Ok(found) => {
            assert!(found.program.len() <= data.len());
            let _ = found.format.name();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match bios_boot(&mut image) {
        Ok(BiosBoot::Cd { lba, sectors, load_segment }) => {
            let len = u64::from(sectors) * 512;
            assert!(sectors > 0 && u64::from(lba) * 2048 + len <= data.len() as u64);
            assert!(load_segment >= 0x50 && u64::from(load_segment) * 16 + len <= 0xa_0000);
        }
        Ok(BiosBoot::Disk) => assert_eq!(data.get(510..512), Some([0x55, 0xaa].as_slice())),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let bound = 64 * data.len() as u64 + (1 << 20);
    assert!(image.read <= bound, "read {} bytes of a {}-byte image", image.read, data.len());
});
