// Crash consistency: the browser process is killed (SIGKILL, not a tab close) at seeded points
// while runs and a batch are going: a call in flight, a reply just received, a step being
// committed. After each kill the same profile is opened again and the work goes on; at the end
// every stored run opens, exports valid JSONL with each step once and in order, and resumes to
// the same three steps an uninterrupted run makes, its earlier steps unchanged.
//
// The browser is launched here (not through the `page` fixture) on a profile folder of its own,
// with TMPDIR pointed at a private folder too, so nothing a killed browser leaves behind
// (Chromium's scoped_dir folders) stays in /tmp: both are deleted at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { test, expect } from './fixtures.mjs';
import { withoutSavePicker } from './save-picker.mjs';
import {
  MOCK_OPENAI, download, expectUsd, importDataset, mockRequests, releaseMock, requestWorstCase, resetMock, scriptMock,
  seedApp,
} from './helpers.mjs';

const APP = `http://127.0.0.1:${process.env.TRIALOGUE_APP_PORT}`;
const SEED = 20261207;
const KILLS = 22;
const MODEL = 'openai/gpt-4.1-mini';
const CONFIG = {
  config_version: 'e2e-crash',
  mode: 'debate',
  max_iterations: 2,
  max_attempts: 1,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve.\n{problem}\n{feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Check.\n{problem}\n{solution}' },
  judge: { model: MODEL, prompt_template: 'Grade.\n{problem}\n{solution}\n{rubric}', scoring_rubric: 'right or wrong' },
};
/** The prompt mark of the run the last kill stops mid-call, and the mock gate that holds it. */
const HELD_RUN = 'Crash held run';
const HELD_GATE = 'crash-held';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'];

/** A small seeded generator (mulberry32): the same kill points on every run of the test. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The pid of the browser process (not a renderer or helper) using `profile`. */
function browserPid(profile) {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let args;
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.includes(`--user-data-dir=${profile}`) && !args.some((a) => a.startsWith('--type='))) return Number(pid);
  }
  throw new Error(`no browser process uses ${profile}`);
}

let launches = 0;

/**
 * Opens the browser on `profile`, seeded (once per profile) with `seed` for `seedApp`. The
 * browser's own log goes to a file of this launch (`browserLog`), to explain a failure: a store
 * the browser found damaged and started afresh says so there.
 */
async function launch(profile, tmp, seed = { keys: { openai: 'sk-e2e-crash' }, config: CONFIG }) {
  launches += 1;
  const browserLog = path.join(tmp, `browser-${launches}.log`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: [...ARGS, '--enable-logging', `--log-file=${browserLog}`],
    baseURL: APP, acceptDownloads: true, env: { ...process.env, TMPDIR: tmp },
  });
  // A browser of its own, so the fixtures' context never reaches it: without this, headless
  // Chromium's save picker refuses every export as a cancel and the downloads never start.
  await context.addInitScript(withoutSavePicker);
  const page = context.pages()[0] ?? await context.newPage();
  await seedApp(page, { ...seed, once: true });
  return { context, page, browserLog };
}

/**
 * How many records the app's database (IndexedDB `trialogue`) holds in each of `stores`, read
 * beside the app, with its version; `'no database'` when there is none (it is not created).
 */
const storedCounts = (page, stores = ['runs', 'datasets', 'batches']) => page.evaluate(async (names) => {
  if (!(await indexedDB.databases()).some((d) => d.name === 'trialogue')) return 'no database';
  return new Promise((resolve, reject) => {
    const opened = indexedDB.open('trialogue');
    opened.onerror = () => reject(opened.error);
    opened.onsuccess = () => {
      const db = opened.result;
      const present = names.filter((n) => db.objectStoreNames.contains(n));
      const counts = { version: db.version };
      if (present.length === 0) { db.close(); resolve(counts); return; }
      const tx = db.transaction(present);
      for (const n of present) tx.objectStore(n).count().onsuccess = (e) => { counts[n] = e.target.result; };
      tx.oncomplete = () => { db.close(); resolve(counts); };
      tx.onerror = () => reject(tx.error);
    };
  });
}, stores);

