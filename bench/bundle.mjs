// 1. Bundle: the release wasm and JS glue, raw and gzip; first load to interactive.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { APP, freshBrowser, median, waitMark, watchOnLoad } from './lib.mjs';

/** Every .wasm and .js file under `dir`, as paths relative to it with `/` separators. */
async function codeFiles(dir, under = '') {
  const out = [];
  for (const entry of await readdir(join(dir, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await codeFiles(dir, rel)));
    else if (entry.name.endsWith('.wasm') || entry.name.endsWith('.js')) out.push(rel);
  }
  return out.sort();
}

/**
 * The code index.html has the browser fetch before the app starts: the wasm-bindgen glue and
 * the main wasm (trunk's preload links) and the split loader the glue imports (a modulepreload
 * link, scripts/split-wasm). Paths relative to dist.
 */
export function firstLoadFiles(html) {
  const hrefs = [...html.matchAll(/<link[^>]*\brel="(?:modulepreload|preload)"[^>]*>/g)]
    .map((m) => /\bhref="\/?([^"]+)"/.exec(m[0])?.[1])
    .filter((href) => href && (href.endsWith('.wasm') || href.endsWith('.js')));
  return [...new Set(hrefs)].sort();
}

/**
 * Sizes of the app's code in dist: raw bytes, gzip bytes at zlib's default level 6 (what `gzip`
 * and most servers use), and brotli at quality 11 (what a host precompressing files would
 * serve). `firstLoad` sums what a visit fetches before the app starts (see `firstLoadFiles`);
 * `onDemand` the page chunks fetched the first time their page opens; `all` both.
 */
export async function bundleSizes(dist) {
  const files = await codeFiles(dist);
  if (!files.some((f) => f.endsWith('.wasm'))) throw new Error(`no .wasm file in ${dist}: build first`);
  const first = new Set(firstLoadFiles(await readFile(join(dist, 'index.html'), 'utf8')));
  const missing = [...first].filter((f) => !files.includes(f));
  if (missing.length) throw new Error(`index.html preloads files dist lacks: ${missing.join(', ')}`);
  const out = [];
  for (const name of files) {
    const bytes = await readFile(join(dist, name));
    out.push({
      name,
      firstLoad: first.has(name),
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 6 }).length,
      brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    });
  }
  const total = (list) => {
    const sum = (kind, field) => list.filter((f) => f.name.endsWith(kind)).reduce((s, f) => s + f[field], 0);
    const part = (kind) => ({ raw: sum(kind, 'raw'), gzip: sum(kind, 'gzip'), brotli: sum(kind, 'brotli'), files: list.filter((f) => f.name.endsWith(kind)).length });
    return { wasm: part('.wasm'), js: part('.js') };
  };
  return {
    files: out,
    firstLoad: total(out.filter((f) => f.firstLoad)),
    onDemand: total(out.filter((f) => !f.firstLoad)),
    all: total(out),
  };
}

/**
 * Whether `path` is code the app fetches only after the first page has drawn: the start-up
 * checks' chunk (`split_startup_checks.wasm`) and the shared chunks it needs (`chunk_N.wasm`,
 * whose names do not say who needs them; a page's own chunk is `split_<name>.wasm`, so a page
 * the first load should not need still shows).
 */
export function afterFirstDraw(path) {
  return /-split\/(split_startup_checks|chunk_\d+)\.wasm$/.test(path);
}

/**
 * Cold loads of /configure, each in a new profile (no HTTP cache, no compiled-wasm cache):
 * navigation start → `nav-configure` visible and the solver's model field filled in. Each load
 * also checks that the code the page fetched by then is exactly what index.html in `dist`
 * preloads, which is what the bundle row counts as the first load.
 */
export async function firstLoad(dist, loads = 5) {
  const expected = firstLoadFiles(await readFile(join(dist, 'index.html'), 'utf8'));
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
      const fetched = await page.evaluate(() => performance.getEntriesByType('resource')
        .map((e) => new URL(e.name).pathname.replace(/^\//, ''))
        .filter((path) => path.endsWith('.wasm') || path.endsWith('.js')));
      // The start-up checks' chunks are fetched as soon as the first page has drawn, so they
      // may be in the list too; any other chunk, or a preloaded file missing, is an error.
      const sorted = [...new Set(fetched)].filter((path) => !afterFirstDraw(path)).sort();
      if (sorted.join() !== expected.join()) {
        throw new Error(`the first load fetched ${sorted.join(', ')}; index.html preloads ${expected.join(', ')}`);
      }
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
