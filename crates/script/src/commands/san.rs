//! `sanboot` and `sanhook`: a disk or CD image served over HTTP(S) (or already loaded),
//! booted or attached through the platform like a local disk; `sanboot` with no image
//! boots the local disk.

use alloc::format;
use alloc::string::ToString;

use super::{Options, integer};
use crate::gate;
use crate::interp::{Flow, Interpreter, Machine, Outcome};

impl<M: Machine> Interpreter<M> {
    pub(super) fn san_command(&mut self, command: &str, o: Options<'_>) -> Outcome {
        for unsupported in ["extra", "label", "uuid"] {
            if o.has(unsupported) {
                return Err(format!("{command} --{unsupported} is not supported by bootsign yet"));
            }
        }
        let drive = match o.value("drive") {
            Some(d) => {
                u32::try_from(integer(d, "--drive")?).map_err(|_| format!("--drive: '{d}' is too large"))?
            }
            None => 0x80,
        };
        let index = match o.rest[..] {
            [] => None,
            [target] => Some(self.disk_image(target)?),
            _ => return Err(format!("{command}: several URIs (multipath) are not supported by bootsign")),
        };
        if let Some(i) = index {
            self.images[i].kind = crate::image::ImageKind::Disk;
        }
        let image = index.map(|i| &self.images[i]);
        let san = gate::san(&self.trust, image, drive, o.value("filename").map(ToString::to_string))?;
        if command == "sanhook" {
            let said = self.machine.sanhook(san)?;
            self.machine.print(&format!("{said}\n"));
            return Ok(Flow::Next);
        }
        Err(self.machine.sanboot(san))
    }

    /// The image `target` names, else `target` downloaded; SAN protocols other than
    /// HTTP(S) are refused with what to do instead.
    fn disk_image(&mut self, target: &str) -> Result<usize, alloc::string::String> {
        if let Ok(i) = self.find(target) {
            return Ok(i);
        }
        let scheme = target.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        if let Some(s @ ("iscsi" | "aoe" | "fcp" | "ib_srp" | "nfs")) = scheme.as_deref() {
            return Err(format!(
                "{s}: network disk protocols are not supported by bootsign; serve the disk or ISO image over \
                 HTTP(S) and sanboot its URL"
            ));
        }
        self.download(target, None)
    }
}
