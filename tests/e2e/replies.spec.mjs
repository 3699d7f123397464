// The reply store in the app: a temperature-0 run made again is answered from the store at $0,
// the reuse policy control, the Settings size and clear control (stored runs stay whole), and
// Replay (`run-replay`) into a new run with no request sent.
import { test, expect } from './fixtures.mjs';
import {
  DEBATE_PROMPTS, debateConfig, download, freshMockApp, mockRawRequests, mockRequests, openApp,
} from './helpers.mjs';

// Three agents on the mock's OpenAI-compatible route, each at temperature 0 (the default
// reuse policy reuses only those).
const CONFIG = debateConfig('e2e-replies', { prompts: DEBATE_PROMPTS.labelled, temperature: 0 });

const PROBLEM = 'Add the integers from 1 to 10. ANSWER=55';

test.beforeEach(async ({ page, request }) => {
  await freshMockApp(page, request, { key: 'sk-e2e-replies', config: CONFIG });
});

/** Starts a run of PROBLEM on /run (with `policy`, if given) and waits for its end. */
async function runOnce(page, policy) {
  await openApp(page, '/run');
  if (policy) await page.getByTestId('run-reuse-policy').selectOption(policy);
  await page.getByTestId('problem-input').fill(PROBLEM);
  await page.getByTestId('ground-truth-input').fill('55');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed');
}

/** The shown run's JSONL: its id (from the file name) and parsed lines. */
async function shownRun(page) {
  const { name, text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
  const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  return { runId: name.replace(/\.jsonl$/, ''), text, lines };
}

/** The steps' `data-reused-from`, in order. */
async function reusedFrom(page) {
  return page.getByTestId('step').evaluateAll((cards) => cards.map((c) => c.dataset.reusedFrom ?? null));
}

/** Keys that say when or how fast, at any depth: a replay runs at another moment, and its
 *  replies come whole from the store, so a streamed original's stream timings have no twin. */
const TIMING = new Set([
  'timestamp', 'started_at', 'latency_ms', 'duration_ms',
  'streamed', 'ttft_ms', 'ttfat_ms', 'output_tokens_per_s',
]);

function withoutTiming(value) {
  if (Array.isArray(value)) return value.map(withoutTiming);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value)
    .filter(([k]) => !TIMING.has(k))
    .map(([k, v]) => [k, withoutTiming(v)]));
}

/** A step as a replay must reproduce it: its timings blanked, and what differs by design
 *  (which run it is, that it paid nothing and says who did). */
function reproduced(step) {
  const { run_id, ...rest } = withoutTiming(step);
  const metadata = { ...rest.metadata };
  delete metadata.cost_usd;
  delete metadata.reused_from;
  return { ...rest, metadata };
}

test('the same temperature-0 run made twice is paid once: the second run reuses every reply at $0', async ({ page, request }) => {
  await runOnce(page);
  const first = await shownRun(page);
  const paid = await mockRawRequests(request);
  const solverCalls = (await mockRequests(request)).filter((r) => r.agent === 'solver').length;
  expect(solverCalls).toBeGreaterThan(0);
  expect(paid).toHaveLength(first.lines.length);
  expect(Number(await page.getByTestId('run-cost').textContent())).toBeGreaterThanOrEqual(0);
  expect(await reusedFrom(page)).toEqual(first.lines.map(() => null));

  await runOnce(page);
  const second = await shownRun(page);
  expect(second.runId).not.toBe(first.runId);
  // The mock saw nothing new: the solver's requests (and every other) were sent once.
  expect(await mockRawRequests(request)).toHaveLength(paid.length);
  expect((await mockRequests(request)).filter((r) => r.agent === 'solver')).toHaveLength(solverCalls);
  expect(await reusedFrom(page)).toEqual(first.lines.map(() => first.runId));
  await expect(page.getByTestId('step-reused').first()).toContainText(first.runId);
  expect(Number(await page.getByTestId('run-cost').textContent())).toBe(0);
  for (const [i, step] of second.lines.entries()) {
    expect(step.metadata.reused_from).toBe(first.runId);
    expect(step.metadata.reuse_policy).toBe('identical_at_temperature_zero');
    expect(step.metadata.cost_usd).toBe(0);
    expect(step.metadata.request_hash).toBe(first.lines[i].metadata.request_hash);
    expect(step.output).toEqual(first.lines[i].output);
  }

  // Costs: what the first run paid, beside what the second reused (its usage priced now: the
  // same tokens at the same prices, so the same sum).
  const paidUsd = first.lines.reduce((sum, s) => sum + s.metadata.cost_usd, 0);
  expect(paidUsd).toBeGreaterThan(0);
  await openApp(page, '/costs');
  const paidCell = page.getByTestId('costs-paid');
  const reusedCell = page.getByTestId('costs-reused');
  await expect(paidCell).toHaveAttribute('data-steps', String(first.lines.length));
  await expect(reusedCell).toHaveAttribute('data-steps', String(second.lines.length));
  expect(Number(await paidCell.getAttribute('data-usd'))).toBeCloseTo(paidUsd, 12);
  expect(Number(await reusedCell.getAttribute('data-usd'))).toBeCloseTo(paidUsd, 12);

  // Policy "never" pays again, and says so in each step.
  await runOnce(page, 'never');
  const third = await shownRun(page);
  expect(await mockRawRequests(request)).toHaveLength(paid.length * 2);
  expect(third.lines.every((s) => s.metadata.reuse_policy === 'never' && s.metadata.reused_from === undefined)).toBe(true);
});

