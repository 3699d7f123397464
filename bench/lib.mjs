// Shared pieces of the benchmarks: where the servers are, a fresh browser profile per benchmark,
// in-page timing marks, and small statistics helpers.
//
// Every time is taken inside the page with performance.now() (zero = navigation start) or from an
// event's timeStamp, so Playwright's polling and the CDP round trips never add to a figure.
import { chromium } from '@playwright/test';
import { rm, mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { quietBrowser } from './cdp_pipe.mjs';
import { withoutSavePicker } from '../tests/e2e/save-picker.mjs';

const port = (name, fallback) => Number(process.env[name] ?? fallback);

/** The app (the release build served by scripts/static_server.py). */
export const APP = `http://127.0.0.1:${port('BENCH_APP_PORT', 8480)}`;
/** The mock provider with no added latency and keep-alive connections. */
export const MOCK_FAST = `http://127.0.0.1:${port('BENCH_MOCK_PORT', 8499)}`;
/** The mock provider with 100 ms added to every reply. */
export const MOCK_SLOW = `http://127.0.0.1:${port('BENCH_MOCK_SLOW_PORT', 8498)}`;
/**
 * A 100 ms provider over HTTP/2 + TLS, as real providers are reached: the front
 * (bench/h2_front.mjs) holds each reply of MOCK_FAST until 100 ms after the request came in.
 * Its certificate is self-signed, so only a browser from `freshBrowser(name,
 * { ignoreCertificateErrors: true })` accepts it. Control calls go to MOCK_FAST itself.
 */
export const MOCK_SLOW_H2 = `https://127.0.0.1:${port('BENCH_MOCK_TLS_PORT', 8496)}`;
/** The real local model (scripts/local-llm), OpenAI-compatible. */
export const MODEL_URL = `http://127.0.0.1:${port('BENCH_MODEL_PORT', 8497)}/v1`;
/** Scratch space: browser profiles, downloads, raw results (git-ignored). */
export const SCRATCH = process.env.BENCH_SCRATCH ?? '.bench';
/** The model every mock-backed config uses: OpenAI's schema mode, and a known price. */
export const MOCK_MODEL = 'openai/gpt-4.1-mini';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage',
  // Background tabs are never throttled: every page here is the only one, but be explicit.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
];

/**
 * A persistent Chromium context on a new, empty profile directory: IndexedDB lives on disk as it
 * does for a user (a plain `newContext()` keeps it in memory), and nothing is cached from an
 * earlier benchmark. `ignoreCertificateErrors` accepts the HTTP/2 front's self-signed
 * certificate (that benchmark only: every other one sees Chromium's usual checks).
 */
