// 4. Storage at scale and 5. charts: 10,000 runs / 100,000 steps in the app's IndexedDB, then the
// Runs page's first row, the export of every run as JSONL, and the Costs page's three charts.
//
// Seeding goes through raw IndexedDB inside the page, in the shape the app's store writes
// (src/web/idb/records.rs): the app itself runs two debates against the mock (9 and 11 steps),
// their records are read back as they were stored, and copies are written under new run ids,
// problems and times. Half the runs have 9 steps and half 11, 10 on average. The copies are
// grouped into batches of 10,000 problems (issue 20's batch size): the app runs a 2-problem
// batch, whose record is read back and copied with one item per copied run, so the store holds
// batch records of the size a user's batches leave (megabytes each), which every page load's
// start-up check meets. The template batch's own runs are removed. (The copied runs
// keep no batch id: only the batch records' size is what the Runs page's load meets.)
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  APP, MOCK_FAST, SCRATCH, checkTestId, clickTestId, freshBrowser, median, mockConfig,
  mockControl, mockProviders, seedStorage, setFileTestId, waitInPage, waitMark, watch,
  watchOnLoad,
} from './lib.mjs';
import { PROFILING, summarize } from './cpu_profile.mjs';
import { timedRun } from './loop.mjs';
import {
  readOpfsFile, savePickerStub, withoutSavePicker, withoutWritableFiles,
} from '../tests/e2e/save-picker.mjs';

// BENCH_STORAGE_RUNS=100000 gives the 100,000-run / 1,000,000-step store of issue 20 (about
// 0.7 GB by the storage estimate, and its export writes 1.3 GB more into the origin's files
// until it is read back and removed; check the free space first).
const RUNS = Number(process.env.BENCH_STORAGE_RUNS ?? 10_000);
export const SCALE = { runs: RUNS, steps: RUNS * 10 };
const TOKEN = 'QQQQQQQQ'; // replaced by each copy's 8-digit number, in its problem and steps
const BATCH_SIZE = 10_000;

/**
 * Runs a template debate whose verifier fails `failures` rounds: 2 × (failures + 1) + 1 steps.
 * Each round's answer and critique differ: the loop stops a debate whose critiques go in
 * circles.
 */
async function templateRun(page, failures) {
  await mockControl(MOCK_FAST, 'reset');
  const critiques = [
    'The second step drops a term; redo it.',
    'Now the sign of the constant is wrong.',
    'The units were never converted to metres.',
    'Rounding happened before the final division.',
  ];
  const rules = [];
  for (let k = 0; k < failures; k += 1) {
    rules.push({
      agent: 'verifier', times: 1,
      reply: { passed: false, critique: critiques[k % critiques.length], confidence: 0.6, scores: {} },
    }, {
      agent: 'solver', times: 1,
      reply: { solution: `The answer is \\boxed{${30 + k}}.`, reasoning: `Attempt ${k + 1}, multiplied term by term.`, confidence: 0.5 },
    });
  }
  await mockControl(MOCK_FAST, 'script', { rules });
  // The problem names its rounds: the config samples at temperature 0 and the app's default
  // reuse policy answers an identical request from the reply store, so a second template with
  // the first one's problem would replay the first one's replies and end with its steps.
  const problem = `Benchmark problem ${TOKEN} (${failures} rounds): what is 6 times 7? ANSWER=42`;
  const r = await timedRun(page, MOCK_FAST, problem, '42');
  const want = 2 * (failures + 1) + 1;
  if (r.status !== 'completed' || r.steps !== want) throw new Error(`template run ended ${r.status} with ${r.steps} steps, expected ${want}`);
  return r.runId;
}

/** Runs a 2-problem debate batch on /batch (the mock's verifier passes at once): the template
 *  of the seeded batch records. */
