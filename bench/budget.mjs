// The first-load budget: the gzip bytes the first load (the main module, its glue and the split
// loader) may not exceed, stored in bench/budget.json. The bench reports the bundle row against
// it; `scripts/test` runs this file on its release build, so a change that grows the first load
// fails the suite instead of being found at the next quiet bench.
//
//   node bench/budget.mjs DIST        exits 1 when DIST's first load is over the budget
import { readFile } from 'node:fs/promises';
import { bundleSizes } from './bundle.mjs';
import { kb } from './report.mjs';

export const BUDGET_FILE = new URL('./budget.json', import.meta.url);

/**
 * The stored budget: `{ firstLoadGzip }` in bytes (gzip -6, as the bundle row counts), and
 * `since`, the commit whose build it was set from. A missing or malformed file is an error,
 * never a budget of nothing.
 */
export async function readBudget(file = BUDGET_FILE) {
  let parsed;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`the first-load budget ${file.pathname ?? file} cannot be read: ${e.message}`);
  }
  const bytes = parsed?.firstLoadGzip;
  if (!Number.isInteger(bytes) || bytes <= 0) {
    throw new Error(`the first-load budget ${file.pathname ?? file} has no firstLoadGzip in bytes (a positive whole number)`);
  }
  return { firstLoadGzip: bytes, since: parsed.since ?? null };
}

/** The first load's gzip bytes in `sizes` (from `bundleSizes`). */
export function firstLoadGzip(sizes) {
  return sizes.firstLoad.wasm.gzip + sizes.firstLoad.js.gzip;
}

/** `gzip` bytes against `budget`: whether they fit, by how much, and a sentence that says so. */
export function compareToBudget(gzip, budget) {
  const delta = gzip - budget.firstLoadGzip;
  const within = delta <= 0;
  const limit = `the budget of ${kb(budget.firstLoadGzip)} (bench/budget.json)`;
  const text = within
    ? `${kb(gzip)}: ${Math.abs(delta)} B under ${limit}`
    : `${kb(gzip)}: ${delta} B over ${limit}; find what joined the main module with bench/wasm_sizes.mjs and move it behind a page's split`;
  return { within, delta, text };
}

async function main() {
  const [dist] = process.argv.slice(2);
  if (!dist) throw new Error('usage: node bench/budget.mjs DIST');
  const result = compareToBudget(firstLoadGzip(await bundleSizes(dist)), await readBudget());
  console.log(`first load of ${dist}: ${result.text}`);
  if (!result.within) process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(`budget: ${e.message}`); process.exit(1); });
}