export async function freshBrowser(name, { ignoreCertificateErrors = false } = {}) {
  const dir = join(SCRATCH, 'profiles', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ignoreCertificateErrors ? [...CHROMIUM_ARGS, '--ignore-certificate-errors'] : CHROMIUM_ARGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  await context.addInitScript(installMarks);
  // Headless Chromium's save picker rejects every export as cancelled: pages download Blobs,
  // unless a bench installs a stub picker after this (bench/storage.mjs).
  await context.addInitScript(withoutSavePicker);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { context, page, problems };
}

/**
 * As `freshBrowser`, but Chromium is driven over a bare CDP pipe (cdp_pipe.mjs) instead of
 * Playwright, for the benchmarks that count CPU: Playwright's page listens to every request's
 * Network events, which costs the browser CPU per call. Its page has `goto`, `url` and
 * `evaluate`; forms are filled with the in-page helpers below (`fillTestId` and the rest),
 * which serve both kinds of page. `readProblems()` gives the page's uncaught errors so far.
 */
export async function quietFreshBrowser(name, { ignoreCertificateErrors = false } = {}) {
  const { context, page } = await quietBrowser(join(SCRATCH, 'profiles', name), {
    executablePath: process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium',
    args: ignoreCertificateErrors ? [...CHROMIUM_ARGS, '--ignore-certificate-errors'] : CHROMIUM_ARGS,
  });
  await context.addInitScript(installMarks);
  return { context, page, readProblems: context.readProblems };
}

/**
 * Waits in the page until `predicate(arg)` holds (checked on every DOM mutation), or fails
 * after `timeout` ms naming `what`.
 */
export async function waitInPage(page, what, predicate, arg, timeout = 30_000) {
  // One expression with the predicate's source in it (the page's CSP forbids `new Function`).
  const ok = await page.evaluate(`new Promise((resolve) => {
    const holds = (${predicate.toString()});
    const arg = ${JSON.stringify(arg ?? null)};
    const check = () => {
      let v = false;
      try { v = holds(arg); } catch { v = false; }
      if (v) { observer.disconnect(); clearTimeout(timer); resolve(true); }
    };
    const observer = new MutationObserver(check);
    const timer = setTimeout(() => { observer.disconnect(); resolve(false); }, ${timeout});
    observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    check();
  })`);
  if (!ok) throw new Error(`${what}: not within ${timeout} ms`);
}

/** Waits until the element with test id `id` exists and is enabled. */
export function waitForTestId(page, id, timeout) {
  return waitInPage(page, `[data-testid="${id}"] enabled`, (testId) => {
    const el = document.querySelector(`[data-testid="${testId}"]`);
    return el !== null && !el.disabled;
  }, id, timeout);
}

/** Types `value` into the input or textarea `id` as a user's edit does (input and change events). */
export async function fillTestId(page, id, value) {
  await waitForTestId(page, id);
  await page.evaluate(([testId, v]) => {
    const el = document.querySelector(`[data-testid="${testId}"]`);
    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, [id, value]);
}

/** Clicks `id` from inside the page (`element.click()`), once it is enabled. */
export async function clickTestId(page, id) {
  await waitForTestId(page, id);
  await page.evaluate((testId) => document.querySelector(`[data-testid="${testId}"]`).click(), id);
}

/** Ticks the checkbox or radio `id` unless it is ticked. */
export async function checkTestId(page, id) {
  await waitForTestId(page, id);
  await page.evaluate((testId) => {
    const el = document.querySelector(`[data-testid="${testId}"]`);
    if (!el.checked) el.click();
  }, id);
}

/** Puts a file with `text` in the file input `id`, as choosing it in the dialog does. */
export async function setFileTestId(page, id, { name, mimeType, text }) {
  await waitForTestId(page, id);
  await page.evaluate(([testId, file]) => {
    const el = document.querySelector(`[data-testid="${testId}"]`);
    const chosen = new DataTransfer();
    chosen.items.add(new File([file.text], file.name, { type: file.mimeType }));
    el.files = chosen.files;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, [id, { name, mimeType, text }]);
}

/** The Chromium version the benchmarks ran in. */
export async function chromiumVersion() {
  const browser = await chromium.launch({
    executablePath: process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS,
  });
  try { return browser.version(); } finally { await browser.close(); }
}

/**
 * Runs in the page before any of its scripts (an init script, so the page's CSP does not apply).
 * Keeps `window.__bench.marks`: the first time each registered watch held, in ms since
 * navigation start, and the time of the frame after it (`<name>:painted`); clicks on elements
 * with a test id are marked `click:<id>` with the event's own timestamp. Watches are checked on
 * every DOM mutation; a watch on what can change without one (an input's value, visibility) is
 * also checked every animation frame, but only while it waits: a frame loop that never stopped
 * would make the page draw a frame every vsync and load the very main thread being measured.
 */
function installMarks() {
  const bench = { marks: {}, watches: [], memory: null, longTasks: [] };
  window.__bench = bench;
  // Tasks over 50 ms: how busy the main thread was (start, duration).
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) bench.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch { /* no Long Tasks API: the figures that use it are left out */ }
  addEventListener('TrunkApplicationStarted', (e) => {
    bench.marks.wasmStarted = performance.now();
    bench.memory = e.detail?.wasm?.memory ?? null;
  });
  document.addEventListener('click', (e) => {
    const el = e.target instanceof Element ? e.target.closest('[data-testid]') : null;
    if (el) bench.marks[`click:${el.dataset.testid}`] = e.timeStamp;
  }, true);

  const visible = (el) => el.getClientRects().length > 0;
  const holds = (w) => {
    if (w.all) return w.all.every(holds);
    const els = document.querySelectorAll(w.selector);
    if (els.length < (w.count ?? 1)) return false;
    const el = els[0];
    if (w.visible && !visible(el)) return false;
    if (w.textIn && !w.textIn.includes(el.textContent.trim())) return false;
    if (w.textNot !== undefined && el.textContent.trim() === w.textNot) return false;
    if (w.attr && el.getAttribute(w.attr) !== w.equals) return false;
    if (w.nonEmptyValue && !el.value) return false;
    return true;
  };
  const afterPaint = (fn) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = fn;
    channel.port2.postMessage(null);
  });
  // Resolvers of `whenMark` promises, by mark name.
  const waiting = {};
  const setMark = (name) => {
    bench.marks[name] = performance.now();
    for (const resolve of waiting[name] ?? []) resolve();
    delete waiting[name];
  };
  const needsFrames = (w) => (w.all ? w.all.some(needsFrames) : Boolean(w.nonEmptyValue || w.visible));
  let looping = false;
  const check = () => {
    for (const w of bench.watches) {
      if (w.name in bench.marks || !holds(w)) continue;
      setMark(w.name);
      afterPaint(() => setMark(`${w.name}:painted`));
    }
    const polling = bench.watches.some((w) => !(w.name in bench.marks) && needsFrames(w));
    if (polling && !looping) {
      looping = true;
      requestAnimationFrame(frame);
    }
  };
  function frame() {
    looping = false;
    check();
  }
  // A watch replaces an earlier one of the same name, and its marks.
  bench.watch = (w) => {
    bench.watches = bench.watches.filter((old) => old.name !== w.name);
    delete bench.marks[w.name];
    delete bench.marks[`${w.name}:painted`];
    bench.watches.push(w);
    check();
  };
  // Resolves once mark `name` is set (at once if it is), or rejects after `timeout` ms.
  bench.whenMark = (name, timeout) => new Promise((resolve, reject) => {
    if (name in bench.marks) { resolve(); return; }
    const timer = setTimeout(() => reject(new Error(`mark ${name} not set within ${timeout} ms`)), timeout);
    (waiting[name] ??= []).push(() => { clearTimeout(timer); resolve(); });
  });
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
}

