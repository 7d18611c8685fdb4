//! `menu`, `item`, `choose`, `prompt`, `read`: the console commands (the UI itself is
//! [`crate::ui`]).

use alloc::format;
use alloc::string::{String, ToString};

use super::{Options, integer};
use crate::interp::{Flow, Interpreter, Machine, Outcome};
use crate::ui::line::{Unanswered, prompt, read_line};
use crate::ui::menu::{Choose, Item, Menu, NotChosen};
use crate::ui::parse_key;

/// A `--timeout`/`--retimeout` value in milliseconds (0: none).
fn millis(o: &Options<'_>, name: &str) -> Result<u64, String> {
    o.value(name).map_or(Ok(0), |v| integer(v, &format!("--{name}")))
}

impl<M: Machine> Interpreter<M> {
    pub(super) fn ui_command(&mut self, command: &str, o: Options<'_>) -> Outcome {
        match command {
            // `menu [--name NAME] [--delete] [TITLE...]`: a new, empty menu (replacing
            // one of that name).
            "menu" => {
                let name = o.value("name").unwrap_or("").to_string();
                self.menus.retain(|(n, _)| *n != name);
                if !o.has("delete") {
                    self.menus.push((name, Menu { title: o.rest.join(" "), items: alloc::vec::Vec::new() }));
                }
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
                let menu = self.menu_mut(o.value("menu"))?;
                menu.items.push(Item { label, text, key, default: o.has("default") });
                Ok(Flow::Next)
            }
            // `choose [--menu NAME] [--default LABEL] [--timeout MS] [--retimeout MS] [--keep] SETTING`.
            "choose" => {
                let how = Choose {
                    select: o.value("default"),
                    timeout_ms: millis(&o, "timeout")?,
                    retimeout_ms: millis(&o, "retimeout")?,
                };
                let name = o.value("menu").unwrap_or("");
                let index = self.menu_index(Some(name))?;
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
                    Err(NotChosen::NoInput) => Err("no key can arrive: this console has no input".into()),
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
                let line =
                    read_line(&mut self.machine, &current, millis(&o, "timeout")?).map_err(unanswered)?;
                self.store(o.rest[0], &line)?;
                Ok(Flow::Next)
            }
            _ => unreachable!("dispatched by name"),
        }
    }

    fn menu_index(&self, name: Option<&str>) -> Result<usize, String> {
        let name = name.unwrap_or("");
        self.menus.iter().rposition(|(n, _)| n == name).ok_or_else(|| match name {
            "" => "no menu: make one with the menu command first".to_string(),
            n => format!("no menu named '{n}'"),
        })
    }

    fn menu_mut(&mut self, name: Option<&str>) -> Result<&mut Menu, String> {
        let i = self.menu_index(name)?;
        Ok(&mut self.menus[i].1)
    }
}

fn unanswered(u: Unanswered) -> String {
    match u {
        // A prompt that times out fails quietly: that is how scripts branch on it.
        Unanswered::TimedOut => String::new(),
        Unanswered::Cancelled => "cancelled".into(),
        Unanswered::NoInput => "no key can arrive: this console has no input".into(),
    }
}
