//! `colour` and `cpair`: iPXE's console colours. A colour index (0–7: black, red, green,
//! yellow, blue, magenta, cyan, white) is shown as a basic colour (by default itself;
//! `colour --basic` changes it, 9 is the console's default) and may carry a 24-bit RGB
//! value (`--rgb`), which a text console cannot show. A pair is a foreground and a
//! background index; menus draw with pairs 1 (entries), 2 (the selected entry) and 3
//! (separators), as iPXE's do, in iPXE's default colours.

use alloc::format;
use alloc::string::String;

/// The console's default colour. A basic colour from 8 up shows as it: 9 is the default
/// itself, and iPXE's "magic" ones (15 and up) are transparent over a picture, which a
/// text console does not have.
pub const DEFAULT: u8 = 9;

/// The pairs iPXE's user interface draws with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pair {
    /// 0: the console's default colours.
    Default = 0,
    /// 1: normal text (menu entries).
    Normal = 1,
    /// 2: the selected menu entry.
    Select = 2,
    /// 3: separators.
    Separator = 3,
}

/// The colours and pairs, as `colour` and `cpair` define them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Palette {
    basic: [u8; 8],
    rgb: [Option<u32>; 8],
    pairs: [(u8, u8); 8],
}

impl Default for Palette {
    /// iPXE's defaults (`config/colour.h`): white on blue, white on red for the
    /// selection, cyan on blue for separators, black on cyan for edit boxes, white on red
    /// for alerts, cyan on blue for URLs, black on white for the PXE menu.
    fn default() -> Self {
        let (black, red, cyan, white, blue) = (0, 1, 6, 7, 4);
        Self {
            basic: [0, 1, 2, 3, 4, 5, 6, 7],
            rgb: [None; 8],
            pairs: [
                (DEFAULT, DEFAULT),
                (white, blue),
                (white, red),
                (cyan, blue),
                (black, cyan),
                (white, red),
                (cyan, blue),
                (black, white),
            ],
        }
    }
}

fn index(value: u64, what: &str) -> Result<usize, String> {
    usize::try_from(value).ok().filter(|&i| i < 8).ok_or_else(|| format!("{what} {value} is not from 0 to 7"))
}

impl Palette {
    /// `colour [--basic N] [--rgb 0xRRGGBB] INDEX`.
    pub fn define_colour(&mut self, colour: u64, basic: u64, rgb: Option<u64>) -> Result<(), String> {
        let i = index(colour, "colour")?;
        self.basic[i] = u8::try_from(basic).unwrap_or(u8::MAX);
        self.rgb[i] = rgb.map(|v| (v & 0xff_ffff) as u32);
        Ok(())
    }

    /// `cpair [--foreground C] [--background C] PAIR`; a colour outside 0–7 is the
    /// console's default.
    pub fn define_pair(&mut self, pair: u64, foreground: u64, background: u64) -> Result<(), String> {
        let i = index(pair, "colour pair")?;
        let colour = |c: u64| u8::try_from(c).ok().filter(|&c| c < 8).unwrap_or(DEFAULT);
        self.pairs[i] = (colour(foreground), colour(background));
        Ok(())
    }

    /// The basic colours (0–7; `None`: the console's default) `pair` shows as:
    /// foreground, background.
    pub fn resolve(&self, pair: Pair) -> (Option<u8>, Option<u8>) {
        let (fg, bg) = self.pairs[pair as usize];
        let basic = |c: u8| {
            let b = *self.basic.get(usize::from(c))?;
            (b < 8).then_some(b)
        };
        (basic(fg), basic(bg))
    }

    /// The RGB value colour `index` was given, which a framebuffer console would show.
    pub fn rgb(&self, index: usize) -> Option<u32> {
        self.rgb.get(index).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_redefinitions_as_ipxe() {
        let mut p = Palette::default();
        assert_eq!(p.resolve(Pair::Normal), (Some(7), Some(4)));
        assert_eq!(p.resolve(Pair::Select), (Some(7), Some(1)));
        assert_eq!(p.resolve(Pair::Separator), (Some(6), Some(4)));
        assert_eq!(p.resolve(Pair::Default), (None, None));
        // cpair: colours outside 0-7 are the default.
        p.define_pair(1, 2, 9).unwrap();
        assert_eq!(p.resolve(Pair::Normal), (Some(2), None));
        // colour --basic: index 4 (blue) shown as basic 0 (black); 9 or magic: default.
        p.define_pair(2, 7, 4).unwrap();
        p.define_colour(4, 0, Some(0x1122_3344)).unwrap();
        assert_eq!(p.resolve(Pair::Select), (Some(7), Some(0)));
        assert_eq!(p.rgb(4), Some(0x22_3344));
        p.define_colour(4, 15, None).unwrap();
        assert_eq!(p.resolve(Pair::Select), (Some(7), None));
        assert_eq!(p.define_colour(8, 1, None).unwrap_err(), "colour 8 is not from 0 to 7");
        assert_eq!(p.define_pair(9, 1, 1).unwrap_err(), "colour pair 9 is not from 0 to 7");
    }
}