/**
 * Waits for `locator` to be visible (within `timeout` ms); when it is not, fails with what the
 * store holds and what the browser logged about storage since its launch, so a run of this test
 * that fails explains itself.
 */
async function expectShownOrReport(locator, page, browserLog, timeout = 5_000) {
  try {
    await expect(locator).toBeVisible({ timeout });
  } catch (error) {
    const counts = await storedCounts(page).catch((e) => `not read: ${e}`);
    const printed = fs.existsSync(browserLog) ? fs.readFileSync(browserLog, 'utf8').split('\n') : [];
    const storage = printed.filter((l) => /indexed|leveldb|quota|storage|corrupt/i.test(l));
    throw new Error(`${error.message}\nthe store holds ${JSON.stringify(counts)}; the browser's storage lines:\n${storage.slice(-40).join('\n')}`);
  }
}

/** The Batch page's card, drawn once the start-up check has marked what a killed browser left. */
const expectBatchCard = (page, browserLog) => expectShownOrReport(page.getByTestId('batch-status'), page, browserLog, 20_000);

async function open(page, route) {
  await page.goto(route);
  await expect(page.getByTestId('nav-configure')).toBeVisible();
}

/** Kills the browser with SIGKILL and waits until the process is gone. */
async function kill(profile, context) {
  const pid = browserPid(profile);
  const closed = new Promise((resolve) => context.once('close', resolve));
  process.kill(pid, 'SIGKILL');
  await closed;
  await expect.poll(() => fs.existsSync(`/proc/${pid}`)).toBe(false);
}

