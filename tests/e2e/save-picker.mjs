// The File System Access API's save picker in tests. Headless Chromium has
// `showSaveFilePicker`, but no user to answer it: it rejects at once as if the picker had been
// closed. So every spec's pages go without it (the fixture's `withoutSavePicker`: exports take
// the Blob download Playwright sees), and the specs that test the streamed path install
// `savePickerStub`, whose writable records what the app writes. bench/storage.mjs uses both.

/** Page-side: removes the save picker, so the app falls back to a Blob download. */
export function withoutSavePicker() {
  delete window.showSaveFilePicker;
}

/**
 * Page-side: a save picker whose file records what is written in `window.__savedFile`.
 * `mode`: `keep` keeps every chunk (`chunks`, as text), `count` keeps only `bytes` and `lines`,
 * `slow` counts like `count` but takes `writeMs` to settle each write, `cancel` rejects as a
 * closed picker does, `fail` rejects every write after the first with a full disk's
 * `QuotaExceededError`. Writes take text or bytes, as the real stream does; `maxPending` is the
 * most writes that were under way at once (`writes` counts every one).
 */
export function savePickerStub({ mode, writeMs = 5 }) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  window.showSaveFilePicker = async (options) => {
    if (mode === 'cancel') throw new DOMException('The user aborted a request.', 'AbortError');
    const file = {
      options: JSON.parse(JSON.stringify(options ?? {})),
      chunks: [], writes: 0, bytes: 0, lines: 0, pending: 0, maxPending: 0, closed: false, aborted: false,
    };
    window.__savedFile = file;
    const asBytes = (data) => {
      if (typeof data === 'string') return encoder.encode(data);
      if (data instanceof ArrayBuffer) return new Uint8Array(data);
      if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      throw new TypeError(`the stub takes text or bytes, not ${Object.prototype.toString.call(data)}`);
    };
    return {
      async createWritable() {
        return {
          async write(data) {
            file.writes += 1;
            file.pending += 1;
            file.maxPending = Math.max(file.maxPending, file.pending);
            try {
              // Read at once, as the stream takes its chunk: bytes changed later are not written.
              const bytes = asBytes(data).slice();
              if (mode === 'slow') await new Promise((r) => setTimeout(r, writeMs));
              if (mode === 'fail' && file.writes > 1) {
                throw new DOMException('The disk is full.', 'QuotaExceededError');
              }
              file.bytes += bytes.length;
              for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) file.lines += 1;
              if (mode === 'keep') file.chunks.push(decoder.decode(bytes));
            } finally {
              file.pending -= 1;
            }
          },
          async close() { file.closed = true; },
          async abort() { file.aborted = true; },
        };
      },
    };
  };
}
