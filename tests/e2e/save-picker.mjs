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
 * `mode`: `keep` keeps every chunk (`chunks`), `count` keeps only `bytes` and `lines`,
 * `cancel` rejects as a closed picker does, `fail` rejects every write after the first with a
 * full disk's `QuotaExceededError`.
 */
export function savePickerStub({ mode }) {
  const encoder = new TextEncoder();
  window.showSaveFilePicker = async (options) => {
    if (mode === 'cancel') throw new DOMException('The user aborted a request.', 'AbortError');
    const file = {
      options: JSON.parse(JSON.stringify(options ?? {})),
      chunks: [], writes: 0, bytes: 0, lines: 0, closed: false, aborted: false,
    };
    window.__savedFile = file;
    return {
      async createWritable() {
        return {
          async write(data) {
            if (typeof data !== 'string') throw new TypeError(`the stub takes strings, not ${typeof data}`);
            file.writes += 1;
            if (mode === 'fail' && file.writes > 1) {
              throw new DOMException('The disk is full.', 'QuotaExceededError');
            }
            file.bytes += encoder.encode(data).length;
            for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) file.lines += 1;
            if (mode === 'keep') file.chunks.push(data);
          },
          async close() { file.closed = true; },
          async abort() { file.aborted = true; },
        };
      },
    };
  };
}
