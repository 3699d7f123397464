//! A large download built on disk instead of in memory, for browsers without a save picker
//! (`super::save_file`): the file is written chunk by chunk into the origin private file system
//! (`navigator.storage.getDirectory()`), then offered as a download of that file, which the
//! browser reads from disk.
//!
//! A `Blob` of the chunks (`super::download::BlobParts`) holds the whole file in memory until
//! the download is written, and Chromium's blob storage keeps blobs in memory up to a limit far
//! above any export (its README, `storage/browser/blob/README.md`, "Blob Storage Limits": 2 GB
//! on 64-bit desktops) before it pages them to disk. The spool is what keeps memory flat there.
//!
//! The spooled file stays in the origin's storage after the download has started (removing it
//! would break a download still reading it); the next export removes it.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::download::{download_blob, DownloadError};
use super::save_file::{open_writable, StreamedFile};

/// Every spooled file's name starts so; the rest is the time it was made and the file's name.
const SPOOL_PREFIX: &str = "export-spool-";

/// Calls method `name` of `target` with `args`, as the promise it returns. The file system's
/// methods are called by name: a web-sys or `extern` binding per method would add an import to
/// the glue of the first load, which every page pays for.
fn call_method(
    target: &JsValue,
    name: &str,
    args: &[&JsValue],
) -> Result<js_sys::Promise, JsValue> {
    let method: js_sys::Function = js_sys::Reflect::get(target, &name.into())?.dyn_into()?;
    let returned = match args {
        [] => method.call0(target)?,
        [one] => method.call1(target, one)?,
        [one, two, ..] => method.call2(target, one, two)?,
    };
    Ok(js_sys::Promise::resolve(&returned))
}

/// Whether this browser can spool a file to disk: it has the origin private file system and
/// writable streams on its files.
pub fn spools_to_disk() -> bool {
    let has = |target: &JsValue, name: &str| {
        js_sys::Reflect::get(target, &JsValue::from_str(name))
            .is_ok_and(|value| value.is_function())
    };
    let Some(window) = web_sys::window() else {
        return false;
    };
    let file_handle_proto = js_sys::Reflect::get(&window, &"FileSystemFileHandle".into())
        .and_then(|class| js_sys::Reflect::get(&class, &"prototype".into()))
        .unwrap_or(JsValue::UNDEFINED);
    has(&window.navigator().storage().into(), "getDirectory")
        && !file_handle_proto.is_undefined()
        && has(&file_handle_proto, "createWritable")
}

/// A file being spooled: write it through [`Self::file`], then [`Spool::download`] it.
pub struct SpooledFile {
    /// Where the chunks go.
    pub file: StreamedFile,
    /// What offers the file once it is written.
    pub spool: Spool,
}

/// The spooled file on disk.
pub struct Spool {
    /// The file's `FileSystemFileHandle`.
    handle: JsValue,
}

/// A new spool file for `file_name`, with earlier spools removed; `None` when this browser
/// cannot spool (no origin private file system, or it refused, as some do in private
/// windows): the caller builds the file in memory instead.
pub async fn spool_file(file_name: &str) -> Option<SpooledFile> {
    if !spools_to_disk() {
        return None;
    }
    let storage = web_sys::window()?.navigator().storage();
    let get_directory = js_sys::Reflect::get(&storage, &"getDirectory".into()).ok()?;
    let directory = get_directory
        .dyn_into::<js_sys::Function>()
        .ok()?
        .call0(&storage)
        .ok()?;
    let directory = JsFuture::from(js_sys::Promise::resolve(&directory))
        .await
        .ok()?;
    remove_earlier_spools(&directory).await;
    let name = format!("{SPOOL_PREFIX}{}-{file_name}", js_sys::Date::now() as u64);
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"create".into(), &JsValue::TRUE).ok()?;
    let handle = JsFuture::from(
        call_method(
            &directory,
            "getFileHandle",
            &[&JsValue::from_str(&name), &options],
        )
        .ok()?,
    )
    .await
    .ok()?;
    let file = open_writable(&handle, file_name).await.ok()?;
    Some(SpooledFile {
        file,
        spool: Spool { handle },
    })
}

/// Removes the files earlier exports spooled. One that cannot be removed (a download still
/// reading it) stays for the next time.
async fn remove_earlier_spools(directory: &JsValue) {
    let Ok(names) = js_sys::Reflect::get(directory, &"keys".into())
        .and_then(|keys| keys.dyn_into::<js_sys::Function>()?.call0(directory))
    else {
        return;
    };
    let mut earlier = Vec::new();
    loop {
        let Ok(next) = call_method(&names, "next", &[]) else {
            break;
        };
        let Ok(step) = JsFuture::from(next).await else {
            break;
        };
        let done =
            js_sys::Reflect::get(&step, &"done".into()).is_ok_and(|d| d.as_bool() == Some(true));
        if done {
            break;
        }
        if let Some(name) = js_sys::Reflect::get(&step, &"value".into())
            .ok()
            .and_then(|v| v.as_string())
            .filter(|name| name.starts_with(SPOOL_PREFIX))
        {
            earlier.push(name);
        }
    }
    for name in earlier {
        if let Ok(removed) = call_method(directory, "removeEntry", &[&JsValue::from_str(&name)]) {
            let _ = JsFuture::from(removed).await;
        }
    }
}

impl Spool {
    /// Offers the written file as a download named `file_name`; the browser reads it from disk.
    pub async fn download(self, file_name: &str) -> Result<(), DownloadError> {
        let reading = call_method(&self.handle, "getFile", &[]);
        let file = match reading {
            Ok(promise) => JsFuture::from(promise).await,
            Err(e) => Err(e),
        }
        .map_err(|e| DownloadError::Browser {
            file_name: file_name.into(),
            step: "reading the written file",
            reason: super::js_reason(&e),
        })?;
        download_blob(file_name, file.unchecked_ref())
    }
}
