// An experiment in provider batch mode end to end: two configs that differ only in the judge's
// rubric (so the solver's and the verifier's turns are the same requests) run through the
// mock's OpenAI Batch API, with a reload while a round is at the provider. Reopened, the page
// takes the experiment up by itself; it completes, every config's run of every problem is
// there once, the matrix matches the exported runs, and what went up to the provider (paid)
// is exactly the distinct requests: the shared turns once, reused at $0 by the other config.
import { test, expect } from './fixtures.mjs';
import { MOCK, download, importDataset, openApp, resetMock, seedApp } from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';

const CONFIG = {
  config_version: 'e2e-experiment-batch',
  mode: 'debate',
  max_iterations: 1,
  solver: { role: 'solver', model: MODEL, temperature: 0, prompt_template: 'Solve this problem.\n{problem}\nCritique: {feedback}' },
  verifier: { role: 'verifier', model: MODEL, temperature: 0, prompt_template: 'Check.\nProblem: {problem}\nSolution: {solution}' },
  judge: {
    model: MODEL,
    temperature: 0,
    prompt_template: 'Grade.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when right.',
  },
};

const tag = (i) => `[X${i}]`;
// Problems 1 and 2 carry their ground truth as the mock's ANSWER token; problem 3 a wrong one.
const ROWS = [1, 2, 3].map((i) => ({
  id: `x${i}`,
  problem: `${tag(i)} What is ${i} times 5? ANSWER=${i === 3 ? 16 : i * 5}`,
  answer: String(i * 5),
}));
const RUBRICS = ['1.0 when the final answer is right, else 0.0.', 'Half marks for a right answer without steps.'];

/** Per run of an exported JSONL: its problem, whether it was right, its cost, its steps. */
function runsOf(text) {
  const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const runs = new Map();
  for (const line of lines) {
    const run = runs.get(line.run_id) ?? { steps: [], problem: null };
    run.steps.push(line);
    const found = ROWS.find((r, k) => JSON.stringify(line.input).includes(tag(k + 1)));
    if (found) run.problem = found.id;
    runs.set(line.run_id, run);
  }
  return [...runs.values()].map((run) => {
    const last = run.steps[run.steps.length - 1];
    return {
      problem: run.problem,
      steps: run.steps.length,
      correct: last.metadata.extracted_answer === last.metadata.ground_truth,
      cost: run.steps.reduce((sum, s) => sum + (s.metadata.cost_usd ?? 0), 0),
      paid: run.steps.filter((s) => !s.metadata.reused_from),
      reused: run.steps.filter((s) => s.metadata.reused_from),
    };
  });
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
  await seedApp(page, { keys: { openai: 'sk-e2e-experiment-batch' }, config: CONFIG, once: true });
});

test('an experiment of two configs in provider batch mode is taken up after a reload, completes, and pays each distinct request once', async ({ page, request }) => {
  test.setTimeout(240_000);
  await openApp(page, '/batch');
  await importDataset(page, 'e2e-three.jsonl', ROWS);
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);

  await page.getByTestId('nav-experiments').click();
  await page.getByTestId('experiment-dataset').selectOption({ label: 'e2e-three' });
  await page.getByTestId('experiment-vary-field').selectOption('judge.scoring_rubric');
  await page.getByTestId('experiment-vary-values').fill(RUBRICS.join('\n'));
  await page.getByTestId('batch-engine').selectOption('provider-batch');
  await expect(page.getByTestId('experiment-concurrency')).toBeHidden();
  await page.getByTestId('experiment-start').click();
  await expect(page.getByTestId('experiment-status')).toHaveText('running');

  // Round 1 holds the solvers' turns, which both configs share: 3 requests for 6 runs.
  const round = page.getByTestId('batch-round');
  await expect(round).toHaveAttribute('data-round', '1', { timeout: 60_000 });
  await expect(round).toHaveAttribute('data-submitted', '3');
  await expect(page.getByTestId('batch-tab-may-close')).toBeVisible();

  // Reopened, the page polls the round at the provider and goes on with no Resume press.
  await page.reload();
  await expect(page.getByTestId('nav-experiments')).toBeVisible();
  await expect(page.getByTestId('experiment-status')).toHaveText('completed', { timeout: 180_000 });

  // Solvers (shared), verifiers (shared), judges (one per config): 3 provider batches,
  // every line uploaded once, round 1 polled after the reload and not submitted again.
  const { batches, uploads } = await mockBatches(request);
  expect(batches.map((b) => b.custom_ids.length)).toEqual([3, 3, 6]);
  expect(Object.values(uploads)).toEqual(Array(12).fill(1));

  const rows = page.getByTestId('experiment-row');
  await expect(rows).toHaveCount(2);
  const all = [];
  const byConfig = [];
  for (const k of [0, 1]) {
    const row = rows.nth(k);
    const file = await download(page, () => row.getByTestId('experiment-export-jsonl').click());
    const runs = runsOf(file.text);
    // One run per problem, each of its three steps once, nothing run twice across the reload.
    expect(runs.map((r) => r.problem).sort()).toEqual(['x1', 'x2', 'x3']);
    expect(runs.map((r) => r.steps)).toEqual([3, 3, 3]);
    const correct = runs.filter((r) => r.correct).length;
    await expect(row).toHaveAttribute('data-runs', String(runs.length));
    expect(Number(await row.getAttribute('data-accuracy'))).toBeCloseTo(correct / runs.length, 12);
    const cost = runs.reduce((sum, r) => sum + r.cost, 0);
    expect(Number(await row.getAttribute('data-cost'))).toBeCloseTo(cost, 12);
    const paid = runs.flatMap((r) => r.paid);
    const reused = runs.flatMap((r) => r.reused);
    await expect(row).toHaveAttribute('data-paid-calls', String(paid.length));
    await expect(row).toHaveAttribute('data-reused-calls', String(reused.length));
    // A reused step is another run's reply, at $0; a paid one went through the batch API.
    for (const step of reused) {
      expect(step.metadata.cost_usd).toBe(0);
      expect(step.metadata.reused_from).not.toBe(step.run_id);
    }
    for (const step of paid) {
      expect(step.metadata.attempts.map((a) => a.sent_via)).toEqual(['provider_batch']);
      expect(step.metadata.cost_usd).toBeGreaterThan(0);
    }
    all.push(...runs.flatMap((r) => [...r.paid, ...r.reused]));
    byConfig.push({ hash: await row.getAttribute('data-config-hash'), correct });
  }
  // Both configs answer problems 1 and 2 right (only the judge differs).
  expect(byConfig.map((c) => c.correct)).toEqual([2, 2]);
  expect(byConfig[1].hash).not.toBe(byConfig[0].hash);
  // Paid = distinct: 18 steps asked 12 distinct requests, each uploaded (and paid) once.
  expect(all).toHaveLength(18);
  const distinct = new Set(all.map((s) => s.metadata.request_hash));
  expect(distinct.size).toBe(12);
  expect(all.filter((s) => !s.metadata.reused_from)).toHaveLength(12);
  expect(all.filter((s) => s.metadata.reused_from)).toHaveLength(6);

  const pair = page.getByTestId('experiment-pair');
  await expect(pair).toHaveCount(1);
  await expect(pair).toHaveAttribute('data-a-only', '0');
  await expect(pair).toHaveAttribute('data-b-only', '0');
});
