// Storage quota: with the origin's quota overridden (CDP `Storage.overrideQuotaForOrigin`, set
// before the app opens its database) to room for a small run and one large step, a run whose
// solver steps carry large replies fills it. IndexedDB refuses a later step (its commit, or the
// record of its call in flight before it is sent): the run stops with the storage-full message
// naming that step, every step stored before it is kept (and exports,
// as does the earlier run), and once space is freed (the override lifted) the run resumes from
// the refused step and completes, with no step lost or repeated. Chromium accounts usage
// lazily, so which large step is refused first varies; the test reads it from the message. An import that fills it stores whole runs until
// it is full and names the runs it could not store.
import { test, expect } from './fixtures.mjs';
import {
  download, mockRequests, openApp, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';
const CONFIG = {
  config_version: 'e2e-quota',
  mode: 'debate',
  max_iterations: 3,
  max_attempts: 1,
  // Above temperature 0 no request is answered from the reply store, so every call is counted.
  solver: { role: 'solver', model: MODEL, temperature: 0.7, prompt_template: 'Solve.\n{problem}\n{feedback}' },
  verifier: { role: 'verifier', model: MODEL, temperature: 0.7, prompt_template: 'Check.\n{problem}\n{solution}' },
  judge: { model: MODEL, prompt_template: 'Grade.\n{problem}\n{solution}\n{rubric}', scoring_rubric: 'right or wrong' },
};
// Each solver reply carries this much reasoning: a few of them outgrow the quota's headroom.
const REASONING_BYTES = 250_000;
// The run's quota holds the small run and one large step with its reply's copy in the reply
// store with room to spare, and far less than the three such steps the run makes; an import
// (which stores no replies) fits a few large runs, not all.
const RUN_QUOTA_BYTES = 900_000;
// The run: three rounds whose verifier fails (the last ends by `max_iterations`, or as circular
// since the critique repeats: the steps are the same), then the judge.
const FULL_RUN = [
  [1, 'solver'], [2, 'verifier'], [3, 'solver'], [4, 'verifier'], [5, 'solver'], [6, 'verifier'], [7, 'judge'],
];
const IMPORT_QUOTA_BYTES = 700_000;
const APP_ORIGIN = `http://127.0.0.1:${process.env.TRIALOGUE_APP_PORT}`;

/**
 * Overrides the origin's quota to `quotaSize` bytes, or lifts the override when undefined. The
 * override lasts as long as the DevTools session that set it, so one session per page is kept.
 */
const sessions = new WeakMap();
async function setQuota(page, quotaSize) {
  if (!sessions.has(page)) sessions.set(page, await page.context().newCDPSession(page));
  const origin = APP_ORIGIN;
  await sessions.get(page).send('Storage.overrideQuotaForOrigin', quotaSize === undefined ? { origin } : { origin, quotaSize });
}

async function jsonlOf(page) {
  const { text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

/** `n` characters that do not compress (IndexedDB compresses what it stores), the same each run. */
function incompressible(n, seed = 1) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let x = seed;
  let out = '';
  for (let i = 0; i < n; i += 1) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out += alphabet[(x >>> 16) & 63];
  }
  return out;
}

test('a run that fills the storage quota stops with a storage-full message, keeps what was stored, and resumes once space is freed', async ({ page, request }) => {
  test.setTimeout(120_000);
  await resetMock(request);
  await seedApp(page, { keys: { openai: 'sk-e2e-quota' }, config: CONFIG });
  // Problems tagged BIG get solver replies with large reasoning, and their verifier fails every
  // round, so the run is the same three rounds and the judge whichever step is refused.
  await scriptMock(request, [
    { match: 'BIG', agent: 'solver', reply: { solution: 'The answer is 5.', reasoning: incompressible(REASONING_BYTES), confidence: 0.5 } },
    { match: 'BIG', agent: 'verifier', reply: { passed: false, critique: 'Show the work.', confidence: 0.5 } },
  ]);
  // The quota, set before the app stores anything (Chromium applies an override to storage
  // opened after it): room for a small run and one large step, not several.
  await setQuota(page, RUN_QUOTA_BYTES);
  await openApp(page, '/run');
  // A first run is stored before the quota is lowered: it must come through whole.
  await page.getByTestId('problem-input').fill('What is 1 + 1? ANSWER=2');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
  const firstRun = (await page.getByTestId('run-id').textContent()).trim();
  const firstLines = await jsonlOf(page);
  expect(firstLines).toHaveLength(3);

  await page.getByTestId('problem-input').fill('BIG: what is 2 + 3? ANSWER=5');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('failed', { timeout: 60_000 });
  await expect(page.getByTestId('error').filter({ hasText: 'storage for this site is full' }).first()).toBeVisible();
  // The message names the refused step: either its step could not be saved (its call was made
  // and paid), or its call could not be recorded as in flight, and so was never sent. The first
  // large step fits, so it is a later one.
  const refusal = page.getByTestId('error').filter({
    hasText: /storage failed: (step \d+ \(\w+\) could not be saved|the \w+'s call could not be recorded before it was sent)/,
  }).first();
  await expect(refusal).toBeVisible();
  const message = await refusal.textContent();
  const notSaved = message.match(/step (\d+) \((\w+)\) could not be saved/);
  const notSent = message.match(/the (\w+)'s call could not be recorded before it was sent.*?the call of step (\d+)/s);
  const [refused, refusedAgent, refusedCallSent] = notSaved
    ? [Number(notSaved[1]), notSaved[2], true]
    : [Number(notSent[2]), notSent[1], false];
  expect(refused).toBeGreaterThan(1);
  expect(FULL_RUN[refused - 1]).toEqual([refused, refusedAgent]);
  const secondRun = (await page.getByTestId('run-id').textContent()).trim();
  expect(secondRun).not.toBe(firstRun);
  // What was stored before the refusal is all there, and nothing after it.
  const stopped = await jsonlOf(page);
  expect(stopped.map((e) => [e.step_id, e.agent])).toEqual(FULL_RUN.slice(0, refused - 1));
  expect(stopped[0].output.reasoning).toHaveLength(REASONING_BYTES);

  // Reads still work while the quota is full: the first run exports as it did.
  await page.goto(`/runs/${firstRun}`);
  expect(await jsonlOf(page)).toEqual(firstLines);

  // Space is freed: after a reload the run is listed as stopped, resumes from the refused step
  // and completes, each step once.
  await setQuota(page, undefined);
  await page.reload();
  await openApp(page, '/runs');
  await expect(page.locator(`[data-testid="run-row"][data-run-id="${secondRun}"]`)).toHaveAttribute('data-status', /^(failed|interrupted)$/);
  await page.goto(`/runs/${secondRun}`);
  await page.getByTestId('run-resume').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 60_000 });
  const resumed = await jsonlOf(page);
  expect(resumed.map((e) => [e.step_id, e.agent])).toEqual(FULL_RUN);
  // The stored steps are the ones stored before the refusal (the export stamps the run's
  // facts on whichever step is last, so those keys are left out of the comparison).
  const unstamped = (e) => {
    const { status, stop_reason: stopReason, started_at: startedAt, ground_truth: truth, extracted_answer: answer, config, ...metadata } = e.metadata;
    return { ...e, metadata };
  };
  expect(resumed.slice(0, refused - 1).map(unstamped)).toEqual(stopped.map(unstamped));
  // A refused step's call that was sent before the refusal is sent again on resume; no other
  // call was repeated.
  const solverSteps = FULL_RUN.filter(([, agent]) => agent === 'solver').length;
  const refusedSolverCalls = refusedAgent === 'solver' && refusedCallSent ? 1 : 0;
  const solverCalls = (await mockRequests(request)).filter((r) => r.agent === 'solver' && JSON.stringify(r.body).includes('BIG'));
  expect(solverCalls).toHaveLength(solverSteps + refusedSolverCalls);
});

test('an import that fills the storage quota stores whole runs until it is full, names the runs it could not store, and the rest import once space is freed', async ({ page, problems }) => {
  test.setTimeout(120_000);
  // Four runs of one solver step each, each step carrying ~250 KB that does not compress.
  const runIds = [1, 2, 3, 4].map((i) => `run_20250101_10000${i}_0badf00d`);
  const lines = runIds.map((runId, i) => JSON.stringify({
    timestamp: `2025-01-01T10:00:0${i}.000000+00:00`, run_id: runId, step_id: 1, agent: 'solver', action: 'generate',
    input: { problem: `Problem ${i + 1}` },
    output: { solution: String(i), reasoning: incompressible(250_000, i + 7), confidence: 0.5 },
    metadata: { model: MODEL }, reward: null, terminal: false, success: null,
  }));
  const file = { name: 'quota-import.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(lines.join('\n')) };
  await setQuota(page, IMPORT_QUOTA_BYTES);
  await openApp(page, '/runs');
  await page.getByTestId('trajectory-import').setInputFiles(file);
  const report = page.getByTestId('import-report');
  await expect(report).toBeVisible({ timeout: 30_000 });
  await expect(report).toContainText('storage for this site is full');
  const rows = async () => (await page.getByTestId('run-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.runId))).sort();
  const notStored = await report.getByTestId('error').allTextContents();
  // Some runs were stored, the others are named as not imported, and none is stored in part.
  expect(notStored.length).toBeGreaterThan(0);
  expect(notStored.length).toBeLessThan(runIds.length);
  const failedIds = runIds.filter((id) => notStored.some((text) => text.includes(`Run ${id} was not imported`)));
  expect(failedIds).toHaveLength(notStored.length);
  const storedIds = runIds.filter((id) => !failedIds.includes(id));
  await expect(page.getByTestId('run-row')).toHaveCount(storedIds.length);
  expect(await rows()).toEqual(storedIds);

  // Space is freed: the same file imports the rest, and the runs stored before are kept as they
  // were (listed as already stored).
  await setQuota(page, undefined);
  await page.reload();
  await expect(page.getByTestId('nav-configure')).toBeVisible();
  await page.getByTestId('trajectory-import').setInputFiles(file);
  await expect(page.getByTestId('import-conflict')).toHaveCount(storedIds.length);
  await expect(page.getByTestId('run-row')).toHaveCount(runIds.length);
  expect(await rows()).toEqual(runIds);
  await page.goto(`/runs/${runIds[3]}`);
  const { text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
  expect(JSON.parse(text.trim()).output.reasoning).toHaveLength(250_000);
});
