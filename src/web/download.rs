//! Saving text the app produced as a file the user downloads (a `Blob` behind an object URL).

use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use super::js_reason;

/// How long the object URL outlives the click. Browsers start the download from the click, but
/// some fetch the URL a moment later, so it is revoked on a timer rather than at once.
const REVOKE_AFTER_MS: i32 = 10_000;

/// Why a download could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// A browser call on the way failed.
    #[error("could not start the download of {file_name} ({step}: {reason}); try again, or copy the text instead")]
    Browser {
        /// The file that was to be saved.
        file_name: String,
        /// Which step failed (`creating the blob`, `creating the link`, ...).
        step: &'static str,
        /// What the browser said.
        reason: String,
    },
}

/// A file gathered in memory as the parts of a `Blob`, each a copy of a chunk of bytes, and
/// then offered as a download ([`Self::download`]): the file is never one string, but all of
/// it is in memory until the download starts. For browsers without a save picker
/// (`super::save_file`).
#[derive(Debug, Default)]
pub struct BlobParts {
    parts: js_sys::Array,
}

impl BlobParts {
    /// No parts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `chunk`, which the caller hands over and does not change afterwards.
    pub fn push(&mut self, chunk: &js_sys::Uint8Array) {
        self.parts.push(chunk);
    }

    /// Offers the parts, in order, as a download named `file_name` of type `mime`.
    pub fn download(self, file_name: &str, mime: &str) -> Result<(), DownloadError> {
        download_parts(file_name, mime, &self.parts)
    }
}

/// Offers `text` to the user as a download named `file_name` with MIME type `mime`.
pub fn download_text(file_name: &str, mime: &str, text: &str) -> Result<(), DownloadError> {
    download_parts(
        file_name,
        mime,
        &js_sys::Array::of1(&JsValue::from_str(text)),
    )
}

/// Offers a `Blob` made of `parts` (JavaScript strings or byte arrays) as a download: large
/// files are built from many chunks without ever being one string.
pub fn download_parts(
    file_name: &str,
    mime: &str,
    parts: &js_sys::Array,
) -> Result<(), DownloadError> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(parts, &options).map_err(|e| {
        DownloadError::Browser {
            file_name: file_name.into(),
            step: "creating the blob",
            reason: js_reason(&e),
        }
    })?;
    download_blob(file_name, &blob)
}

/// Offers `blob` (bytes in memory, or a `File` on disk) as a download named `file_name`.
pub fn download_blob(file_name: &str, blob: &Blob) -> Result<(), DownloadError> {
    let fail = |step: &'static str| {
        move |e: JsValue| DownloadError::Browser {
            file_name: file_name.into(),
            step,
            reason: js_reason(&e),
        }
    };
    let window = web_sys::window().ok_or_else(|| fail("finding the window")(JsValue::NULL))?;
    let document = window
        .document()
        .ok_or_else(|| fail("finding the document")(JsValue::NULL))?;
    let url = Url::create_object_url_with_blob(blob).map_err(fail("creating the object URL"))?;

    let anchor: HtmlAnchorElement = document
        .create_element("a")
        .map_err(fail("creating the link"))?
        .dyn_into()
        .map_err(|e: web_sys::Element| fail("creating the link")(e.into()))?;
    anchor.set_href(&url);
    anchor.set_download(file_name);
    anchor.set_hidden(true);
    let body = document
        .body()
        .ok_or_else(|| fail("finding the page body")(JsValue::NULL))?;
    body.append_child(&anchor)
        .map_err(fail("attaching the link"))?;
    anchor.click();
    anchor.remove();

    let revoke = Closure::once_into_js(move || {
        // Revoking can only fail for a malformed URL, which ours is not; nothing to report.
        let _ = Url::revoke_object_url(&url);
    });
    if window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            revoke.unchecked_ref(),
            REVOKE_AFTER_MS,
        )
        .is_err()
    {
        // No timer: revoke now rather than leak the blob; the click has already started the download.
        let _ = Url::revoke_object_url(&anchor.href());
    }
    Ok(())
}
