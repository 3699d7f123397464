// Provider batch mode at scale: 2,000 problems in debate mode through the mock's batch API of
// each family (OpenAI Batch, Anthropic Message Batches, Gemini batch mode), the tab closed and
// reopened twice while a round is at the provider, then the same problems live.
//
// Reported per family: problems completed, rounds (provider batches) against the expected one per
// turn (solver, verifier, judge: the mock's verifier passes the first solution), the batch's cost
// against the same run's live cost (the batch rates of the shipped table are half the live ones),
// results applied twice (counted from the stored steps: a result applied again would be a step
// the loop committed a second time, so each run must hold exactly steps 1, 2, 3 with one solver,
// one verifier and one judge), requests the mock saw uploaded more than once, and the wall time
// from Start to the batch's end, the closed spells included. The mock finishes a provider batch
// `turnaroundMs` after it was created; the app polls 1 s after a submit, then 2 s later, and so
// on, so a round takes about 3 s.
import { readFile } from 'node:fs/promises';
import {
  APP, MOCK_FAST, checkTestId, clickTestId, fillTestId, freshBrowser, mockControl, seedStorage, setFileTestId,
  waitInPage,
} from './lib.mjs';
import { debateConfig, familyProviders, storedBatch } from '../tests/mock/provider_batch_setup.mjs';

export const PROVIDER_BATCH = {
  problems: Number(process.env.BENCH_PROVIDER_BATCH_PROBLEMS ?? 2000),
  turnaroundMs: 1500,
  reopenings: 2,
  roundsExpected: 3,
};

const FAMILIES = Object.entries(familyProviders(MOCK_FAST))
  .map(([family, f]) => ({ family, ...f, keys: { [f.provider.id]: 'bench-key' } }));

function dataset(n) {
  const lines = [];
  for (let i = 1; i <= n; i += 1) {
    lines.push(JSON.stringify({ id: `q${String(i).padStart(4, '0')}`, problem: `[Q${i}] What is ${i} times 3? ANSWER=${3 * i}`, answer: String(3 * i) }));
  }
  return `${lines.join('\n')}\n`;
}

/** The batch `batchId` as stored: its runs with their steps, and its rounds. */
async function stored(page, batchId) {
  const { runs, rounds } = await storedBatch(page, batchId);
  return {
    runs: runs.map((r) => ({ run_id: r.run_id, status: r.status, cost: r.cost_usd })),
    steps: runs.flatMap((r) => r.steps).map((s) => ({
      run_id: s.run_id, step_id: s.step_id, agent: s.agent, iteration: s.metadata?.iteration ?? null,
      cost: s.metadata?.cost_usd ?? null, usage: s.metadata?.usage ?? null,
      sent_via: (s.metadata?.attempts ?? []).map((a) => a.sent_via ?? 'live'),
    })),
    rounds: rounds.map((r) => ({ round: r.round, status: r.status, requests: Object.keys(r.requests).length })),
  };
}

/** Opens the Batch page in a new tab of `context` (what reopening the app does). */
async function openBatchPage(context) {
  const page = await context.newPage();
  await page.goto(`${APP}/batch`);
  return page;
}

/** Waits until the round shown is `round` and its provider batch is at the provider. */
async function roundAtProvider(page, round, timeout) {
  await waitInPage(page, `round ${round} at the provider`, (n) => {
    const el = document.querySelector('[data-testid="batch-round"]');
    return el !== null && Number(el.dataset.round) >= n && el.textContent.includes('at the provider');
  }, round, timeout);
}

async function batchEnded(page, timeout) {
  await waitInPage(page, 'the batch ended', () => ['completed', 'failed', 'cancelled', 'paused']
    .includes(document.querySelector('[data-testid="batch-status"]')?.textContent.trim()), null, timeout);
  return page.evaluate(() => ({
    status: document.querySelector('[data-testid="batch-status"]').textContent.trim(),
    id: document.querySelector('[data-testid="batch-id"]').textContent.trim(),
  }));
}

/** Starts a debate batch of the saved dataset with `engine`; the page's batch id before it. */
async function startBatch(page, engine, n) {
  await waitInPage(page, `${n} problems selected`, (count) => document.querySelector(
    `[data-testid="batch-selected"][data-count="${count}"]`) !== null, n, 60_000);
  await checkTestId(page, 'batch-mode-debate');
  await page.selectOption('[data-testid="batch-engine"]', engine);
  if (engine === 'live') await fillTestId(page, 'batch-concurrency', '64');
  const before = await page.evaluate(() => document.querySelector('[data-testid="batch-id"]')?.textContent.trim() ?? '');
  await clickTestId(page, 'batch-start');
  await waitInPage(page, 'a new batch', (old) => {
    const id = document.querySelector('[data-testid="batch-id"]')?.textContent.trim() ?? '';
    return id !== '' && id !== old;
  }, before, 120_000);
  return page.evaluate(() => document.querySelector('[data-testid="batch-id"]').textContent.trim());
}