/**
 * Registers a watch (see installMarks) for every page load from now on, by an init script, so it
 * is in place before the first mutation.
 */
export async function watchOnLoad(context, watch) {
  await context.addInitScript((w) => { window.__bench.watch(w); }, watch);
}

/** Registers a watch on the page as it is now. */
export async function watch(page, w) {
  await page.evaluate((spec) => window.__bench.watch(spec), w);
}

/** Waits until mark `name` is set and returns it with every other mark. */
export async function waitMark(page, name, timeout = 60_000) {
  // One call that the page answers when the mark is set: no polling from here, which would
  // run in the page, on the main thread being measured.
  await page.evaluate(([n, t]) => window.__bench.whenMark(n, t), [name, timeout]);
  // The painted mark follows within a frame.
  await page.evaluate((n) => window.__bench.whenMark(`${n}:painted`, 5_000), name).catch(() => {});
  return page.evaluate(() => ({ ...window.__bench.marks }));
}

/** Seeds the app's localStorage (providers, keys, config) before every page load. */
export async function seedStorage(context, { providers, keys = {}, config }) {
  await context.addInitScript(([p, k, c]) => {
    localStorage.setItem('trialogue.providers.v1', p);
    localStorage.setItem('trialogue.keys.v1', k);
    if (c !== null) localStorage.setItem('trialogue.config.v1', c);
  }, [JSON.stringify({ providers }), JSON.stringify(keys), config ? JSON.stringify(config) : null]);
}

