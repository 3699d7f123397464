// Provider batch mode end to end: a small debate batch through the mock's OpenAI Batch API,
// with a reload while a round is at the provider; the batch completes, no request is sent
// twice (so no result is applied twice), and it costs half of the same batch run live (the
// shipped table's gpt-4.1-mini batch rates are half its live ones).
import { test, expect } from './fixtures.mjs';
import { MOCK, importDataset, openApp, resetMock, seedApp } from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';
const CONFIG = {
  config_version: 'e2e-provider-batch',
  mode: 'debate',
  max_iterations: 2,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve this problem.\n{problem}\nCritique: {feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Check.\nProblem: {problem}\nSolution: {solution}' },
  judge: {
    model: MODEL,
    prompt_template: 'Grade.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when the final answer is right, else 0.0.',
  },
};
const ROWS = [1, 2, 3].map((i) => ({ id: `p${i}`, problem: `[B${i}] What is ${i} times 3? ANSWER=${i * 3}`, answer: String(i * 3) }));

/** The runs of batch `batchId` as stored, read from IndexedDB. */
async function storedRuns(page, batchId) {
  return page.evaluate(async (id) => {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('trialogue');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const all = (store) => new Promise((resolve, reject) => {
      const req = db.transaction(store).objectStore(store).getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const runs = (await all('runs')).map((row) => JSON.parse(row.json ?? JSON.stringify(row)))
      .filter((run) => run.batch_id === id);
    const steps = (await all('steps')).map((row) => JSON.parse(row.json ?? JSON.stringify(row)));
    db.close();
    return runs.map((run) => ({
      cost: run.cost_usd,
      status: run.status,
      stepIds: steps.filter((s) => s.run_id === run.run_id).map((s) => s.step_id),
    }));
  }, batchId);
}

async function mockBatches(request) {
  const res = await request.get(`${MOCK}/__mock/batches`);
  expect(res.ok()).toBeTruthy();
  return res.json();
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  // Each round is done on the mock's second poll of it.
  const res = await request.post(`${MOCK}/__mock/batch-config`, { data: { turnaround_polls: 2 } });
  expect(res.ok()).toBeTruthy();
  await seedApp(page, { keys: { openai: 'sk-e2e-provider-batch' }, config: CONFIG, once: true });
});

test('a debate batch runs in rounds through the OpenAI batch API, survives a reload and costs half of live', async ({ page, request }) => {
  test.setTimeout(180_000);
  await openApp(page, '/batch');
  await importDataset(page, 'three.jsonl', ROWS);
  await page.getByTestId('batch-engine').selectOption('provider-batch');
  await page.getByTestId('batch-start').click();

  // Round 1 (the three solvers) is at the provider: the page says so and that the tab may close.
  const round = page.getByTestId('batch-round');
  await expect(round).toHaveAttribute('data-round', '1', { timeout: 30_000 });
  await expect(round).toHaveAttribute('data-submitted', '3');
  await expect(page.getByTestId('batch-tab-may-close')).toBeVisible();
  const batchId = (await page.getByTestId('batch-id').textContent()).trim();

  await page.reload();
  await expect(page.getByTestId('batch-id')).toHaveText(batchId);
  await expect(page.getByTestId('batch-status')).toHaveText('interrupted');
  await page.getByTestId('batch-resume').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 120_000 });
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', '3');
  // Solver, verifier, judge: the last round holds the three judges, all answered.
  await expect(round).toHaveAttribute('data-round', '3');
  await expect(round).toHaveAttribute('data-succeeded', '3');
  await expect(round).toHaveAttribute('data-errored', '0');

  // Every request went up once: round 1 was polled after the reload, not submitted again.
  const { batches, uploads } = await mockBatches(request);
  expect(batches).toHaveLength(3);
  expect(Object.values(uploads)).toEqual(Array(9).fill(1));
  const viaBatch = await storedRuns(page, batchId);
  expect(viaBatch).toHaveLength(3);
  for (const run of viaBatch) {
    expect(run.status).toBe('completed');
    expect(run.stepIds.sort()).toEqual([1, 2, 3]);
  }

  // The same batch, live.
  await page.getByTestId('batch-engine').selectOption('live');
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-id')).not.toHaveText(batchId);
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 60_000 });
  const liveId = (await page.getByTestId('batch-id').textContent()).trim();
  const live = await storedRuns(page, liveId);
  const sum = (runs) => runs.reduce((total, run) => total + run.cost, 0);
  expect(sum(live)).toBeGreaterThan(0);
  expect(sum(viaBatch) * 2).toBeCloseTo(sum(live), 12);
});