/** Every line of the Runs page's export, parsed. */
async function exportAll(page) {
  await open(page, '/runs');
  const { text } = await download(page, () => page.getByTestId('runs-export-all').click());
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

/** The Runs page's rows as [run id, status]. */
const runRows = (page) => page.getByTestId('run-row').evaluateAll((trs) => trs.map((tr) => [tr.dataset.runId, tr.dataset.status]));

/**
 * Each run's possibly-billed spend as its page shows it ("at most $X unaccounted", 0 when none
 * is shown), read once the run's record is drawn.
 */
async function unaccountedByRun(page, runIds) {
  const figures = new Map();
  for (const runId of runIds) {
    await open(page, `/runs/${runId}`);
    await expect(page.getByTestId('run-download-jsonl')).toBeVisible();
    const shown = page.getByTestId('run-unaccounted');
    figures.set(runId, (await shown.count()) ? Number(await shown.getAttribute('data-usd')) : 0);
  }
  return figures;
}

/** Steps grouped by run, in file order. */
function byRun(lines) {
  const runs = new Map();
  for (const line of lines) {
    if (!runs.has(line.run_id)) runs.set(line.run_id, []);
    runs.get(line.run_id).push(line);
  }
  return runs;
}

/** A step without the run facts an export stamps on whichever step is last. */
function unstamped(entry) {
  const { status, stop_reason: a, started_at: b, ground_truth: c, extracted_answer: d, config, ...metadata } = entry.metadata;
  return { ...entry, metadata };
}

test(`the browser killed at ${KILLS} seeded points of runs and a batch leaves every run whole, exportable and resumable`, async ({ request, problems }) => {
  test.setTimeout(600_000);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trialogue-crash-profile-'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trialogue-crash-tmp-'));
  const rng = seeded(SEED);
  try {
    await resetMock(request);
    // Every reply comes a little later than at once, so a kill can land while a call is in
    // flight as well as between a reply and its commit.
    // The last kill's run is held at the mock until the browser is gone (see below).
    await scriptMock(request, [{ match: HELD_RUN, fault: `hold:${HELD_GATE}` }, { latency_ms: 40 }]);
    // Chromium records a site's storage in its quota database lazily: a browser killed within
    // seconds of the site's first use of storage can lose that record, and a later start then
    // drops the site's IndexedDB as data no bucket owns (seen here: "Creating DB … since it
    // was missing" in its LevelDB log, the bucket made anew at that start). A user's browser
    // has long had the record; one clean start and stop with the app's store opened makes it.
    {
      const { context, page } = await launch(profile, tmp);
      await open(page, '/runs');
      await expect.poll(() => page.evaluate(async () => (await indexedDB.databases()).some((d) => d.name === 'trialogue'))).toBe(true);
      await context.close();
    }
    let newRuns = 0;
    let batchStarted = false;
    for (let k = 0; k < KILLS; k += 1) {
      const { context, page, browserLog } = await launch(profile, tmp);
      const before = (await mockRequests(request)).length;
      const action = !batchStarted ? 'batch' : ['run', 'run', 'resume-batch', 'resume-run'][Math.floor(rng() * 4)];
      if (action === 'batch') {
        await open(page, '/batch');
        await importDataset(page, 'crash.jsonl', Array.from({ length: 6 }, (_, i) => ({ id: `c${i + 1}`, problem: `Crash batch problem ${i + 1}: what is ${i} + 1? ANSWER=${i + 1}`, answer: String(i + 1) })));
        await expect(page.getByTestId('dataset-row')).toHaveCount(1);
        await page.getByTestId('batch-concurrency').fill('2');
        await page.getByTestId('batch-start').click();
        batchStarted = true;
      } else if (action === 'run') {
        newRuns += 1;
        await open(page, '/run');
        await page.getByTestId('problem-input').fill(`Crash run ${newRuns}: what is 2 + ${newRuns}? ANSWER=${2 + newRuns}`);
        await page.getByTestId('run-start').click();
      } else if (action === 'resume-batch') {
        await open(page, '/batch');
        const resume = page.getByTestId('batch-resume');
        // The card is drawn once the start-up check (which a relaunch after a kill makes wait
        // on the store) has marked what the killed browser left.
        await expectBatchCard(page, browserLog);
        await expect(page.getByTestId('batch-status')).not.toHaveText('running');
        if (await resume.count()) await resume.click();
      } else {
        await open(page, '/runs');
        await expectShownOrReport(page.getByTestId('run-row').first(), page, browserLog);
        const resume = page.locator('[data-testid="run-row"][data-status="interrupted"] [data-testid="run-resume"]');
        if (await resume.count()) await resume.first().click();
      }
      // The kill point: a seeded number of requests into the work, then a seeded moment
      // within one reply's latency (before it, during it, or just after it).
      // (A run makes three requests; a kill set past the work's end happens once it is idle.)
      // The mock's log is read every few milliseconds: polled at the default back-off (up to a
      // second apart), the kill fell long after its request, when a run had mostly finished.
      const target = before + 1 + Math.floor(rng() * 3);
      await expect.poll(async () => (await mockRequests(request)).length, { timeout: 5_000, intervals: [5] })
        .toBeGreaterThanOrEqual(target).catch(() => {});
      await page.waitForTimeout(Math.floor(rng() * 80));
      await kill(profile, context);
    }
    // One kill that no machine's speed can move: later actions may finish every run the seeded
    // kills cut short, and a loaded machine may shift them all past their runs' ends. A new
    // run's first call is held at the mock until the browser is gone, so at least one run is
    // cut short with a call in flight, which the checks below need.
    {
      const { context, page } = await launch(profile, tmp);
      await open(page, '/run');
      await page.getByTestId('problem-input').fill(`${HELD_RUN}: what is 2 + 100? ANSWER=102`);
      await page.getByTestId('run-start').click();
      await expect.poll(async () => (await mockRequests(request))
        .some((r) => r.fault === `hold:${HELD_GATE}` && r.status === null), { timeout: 20_000 }).toBe(true);
      await kill(profile, context);
      // Its resume below is answered at once.
      await releaseMock(request, HELD_GATE);
    }

    // After the last kill: everything stored reads back whole.
    const { context, page, browserLog } = await launch(profile, tmp);
    problems.watch(page);
    try {
      const runs = byRun(await exportAll(page));
      await expect(page.getByTestId('run-row').first()).toBeVisible();
      // No run is left marked as going: the tab that drove it is gone.
      await expect(page.locator('[data-testid="run-row"][data-status="running"]')).toHaveCount(0);
      const rows = await runRows(page);
      // Every step is in the export once, in order, and no run has more than it should.
      expect([...runs.keys()].filter((id) => !rows.some(([runId]) => runId === id))).toEqual([]);
      let cutShort = 0;
      for (const [runId] of rows) {
        const steps = runs.get(runId) ?? [];
        expect(steps.map((s) => s.step_id), runId).toEqual(steps.map((_, i) => i + 1));
        expect(steps.length, runId).toBeLessThanOrEqual(3);
        if (steps.length < 3) cutShort += 1;
      }
      // The kills did cut runs short (else the test proved nothing).
      expect(cutShort).toBeGreaterThan(0);
      // Calls the kills left in flight were recovered as possibly billed on their runs.
      const billed = await unaccountedByRun(page, rows.map(([runId]) => runId));
      const killedMidCall = [...billed.values()].filter((usd) => usd > 0).length;
      expect(killedMidCall).toBeGreaterThan(0);

      // Everything resumes: the batch from its page, then every other unfinished run.
      await open(page, '/batch');
      // Whether Resume is offered says something only once the batch's card is drawn.
      await expectBatchCard(page, browserLog);
      if (await page.getByTestId('batch-resume').count()) {
        await page.getByTestId('batch-resume').click();
        await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 120_000 });
      }
      await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', '6');
      for (const [runId, status] of rows) {
        if (status === 'completed') continue;
        await open(page, `/runs/${runId}`);
        // The run's head (its download button) is drawn once its record is read; only then
        // does the absence of Resume say something.
        await expect(page.getByTestId('run-download-jsonl')).toBeVisible();
        const resume = page.getByTestId('run-resume');
        if (!(await resume.count())) continue;
        await resume.click();
        await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 60_000 });
      }
      const finished = byRun(await exportAll(page));
      await expect(page.getByTestId('run-row').first()).toBeVisible();
      const finalRows = await runRows(page);
      expect(finalRows.filter(([, status]) => status !== 'completed')).toEqual([]);
      expect(finished.size).toBe(finalRows.length);
      // The batch's resume may start items the kills left without a run (the batch had not
      // reached them); nothing else is new, and no problem has two runs.
      const earlierIds = new Set(rows.map(([runId]) => runId));
      const added = finalRows.map(([runId]) => runId).filter((runId) => !earlierIds.has(runId));
      for (const runId of added) expect(finished.get(runId)[0].input.problem, runId).toMatch(/^Crash batch problem /);
      const problems = [...finished.values()].map((steps) => steps[0].input.problem);
      expect(new Set(problems).size).toBe(problems.length);
      expect(finalRows.length).toBe(rows.length + added.length);
      // Resuming counted none of it again, and the Costs page sums the runs' figures.
      const billedAfter = await unaccountedByRun(page, finalRows.map(([runId]) => runId));
      for (const runId of added) expect(billedAfter.get(runId), runId).toBe(0);
      expect(Object.fromEntries([...billedAfter].filter(([runId]) => earlierIds.has(runId)))).toEqual(Object.fromEntries(billed));
      const total = [...billed.values()].reduce((a, b) => a + b, 0);
      await page.getByTestId('nav-costs').click();
      expectUsd(Number(await page.getByTestId('costs-unaccounted').getAttribute('data-usd')), total);
      for (const [runId, steps] of finished) {
        expect(steps.map((s) => [s.step_id, s.agent]), runId).toEqual([[1, 'solver'], [2, 'verifier'], [3, 'judge']]);
        // What was stored before the resume is kept as it was.
        const earlier = runs.get(runId) ?? [];
        expect(steps.slice(0, earlier.length).map(unstamped), runId).toEqual(earlier.map(unstamped));
      }
      console.log(`crash: ${KILLS} kills, ${rows.length} runs stored, ${cutShort} cut short, ${added.length} batch items started by the last resume, all resumed to 3 steps; ${killedMidCall} runs possibly billed $${total} in all, unchanged by the resume`);
    } finally {
      await context.close();
    }
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// A price of the test's own, and prompt-only structured output (the schema instructions travel in
// the user message), so the held call's worst case is worked out from the request the mock
// logged: see `requestWorstCase`.
const PRICE = { input_per_million: 3, output_per_million: 12 };
const PRICED = {
  providers: [{ ...MOCK_OPENAI, structured_mode: 'prompt_only' }],
  keys: { openai: 'sk-e2e-crash-billed' },
  config: {
    ...CONFIG, config_version: 'e2e-crash-billed', max_iterations: 1, max_reasks: 0,
    solver: { ...CONFIG.solver, max_tokens: 300 },
    verifier: { ...CONFIG.verifier, max_tokens: 300 },
    judge: { ...CONFIG.judge, max_tokens: 300 },
  },
  prices: { [MODEL]: PRICE },
};

