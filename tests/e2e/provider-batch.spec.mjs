// Provider batch mode end to end, once per batch API family: a small debate batch through the
// mock's OpenAI Batch API, Anthropic Message Batches and Gemini batch mode (and the OpenAI batch
// endpoints of a custom OpenAI-compatible server whose settings declare them), with a reload
// while a round is at the provider. Reopened, the page takes the batch up by itself; the batch
// completes, every custom id is submitted once, no result is applied twice (each run commits
// steps 1, 2, 3 once), and where the shipped table has batch rates it costs exactly half of the
// same batch run live (gpt-4.1-mini, claude-haiku-4-5 and gemini-2.5-flash's batch rates are half
// their live ones). Its replies are in the reply store: the same batch live by the default
// reuse policy sends nothing and costs $0, each step reused from the provider-batch run.
import { readFileSync } from 'node:fs';
import { test, expect } from './fixtures.mjs';
import { MOCK, MOCK_OPENAI, importDataset, mockRequests, openApp, resetMock, seedApp } from './helpers.mjs';
import { debateConfig, familyProviders, storedBatch } from '../mock/provider_batch_setup.mjs';

const MOCKED = familyProviders(MOCK);
const FAMILIES = [
  { name: 'OpenAI', family: 'openai', ...MOCKED.openai, provider: MOCK_OPENAI,
    keys: { openai: 'sk-e2e-provider-batch' }, priced: true },
  { name: 'Anthropic', family: 'anthropic', ...MOCKED.anthropic,
    keys: { anthropic: 'sk-ant-e2e-provider-batch' }, priced: true },
  { name: 'Gemini', family: 'gemini', ...MOCKED.gemini,
    keys: { gemini: 'gm-e2e-provider-batch' }, priced: true },
  // A custom server that says it implements the OpenAI batch endpoints; its model has no price.
  { name: 'a declared OpenAI-compatible server', family: 'openai', model: 'my-vllm/qwen-e2e',
    provider: { id: 'my-vllm', label: 'My vLLM', kind: 'openai_compatible', base_url: `${MOCK}/local/v1`,
      structured_mode: null, builtin: false, batch_endpoints: true },
    keys: { 'my-vllm': 'sk-vllm-e2e' }, priced: false },
];

const configFor = (model) => debateConfig('e2e-provider-batch', model);
const ROWS = [1, 2, 3].map((i) => ({ id: `p${i}`, problem: `[B${i}] What is ${i} times 3? ANSWER=${i * 3}`, answer: String(i * 3) }));

/** The runs of batch `batchId` as stored, read from IndexedDB. */
async function storedRuns(page, batchId) {
  const { runs } = await storedBatch(page, batchId);
  return runs.map((run) => ({
    cost: run.cost_usd,
    status: run.status,
    problem: run.problem,
    stepIds: run.steps.map((s) => s.step_id),
    steps: run.steps.map((s) => s.metadata),
  }));
}

async function mockBatches(request) {
  const res = await request.get(`${MOCK}/__mock/batches`);
  expect(res.ok()).toBeTruthy();
  return res.json();
}

test.beforeEach(async ({ request }) => {
  await resetMock(request);
  // Each round is done on the mock's second poll of it.
  const res = await request.post(`${MOCK}/__mock/batch-config`, { data: { turnaround_polls: 2 } });
  expect(res.ok()).toBeTruthy();
});

