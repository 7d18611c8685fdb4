//! Menus: `menu` makes one, `item` adds entries, `choose` shows it and returns the chosen
//! entry's label, as iPXE's menus behave:
//!
//! - the default entry is `choose --default LABEL`'s, else the last `item --default`,
//!   else the first entry with a label; entries without a label (`item --gap`) are text
//!   and cannot be selected;
//! - Up/Down, PageUp/PageDown and Home/End move (skipping gaps), Enter chooses, an
//!   entry's `--key` chooses it at once, Escape or Ctrl-C cancels (`choose` fails);
//! - with `--timeout MS` the selected entry shows the seconds left and is chosen when
//!   they run out; a key stops the countdown (or restarts it from `--retimeout`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::Key;
use super::colour::{Pair, Palette};
use crate::interp::Machine;

/// Width of the console the menu is laid out for.
const COLUMNS: usize = 80;

/// A menu.
#[derive(Clone, Debug, Default)]
pub struct Menu {
    /// Its title, centred above the entries.
    pub title: String,
    /// Its entries, in order.
    pub items: Vec<Item>,
}

/// An entry.
#[derive(Clone, Debug)]
pub struct Item {
    /// What `choose` stores; `None` for a gap (text only).
    pub label: Option<String>,
    /// What is shown.
    pub text: String,
    /// The key that chooses it at once.
    pub key: Option<Key>,
    /// Whether it is selected first.
    pub default: bool,
}

/// How `choose` shows a menu.
#[derive(Clone, Copy, Debug, Default)]
pub struct Choose<'a> {
    /// The label selected first (`--default`).
    pub select: Option<&'a str>,
    /// Milliseconds until the selected entry is chosen (`--timeout`; 0: none).
    pub timeout_ms: u64,
    /// The countdown after a key (`--retimeout`; 0: none).
    pub retimeout_ms: u64,
    /// The colours to draw in.
    pub palette: Option<&'a Palette>,
}

/// Why `choose` chose nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotChosen {
    /// Escape or Ctrl-C.
    Cancelled,
    /// The menu has no entry with a label.
    Empty,
    /// No timeout and no key will ever come (a console without input).
    NoInput,
}

impl Menu {
    /// Shows the menu on `machine` and returns the chosen entry's label. The screen is
    /// cleared in the console's default colours afterwards, as iPXE leaves it.
    pub fn choose<M: Machine + ?Sized>(&self, machine: &mut M, how: Choose<'_>) -> Result<String, NotChosen> {
        let result = self.run(machine, how);
        machine.colours(None, None);
        machine.clear_screen();
        result
    }

    fn run<M: Machine + ?Sized>(&self, machine: &mut M, how: Choose<'_>) -> Result<String, NotChosen> {
        let default_palette = Palette::default();
        let palette = how.palette.unwrap_or(&default_palette);
        let selectable: Vec<usize> =
            (0..self.items.len()).filter(|&i| self.items[i].label.is_some()).collect();
        let first = *selectable.first().ok_or(NotChosen::Empty)?;
        let mut current = match how.select {
            Some(label) => {
                selectable.iter().copied().find(|&i| self.items[i].label.as_deref() == Some(label))
            }
            None => selectable.iter().copied().rfind(|&i| self.items[i].default),
        }
        .unwrap_or(first);
        let mut remaining = how.timeout_ms;
        loop {
            self.draw(machine, current, remaining, palette);
            // Wait out the rest of the current second, so the countdown ticks.
            let wait = match remaining {
                0 => None,
                r if r % 1000 == 0 => Some(1000),
                r => Some(r % 1000),
            };
            remaining -= wait.unwrap_or(0);
            let Some(key) = machine.key(wait) else {
                match wait {
                    None => return Err(NotChosen::NoInput),
                    Some(_) if remaining == 0 => break,
                    Some(_) => continue,
                }
            };
            remaining = how.retimeout_ms;
            if key.is_cancel() {
                return Err(NotChosen::Cancelled);
            }
            if key.is_enter() {
                break;
            }
            let step = |from: usize, down: bool, count: usize| -> usize {
                let pos = selectable.iter().position(|&i| i == from).unwrap_or(0);
                let to =
                    if down { (pos + count).min(selectable.len() - 1) } else { pos.saturating_sub(count) };
                selectable[to]
            };
            current = match key {
                Key::Up => step(current, false, 1),
                Key::Down => step(current, true, 1),
                Key::PageUp => step(current, false, 10),
                Key::PageDown => step(current, true, 10),
                Key::Home => first,
                Key::End => *selectable.last().unwrap_or(&first),
                Key::Char(_) => match self.items.iter().position(|i| i.key == Some(key)) {
                    Some(i) if self.items[i].label.is_some() => {
                        current = i;
                        break;
                    }
                    // A gap's key moves to the entry after it.
                    Some(i) => selectable.iter().copied().find(|&s| s > i).unwrap_or(current),
                    None => current,
                },
            };
        }
        Ok(self.items[current].label.clone().unwrap_or_default())
    }

    /// Draws the whole menu: the title centred, a blank line, the entries; the selected
    /// one marked `>` and, while a countdown runs, followed by the seconds left.
    /// Drawn in the palette's pairs: entries and the title in pair 1, the selected
    /// entry in pair 2, separators in pair 3.
    fn draw<M: Machine + ?Sized>(
        &self,
        machine: &mut M,
        current: usize,
        remaining_ms: u64,
        palette: &Palette,
    ) {
        let pair = |machine: &mut M, p: Pair| {
            let (fg, bg) = palette.resolve(p);
            machine.colours(fg, bg);
        };
        pair(machine, Pair::Normal);
        machine.clear_screen();
        let mut text = String::new();
        let title_width = self.title.chars().count().min(COLUMNS);
        text.push_str(&" ".repeat((COLUMNS - title_width) / 2));
        text.push_str(&self.title);
        text.push_str("\n\n");
        for (i, item) in self.items.iter().enumerate() {
            let p = match (i == current, item.label.is_some()) {
                (true, _) => Pair::Select,
                (false, true) => Pair::Normal,
                (false, false) => Pair::Separator,
            };
            if p != Pair::Normal {
                machine.print(&text);
                text.clear();
                pair(machine, p);
            }
            let marker = if i == current { "> " } else { "  " };
            text.push_str(marker);
            text.push_str(&item.text);
            if i == current && remaining_ms > 0 {
                text.push_str(&format!(" ({})", remaining_ms.div_ceil(1000)));
            }
            if p != Pair::Normal {
                machine.print(&text);
                text.clear();
                pair(machine, Pair::Normal);
            }
            text.push('\n');
        }
        machine.print(&text);
    }
}
