// The File System Access API's save picker in tests. Headless Chromium has
// `showSaveFilePicker`, but no user to answer it: it rejects at once as if the picker had been
// closed. So every spec's pages go without it (the fixture's `withoutSavePicker`: exports take
// the Blob download Playwright sees), and the specs that test the streamed path install
// `savePickerStub`, whose writable records what the app writes. bench/storage.mjs uses both.
// Its `opfs` mode hands the app Chromium's own writable stream, on a file of the origin
// private file system: the writes take the browser's path to disk that a picked file's take.

/**
 * Page-side: removes the save picker, so the app falls back to a download: spooled through
 * the origin private file system where the browser can write its files (Chromium can), a Blob
 * built in memory otherwise.
 */
export function withoutSavePicker() {
  delete window.showSaveFilePicker;
}

/**
 * Page-side: removes writable streams on files (as in browsers that have none), so without a
 * picker the app can only build the download in memory, as a Blob.
 */
export function withoutWritableFiles() {
  delete FileSystemFileHandle.prototype.createWritable;
}

/**
 * Page-side: a save picker whose file records what is written in `window.__savedFile`.
 * `mode`: `keep` keeps every chunk (`chunks`, as text), `count` keeps only `bytes` and `lines`,
 * `slow` counts like `count` but takes `writeMs` to settle each write, `cancel` rejects as a
 * closed picker does, `fail` rejects every write after the first with a full disk's
 * `QuotaExceededError`, `opfs` writes through the browser's `FileSystemWritableFileStream` into
 * the origin private file system's file `__savedFile.name` (read it with `readOpfsFile`) and
 * counts only writes. Writes take text or bytes, as the real stream does; `maxPending` is the
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
    if (mode === 'opfs') {
      file.name = `saved-${Date.now()}-${options?.suggestedName ?? 'file'}`;
      const root = await navigator.storage.getDirectory();
      const handle = await root.getFileHandle(file.name, { create: true });
      return {
        async createWritable() {
          const writable = await handle.createWritable();
          return {
            async write(data) {
              file.writes += 1;
              file.pending += 1;
              file.maxPending = Math.max(file.maxPending, file.pending);
              try { await writable.write(data); } finally { file.pending -= 1; }
            },
            async close() { await writable.close(); file.closed = true; },
            async abort() { await writable.abort(); file.aborted = true; },
          };
        },
      };
    }
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

/**
 * Page-side: the origin private file system's file `name` (as the `opfs` stub wrote it): its
 * `bytes` and `lines` (newlines), read as a stream, and its `text` too when `text` is set. The
 * file is removed afterwards when `remove` is set.
 */
export async function readOpfsFile({ name, text = false, remove = false }) {
  const root = await navigator.storage.getDirectory();
  const file = await (await root.getFileHandle(name)).getFile();
  const out = { bytes: file.size, lines: 0 };
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) out.lines += 1;
  }
  if (text) out.text = await file.text();
  if (remove) await root.removeEntry(name);
  return out;
}
