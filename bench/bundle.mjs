// 1. Bundle: the release wasm and JS glue, raw and gzip; first load to interactive.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { APP, freshBrowser, median, waitMark, watchOnLoad } from './lib.mjs';

/**
 * Sizes of dist/*.wasm and dist/*.js: raw bytes, gzip bytes at zlib's default level 6 (what
 * `gzip` and most servers use), and brotli at quality 11 (what a host precompressing files
 * would serve).
 */
export async function bundleSizes(dist) {
  const files = (await readdir(dist)).filter((f) => f.endsWith('.wasm') || f.endsWith('.js')).sort();
  if (!files.some((f) => f.endsWith('.wasm'))) throw new Error(`no .wasm file in ${dist}: build first`);
  const out = [];
  for (const name of files) {
    const bytes = await readFile(join(dist, name));
    out.push({
      name,
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 6 }).length,
      brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    });
  }
  const sum = (kind, field) => out.filter((f) => f.name.endsWith(kind)).reduce((s, f) => s + f[field], 0);
  return {
    files: out,
    wasm: { raw: sum('.wasm', 'raw'), gzip: sum('.wasm', 'gzip'), brotli: sum('.wasm', 'brotli') },
    js: { raw: sum('.js', 'raw'), gzip: sum('.js', 'gzip'), brotli: sum('.js', 'brotli') },
  };
}

/**
 * Cold loads of /configure, each in a new profile (no HTTP cache, no compiled-wasm cache):
 * navigation start → `nav-configure` visible and the solver's model field filled in.
 */
export async function firstLoad(loads = 5) {
  const samples = [];
  for (let i = 0; i < loads; i += 1) {
    const { context, page, problems } = await freshBrowser(`load-${i}`);
    try {
      await watchOnLoad(context, {
        name: 'interactive',
        all: [
          { selector: '[data-testid="nav-configure"]', visible: true },
          { selector: '[name="solver.model"]', nonEmptyValue: true },
        ],
      });
      await page.goto(`${APP}/configure`);
      const marks = await waitMark(page, 'interactive');
      samples.push({
        interactive: marks.interactive,
        painted: marks['interactive:painted'],
        wasmStarted: marks.wasmStarted,
      });
      if (problems.length) throw new Error(problems.join('; '));
    } finally {
      await context.close();
    }
  }
  return {
    samples,
    median: median(samples.map((s) => s.interactive)),
    medianPainted: median(samples.map((s) => s.painted)),
    medianWasmStarted: median(samples.map((s) => s.wasmStarted)),
  };
}
