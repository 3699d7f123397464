//! Saving a large file as it is produced, through the File System Access API's save picker
//! (`showSaveFilePicker`, Chromium-based browsers): the user picks the file first, then each
//! chunk is written as it is made, so the file is never whole in memory.
//!
//! Browsers without the API get `SavePick::Unsupported`, and the caller falls back to a `Blob`
//! download (`super::download`).

use std::collections::VecDeque;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::js_reason;

#[wasm_bindgen]
extern "C" {
    /// What `showSaveFilePicker` resolves to (`FileSystemFileHandle`).
    type PickedFile;
    #[wasm_bindgen(method, js_name = createWritable)]
    fn create_writable(this: &PickedFile) -> js_sys::Promise;

    /// `FileSystemWritableFileStream`: writes go to a temporary file that replaces the picked
    /// one on `close`; `abort` drops it.
    type WritableFile;
    #[wasm_bindgen(method)]
    fn write(this: &WritableFile, data: &js_sys::Uint8Array) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn close(this: &WritableFile) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn abort(this: &WritableFile) -> js_sys::Promise;
}

/// Why a file could not be saved through the picker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveFileError {
    /// The picker or the file could not be opened.
    #[error("could not open {file_name} for writing ({reason}); try again, or pick another place")]
    Open {
        /// The suggested file name.
        file_name: String,
        /// What the browser said.
        reason: String,
    },
    /// A write or the final close failed (a full disk, a revoked permission).
    #[error(
        "could not write {file_name} ({reason}); the file was not saved and nothing stored was \
         changed: free some disk space or pick another place, then export again"
    )]
    Write {
        /// The suggested file name.
        file_name: String,
        /// What the browser said.
        reason: String,
    },
}

/// What the save picker gave.
pub enum SavePick {
    /// A file to write into, chunk by chunk.
    Stream(StreamedFile),
    /// The user closed the picker without choosing: not an error, nothing to do.
    Cancelled,
    /// This browser has no save picker.
    Unsupported,
}

/// Whether this browser can stream a file to disk (it has `showSaveFilePicker`).
pub fn streams_to_files() -> bool {
    save_picker().is_some()
}

fn save_picker() -> Option<(web_sys::Window, js_sys::Function)> {
    let window = web_sys::window()?;
    let picker = js_sys::Reflect::get(&window, &JsValue::from_str("showSaveFilePicker")).ok()?;
    let picker = picker.dyn_into::<js_sys::Function>().ok()?;
    Some((window, picker))
}

/// Asks the user where to save `file_name` (of type `mime`) and opens it for writing. Call it
/// first in a click's handler: the picker needs the click's user activation.
pub async fn pick_save_file(file_name: &str, mime: &str) -> Result<SavePick, SaveFileError> {
    let Some((window, picker)) = save_picker() else {
        return Ok(SavePick::Unsupported);
    };
    let open_failed = |e: JsValue| SaveFileError::Open {
        file_name: file_name.into(),
        reason: js_reason(&e),
    };
    let options = picker_options(file_name, mime).map_err(open_failed)?;
    let picked = picker.call1(&window, &options).map_err(open_failed)?;
    let handle = match JsFuture::from(js_sys::Promise::resolve(&picked)).await {
        Ok(handle) => handle,
        Err(e) if is_abort(&e) => return Ok(SavePick::Cancelled),
        Err(e) => return Err(open_failed(e)),
    };
    Ok(SavePick::Stream(open_writable(&handle, file_name).await?))
}

/// Opens the file `handle` (a `FileSystemFileHandle`) for writing, from its start.
pub(super) async fn open_writable(
    handle: &JsValue,
    file_name: &str,
) -> Result<StreamedFile, SaveFileError> {
    let writable = JsFuture::from(handle.unchecked_ref::<PickedFile>().create_writable())
        .await
        .map_err(|e| SaveFileError::Open {
            file_name: file_name.into(),
            reason: js_reason(&e),
        })?;
    Ok(StreamedFile::new(file_name, writable.unchecked_into()))
}

