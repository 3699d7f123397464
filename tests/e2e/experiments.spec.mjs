// The Experiments page end to end: a 4-problem dataset run with two configs (the solver's
// system prompt varied) against the mock, a reload while the second config runs (the
// experiment shows interrupted), a resume that finishes it, and every number of the matrix and
// of the pair checked against numbers worked out here from the exported JSONL.
import { test, expect } from './fixtures.mjs';
import {
  download, importDataset, mcnemar, mockRequests, openApp, releaseMock, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';

const CONFIG = {
  config_version: 'e2e-experiment',
  mode: 'debate',
  max_iterations: 1,
  max_attempts: 1,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve this problem.\n{problem}\nCritique: {feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Check.\nProblem: {problem}\nSolution: {solution}' },
  judge: {
    model: MODEL,
    prompt_template: 'Grade.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when right.',
  },
};

const tag = (i) => `[P${i}]`;

// Problems 1–3 carry their ground truth as the mock's ANSWER token; problem 4 a wrong one.
const ROWS = [1, 2, 3, 4].map((i) => ({
  id: `q${i}`,
  problem: `${tag(i)} What is ${i} times 7? ANSWER=${i === 4 ? 29 : i * 7}`,
  answer: String(i * 7),
}));

// The second config's system prompt comes first in the prompt the mock reads, so its
// ANSWER token wins: that config answers every problem wrong.
const VALUES = ['Work carefully.', 'ANSWER=999'];

/** Per run of an exported JSONL: its problem, whether its answer was right, its cost, calls. */
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
      correct: last.metadata.extracted_answer === last.metadata.ground_truth,
      cost: run.steps.reduce((sum, s) => sum + (s.metadata.cost_usd ?? 0), 0),
      paid: run.steps.filter((s) => !s.metadata.reused_from).length,
      reused: run.steps.filter((s) => s.metadata.reused_from).length,
    };
  });
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seedApp(page, { keys: { openai: 'sk-e2e-experiment' }, config: CONFIG, once: true });
});

test('an experiment of two configs survives a reload, resumes, and its matrix matches the exported runs', async ({ page, request }) => {
  test.setTimeout(180_000);
  // The second config's first solver call is held until the reload cuts it off.
  await scriptMock(request, [{ match: 'ANSWER=999', agent: 'solver', times: 1, fault: 'hold:reload' }]);

  await openApp(page, '/batch');
  await importDataset(page, 'e2e-four.jsonl', ROWS);
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);

  await page.getByTestId('nav-experiments').click();
  await page.getByTestId('experiment-dataset').selectOption({ label: 'e2e-four' });
  await page.getByTestId('experiment-vary-field').selectOption('solver.system_prompt');
  await page.getByTestId('experiment-vary-values').fill(VALUES.join('\n'));
  await page.getByTestId('experiment-concurrency').fill('2');
  await page.getByTestId('experiment-start').click();
  await expect(page.getByTestId('experiment-status')).toHaveText('running');

  // The configs run side by side: the second hangs in its first solver call while the first
  // goes on, so the reload cuts both batches off part-way.
  await expect.poll(async () => (await mockRequests(request)).filter((r) => r.fault === 'hold:reload').length,
    { timeout: 60_000 }).toBe(1);

  await page.reload();
  await expect(page.getByTestId('nav-experiments')).toBeVisible();
  await expect(page.getByTestId('experiment-status')).toHaveText('interrupted');
  await expect.poll(async () => (await mockRequests(request))
    .filter((r) => r.fault === 'hold:reload').map((r) => r.status)).toEqual(['aborted']);
  await releaseMock(request, 'reload');
  await page.getByTestId('experiment-resume').click();
  await expect(page.getByTestId('experiment-status')).toHaveText('completed', { timeout: 90_000 });

  const rows = page.getByTestId('experiment-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toHaveAttribute('data-runs', '4');
  const byConfig = [];
  for (const k of [0, 1]) {
    const row = rows.nth(k);
    const file = await download(page, () => row.getByTestId('experiment-export-jsonl').click());
    const runs = runsOf(file.text);
    // One run per problem, nothing run twice across the reload.
    expect(runs.map((r) => r.problem).sort()).toEqual(['q1', 'q2', 'q3', 'q4']);
    const correct = runs.filter((r) => r.correct).length;
    await expect(row).toHaveAttribute('data-runs', String(runs.length));
    expect(Number(await row.getAttribute('data-accuracy'))).toBeCloseTo(correct / runs.length, 12);
    const cost = runs.reduce((sum, r) => sum + r.cost, 0);
    expect(Number(await row.getAttribute('data-cost'))).toBeCloseTo(cost, 12);
    await expect(row).toHaveAttribute('data-paid-calls', String(runs.reduce((s, r) => s + r.paid, 0)));
    await expect(row).toHaveAttribute('data-reused-calls', String(runs.reduce((s, r) => s + r.reused, 0)));
    byConfig.push({ hash: await row.getAttribute('data-config-hash'), runs, correct });
  }
  // What the configs were built to do: 3 of 4 right, then none.
  expect(byConfig.map((c) => c.correct)).toEqual([3, 0]);
  expect(byConfig[0].hash).toMatch(/^[0-9a-f]{8}$/);
  expect(byConfig[1].hash).not.toBe(byConfig[0].hash);

  const right = (c, problem) => byConfig[c].runs.find((r) => r.problem === problem).correct;
  const problems = ['q1', 'q2', 'q3', 'q4'];
  const aOnly = problems.filter((p) => right(0, p) && !right(1, p)).length;
  const bOnly = problems.filter((p) => !right(0, p) && right(1, p)).length;
  const pair = page.getByTestId('experiment-pair');
  await expect(pair).toHaveCount(1);
  await expect(pair).toHaveAttribute('data-a', byConfig[0].hash);
  await expect(pair).toHaveAttribute('data-b', byConfig[1].hash);
  await expect(pair).toHaveAttribute('data-a-only', String(aOnly));
  await expect(pair).toHaveAttribute('data-b-only', String(bOnly));
  expect(Number(await pair.getAttribute('data-p-value'))).toBeCloseTo(mcnemar(aOnly, bOnly), 12);
});