for (const f of FAMILIES) {
  test(`a debate batch runs in rounds through ${f.name}'s batch API, is taken up again after a reload, and costs half of live`, async ({ page, request }) => {
    test.setTimeout(180_000);
    await seedApp(page, { providers: [f.provider], keys: f.keys, config: configFor(f.model), once: true });
    await openApp(page, '/batch');
    await importDataset(page, 'three.jsonl', ROWS);
    await page.getByTestId('batch-engine').selectOption('provider-batch');
    await expect(page.getByTestId('batch-engine-split')).toContainText(`Batched at half price: ${f.provider.label}`);
    await page.getByTestId('batch-start').click();

    // Round 1 (the three solvers) is at the provider: the page says so and that the tab may close.
    const round = page.getByTestId('batch-round');
    await expect(round).toHaveAttribute('data-round', '1', { timeout: 30_000 });
    await expect(round).toHaveAttribute('data-submitted', '3');
    await expect(page.getByTestId('batch-tab-may-close')).toBeVisible();
    // The three items wait on the provider's round: waiting, not running.
    const progress = page.getByTestId('batch-progress');
    await expect(progress).toHaveAttribute('data-waiting', '3');
    await expect(progress).toHaveAttribute('data-running', '0');
    const batchId = (await page.getByTestId('batch-id').textContent()).trim();

    // Reopened, the page polls the round at the provider and goes on with no Resume press.
    await page.reload();
    await expect(page.getByTestId('batch-id')).toHaveText(batchId);
    await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 120_000 });
    await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', '3');
    // Solver, verifier, judge: the last round holds the three judges, all answered.
    await expect(round).toHaveAttribute('data-round', '3');
    await expect(round).toHaveAttribute('data-succeeded', '3');
    await expect(round).toHaveAttribute('data-errored', '0');

    // Every request went up once, to this family's batch API: round 1 was polled after the
    // reload, not submitted again.
    const { batches, uploads } = await mockBatches(request);
    expect(batches).toHaveLength(3);
    expect(batches.map((b) => b.family)).toEqual(Array(3).fill(f.family));
    expect(Object.values(uploads)).toEqual(Array(9).fill(1));
    const viaBatch = await storedRuns(page, batchId);
    expect(viaBatch).toHaveLength(3);
    for (const run of viaBatch) {
      expect(run.status).toBe('completed');
      expect(run.stepIds.sort()).toEqual([1, 2, 3]);
    }
    if (!f.priced) {
      // No price known: unknown stays unknown, never a made-up zero.
      for (const run of viaBatch) expect(run.cost ?? null).toBeNull();
      return;
    }

    // The forecast for another such batch: its time learned from these rounds (submit to
    // results read), its price live and at the batch rates.
    await page.getByTestId('batch-engine').selectOption('provider-batch');
    const time = page.getByTestId('batch-forecast-time');
    await expect(time).toHaveAttribute('data-learned', 'true');
    const [minS, maxS] = [Number(await time.getAttribute('data-min-s')), Number(await time.getAttribute('data-max-s'))];
    expect(minS).toBeGreaterThan(0);
    // Five rounds at most (two iterations, then the judge), each well within the test's time.
    expect(maxS).toBeGreaterThanOrEqual(minS);
    expect(maxS).toBeLessThan(5 * 120);
    await expect(time).toContainText('3–5 rounds per problem');
    const price = page.getByTestId('batch-forecast-price');
    const liveUsd = Number(await price.getAttribute('data-live-usd'));
    // These runs paid batch rates: the live price counts them at twice their cost.
    const costs = viaBatch.map((run) => run.cost).sort((a, b) => a - b);
    expect(liveUsd).toBeCloseTo(costs[1] * 2 * ROWS.length, 12);
    expect(Number(await price.getAttribute('data-batch-usd'))).toBeCloseTo(liveUsd / 2, 12);

    // The same batch live, by the default reuse policy (the agents sample at temperature 0):
    // every reply the provider batches paid for is in the reply store, so nothing is paid or
    // sent again, and each step names the provider-batch run that paid for it.
    const chatsBefore = (await mockRequests(request)).length;
    await page.getByTestId('batch-engine').selectOption('live');
    await page.getByTestId('batch-start').click();
    await expect(page.getByTestId('batch-id')).not.toHaveText(batchId);
    await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 60_000 });
    const reusedId = (await page.getByTestId('batch-id').textContent()).trim();
    expect((await mockRequests(request)).length).toBe(chatsBefore);
    const reused = await storedRuns(page, reusedId);
    const payerOf = Object.fromEntries((await storedBatch(page, batchId)).runs.map((r) => [r.problem, r.run_id]));
    const { runs: reusedRuns } = await storedBatch(page, reusedId);
    expect(reusedRuns).toHaveLength(ROWS.length);
    for (const run of reusedRuns) {
      expect(run.cost_usd).toBe(0);
      for (const step of run.steps) expect(step.metadata.reused_from).toBe(payerOf[run.problem]);
    }
    expect(reused.every((run) => run.status === 'completed')).toBe(true);

    // The same batch live, paying for every request (policy "never"), to compare prices.
    await page.getByTestId('batch-reuse-policy').selectOption('never');
    await page.getByTestId('batch-start').click();
    await expect(page.getByTestId('batch-id')).not.toHaveText(reusedId);
    await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 60_000 });
    const liveId = (await page.getByTestId('batch-id').textContent()).trim();
    const live = await storedRuns(page, liveId);
    const sum = (runs) => runs.reduce((total, run) => total + run.cost, 0);
    expect(sum(live)).toBeGreaterThan(0);
    expect(sum(viaBatch) * 2).toBeCloseTo(sum(live), 12);
  });
}

test('with "finish the stragglers live", an expired and an errored request are sent live instead of in another round', async ({ page, request }) => {
  test.setTimeout(180_000);
  const f = FAMILIES[1];
  // Problem 2's first solver request expires in its provider batch, problem 3's errors.
  const res = await request.post(`${MOCK}/__mock/batch-config`, { data: { turnaround_polls: 1, expire: ['[B2]'], error: ['[B3]'] } });
  expect(res.ok()).toBeTruthy();
  await seedApp(page, { providers: [f.provider], keys: f.keys, config: configFor(f.model), once: true });
  await openApp(page, '/batch');
  await importDataset(page, 'three.jsonl', ROWS);
  await page.getByTestId('batch-engine').selectOption('provider-batch');
  await page.getByTestId('batch-stragglers-live').check();
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 120_000 });
  const batchId = (await page.getByTestId('batch-id').textContent()).trim();

  // Three rounds, as with no straggler: the two went live beside round 1.
  const { batches, uploads } = await mockBatches(request);
  expect(batches).toHaveLength(3);
  expect(Object.values(uploads)).toEqual(Array(9).fill(1));
  const live = (await mockRequests(request)).filter((r) => r.route !== 'batch' && r.path.endsWith('/v1/messages'));
  expect(live).toHaveLength(2);
  // A straggler's step is billed at the live rate its live request was, the rest at the
  // batch rate (claude-haiku-4-5 in the shipped table).
  const table = JSON.parse(readFileSync(new URL('../../public/pricing.json', import.meta.url), 'utf8'));
  const { input, output, batch } = table.rates['claude-haiku-4-5'];
  const price = (usage, r) => usage.input_tokens * r.input + usage.output_tokens * r.output;
  const runs = await storedRuns(page, batchId);
  expect(runs).toHaveLength(3);
  for (const run of runs) {
    expect(run.status).toBe('completed');
    expect(run.stepIds).toEqual([1, 2, 3]);
    const straggler = !run.problem.includes('[B1]');
    run.steps.forEach((m, index) => {
      const live = straggler && index === 0;
      expect(m.usage.input_tokens).toBeGreaterThan(0);
      expect(m.cost_usd).toBeCloseTo(price(m.usage, live ? { input, output } : batch), 12);
      expect(m.attempts.map((a) => a.sent_via ?? 'live')).toEqual([live ? 'live' : 'provider_batch']);
    });
  }
});