/** The app's OpenAI provider pointed at a mock, as the e2e tests store it. */
export function mockProviders(mockUrl, { streaming = null } = {}) {
  return [{
    id: 'openai', label: 'OpenAI', kind: 'openai_compatible',
    base_url: `${mockUrl}/openai/v1`, structured_mode: null, builtin: true,
    // null: the provider's default (replies stream); false: whole replies.
    ...(streaming === null ? {} : { streaming }),
  }];
}

/** A debate config whose three agents call MOCK_MODEL. */
export function mockConfig(version, maxIterations) {
  return {
    config_version: version,
    mode: 'debate',
    max_iterations: maxIterations,
    max_attempts: 1,
    solver: {
      role: 'solver', model: MOCK_MODEL,
      prompt_template: 'Solve this problem.\n{problem}\nCritique of the last attempt: {feedback}',
    },
    verifier: {
      role: 'verifier', model: MOCK_MODEL,
      prompt_template: 'Check the solution.\nProblem: {problem}\nSolution: {solution}',
    },
    judge: {
      model: MOCK_MODEL,
      prompt_template: 'Grade the solution.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
      scoring_rubric: '1.0 when the final answer is right, else 0.0.',
    },
  };
}

/** Posts JSON to a mock control endpoint and fails loudly on a refusal. */
export async function mockControl(mockUrl, path, body) {
  const res = await fetch(`${mockUrl}/__mock/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}),
  });
  if (!res.ok) throw new Error(`mock ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Milliseconds of long tasks (over 50 ms) between `start` and `end` on the page. */
export async function longTaskMs(page, start, end) {
  return page.evaluate(([s, e]) => window.__bench.longTasks
    .filter(([t]) => t >= s && t <= e)
    .reduce((sum, [, d]) => sum + d, 0), [start, end]);
}

/**
 * A reader of the page's main-thread totals from CDP (`Performance.getMetrics`), in ms: all
 * tasks, script, layout and style recalculation. Differences between two readings say how busy
 * the main thread was in between.
 */
export async function mainThread(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  return async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const get = (name) => 1000 * (metrics.find((m) => m.name === name)?.value ?? NaN);
    return {
      task: get('TaskDuration'), script: get('ScriptDuration'),
      layout: get('LayoutDuration'), style: get('RecalcStyleDuration'),
    };
  };
}

/**
 * The whole machine's CPU time so far, in ms summed over its cores (Node's `os.cpus()`):
 * `busy` is everything but idle. Two readings say how much CPU the browser, the servers and
 * anything else used in between, and `cores` what was there to use.
 */
export function machineCpu() {
  const all = cpus();
  let busy = 0;
  let idle = 0;
  for (const { times } of all) {
    busy += times.user + times.nice + times.sys + times.irq;
    idle += times.idle;
  }
  return { busy, idle, cores: all.length };
}

/** CPU used between two `machineCpu()` readings: ms busy, and the share of all cores. */
export function cpuUsed(before, after) {
  const busy = after.busy - before.busy;
  const total = busy + after.idle - before.idle;
  return { busyMs: busy, share: total > 0 ? busy / total : 0, cores: after.cores };
}

/** `after − before`, field by field. */
export function minus(after, before) {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
}

/** The run statuses that end a run. */
export const RUN_ENDED = ['completed', 'failed', 'cancelled', 'interrupted', 'budget_exceeded'];

/** The value at quantile q (0..1) of `values` by the nearest-rank method. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

/** The median: the mean of the two middle values when the count is even. */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The largest number of intervals [start, end) open at one instant. */
export function maxOverlap(intervals) {
  const events = [];
  for (const [start, end] of intervals) events.push([start, 1], [end, -1]);
  // Ends sort before starts at the same instant: back-to-back requests do not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of events) { open += delta; most = Math.max(most, open); }
  return most;
}
