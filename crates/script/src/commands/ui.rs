//! `menu`, `item`, `choose`, `prompt`, `read`: the console commands (the UI itself is
//! [`crate::ui`]).

use alloc::format;
use alloc::string::{String, ToString};

use super::{Options, integer, named, renew, timeout};
use crate::interp::{Flow, Interpreter, Machine, Outcome};
use crate::ui::line::{Unanswered, prompt, read_line};
use crate::ui::menu::{Choose, Item, Menu, NotChosen};
use crate::ui::{NO_INPUT, colour, parse_key};

/// A `--timeout`/`--retimeout` value in milliseconds (0: none).
fn millis(o: &Options<'_>, name: &str) -> Result<u64, String> {
    timeout(o, name).map(|ms| ms.unwrap_or(0))
}

impl<M: Machine> Interpreter<M> {
    pub(super) fn ui_command(&mut self, command: &str, o: Options<'_>) -> Outcome {
        match command {
            // `menu [--name NAME] [--delete] [TITLE...]`: a new, empty menu (replacing
            // one of that name).
            "menu" => {
                let menu = Menu { title: o.rest.join(" "), items: alloc::vec::Vec::new() };
                renew(&mut self.menus, o.value("name").unwrap_or(""), o.has("delete"), menu);
                Ok(Flow::Next)
            }
            // `item [--menu NAME] [--key KEY] [--default] [--gap] [LABEL [TEXT...]]`.
            "item" => {
                if o.has("form") || o.has("secret") {
                    return Err(
                        "forms (item --form/--secret, present) are not supported by bootsign yet".into()
                    );
                }
                let key = o.value("key").map(parse_key).transpose()?;
                let (label, text) = match (o.has("gap"), o.rest.split_first()) {
                    (false, Some((label, text))) => (Some(label.to_string()), text.join(" ")),
                    (true, _) | (false, None) => (None, o.rest.join(" ")),
                };
                let i = named(&self.menus, o.value("menu").unwrap_or(""), "menu", "the menu command")?;
                self.menus[i].1.items.push(Item { label, text, key, default: o.has("default") });
                Ok(Flow::Next)
            }
            // `choose [--menu NAME] [--default LABEL] [--timeout MS] [--retimeout MS] [--keep] SETTING`.
            "choose" => {
                let how = Choose {
                    select: o.value("default"),
                    timeout_ms: millis(&o, "timeout")?,
                    retimeout_ms: millis(&o, "retimeout")?,
                    palette: Some(&self.palette),
                };
                let index = named(&self.menus, o.value("menu").unwrap_or(""), "menu", "the menu command")?;
                let result = self.menus[index].1.choose(&mut self.machine, how);
                if !o.has("keep") {
                    self.menus.remove(index);
                }
                match result {
                    Ok(label) => {
                        self.store(o.rest[0], &label)?;
                        Ok(Flow::Next)
                    }
                    Err(NotChosen::Cancelled) => Err("cancelled".into()),
                    Err(NotChosen::Empty) => Err("the menu has no entry to choose".into()),
                    Err(NotChosen::NoInput) => Err(NO_INPUT.into()),
                }
            }
            // `prompt [--key KEY] [--timeout MS] [TEXT...]`.
            "prompt" => {
                let key = o.value("key").map(parse_key).transpose()?;
                let text = o.rest.join(" ");
                prompt(&mut self.machine, &text, key, millis(&o, "timeout")?).map_err(unanswered)?;
                Ok(Flow::Next)
            }
            // `read [--timeout MS] SETTING`: edits the setting's current value.
            "read" => {
                let current = self.setting(o.rest[0]).unwrap_or_default();
                let line = read_line(&mut self.machine, &current, millis(&o, "timeout")?, false)
                    .map_err(unanswered)?;
                self.store(o.rest[0], &line)?;
                Ok(Flow::Next)
            }
            // `colour [--basic N] [--rgb 0xRRGGBB] INDEX`.
            "colour" => {
                let basic = o.integer_or("basic", u64::from(colour::DEFAULT))?;
                let rgb = o.value("rgb").map(|v| integer(v, "--rgb")).transpose()?;
                self.palette.define_colour(integer(o.rest[0], "colour")?, basic, rgb)?;
                Ok(Flow::Next)
            }
            // `cpair [--foreground C] [--background C] PAIR`.
            "cpair" => {
                let default = u64::from(colour::DEFAULT);
                let (fg, bg) = (o.integer_or("foreground", default)?, o.integer_or("background", default)?);
                self.palette.define_pair(integer(o.rest[0], "cpair")?, fg, bg)?;
                Ok(Flow::Next)
            }
            // `console [--x W] [--y H] [--left L] [--right R] [--top T] [--bottom B]
            // [--depth BPP] [--picture URI] [--keep]`: bootsign draws on the platform's
            // text console, so it can choose the console's size; margins and depth are
            // read (and must be numbers) but have nothing to apply to, and a picture needs
            // a framebuffer console, which it does not draw.
            "console" => {
                let mut numbers = [0u64; 7];
                for (n, option) in
                    numbers.iter_mut().zip(["x", "y", "left", "right", "top", "bottom", "depth"])
                {
                    *n = o.integer_or(option, 0)?;
                }
                if o.has("picture") {
                    return Err("--picture: a background picture needs a framebuffer console, \
                                which bootsign does not draw (it uses the platform's text console)"
                        .into());
                }
                let (width, height) = (numbers[0] as u32, numbers[1] as u32);
                if width > 0 || height > 0 {
                    self.machine.console_size(width, height)?;
                }
                self.machine.colours(None, None);
                self.machine.clear_screen();
                Ok(Flow::Next)
            }
            // `login`: asks for `username` and `password` (shown as `*`), starting from
            // their values; Escape or Ctrl-C fails the command and changes neither.
            "login" => {
                let failed = |u| format!("could not set credentials: {}", unanswered(u));
                let mut answers = [String::new(), String::new()];
                for (answer, (label, name)) in
                    answers.iter_mut().zip([("Username", "username"), ("Password", "password")])
                {
                    let current = self.setting(name).unwrap_or_default();
                    self.machine.print(&format!("{label}: "));
                    *answer =
                        read_line(&mut self.machine, &current, 0, name == "password").map_err(failed)?;
                }
                self.store("username", &answers[0])?;
                self.store("password", &answers[1])?;
                Ok(Flow::Next)
            }
            _ => unreachable!("dispatched by name"),
        }
    }
}

fn unanswered(u: Unanswered) -> String {
    match u {
        // A prompt that times out fails quietly: that is how scripts branch on it.
        Unanswered::TimedOut => String::new(),
        Unanswered::Cancelled => "cancelled".into(),
        Unanswered::NoInput => NO_INPUT.into(),
    }
}