/** Results applied more than once: steps beyond one per (run, agent, iteration). */
function appliedTwice(steps) {
  const seen = new Set();
  let twice = 0;
  for (const s of steps) {
    const key = `${s.run_id}/${s.agent}/${s.iteration}`;
    if (seen.has(key)) twice += 1;
    seen.add(key);
  }
  return twice;
}

function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

/** One family: the batch through its batch API with two closings, then the same live. */
async function oneFamily(f, rates) {
  const n = PROVIDER_BATCH.problems;
  const { context, page: first, problems } = await freshBrowser(`provider-batch-${f.family}`);
  try {
    await mockControl(MOCK_FAST, 'reset');
    await mockControl(MOCK_FAST, 'batch-config', { turnaround_ms: PROVIDER_BATCH.turnaroundMs, turnaround_polls: 0 });
    await seedStorage(context, { providers: [f.provider], keys: f.keys, config: debateConfig('bench-provider-batch', f.model) });
    await first.goto(`${APP}/batch`);
    await setFileTestId(first, 'dataset-import', {
      name: `bench-${n}.jsonl`, mimeType: 'application/x-ndjson', text: dataset(n),
    });
    await clickTestId(first, 'dataset-save');

    const t0 = Date.now();
    const batchId = await startBatch(first, 'provider-batch', n);
    // Closed while round 1, then round 2, is at the provider; reopened a little later.
    let page = first;
    const closings = [];
    for (let round = 1; round <= PROVIDER_BATCH.reopenings; round += 1) {
      await roundAtProvider(page, round, 600_000);
      await page.close();
      const closedAt = Date.now();
      await new Promise((resolve) => { setTimeout(resolve, 500); });
      page = await openBatchPage(context);
      closings.push({ round, closedMs: Date.now() - closedAt });
    }
    const end = await batchEnded(page, 1_800_000);
    const wallMs = Date.now() - t0;
    if (end.id !== batchId) throw new Error(`the reopened page shows batch ${end.id}, not ${batchId}`);
    const batch = await stored(page, batchId);
    const mock = await (await fetch(`${MOCK_FAST}/__mock/batches`)).json();
    const uploadedTwice = Object.values(mock.uploads ?? {}).filter((k) => k > 1).length;

    // The same problems, live, on the same page (the dataset is saved).
    const liveId = await startBatch(page, 'live', n);
    const liveEnd = await batchEnded(page, 1_800_000);
    const live = await stored(page, liveId);

    const batchCost = sum(batch.runs.map((r) => r.cost ?? NaN));
    const liveCost = sum(live.runs.map((r) => r.cost ?? NaN));
    // Each stored step priced again from its usage at the table's batch rates, as a check
    // that the stored cost is the batch price of what was used.
    const r = rates[f.price];
    const atBatchRates = sum(batch.steps.map((s) => (s.usage
      ? (s.usage.input_tokens - (s.usage.cache_read_tokens ?? 0)) * r.batch.input
        + (s.usage.cache_read_tokens ?? 0) * (r.batch.cache_read ?? r.batch.input)
        + s.usage.output_tokens * r.batch.output
      : NaN)));
    const pageProblems = [...problems];
    return {
      family: f.family,
      model: f.model,
      problems: n,
      status: end.status,
      completed: batch.runs.filter((run) => run.status === 'completed').length,
      rounds: batch.rounds.length,
      roundsExpected: PROVIDER_BATCH.roundsExpected,
      roundSizes: batch.rounds.map((x) => x.requests),
      mockBatches: (mock.batches ?? []).length,
      steps: batch.steps.length,
      stepsViaBatch: batch.steps.filter((s) => s.sent_via.every((v) => v === 'provider_batch')).length,
      appliedTwice: appliedTwice(batch.steps),
      uploadedTwice,
      batchCostUsd: batchCost,
      liveCostUsd: liveCost,
      liveStatus: liveEnd.status,
      costRatio: batchCost / liveCost,
      restoredAtBatchRatesUsd: atBatchRates,
      wallMs,
      closings,
      turnaroundMs: PROVIDER_BATCH.turnaroundMs,
      pageErrors: pageProblems,
    };
  } finally {
    await context.close();
  }
}

/** The provider batch figure for every family. */
export async function providerBatchAtScale() {
  const table = JSON.parse(await readFile(new URL('../public/pricing.json', import.meta.url), 'utf8'));
  const families = [];
  for (const f of FAMILIES) {
    process.stderr.write(`bench: provider batch through ${f.family} (${PROVIDER_BATCH.problems} problems)…\n`);
    families.push(await oneFamily(f, table.rates));
  }
  return { ...PROVIDER_BATCH, families };
}
