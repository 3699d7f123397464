// A provider-batch run replays from the reply store: the replies its provider batches answered
// are kept where a live call of the same request finds them, so Replay (`run-replay`) makes the
// run again at $0 with no request sent, through the live adapter's reader (here with the
// provider streaming, as it does live: the stored whole reply answers the streamed request).
import { test, expect } from './fixtures.mjs';
import { MOCK, MOCK_OPENAI, download, importDataset, mockRawRequests, openApp, resetMock, seedApp } from './helpers.mjs';
import { debateConfig, familyProviders, storedBatch } from '../mock/provider_batch_setup.mjs';

const { model } = familyProviders(MOCK).openai;
const ROWS = [1, 2].map((i) => ({ id: `p${i}`, problem: `[R${i}] What is ${i} times 5? ANSWER=${i * 5}`, answer: String(i * 5) }));

/** Keys that differ between a run and its replay by design, at any depth: when and how fast
 *  (a replay runs at another moment), what it cost and who paid (a replay pays nothing and
 *  names the run that did), and the route each request took (a provider batch, then the
 *  store). Everything else, outputs, usage and request hashes included, is reproduced. */
const DIFFER_BY_DESIGN = new Set([
  'timestamp', 'started_at', 'latency_ms', 'duration_ms',
  'streamed', 'ttft_ms', 'ttfat_ms', 'output_tokens_per_s',
  'cost_usd', 'reused_from', 'sent_via', 'run_id',
]);

function reproduced(value) {
  if (Array.isArray(value)) return value.map(reproduced);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value)
    .filter(([k]) => !DIFFER_BY_DESIGN.has(k))
    .map(([k, v]) => [k, reproduced(v)]));
}

/** The shown run's JSONL: its id (from the file name), text and parsed lines. */
async function shownRun(page) {
  const { name, text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
  const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  return { runId: name.replace(/\.jsonl$/, ''), text, lines };
}

/** Everything the mock was asked: chat requests, and the batch APIs' batches and uploads. */
async function mockSeen(request) {
  const res = await request.get(`${MOCK}/__mock/batches`);
  expect(res.ok()).toBeTruthy();
  const { batches, uploads } = await res.json();
  return { chats: (await mockRawRequests(request)).length, batches: batches.length, uploads };
}

test.beforeEach(async ({ request }) => {
  await resetMock(request);
  const res = await request.post(`${MOCK}/__mock/batch-config`, { data: { turnaround_polls: 1 } });
  expect(res.ok()).toBeTruthy();
});

test('a run of a provider batch replays from the stored replies at $0 with no request sent', async ({ page, request }) => {
  test.setTimeout(180_000);
  await seedApp(page, {
    providers: [MOCK_OPENAI], keys: { openai: 'sk-e2e-batch-replay' },
    config: debateConfig('e2e-provider-batch-replay', model), once: true,
  });
  await openApp(page, '/batch');
  await importDataset(page, 'two.jsonl', ROWS);
  await page.getByTestId('batch-engine').selectOption('provider-batch');
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 120_000 });
  const batchId = (await page.getByTestId('batch-id').textContent()).trim();
  const { runs } = await storedBatch(page, batchId);
  expect(runs).toHaveLength(2);
  const paid = runs[0];
  expect(paid.steps.length).toBeGreaterThanOrEqual(3);
  // Every step was answered by a provider batch and says which request it was.
  for (const step of paid.steps) {
    expect(step.metadata.attempts.map((a) => a.sent_via)).toContain('provider_batch');
    expect(step.metadata.request_hash).toMatch(/^[0-9a-f]{64}$/);
  }
  const seen = await mockSeen(request);

  await openApp(page, `/runs/${paid.run_id}`);
  const original = await shownRun(page);
  expect(original.runId).toBe(paid.run_id);
  await page.getByTestId('run-replay').click();
  await expect(page).toHaveURL(/\/run$/);
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  const replay = await shownRun(page);
  expect(replay.runId).not.toBe(original.runId);

  // Nothing went to the provider: no chat request, no batch, no upload.
  expect(await mockSeen(request)).toEqual(seen);
  expect(replay.lines.map(reproduced)).toEqual(original.lines.map(reproduced));
  for (const step of replay.lines) {
    expect(step.metadata.reused_from).toBe(original.runId);
    expect(step.metadata.cost_usd).toBe(0);
  }
  expect(Number(await page.getByTestId('run-cost').textContent())).toBe(0);
});
