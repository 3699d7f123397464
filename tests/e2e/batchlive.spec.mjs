// The Batch page while a batch runs, end to end against the mock provider: the items table,
// the results and the counts follow the batch as items finish (a held verifier reply keeps
// one item in flight, so the page is looked at mid-batch without sleeping), every item links
// to its run's transcript, the counts add up, an interrupted batch shows one total, and the
// "cut off" notice goes once the batch is resumed and finished.
import { test, expect } from './fixtures.mjs';
import { MOCK, openApp, resetMock } from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';
const CONFIG = {
  config_version: 'e2e-batchlive',
  mode: 'debate',
  max_iterations: 2,
  max_attempts: 1,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve this problem.\n{problem}\nCritique: {feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Check the solution.\nProblem: {problem}\nSolution: {solution}' },
  judge: {
    model: MODEL,
    prompt_template: 'Grade the solution.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when the final answer is right, else 0.0.',
  },
};

const tag = (i) => `[L${i}]`;

/** `count` problems; problem 3 gets a wrong answer from the mock, the others a right one. */
function dataset(count) {
  const lines = [];
  for (let i = 1; i <= count; i += 1) {
    const answer = i === 3 ? String(i * 5 + 1) : String(i * 5);
    lines.push(JSON.stringify({
      id: `q${i}`,
      problem: `${tag(i)} What is ${i} times 5? ANSWER=${answer}`,
      answer: String(i * 5),
      level: `Level ${(i % 2) + 1}`,
      subject: i % 2 === 0 ? 'Algebra' : 'Number Theory',
    }));
  }
  return `${lines.join('\n')}\n`;
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  const providers = {
    providers: [{
      id: 'openai', label: 'OpenAI', kind: 'openai_compatible',
      base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true,
    }],
  };
  await page.addInitScript(([p, k, c]) => {
    if (localStorage.getItem('trialogue.config.v1') === null) {
      localStorage.setItem('trialogue.providers.v1', p);
      localStorage.setItem('trialogue.keys.v1', k);
      localStorage.setItem('trialogue.config.v1', c);
    }
  }, [JSON.stringify(providers), JSON.stringify({ openai: 'test-key' }), JSON.stringify(CONFIG)]);
});

/** Problem `i`'s verifier answers only after `ms` (once): its item stays in flight. */
async function hold(request, i, ms) {
  const res = await request.post(`${MOCK}/__mock/script`, {
    data: { rules: [{ match: tag(i), agent: 'verifier', times: 1, fault: `slow:${ms}` }] },
  });
  expect(res.ok(), await res.text()).toBeTruthy();
}

async function start(page, count, concurrency) {
  await page.getByTestId('dataset-import').setInputFiles({
    name: `live-${count}.jsonl`, mimeType: 'application/x-ndjson', buffer: Buffer.from(dataset(count)),
  });
  await page.getByTestId('dataset-save').click();
  await page.getByTestId('batch-concurrency').fill(String(concurrency));
  await page.getByTestId('batch-start').click();
}

const item = (page, problemId) => page.locator(`[data-testid="batch-item"][data-problem-id="${problemId}"]`);

/** The numbers of "D of T done · F failed · R running · W waiting". */
async function counts(page) {
  const text = await page.locator('.batch-counts').textContent();
  const [done, total, failed, running, waiting] = text.match(/\d+/g).map(Number);
  return { done, total, failed, running, waiting };
}

test('the items, their steps and the results follow a running batch, and each item links to its run', async ({ page, request }) => {
  test.setTimeout(120_000);
  await hold(request, 1, 60_000);
  await openApp(page, '/batch');
  await start(page, 4, 2);
  const progress = page.getByTestId('batch-progress');
  await expect(page.getByTestId('batch-status')).toHaveText('running');

  // Problems 2-4 finish while problem 1 waits for its verifier.
  await expect(progress).toHaveAttribute('data-done', '3', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('data-running', '1');
  await expect(page.getByTestId('batch-status')).toHaveText('running');
  // Their rows say so before the batch ends, with their stored step counts and their runs.
  for (const id of ['q2', 'q3', 'q4']) {
    await expect(item(page, id)).toHaveAttribute('data-status', 'done');
    expect(Number(await item(page, id).getAttribute('data-steps'))).toBeGreaterThanOrEqual(3);
    await expect(item(page, id).locator('a[href^="/runs/run_"]')).toHaveCount(1);
  }
  await expect(item(page, 'q3')).toHaveAttribute('data-correct', 'no');
  // The one in flight: its solver step counted as reported, a link to its live transcript.
  await expect(item(page, 'q1')).toHaveAttribute('data-status', 'running');
  await expect(item(page, 'q1')).toHaveAttribute('data-steps', '1');
  const link = item(page, 'q1').locator('a[href^="/runs/run_"]');
  await expect(link).toHaveCount(1);
  // The results so far: 2 of the 3 finished are right.
  await expect(page.getByTestId('batch-accuracy')).toHaveText('0.6667');
  // Each item is counted once.
  const c = await counts(page);
  expect(c).toEqual({ done: 3, total: 4, failed: 0, running: 1, waiting: 0 });
  expect(c.done + c.failed + c.running + c.waiting).toBe(c.total);
  await expect(progress).toHaveAttribute('data-waiting', '0');

  // The link opens the run's transcript with the step saved so far.
  const runId = (await link.textContent()).trim();
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
  await expect(page.getByTestId('step')).toHaveCount(1);

  await page.getByTestId('nav-batch').click();
  await page.getByTestId('batch-cancel').click();
  await expect(page.getByTestId('batch-status')).toHaveText('cancelled');
});

test('an interrupted batch shows one total, and the cut-off notice goes once it is resumed and finished', async ({ page, request }) => {
  test.setTimeout(120_000);
  await hold(request, 1, 20_000);
  await openApp(page, '/batch');
  await start(page, 3, 2);
  const progress = page.getByTestId('batch-progress');
  await expect(progress).toHaveAttribute('data-done', '2', { timeout: 30_000 });
  await expect(item(page, 'q1')).toHaveAttribute('data-steps', '1');

  // Cut off mid-item by a reload.
  await page.reload();
  await expect(page.getByTestId('batch-status')).toHaveText('interrupted');
  const notice = page.getByTestId('error').filter({ hasText: 'cut off' });
  await expect(notice).toBeVisible();
  // One total: the batch's spend (over its runs, the cut-off one's step included), with no
  // "at least" (every step is priced) and no second total beside it.
  await expect(page.getByTestId('batch-spent')).not.toHaveText('–');
  await expect(page.locator('.batch-spend')).not.toContainText('at least');
  await expect(page.locator('.batch-spend')).not.toContainText('so far');
  await expect(page.locator('.batch-facts dt').filter({ hasText: /Total|Spent/ })).toHaveCount(0);
  const cost = (i) => page.locator('[data-testid="batch-item"]').nth(i).locator('td.mono').last().textContent();
  const rows = await Promise.all([0, 1, 2].map(cost));
  const sum = rows.map(Number).reduce((a, b) => a + b, 0);
  expect(Number(await page.getByTestId('batch-spent').textContent())).toBeCloseTo(sum, 5);

  await page.getByTestId('batch-resume').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('data-done', '3');
  await expect(notice).toHaveCount(0);
});
