// Experiment sharing: 3 configs × 200 problems on the Experiments page against the mock, the
// configs differing only in the judge's rubric, so every problem's solver and verifier turns are
// the same requests in all three. The reply store sends each of those once (the configs go
// through the problems abreast, so a shared turn is usually in flight when the others ask for
// it, else stored), so the calls the mock served must be exactly the distinct requests:
// per problem one solver, one verifier (it passes at once) and three judges.
//
// Both counts are read from the mock's own request log (`GET /__mock/requests`): every call it
// served, and how many distinct request bodies they carried.
import {
  APP, MOCK_FAST, MOCK_SLOW, freshBrowser, median, mockConfig, mockControl, mockProviders, quietFreshBrowser, seedStorage,
  waitForTestId, waitMark, watch,
} from './lib.mjs';
import { timedRun } from './loop.mjs';

export const EXPERIMENT = { problems: 200, configs: 3, concurrency: 16, latencyMs: 100 };

const RUBRICS = ['1.0 when the final answer is right, else 0.0.', 'Score 1 for a right final answer.', 'Right answer: 1; otherwise 0.'];

function dataset(n) {
  const lines = [];
  for (let i = 1; i <= n; i += 1) {
    lines.push(JSON.stringify({ id: `e${String(i).padStart(3, '0')}`, problem: `[E${i}] What is ${i} + ${i}? ANSWER=${2 * i}`, answer: String(2 * i) }));
  }
  return `${lines.join('\n')}\n`;
}

/** The mock's log of model calls since its reset: how many, and how many distinct bodies. */
async function mockCalls(mockUrl) {
  const res = await fetch(`${mockUrl}/__mock/requests?since=0`);
  if (!res.ok) throw new Error(`mock requests answered ${res.status}`);
  const { requests } = await res.json();
  const calls = requests.filter((r) => r.method === 'POST' && r.agent !== null);
  const distinct = new Set(calls.map((r) => JSON.stringify(r.body)));
  const byAgent = {};
  for (const r of calls) byAgent[r.agent] = (byAgent[r.agent] ?? 0) + 1;
  return { calls: calls.length, distinct: distinct.size, byAgent };
}

/** The experiment benchmark (see the file comment). */
export async function experimentSharing() {
  const { context, page, problems } = await freshBrowser('experiment');
  try {
    await mockControl(MOCK_SLOW, 'reset');
    await seedStorage(context, {
      providers: mockProviders(MOCK_SLOW), keys: { openai: 'bench-key' }, config: mockConfig('bench-experiment', 3),
    });
    await page.goto(`${APP}/batch`);
    await page.getByTestId('dataset-import').setInputFiles({
      name: 'bench-exp.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(dataset(EXPERIMENT.problems)),
    });
    await page.getByTestId('dataset-save').click();
    await page.locator(`[data-testid="batch-selected"][data-count="${EXPERIMENT.problems}"]`).waitFor();
    await page.getByTestId('nav-experiments').click();
    await page.getByTestId('experiment-dataset').selectOption({ label: 'bench-exp' });
    await page.getByTestId('experiment-vary-field').selectOption('judge.scoring_rubric');
    await page.getByTestId('experiment-vary-values').fill(RUBRICS.join('\n'));
    await page.getByTestId('experiment-concurrency').fill(String(EXPERIMENT.concurrency));
    await watch(page, { name: 'ended', selector: '[data-testid="experiment-status"]', textIn: ['completed', 'failed', 'cancelled', 'interrupted', 'budget_exceeded'] });
    await page.getByTestId('experiment-start').click();
    const marks = await waitMark(page, 'ended', 600_000);
    const status = (await page.getByTestId('experiment-status').textContent()).trim();
    if (status !== 'completed') throw new Error(`the experiment ended ${status}`);
    const rows = page.getByTestId('experiment-row');
    await rows.nth(EXPERIMENT.configs - 1).waitFor();
    const matrix = await rows.evaluateAll((els) => els.map((el) => ({
      runs: Number(el.dataset.runs), paid: Number(el.dataset.paidCalls), reused: Number(el.dataset.reusedCalls),
    })));
    const mock = await mockCalls(MOCK_SLOW);
    if (problems.length) throw new Error(problems.join('; '));
    const { problems: n, configs } = EXPERIMENT;
    return {
      ...EXPERIMENT,
      wall: marks.ended - marks['click:experiment-start'],
      // Solver and verifier once per problem, a judge per config and problem.
      expectedDistinct: n * (2 + configs),
      withoutSharing: n * 3 * configs,
      mockCalls: mock.calls,
      distinctRequests: mock.distinct,
      byAgent: mock.byAgent,
      paidSteps: matrix.reduce((s, r) => s + r.paid, 0),
      reusedSteps: matrix.reduce((s, r) => s + r.reused, 0),
      runs: matrix.reduce((s, r) => s + r.runs, 0),
    };
  } finally {
    await context.close();
  }
}

/** Picks `value` in the `<select>` `id` from inside the page, as a user's choice does. */
async function selectTestId(page, id, value) {
  await waitForTestId(page, id);
  await page.evaluate(([testId, v]) => {
    const el = document.querySelector(`[data-testid="${testId}"]`);
    el.value = v;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, [id, value]);
}

/**
 * The reply store's own time per call on the loop benchmark's runs (/run, 7-step debates, mock
 * at 0 ms): runs under reuse policy `never` (every reply is still stored, for replay, but no
 * request is looked up) and under the default (each request is looked up first) take turns in
 * one page, after one warm-up of each; every run's problem is new, so the default finds
 * nothing and pays as `never` does. Per run, app time per step = (wall − service) / steps as in
 * loop.mjs; the figure is the difference of the two policies' medians.
 */
export async function replyStoreOverhead(pairs = 8) {
  const { context, page, readProblems } = await quietFreshBrowser('reply-overhead');
  try {
    await seedStorage(context, {
      providers: mockProviders(MOCK_FAST), keys: { openai: 'bench-key' }, config: mockConfig('bench-reply-overhead', 3),
    });
    await page.goto(`${APP}/run`);
    const perStep = { never: [], identical_at_temperature_zero: [] };
    for (let i = 0; i < 2 * (pairs + 1); i += 1) {
      const policy = i % 2 === 0 ? 'never' : 'identical_at_temperature_zero';
      await mockControl(MOCK_FAST, 'reset');
      await mockControl(MOCK_FAST, 'script', {
        rules: [{
          agent: 'verifier', times: 2,
          reply: { passed: false, critique: 'Step 2 does not follow from step 1.', confidence: 0.7, scores: {} },
        }],
      });
      await selectTestId(page, 'run-reuse-policy', policy);
      const r = await timedRun(page, MOCK_FAST, `Reply store problem ${i}: add 19 and 23. ANSWER=42`, '42');
      if (r.status !== 'completed' || r.steps !== 7 || r.requests.length !== 7) {
        throw new Error(`run ${i} (${policy}) ended ${r.status} with ${r.steps} steps and ${r.requests.length} requests`);
      }
      if (i < 2) continue; // warm-up of each policy
      const service = r.requests.reduce((sum, q) => sum + q.duration, 0);
      perStep[policy].push((r.wall - service) / r.steps);
    }
    const problems = await readProblems();
    if (problems.length) throw new Error(problems.join('; '));
    const never = median(perStep.never);
    const reuse = median(perStep.identical_at_temperature_zero);
    return { pairs, never, reuse, difference: reuse - never, perStep };
  } finally {
    await context.close();
  }
}