/** How many calls the app's `in_flight` store holds. */
const callsInFlight = async (page) => (await storedCounts(page, ['in_flight'])).in_flight;

/** The run page's "at most $X unaccounted" figure, once the run's record is drawn. */
async function unaccountedOn(page) {
  await expect(page.getByTestId('run-download-jsonl')).toBeVisible();
  const shown = page.getByTestId('run-unaccounted');
  await expect(shown).toContainText(/^at most \$[0-9.]+ unaccounted$/);
  return Number(await shown.getAttribute('data-usd'));
}

test('a priced call in flight when the browser is killed is possibly billed on restart, counted once across reloads and not again on resume', async ({ request, problems }) => {
  test.setTimeout(120_000);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trialogue-crash-profile-'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trialogue-crash-tmp-'));
  try {
    await resetMock(request);
    // The verifier's reply is held for as long as the test takes: the kill lands mid-call.
    await scriptMock(request, [{ agent: 'verifier', times: 1, fault: 'hold:crash' }]);
    let { context, page } = await launch(profile, tmp, PRICED);
    await open(page, '/run');
    await page.getByTestId('problem-input').fill('Crash billing: what is 5 + 5? ANSWER=10');
    await page.getByTestId('run-start').click();
    await expect.poll(async () => (await mockRequests(request)).map((r) => [r.agent, r.status]))
      .toEqual([['solver', 200], ['verifier', null]]);
    const runId = (await page.getByTestId('run-id').textContent()).trim();
    // The call was recorded before it was sent.
    expect(await callsInFlight(page)).toBe(1);
    await kill(profile, context);
    // The mock saw the page hang up.
    await expect.poll(async () => (await mockRequests(request))[1].status).toBe('aborted');
    const held = (await mockRequests(request))[1];
    const worst = requestWorstCase(held, PRICE);

    ({ context, page } = await launch(profile, tmp, PRICED));
    problems.watch(page);
    try {
      // The start-up counted the call and removed its record in one write: the same figure on
      // the first visit and after two reloads, and nothing left in flight to count again.
      await open(page, `/runs/${runId}`);
      const seen = [await unaccountedOn(page)];
      for (let reload = 0; reload < 2; reload += 1) {
        await page.reload();
        seen.push(await unaccountedOn(page));
      }
      seen.forEach((usd) => expectUsd(usd, worst));
      expect(await callsInFlight(page)).toBe(0);
      await page.getByTestId('nav-costs').click();
      expectUsd(Number(await page.getByTestId('costs-unaccounted').getAttribute('data-usd')), worst);

      // Resumed, the verifier's call is sent again and answered: its committed step adds
      // nothing possibly billed, and the killed call's worst case is carried, not counted twice.
      await open(page, `/runs/${runId}`);
      await page.getByTestId('run-resume').click();
      await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
      expectUsd(await unaccountedOn(page), worst);
      expect(await callsInFlight(page)).toBe(0);
      const { text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
      const steps = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
      expect(steps.map((s) => [s.agent, s.metadata.possibly_billed_usd ?? 0])).toEqual([['solver', 0], ['verifier', 0], ['judge', 0]]);
      expect((await mockRequests(request)).map((r) => [r.agent, r.status]))
        .toEqual([['solver', 200], ['verifier', 'aborted'], ['verifier', 200], ['judge', 200]]);
      console.log(`crash: a call killed in flight possibly billed $${worst}, the same after 2 reloads and the resume`);
    } finally {
      await context.close();
    }
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