/// `{ suggestedName, types: [{ description, accept: { mime: [".ext"] } }] }`.
fn picker_options(file_name: &str, mime: &str) -> Result<JsValue, JsValue> {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"suggestedName".into(), &file_name.into())?;
    if let Some((_, extension)) = file_name.rsplit_once('.') {
        let accept = js_sys::Object::new();
        let extensions = js_sys::Array::of1(&format!(".{extension}").into());
        js_sys::Reflect::set(&accept, &mime.into(), &extensions)?;
        let kind = js_sys::Object::new();
        js_sys::Reflect::set(&kind, &"accept".into(), &accept)?;
        js_sys::Reflect::set(
            &kind,
            &"description".into(),
            &format!("{} file", extension.to_uppercase()).into(),
        )?;
        js_sys::Reflect::set(&options, &"types".into(), &js_sys::Array::of1(&kind))?;
    }
    Ok(options.into())
}

/// The picker rejects with an `AbortError` when the user closes it.
fn is_abort(error: &JsValue) -> bool {
    js_sys::Reflect::get(error, &"name".into())
        .ok()
        .and_then(|name| name.as_string())
        .is_some_and(|name| name == "AbortError")
}

/// How many writes may be under way at once. Each waits for the oldest when there are this
/// many, so the chunks the browser has not written yet never add up to more than this many,
/// however slow the disk; more than one lets the next chunk be read while one is written.
pub const WRITES_IN_FLIGHT: usize = 2;

/// A picked file being written. Each write is handed to the browser at once (the stream keeps
/// their order), but at most [`WRITES_IN_FLIGHT`] are under way: [`Self::write`] waits for the
/// oldest before it adds one more, and reports its failure.
pub struct StreamedFile {
    file_name: String,
    writable: WritableFile,
    /// Writes under way, oldest first. A `JsFuture` handles its promise's rejection from the
    /// start, so a write that fails while an earlier one is awaited is no unhandled rejection.
    in_flight: VecDeque<JsFuture>,
}

impl StreamedFile {
    fn new(file_name: &str, writable: WritableFile) -> Self {
        Self {
            file_name: file_name.into(),
            writable,
            in_flight: VecDeque::new(),
        }
    }

    /// Writes `chunk` after the chunks before it, once fewer than [`WRITES_IN_FLIGHT`] are
    /// under way. A failure of an earlier write is reported here: stop writing, then
    /// [`Self::discard`] the file.
    pub async fn write(&mut self, chunk: &js_sys::Uint8Array) -> Result<(), SaveFileError> {
        while self.in_flight.len() >= WRITES_IN_FLIGHT {
            self.settle_oldest().await?;
        }
        // The stream reads the bytes later: the caller hands them over and does not reuse them.
        self.in_flight
            .push_back(JsFuture::from(self.writable.write(chunk)));
        Ok(())
    }

    async fn settle_oldest(&mut self) -> Result<(), SaveFileError> {
        match self.in_flight.pop_front() {
            Some(write) => write.await.map(|_| ()).map_err(|e| self.write_failed(&e)),
            None => Ok(()),
        }
    }

    fn write_failed(&self, e: &JsValue) -> SaveFileError {
        SaveFileError::Write {
            file_name: self.file_name.clone(),
            reason: js_reason(e),
        }
    }

    /// Waits for every write, then closes the file (which is when it replaces the picked one).
    /// On a failure the partial file is dropped.
    pub async fn finish(mut self) -> Result<(), SaveFileError> {
        while !self.in_flight.is_empty() {
            if let Err(e) = self.settle_oldest().await {
                self.discard().await;
                return Err(e);
            }
        }
        JsFuture::from(self.writable.close())
            .await
            .map(|_| ())
            .map_err(|e| self.write_failed(&e))
    }

    /// Drops what was written: the picked file is left as it was.
    pub async fn discard(&mut self) {
        // Settled first, whatever they did, so no write outlives the file.
        while let Some(write) = self.in_flight.pop_front() {
            let _ = write.await;
        }
        // An abort that fails leaves only the browser's temporary file, which it cleans up.
        let _ = JsFuture::from(self.writable.abort()).await;
    }
}
