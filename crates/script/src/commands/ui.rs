//! `menu`, `item`, `choose`, `prompt`, `read`: the console commands (the UI itself is
//! [`crate::ui`]).

use alloc::format;
use alloc::string::{String, ToString};

use super::{Options, integer, named, renew};
use crate::interp::{Flow, Interpreter, Machine, Outcome};
use crate::ui::line::{Unanswered, prompt, read_line};
use crate::ui::menu::{Choose, Item, Menu, NotChosen};
use crate::ui::{NO_INPUT, parse_key};

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
                let line =
                    read_line(&mut self.machine, &current, millis(&o, "timeout")?).map_err(unanswered)?;
                self.store(o.rest[0], &line)?;
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