async function templateBatch(page) {
  await mockControl(MOCK_FAST, 'reset');
  await page.goto(`${APP}/batch`);
  const lines = [1, 2].map((i) => JSON.stringify({ id: `t${i}`, problem: `Template ${i}: what is ${i} + ${i}? ANSWER=${2 * i}`, answer: String(2 * i) }));
  await setFileTestId(page, 'dataset-import', { name: 'bench-storage-template.jsonl', mimeType: 'application/x-ndjson', text: `${lines.join('\n')}\n` });
  await clickTestId(page, 'dataset-save');
  await waitInPage(page, '2 problems selected', () => document.querySelector('[data-testid="batch-selected"][data-count="2"]') !== null);
  await checkTestId(page, 'batch-mode-debate');
  await watch(page, { name: 'templateBatch', selector: '[data-testid="batch-status"]', textIn: ['completed', 'failed', 'cancelled', 'interrupted', 'paused'] });
  await clickTestId(page, 'batch-start');
  await waitMark(page, 'templateBatch', 120_000);
  const status = await page.getByTestId('batch-status').textContent();
  if (!/completed/i.test(status)) throw new Error(`the template batch ended ${status}`);
}

/** Writes the copies inside the page; returns the stores' counts afterwards. */
function seedInPage({ templateIds, runs, token, batchSize }) {
  const open = () => new Promise((resolve, reject) => {
    const req = indexedDB.open('trialogue');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const done = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
  const ask = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const pad = (n, w) => String(n).padStart(w, '0');
  // serde_json writes an integral f64 with ".0"; JavaScript would drop it.
  const f64 = (n) => (Number.isInteger(n) ? `${n}.0` : String(n));
  const compact = (ms) => {
    const d = new Date(ms);
    return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}_${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`;
  };
  // A timestamp in the template's own format (fraction digits and zone suffix kept).
  const stampLike = (template, ms) => {
    const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(template);
    if (!m) return template;
    const iso = new Date(ms).toISOString(); // 2025-01-01T10:00:00.123Z
    const digits = m[1] ? m[1].length - 1 : 0;
    const frac = digits ? `.${(iso.slice(20, 23) + '000000000').slice(0, digits)}` : '';
    return `${iso.slice(0, 19)}${frac}${m[2]}`;
  };

  return (async () => {
    const db = await open();
    const templates = [];
    {
      const tx = db.transaction(['runs', 'steps'], 'readonly');
      for (const id of templateIds) {
        const run = await ask(tx.objectStore('runs').get(id));
        const steps = await ask(tx.objectStore('steps').getAll(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER])));
        templates.push({ run, steps });
      }
    }
    // The template batch, without its runs.
    let batchTemplate;
    {
      const tx = db.transaction(['runs', 'steps', 'batches'], 'readwrite');
      [batchTemplate] = await ask(tx.objectStore('batches').getAll());
      for (const item of JSON.parse(batchTemplate.json).items) {
        tx.objectStore('runs').delete(item.run_id);
        tx.objectStore('steps').delete(IDBKeyRange.bound([item.run_id, 0], [item.run_id, Number.MAX_SAFE_INTEGER]));
      }
      tx.objectStore('batches').delete(batchTemplate.batch_id);
      await done(tx);
    }
    const batchBody = JSON.parse(batchTemplate.json);
    const batchOf = [];
    const firstMs = templates[0].run.created_ms - 30 * 86_400_000;
    const perTx = 250;
    for (let start = 0; start < runs; start += perTx) {
      const tx = db.transaction(['runs', 'steps'], 'readwrite');
      const runStore = tx.objectStore('runs');
      const stepStore = tx.objectStore('steps');
      for (let i = start; i < Math.min(runs, start + perTx); i += 1) {
        const t = templates[i % templates.length];
        const created = firstMs + i * 240_000; // one every 4 minutes: about 28 days
        const updated = created + (t.run.updated_ms - t.run.created_ms);
        const hex = (Math.imul(i + 1, 2654435761) >>> 0).toString(16).padStart(8, '0');
        const id = `run_${compact(created)}_${hex}`;
        const number = pad(i, 8);
        const swap = (text) => text.split(t.run.run_id).join(id).split(token).join(number);
        const json = swap(t.run.json)
          .replace(/"created_ms":[-0-9.eE+]+/, `"created_ms":${f64(created)}`)
          .replace(/"updated_ms":[-0-9.eE+]+/, `"updated_ms":${f64(updated)}`);
        runStore.put({ ...t.run, run_id: id, created_ms: created, updated_ms: updated, json });
        batchOf.push({ ...batchBody.items[0], problem_id: `p${number}`, run_id: id });
        t.steps.forEach((s, k) => {
          const line = swap(s.line).replace(/"timestamp":"([^"]*)"/, (_, old) => `"timestamp":"${stampLike(old, created + (k + 1) * 1000)}"`);
          stepStore.put({ ...s, run_id: id, line });
        });
      }
      await done(tx);
    }
    for (let first = 0; first < batchOf.length; first += batchSize) {
      const items = batchOf.slice(first, first + batchSize);
      const created = firstMs + first * 240_000;
      const id = `batch_${compact(created)}_${pad(first / batchSize, 8)}`;
      const body = {
        ...batchBody, batch_id: id, name: `Seeded ${first / batchSize}`, created_ms: created,
        updated_ms: created, status: 'completed', problem_ids: items.map((i) => i.problem_id), items,
      };
      const tx = db.transaction('batches', 'readwrite');
      tx.objectStore('batches').put({ ...batchTemplate, batch_id: id, created_ms: created, status: 'completed', json: JSON.stringify(body) });
      await done(tx);
    }
    // Runs written past the app leave its maintained counts behind: dropped, the Runs page
    // counts them again from the status index (src/web/idb/run_counts.rs).
    if (db.objectStoreNames.contains('run_counts')) {
      const tx = db.transaction('run_counts', 'readwrite');
      tx.objectStore('run_counts').delete('by_status');
      await done(tx);
    }
    const tx = db.transaction(['runs', 'steps'], 'readonly');
    const counts = {
      batches: batchOf.length ? Math.ceil(batchOf.length / batchSize) : 0,
      runs: await ask(tx.objectStore('runs').count()),
      steps: await ask(tx.objectStore('steps').count()),
    };
    db.close();
    return counts;
  })();
}

/** What the origin stores, by the browser's own estimate (`navigator.storage.estimate`). */
async function storageUsage(page) {
  return page.evaluate(async () => (await navigator.storage.estimate()).usage);
}

/**
 * The proportional set size (PSS) of Chromium's processes for this profile: the browser process
 * (found by its --user-data-dir) and every process under it. Strings the page passes to the
 * browser (TextDecoder output, Blob parts, writes to a file) live outside the V8 heap that
 * JSHeapUsedSize counts, so only the processes' memory shows what an export holds. `total` is
 * the sum; `kinds` splits it by process (`browser`, `renderer`, `gpu-process`, `utility:<its
 * service>`, ...) into `pss` and its anonymous, file-backed and shared-memory parts
 * (smaps_rollup's Pss_Anon, Pss_File, Pss_Shmem). Linux only; null elsewhere.
 */
async function chromiumMemory(profileDir) {
  let pids;
  try { pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)); } catch { return null; }
  const parent = new Map();
  const args = new Map();
  let root = null;
  await Promise.all(pids.map(async (pid) => {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      // Chromium rewrites its children's titles into one string: their flags are split on
      // spaces as well.
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split(/[\0 ]/);
      args.set(pid, argv);
      if (root === null && argv.some((a) => a.startsWith('--user-data-dir=') && a.endsWith(profileDir.replace(/^\.\//, '')))) root = pid;
    } catch { /* gone meanwhile */ }
  }));
  if (root === null) return null;
  const inTree = (pid) => { for (let p = pid; p && p !== '0'; p = parent.get(p)) if (p === root) return true; return false; };
  const kindOf = (pid) => {
    const argv = args.get(pid) ?? [];
    const flag = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
    const type = flag('type');
    if (pid === root || !type) return 'browser';
    if (type === 'utility') return `utility:${flag('utility-sub-type') ?? '?'}`;
    return type;
  };
  const memory = { total: 0, kinds: {} };
  await Promise.all([...parent.keys()].filter(inTree).map(async (pid) => {
    try {
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
      const kind = (memory.kinds[kindOf(pid)] ??= { pss: 0, anon: 0, file: 0, shmem: 0 });
      kind.pss += kb('Pss');
      kind.anon += kb('Pss_Anon');
      kind.file += kb('Pss_File');
      kind.shmem += kb('Pss_Shmem');
      memory.total += kb('Pss');
    } catch { /* gone meanwhile */ }
  }));
  return memory;
}

/** Times `loads` navigations to `route`, each until watch `name` holds. */
async function timedLoads(page, route, name, loads) {
  const samples = [];
  for (let i = 0; i < loads; i += 1) {
    await page.goto(`${APP}${route}`, { waitUntil: 'commit' });
    const marks = await waitMark(page, name, 120_000);
    samples.push({ dom: marks[name], painted: marks[`${name}:painted`] });
  }
  return { samples, median: median(samples.map((s) => s.painted ?? s.dom)) };
}

/**
 * With BENCH_CPU_PROFILE, one more load of `route` (after the timed ones, so their figures are
 * not the profiler's) recorded from before the navigation to watch `name`: the main thread's
 * profile and, beside its summary, when each file the page fetched started and ended, so the
 * time before the mark splits into fetching, waiting and running.
 */
async function profiledLoad(context, page, route, name) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await page.goto(`${APP}${route}`, { waitUntil: 'commit' });
  const marks = await waitMark(page, name, 120_000);
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.send('Profiler.disable');
  const fetched = await page.evaluate(() => performance.getEntriesByType('resource')
    .map((r) => `${r.startTime.toFixed(1).padStart(8)} → ${r.responseEnd.toFixed(1).padStart(8)} ms  ${r.name.split('/').slice(-2).join('/')}`));
  const dir = join(SCRATCH, 'cpu');
  await mkdir(dir, { recursive: true });
  const file = route.replace(/\W+/g, '') || 'root';
  await writeFile(join(dir, `${file}-page.cpuprofile`), JSON.stringify(profile));
  await writeFile(join(dir, `${file}-page.txt`),
    `marks: ${JSON.stringify(marks)}\n\nfetched:\n${fetched.join('\n')}\n\n${summarize(profile)}`);
}

/**
 * The ways an export can leave the page (`BENCH_EXPORT_PATHS`, comma-separated; the first is
 * the row's):
 * - `picker`, the default, is what a user of Chromium gets: the app's save picker path with
 *   the browser's own `FileSystemWritableFileStream`. Headless Chromium's picker has no user to
 *   answer it, so a stub picker (`opfs` of tests/e2e/save-picker.mjs) hands out a file of the
 *   origin private file system, written to disk by the same browser-side writer a picked
 *   file's stream uses; the file is read back for its size and lines, then removed.
 * - `count`: the stub picker whose file only counts what it is given and keeps none: the page
 *   alone, with no writing at all.
 * - `spool`: no picker: the download spooled through the origin private file system (other
 *   browsers with writable files).
 * - `blob`: neither a picker nor writable files: the Blob download built in memory.
 */
const EXPORT_PATHS = (process.env.BENCH_EXPORT_PATHS ?? (process.env.BENCH_EXPORT_BLOB === '1' ? 'blob' : 'picker'))
  .split(',').map((p) => p.trim()).filter(Boolean);

/**
 * Exports every run along `path` (see EXPORT_PATHS) and samples, every 50 ms while it runs,
 * the page's JS heap (CDP) and the memory of Chromium's processes (`chromiumMemory`).
 */
async function timedExport(context, page, path) {
  if (!['picker', 'count', 'spool', 'blob'].includes(path)) throw new Error(`unknown export path ${path} (BENCH_EXPORT_PATHS: picker, count, spool, blob)`);
  await page.goto(`${APP}/runs`);
  await page.locator('[data-testid="run-row"]').first().waitFor({ timeout: 120_000 });
  // The app looks for the picker when the button is clicked, so it is installed here.
  if (path === 'picker' || path === 'count') {
    await page.evaluate(savePickerStub, { mode: path === 'picker' ? 'opfs' : 'count' });
  } else {
    await page.evaluate(withoutSavePicker);
    if (path === 'blob') await page.evaluate(withoutWritableFiles);
  }
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
  };
  // The renderer main thread's busy time (its tasks, and the script inside them), in seconds:
  // the page's own work, which a loaded machine stretches far less than the wall time.
  const mainThread = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const value = (name) => metrics.find((m) => m.name === name)?.value ?? NaN;
    return { task: value('TaskDuration'), script: value('ScriptDuration') };
  };
  const wasmBytes = () => page.evaluate(() => window.__bench.memory?.buffer.byteLength ?? null);
  const profileDir = join(SCRATCH, 'profiles', 'storage');
  const memoryBefore = await chromiumMemory(profileDir);
  const before = { heap: await heap(), wasm: await wasmBytes(), pss: memoryBefore?.total ?? null };
  let peak = before.heap;
  let pssPeak = before.pss;
  // The split of the sample with the highest total, and each kind of process's own highest.
  let atPeak = memoryBefore?.kinds ?? null;
  const kindPeaks = {};
  let samples = 0;
  let sampling = true;
  // Its failure is kept, not left unhandled: a page that goes away mid-export fails the
  // sampler first, and an unhandled rejection would end the process before the export's own
  // error is reported.
  let samplerError = null;
  const sampler = (async () => {
    while (sampling) {
      const started = Date.now();
      peak = Math.max(peak, await heap());
      const memory = await chromiumMemory(profileDir);
      if (memory !== null) {
        if (memory.total > (pssPeak ?? 0)) { pssPeak = memory.total; atPeak = memory.kinds; }
        for (const [kind, m] of Object.entries(memory.kinds)) {
          const top = (kindPeaks[kind] ??= { pss: 0, anon: 0, file: 0, shmem: 0 });
          for (const key of Object.keys(top)) top[key] = Math.max(top[key], m[key]);
        }
      }
      samples += 1;
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - started))));
    }
  })().catch((e) => { samplerError = e; });
  const workBefore = await mainThread();
  const t0 = performance.now();
  let seconds;
  let file;
  try {
    if (path === 'blob' || path === 'spool') {
      const saved = join(SCRATCH, 'export.jsonl');
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 600_000 }),
        page.getByTestId('runs-export-all').click(),
      ]);
      await download.saveAs(saved);
      seconds = (performance.now() - t0) / 1000;
      file = { bytes: 0, lines: 0 };
      for await (const chunk of createReadStream(saved)) {
        file.bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) file.lines += 1;
      }
      await rm(saved, { force: true });
      await download.delete();
      // The app keeps its spool until the next export: removed here, so disk use stays as it was.
      await page.evaluate(async () => {
        const root = await navigator.storage.getDirectory();
        for await (const name of root.keys()) if (name.startsWith('export-spool-')) await root.removeEntry(name);
      });
    } else {
      await page.getByTestId('runs-export-all').click();
      const ended = await page.waitForFunction(
        () => window.__savedFile?.closed || document.querySelector('.runs-transfer [role="alert"]')?.textContent,
        null,
        { timeout: 600_000, polling: 50 },
      );
      seconds = (performance.now() - t0) / 1000;
      const outcome = await ended.jsonValue();
      if (outcome !== true) throw new Error(`the export failed: ${outcome}`);
      file = await page.evaluate(() => window.__savedFile);
    }
  } finally {
    // Stopped however the export ended: left going after a failed export, it would outlive
    // the page.
    sampling = false;
    await sampler;
  }
  if (samplerError) throw new Error(`the heap could not be sampled during the export: ${samplerError.message}`);
  const workAfter = await mainThread();
  const after = { wasm: await wasmBytes() };
  if (path === 'picker') {
    const { bytes, lines } = await page.evaluate(readOpfsFile, { name: file.name, remove: true });
    file = { ...file, bytes, lines };
  }
  return {
    path,
    pssBefore: before.pss,
    pssPeak,
    memoryBefore: memoryBefore?.kinds ?? null,
    memoryAtPeak: atPeak,
    memoryPeaks: kindPeaks,
    seconds,
    taskSeconds: workAfter.task - workBefore.task,
    scriptSeconds: workAfter.script - workBefore.script,
    bytes: file.bytes,
    lines: file.lines,
    writes: file.writes ?? null,
    maxPending: file.maxPending ?? null,
    heapBefore: before.heap,
    heapPeak: peak,
    heapSamples: samples,
    // Linear memory only grows, so its size afterwards is its peak.
    wasmBefore: before.wasm,
    wasmAfter: after.wasm,
  };
}

export async function storageAtScale({ loads = 3 } = {}) {
  const { context, page, problems } = await freshBrowser('storage');
  try {
    await seedStorage(context, {
      providers: mockProviders(MOCK_FAST), keys: { openai: 'bench-key' }, config: mockConfig('bench-storage', 5),
    });
    const templateIds = [await templateRun(page, 3), await templateRun(page, 4)];
    await templateBatch(page);
    const usedBefore = await storageUsage(page);
    const t0 = performance.now();
    const counts = await page.evaluate(seedInPage, { templateIds, runs: SCALE.runs - 2, token: TOKEN, batchSize: BATCH_SIZE });
    const seedSeconds = (performance.now() - t0) / 1000;
    const usedAfter = await storageUsage(page);
    // The two template runs are in both readings: the difference is the copies' steps.
    const bytesPerStep = (usedAfter - usedBefore) / (SCALE.steps - 20);
    if (counts.runs !== SCALE.runs || counts.steps !== SCALE.steps) {
      throw new Error(`seeded ${counts.runs} runs / ${counts.steps} steps, expected ${SCALE.runs} / ${SCALE.steps}`);
    }

    await watchOnLoad(context, { name: 'firstRow', selector: '[data-testid="run-row"]', visible: true });
    await watchOnLoad(context, {
      name: 'charts',
      all: ['chart-cost-by-agent', 'chart-cost-by-model', 'chart-cost-over-time']
        .map((id) => ({ selector: `svg[data-testid="${id}"]` })),
    });
    const runsPage = await timedLoads(page, '/runs', 'firstRow', loads);
    runsPage.rows = await page.locator('[data-testid="run-row"]').count();
    if (PROFILING) await profiledLoad(context, page, '/runs', 'firstRow');
    const exports = [];
    for (const path of EXPORT_PATHS) {
      const one = await timedExport(context, page, path);
      if (one.lines !== SCALE.steps) throw new Error(`the export (${path}) holds ${one.lines} lines, expected ${SCALE.steps}`);
      exports.push(one);
    }
    const [exported] = exports;
    const costsPage = await timedLoads(page, '/costs', 'charts', loads);
    if (problems.length) throw new Error(problems.join('; '));
    return {
      ...SCALE, seedSeconds, runsPage, export: exported, exports, costsPage,
      disk: { usedBefore, usedAfter, bytesPerStep },
    };
  } finally {
    await context.close();
  }
}