test('Settings shows the reply store and clears old replies without breaking a stored run', async ({ page, request }) => {
  await runOnce(page);
  const run = await shownRun(page);
  const calls = (await mockRawRequests(request)).length;

  await openApp(page, '/settings');
  const size = page.getByTestId('reply-store-size');
  await expect(size).toHaveAttribute('data-replies', String(calls));
  expect(Number(await size.getAttribute('data-bytes'))).toBeGreaterThan(0);
  // Not a number of days: said so, nothing cleared.
  await page.getByTestId('replies-clear-days').fill('a week');
  await page.getByTestId('replies-clear').click();
  await expect(page.getByTestId('error')).toContainText('not a whole number of days');
  await expect(size).toHaveAttribute('data-replies', String(calls));
  // Replies stored today are not older than a day.
  await page.getByTestId('replies-clear-days').fill('1');
  await page.getByTestId('replies-clear').click();
  await expect(page.getByTestId('replies-cleared')).toHaveAttribute('data-count', '0');
  await page.getByTestId('replies-clear-days').fill('0');
  await page.getByTestId('replies-clear').click();
  await expect(page.getByTestId('replies-cleared')).toHaveAttribute('data-count', String(calls));
  await expect(size).toHaveAttribute('data-replies', '0');

  // The run opens and exports as before.
  await openApp(page, `/runs/${run.runId}`);
  await expect(page.getByTestId('step')).toHaveCount(run.lines.length);
  const again = await shownRun(page);
  expect(again.text).toBe(run.text);
});

test('Replay makes a new run from stored replies with no request sent; a cleared reply stops it, named', async ({ page, request }) => {
  await runOnce(page);
  const original = await shownRun(page);
  const calls = (await mockRawRequests(request)).length;

  await openApp(page, `/runs/${original.runId}`);
  await page.getByTestId('run-replay').click();
  await expect(page).toHaveURL(/\/run$/);
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  const replay = await shownRun(page);
  expect(replay.runId).not.toBe(original.runId);
  expect(await mockRawRequests(request)).toHaveLength(calls);
  expect(replay.lines.map(reproduced)).toEqual(original.lines.map(reproduced));
  expect(replay.lines.every((s) => s.metadata.reused_from === original.runId && s.metadata.cost_usd === 0)).toBe(true);
  expect(Number(await page.getByTestId('run-cost').textContent())).toBe(0);

  // With its replies cleared, the replay stops at the first call and names the request.
  await openApp(page, '/settings');
  await page.getByTestId('replies-clear-days').fill('0');
  await page.getByTestId('replies-clear').click();
  await expect(page.getByTestId('replies-cleared')).toHaveAttribute('data-count', String(calls));
  await openApp(page, `/runs/${original.runId}`);
  await page.getByTestId('run-replay').click();
  const hash = original.lines[0].metadata.request_hash;
  await expect(page.getByTestId('error')).toContainText(`no stored reply for request ${hash}`);
  await expect(page.getByTestId('run-status')).toHaveText('failed');
  expect(await mockRawRequests(request)).toHaveLength(calls);
});
