//! The image commands: `kernel`/`imgselect`/`imgload`, `imgfetch`/`module`/`initrd`,
//! `chain`/`imgexec`/`boot`, `imgargs`, `imgverify`, `imgtrust`, `imgfree`, `imgstat`.
//!
//! As in iPXE, a command given a name or URI first looks for a loaded image of that name
//! and downloads only when there is none (`imgexec kernel` runs the image called
//! `kernel`), and one given nothing works on the selected image.

use alloc::format;
use alloc::string::{String, ToString};

use bootsign_http::url::redact;

use super::{Options, named, renew, timeout};
use crate::image::{Image, ImageKind};
use crate::interp::{Flow, Interpreter, Machine, Outcome};

/// The last path segment of a URI, the default image name (`image` when the URI has
/// no path: the host and any credentials are never a name).
fn basename(uri: &str) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => path,
    };
    let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or(path);
    if name.is_empty() { "image".into() } else { name.into() }
}

impl<M: Machine> Interpreter<M> {
    pub(super) fn image_command(&mut self, command: &str, o: Options<'_>) -> Outcome {
        match command {
            "kernel" | "imgselect" | "imgload" => {
                self.single(&o, Some(ImageKind::Executable)).map(|_| Flow::Next)
            }
            "imgfetch" => self.single(&o, Some(ImageKind::Other)).map(|_| Flow::Next),
            "module" => self.single(&o, Some(ImageKind::Module)).map(|_| Flow::Next),
            "initrd" => self.single(&o, Some(ImageKind::Initrd)).map(|_| Flow::Next),
            // `shim [--timeout MS] [--require-loader] [--allow-pxe] [--allow-sbat] [NAME|URI]`:
            // the shim that starts the next EFI program the platform's Secure Boot refuses
            // (with none given, no shim). One at a time, as in iPXE.
            "shim" => {
                for img in self.images.iter_mut().filter(|i| i.kind == ImageKind::Shim) {
                    img.kind = ImageKind::Other;
                }
                if !o.rest.is_empty() {
                    self.single(&o, Some(ImageKind::Shim))?;
                }
                Ok(Flow::Next)
            }
            // `--autofree`: the image is freed once run, whatever happened (a script is
            // freed anyway). `--replace`: it replaces the running script, which ends
            // here with the image's result, as iPXE's image_replace.
            "chain" | "imgexec" | "boot" => {
                let index =
                    self.single(&o, None)?.ok_or("no image selected (load one with kernel or chain)")?;
                let name = self.images[index].name.clone();
                let result = self.execute(index);
                if o.has("autofree") {
                    self.images.retain(|i| i.name != name);
                }
                match result {
                    Ok(Flow::Next) if o.has("replace") => Ok(Flow::Exit(0)),
                    other => other,
                }
            }
            "imgargs" => {
                let (name, words) = o.rest.split_first().expect("the spec asks for an image");
                let i = self.find(name)?;
                self.images[i].cmdline = words.join(" ");
                Ok(Flow::Next)
            }
            "imgverify" => self.imgverify(&o),
            "imgtrust" => self.imgtrust(&o),
            "imgfree" => {
                if o.rest.is_empty() {
                    self.images.clear();
                }
                for name in o.rest {
                    let i = self.find(name)?;
                    self.images.remove(i);
                }
                Ok(Flow::Next)
            }
            "imgstat" => {
                let mut text = String::new();
                for img in
                    self.images.iter().filter(|i| o.rest.is_empty() || o.rest.contains(&i.name.as_str()))
                {
                    let kind = match img.kind {
                        ImageKind::Executable => "[SELECTED]",
                        ImageKind::Initrd => "[INITRD]",
                        ImageKind::Module => "[MODULE]",
                        ImageKind::Disk => "[SAN]",
                        ImageKind::Shim => "[SHIM]",
                        ImageKind::Other => "",
                    };
                    let trust = if img.proof.is_some() { "[VERIFIED]" } else { "" };
                    text.push_str(&format!(
                        "{} : {} bytes {kind}{trust} {}\n",
                        img.name,
                        img.data.len(),
                        img.cmdline
                    ));
                }
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            _ => unreachable!("dispatched by name"),
        }
    }

    pub(crate) fn find(&self, name: &str) -> Result<usize, String> {
        self.images
            .iter()
            .rposition(|i| i.name == name)
            .ok_or_else(|| format!("no image named '{name}' (see imgstat)"))
    }

    /// `[--name NAME] [--timeout MS] [--autofree] [--replace] [NAME|URI [ARGS...]]`: the
    /// image of that name if one is loaded, else the URI downloaded; with nothing, the
    /// selected image (`Ok(None)` if there is none). Arguments replace its command line;
    /// `kind` (when given) is its new role, and selecting one demotes the previous.
    fn single(&mut self, o: &Options<'_>, kind: Option<ImageKind>) -> Result<Option<usize>, String> {
        let timeout = timeout(o, "timeout")?;
        let index = match o.rest.split_first() {
            Some((name_uri, cmdline)) => {
                let index = match self.find(name_uri) {
                    Ok(i) => i,
                    // Named as `--name` says from the start: an image that happens to
                    // have the URI's last segment as its name stays.
                    Err(_) => self.download_as(name_uri, timeout, o.value("name"))?,
                };
                if !cmdline.is_empty() {
                    self.images[index].cmdline = cmdline.join(" ");
                }
                index
            }
            None => match self.images.iter().rposition(|i| i.kind == ImageKind::Executable) {
                Some(i) if kind.is_none() || kind == Some(ImageKind::Executable) => i,
                _ if kind.is_none() => return Ok(None),
                _ => return Err("usage: NAME|URI [ARGUMENTS...]".into()),
            },
        };
        let index = match o.value("name") {
            Some(name) => self.rename(index, name),
            None => index,
        };
        let kind = kind.unwrap_or(ImageKind::Executable);
        if kind == ImageKind::Executable {
            for (i, img) in self.images.iter_mut().enumerate() {
                if i != index && img.kind == ImageKind::Executable {
                    img.kind = ImageKind::Other;
                }
            }
        }
        self.images[index].kind = kind;
        Ok(Some(index))
    }

    /// Gives image `index` the name `name`, replacing any other image of that name;
    /// returns its index afterwards.
    fn rename(&mut self, index: usize, name: &str) -> usize {
        self.images[index].name = name.to_string();
        let (mut i, mut kept, mut moved_to) = (0, 0, 0);
        self.images.retain(|img| {
            let keep = i == index || img.name != name;
            if i == index {
                moved_to = kept;
            }
            i += 1;
            kept += usize::from(keep);
            keep
        });
        moved_to
    }

    /// Downloads `uri` (relative to the script's) as a new image named after its last
    /// path segment, replacing any image of that name.
    pub(super) fn download(&mut self, uri: &str, timeout: Option<u64>) -> Result<usize, String> {
        self.download_as(uri, timeout, None)
    }

    /// Downloads `uri` as a new image named `name`, or after its last path segment,
    /// replacing any image of that name.
    fn download_as(&mut self, uri: &str, timeout: Option<u64>, name: Option<&str>) -> Result<usize, String> {
        // `URI##params[=NAME]`: POST that parameter list to URI (iPXE's form submission).
        let (uri, list) = match uri.split_once("##params") {
            Some((u, "")) => (u, Some("")),
            Some((u, rest)) => match rest.strip_prefix('=') {
                Some(name) => (u, Some(name)),
                None => (uri, None),
            },
            None => (uri, None),
        };
        let uri = self.resolve(uri);
        let fetched = match list {
            Some(name) => {
                let form = self.form(name)?;
                self.machine.fetch_form(&uri, &form, timeout)
            }
            None => self.machine.fetch(&uri, timeout),
        };
        let (data, meta) = fetched.map_err(|e| format!("{}: {e}", redact(&uri)))?;
        let name = name.map_or_else(|| basename(&uri), String::from);
        Ok(self.add_image(name, uri, data, meta))
    }

    /// The parameter list `name` as `application/x-www-form-urlencoded`.
    fn form(&self, name: &str) -> Result<alloc::vec::Vec<u8>, String> {
        let (_, list) = &self.params[named(&self.params, name, "parameter list", "params")?];
        let encode =
            |t: &str| crate::settings::SettingType::UriString.format(t.as_bytes()).unwrap_or_default();
        let pairs: alloc::vec::Vec<String> =
            list.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        Ok(pairs.join("&").into_bytes())
    }

    /// `params [--name NAME] [--delete]` starts (or deletes) a parameter list; `param
    /// [--params NAME] KEY [VALUE...]` adds to it.
    pub(super) fn params_command(&mut self, command: &str, o: Options<'_>) -> Outcome {
        if command == "params" {
            renew(&mut self.params, o.value("name").unwrap_or(""), o.has("delete"), alloc::vec::Vec::new());
            return Ok(Flow::Next);
        }
        if o.has("header") {
            return Err("param --header (HTTP request headers) is not supported by bootsign yet".into());
        }
        let name = o.value("params").unwrap_or("");
        let (key, value) = o.rest.split_first().expect("the spec asks for a key");
        let i = named(&self.params, name, "parameter list", "params")?;
        self.params[i].1.push((key.to_string(), value.join(" ")));
        Ok(Flow::Next)
    }

    /// Adds an image without a role or proof, replacing any image of that name; its index.
    fn add_image(&mut self, name: String, uri: String, data: alloc::vec::Vec<u8>, meta: M::Meta) -> usize {
        self.images.retain(|i| i.name != name);
        self.images.push(Image {
            name,
            uri,
            data,
            cmdline: String::new(),
            kind: ImageKind::Other,
            proof: None,
            meta,
        });
        self.images.len() - 1
    }

    /// `imgverify [--signer NAME] [--keep] [--timeout MS] IMAGE [SIGNATURE]`.
    fn imgverify(&mut self, o: &Options<'_>) -> Outcome {
        let signer = o.value("signer");
        let timeout = timeout(o, "timeout")?;
        let keep = o.has("keep");
        let image = o.rest[0];
        let Some(&signature) = o.rest.get(1) else {
            let index = self.find(image)?;
            // An embedded signature vouches for a program (what a PE loader runs), not for
            // bytes handed over whole.
            if self.images[index].kind != ImageKind::Executable {
                return Err(format!(
                    "image '{image}' is not the selected kernel or program: only that can be verified by its \
                     embedded signature; give a detached signature (imgverify {image} SIGNATURE)"
                ));
            }
            let (proof, who) = self
                .machine
                .verify_embedded(&self.images[index].data, &self.images[index].meta, signer)
                .map_err(|e| format!("image '{image}' was not verified: {e}"))?;
            self.machine.print(&format!("{image}: embedded signature verified ({who})\n"));
            self.images[index].proof = Some(proof);
            return Ok(Flow::Next);
        };
        self.find(image)?;
        let sig_data = match self.find(signature) {
            Ok(i) if keep => self.images[i].data.clone(),
            Ok(i) => self.images.remove(i).data,
            Err(_) => {
                let uri = self.resolve(signature);
                self.machine.fetch(&uri, timeout).map_err(|e| format!("{}: {e}", redact(&uri)))?.0
            }
        };
        // Removing a signature image may have moved the image.
        let index = self.find(image)?;
        let (proof, who) = self
            .machine
            .verify(&self.images[index].data, &self.images[index].meta, &sig_data, signer)
            .map_err(|e| format!("image '{image}' was not verified: {e}"))?;
        self.machine.print(&format!("{image}: signature verified ({who})\n"));
        self.images[index].proof = Some(proof);
        Ok(Flow::Next)
    }

    /// `imgtrust [--allow] [--permanent] [--all]` (`--all`, also `--initrd`, is bootsign's:
    /// initrds and modules need signatures too).
    fn imgtrust(&mut self, o: &Options<'_>) -> Outcome {
        if o.has("permanent") {
            self.trust.permanent = true;
        }
        if o.has("all") || o.has("initrd") {
            self.trust.all_images = true;
        }
        if o.has("allow") {
            if self.trust.permanent {
                return Err("image trust requirements were made permanent and cannot be relaxed".into());
            }
            self.trust.required = false;
            self.trust.all_images = false;
        } else {
            self.trust.required = true;
        }
        Ok(Flow::Next)
    }

    /// `imgextract [--name NAME] [--timeout MS] NAME|URI`: the image (downloaded, unless
    /// one of that name is loaded) decompressed (gzip or zlib) into a new image, named
    /// `--name` or after the source without its `.gz`/`.z` ending; a downloaded source is
    /// dropped. The extracted bytes carry no proof: a signature over the compressed
    /// bytes does not cover them, so under `imgtrust` they need one of their own.
    pub(super) fn imgextract(&mut self, o: Options<'_>) -> Outcome {
        let timeout = timeout(&o, "timeout")?;
        let target = o.rest[0];
        let (index, downloaded) = match self.find(target) {
            Ok(i) => (i, false),
            Err(_) => (self.download(target, timeout)?, true),
        };
        let source = &self.images[index];
        let data = match crate::extract::extract(&source.data) {
            Some(result) => result.map_err(|e| format!("{}: {e}", source.name))?,
            None => return Err(format!("{}: not a gzip or zlib image", source.name)),
        };
        let name = match o.value("name") {
            Some(n) => n.to_string(),
            None => {
                let n = source.name.as_str();
                [".gz", ".gzip", ".z", ".zlib"]
                    .iter()
                    .find_map(|e| n.strip_suffix(e))
                    .unwrap_or(n)
                    .to_string()
            }
        };
        let uri = source.uri.clone();
        if downloaded {
            self.images.remove(index);
        }
        self.add_image(name, uri, data, M::Meta::default());
        Ok(Flow::Next)
    }
}
