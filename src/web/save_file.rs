//! Saving a large file as it is produced, through the File System Access API's save picker
//! (`showSaveFilePicker`, Chromium-based browsers): the user picks the file first, then each
//! chunk is written as it is made, so the file is never whole in memory.
//!
//! Browsers without the API get `SavePick::Unsupported`, and the caller falls back to a `Blob`
//! download (`super::download`).

use std::cell::RefCell;
use std::rc::Rc;

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
    fn write(this: &WritableFile, data: &str) -> js_sys::Promise;
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
    let writable = JsFuture::from(handle.unchecked_into::<PickedFile>().create_writable())
        .await
        .map_err(open_failed)?;
    Ok(SavePick::Stream(StreamedFile::new(
        file_name,
        writable.unchecked_into(),
    )))
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

/// A picked file being written. Writes are queued without waiting (the stream keeps their
/// order); the first failure is kept and reported by `finish`.
pub struct StreamedFile {
    file_name: String,
    writable: WritableFile,
    /// The last write, with the failure handler attached: once it settles, every write has.
    last: RefCell<Option<js_sys::Promise>>,
    failure: Rc<RefCell<Option<String>>>,
    on_failure: Closure<dyn FnMut(JsValue)>,
}

impl StreamedFile {
    fn new(file_name: &str, writable: WritableFile) -> Self {
        let failure = Rc::new(RefCell::new(None));
        let first = Rc::clone(&failure);
        let on_failure = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            first.borrow_mut().get_or_insert_with(|| js_reason(&e));
        });
        Self {
            file_name: file_name.into(),
            writable,
            last: RefCell::new(None),
            failure,
            on_failure,
        }
    }

    /// Queues `chunk` to be written after the ones before it. After a failure, writes are
    /// dropped: the file will not be saved anyway.
    pub fn write(&self, chunk: &str) {
        if self.failure.borrow().is_some() {
            return;
        }
        let watched = self.writable.write(chunk).catch(&self.on_failure);
        *self.last.borrow_mut() = Some(watched);
    }

    /// Waits for every write, then closes the file (which is when it replaces the picked one).
    /// On a failure the partial file is dropped.
    pub async fn finish(self) -> Result<(), SaveFileError> {
        self.settled().await;
        let failed = self.failure.borrow_mut().take();
        if let Some(reason) = failed {
            self.discard().await;
            return Err(SaveFileError::Write {
                file_name: self.file_name,
                reason,
            });
        }
        match JsFuture::from(self.writable.close()).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SaveFileError::Write {
                file_name: self.file_name,
                reason: js_reason(&e),
            }),
        }
    }

    /// Waits until every queued write has succeeded or failed, so none outlives the failure
    /// handler.
    async fn settled(&self) {
        let last = self.last.borrow_mut().take();
        if let Some(last) = last {
            // The handler resolves it whatever the write did; the failure, if any, is kept.
            let _ = JsFuture::from(last).await;
        }
    }

    /// Drops what was written: the picked file is left as it was.
    pub async fn discard(&self) {
        self.settled().await;
        // An abort that fails leaves only the browser's temporary file, which it cleans up.
        let _ = JsFuture::from(self.writable.abort()).await;
    }
}
