//! Reading a file the user picked, with the size checked before anything is read.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Event, File, HtmlInputElement};

use super::js_reason;

/// The largest config file the app reads: 1 MiB (real configs are a few KiB).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Why a picked file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileReadError {
    /// The file is larger than the limit; it was not read.
    #[error("{file_name} is {size} bytes, over the {max} byte limit for this import; pick a smaller file")]
    TooLarge {
        /// The file's name.
        file_name: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// The browser failed to read it (moved, deleted, or permission revoked since it was picked).
    #[error("could not read {file_name}: {reason}; pick the file again")]
    Read {
        /// The file's name.
        file_name: String,
        /// What the browser said.
        reason: String,
    },
}

/// The first file chosen in the `<input type=file>` that fired `event`, if any.
pub fn picked_file(event: &Event) -> Option<File> {
    let input: HtmlInputElement = event.target()?.dyn_into().ok()?;
    input.files()?.get(0)
}

/// Clears a file input's selection, so that picking the same file again fires `change` again.
pub fn clear_picked(event: &Event) {
    if let Some(input) = event
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
    {
        input.set_value("");
    }
}

/// Reads `file`'s bytes, refusing without reading when it is larger than `max_bytes`.
pub async fn read_bytes(file: &File, max_bytes: u64) -> Result<Vec<u8>, FileReadError> {
    let file_name = file.name();
    // File sizes are whole numbers of bytes that fit an f64 exactly up to 2^53.
    let size = file.size().max(0.0) as u64;
    if size > max_bytes {
        return Err(FileReadError::TooLarge {
            file_name,
            size,
            max: max_bytes,
        });
    }
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| FileReadError::Read {
            file_name: file_name.clone(),
            reason: js_reason(&e),
        })?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Reads bytes `start..end` of `file` (a `Blob.slice`), so a large file is read a part at a
/// time and never held whole.
pub async fn read_slice(file: &File, start: u64, end: u64) -> Result<Vec<u8>, FileReadError> {
    let failed = |e: wasm_bindgen::JsValue| FileReadError::Read {
        file_name: file.name(),
        reason: js_reason(&e),
    };
    // Offsets are whole numbers of bytes, exact in an f64 up to 2^53.
    let part = file
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(failed)?;
    let buffer = JsFuture::from(part.array_buffer()).await.map_err(failed)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn file(name: &str, bytes: &[u8]) -> File {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
        File::new_with_u8_array_sequence(&parts, name).unwrap()
    }

    #[wasm_bindgen_test]
    async fn a_file_within_the_limit_is_read_byte_for_byte() {
        let bytes = [b'a', 0xff, b'\n', 0x00];
        let read = read_bytes(&file("x.yaml", &bytes), 4).await.unwrap();
        assert_eq!(read, bytes);
    }

    #[wasm_bindgen_test]
    async fn a_slice_is_read_byte_for_byte() {
        let bytes = [b'a', 0xe2, 0x88, 0x9a, b'\n'];
        let read = read_slice(&file("x.jsonl", &bytes), 1, 4).await.unwrap();
        assert_eq!(read, bytes[1..4]);
    }

    #[wasm_bindgen_test]
    async fn a_file_over_the_limit_is_refused_with_its_size() {
        let err = read_bytes(&file("big.json", &[b' '; 5]), 4)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            FileReadError::TooLarge {
                file_name: "big.json".into(),
                size: 5,
                max: 4
            }
        );
        assert!(err
            .to_string()
            .starts_with("big.json is 5 bytes, over the 4 byte limit"));
    }
}
