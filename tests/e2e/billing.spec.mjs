// Possibly-billed spend end to end, with no kill involved: a request that times out, or whose
// connection drops mid-reply, went out and got no reply, so the provider may still bill it.
// The run (and a batch) completes through the retry, and its worst case is shown as "at most $X
// unaccounted" on the run, batch and Costs pages, written on the exported step as
// `metadata.possibly_billed_usd`, and kept out of `cost_usd`.
//
// Every figure is worked out here from what the mock logged and the price the test set: the
// worst case of a request is its prompt's byte bound (the bytes of the messages it sent, the
// schema instructions included in prompt-only mode, plus the estimate's 256 tokens of framing)
// at the input price, plus its `max_tokens` at the output price (src/core/budget.rs,
// `CallEstimate`).
import { test, expect } from './fixtures.mjs';
import {
  MOCK_OPENAI, OVERHEAD_TOKENS, costOf, debateConfig, download, expectUsd, importDataset, mockRequests, openApp,
  releaseMock, requestWorstCase, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

// A price of the test's own (a user price override), so no figure depends on the shipped table.
const PRICE = { input_per_million: 3, output_per_million: 12 };
const CONFIG = {
  ...debateConfig('e2e-billing', { maxIterations: 1, maxAttempts: 2, maxTokens: 300 }),
  // The shortest timeout settings accept; a held reply outlasts it.
  request_timeout_secs: 1,
  max_reasks: 0,
};
// Prompt-only structured output: the schema instructions travel in the user message, so the
// prompt's byte bound is read off the logged request whole.
const PROVIDER = { ...MOCK_OPENAI, structured_mode: 'prompt_only' };

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seedApp(page, {
    providers: [PROVIDER], keys: { openai: 'sk-e2e-billing' }, config: CONFIG,
    prices: { [CONFIG.solver.model]: PRICE },
  });
});

test.afterEach(async ({ request }) => {
  // Lets any reply still held go, so the mock holds no thread for the next spec.
  await releaseMock(request, 'never');
});

/** Runs `problem` on the Run page to its end; returns the run's exported steps. */
async function runToEnd(page, problem) {
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill(problem);
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
  const { text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

/**
 * Checks a completed run whose solver's first request got no reply (`unanswered`, its log
 * entry) and whose retry was answered: the run page, the exported steps and the Costs page
 * agree on its worst case, and the solver's cost is the answered request's alone.
 */
async function expectOneUnsettledSolverRequest(page, steps, logged, unanswered) {
  const worst = requestWorstCase(unanswered, PRICE);
  // Sent again once, same prompt, and answered.
  expect(logged.map((r) => r.agent)).toEqual(['solver', 'solver', 'verifier', 'judge']);
  expect(logged[1].body.messages).toEqual(unanswered.body.messages);
  expect(logged[1].status).toBe(200);

  const unaccounted = page.getByTestId('run-unaccounted');
  await expect(unaccounted).toContainText(/^at most \$[0-9.]+ unaccounted$/);
  expectUsd(Number(await unaccounted.getAttribute('data-usd')), worst);

  expect(steps.map((s) => s.agent)).toEqual(['solver', 'verifier', 'judge']);
  expectUsd(steps[0].metadata.possibly_billed_usd, worst);
  expect(steps.slice(1).map((s) => s.metadata.possibly_billed_usd)).toEqual([undefined, undefined]);
  expect(steps[0].metadata.attempts.map((a) => a.unsettled ?? false)).toEqual([true, false]);
  // The cost holds what the answered requests were billed, nothing of the worst case.
  steps.forEach((step, i) => expectUsd(step.metadata.cost_usd, costOf(logged[i + 1].usage, PRICE)));

  await page.getByTestId('nav-costs').click();
  const costs = page.getByTestId('costs-unaccounted');
  await expect(costs).toBeVisible();
  expectUsd(Number(await costs.getAttribute('data-usd')), worst);
  return worst;
}

// How the solver's first request gets no reply: held by the mock past the page's 1 s timeout
// (the page aborts it), or cut off after the head and half the body its Content-Length
// announced. Either way it went out, so it may be billed.
const UNANSWERED = [
  { name: 'times out', fault: 'hold:never', status: 'aborted', error: /did not answer within 1 s/, problem: 'What is 3 + 3? ANSWER=6' },
  { name: 'has its connection dropped mid-reply', fault: 'cut', status: 'cut', error: /could not reach OpenAI/, problem: 'What is 4 + 4? ANSWER=8' },
];

for (const how of UNANSWERED) {
  test(`a solver request that ${how.name} is possibly billed at its worst case; the retry completes the run`, async ({ page, request, problems }) => {
    await scriptMock(request, [{ agent: 'solver', times: 1, fault: how.fault }]);
    const steps = await runToEnd(page, how.problem);
    const logged = await mockRequests(request);
    expect(logged[0].status).toBe(how.status);
    const worst = await expectOneUnsettledSolverRequest(page, steps, logged, logged[0]);
    expect(steps[0].metadata.attempts[0].error).toMatch(how.error);
    console.log(`billing: a request that ${how.name}: worst case $${worst} (${OVERHEAD_TOKENS} tokens of framing included)`);
  });
}

test('a batch counts the timed-out request of one item as possibly billed, on the batch and Costs pages', async ({ page, request, problems }) => {
  await scriptMock(request, [{ match: '[B2]', agent: 'solver', times: 1, fault: 'hold:never' }]);
  await openApp(page, '/batch');
  await importDataset(page, 'billing.jsonl', [1, 2, 3].map((i) => ({
    id: `b${i}`, problem: `[B${i}] What is ${i} + ${i}? ANSWER=${2 * i}`, answer: String(2 * i),
  })));
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  await page.getByTestId('batch-concurrency').fill('1');
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 60_000 });
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', '3');

  const logged = await mockRequests(request);
  const unanswered = logged.filter((r) => r.status !== 200);
  expect(unanswered.map((r) => [r.agent, r.status])).toEqual([['solver', 'aborted']]);
  expect(JSON.stringify(unanswered[0].body.messages)).toContain('[B2]');
  // Three items of three calls each, and the one request sent again.
  expect(logged.length).toBe(10);
  const worst = requestWorstCase(unanswered[0], PRICE);

  const batchUnaccounted = page.getByTestId('batch-unaccounted');
  await expect(batchUnaccounted).toContainText(/^at most \$[0-9.]+ unaccounted$/);
  expectUsd(Number(await batchUnaccounted.getAttribute('data-usd')), worst);
  // The batch's spend is what the answered requests cost (at this price every cost is a whole
  // number of millionths of a dollar, so the six decimals shown are exact).
  const spent = logged.filter((r) => r.status === 200).reduce((sum, r) => sum + costOf(r.usage, PRICE), 0);
  expectUsd(Number(await page.getByTestId('batch-spent').textContent()), spent, 1e-6);

  const { text } = await download(page, () => page.getByTestId('batch-export-jsonl').click());
  const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const billed = lines.filter((l) => l.metadata.possibly_billed_usd !== undefined);
  expect(billed.map((l) => [l.agent, JSON.stringify(l.input).includes('[B2]')])).toEqual([['solver', true]]);
  expectUsd(billed[0].metadata.possibly_billed_usd, worst);

  await page.getByTestId('nav-costs').click();
  const costs = page.getByTestId('costs-unaccounted');
  await expect(costs).toBeVisible();
  expectUsd(Number(await costs.getAttribute('data-usd')), worst);
});
