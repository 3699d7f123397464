// 3. Batch saturation: 200 problems on the Batch page at concurrency 16, every reply 100 ms late.
//
// ideal = ceil(problems / concurrency) × steps per problem × latency: each wave of 16 problems
// takes 3 sequential calls (solver, verifier that passes, judge) of 100 ms each, and no time at
// all is spent outside the mock. Wall = batch-start click → batch-status shows the end.
import {
  APP, MOCK_SLOW, freshBrowser, longTaskMs, mainThread, maxOverlap, median, minus, mockConfig,
  mockControl, mockProviders, seedStorage, waitMark, watch,
} from './lib.mjs';

export const BATCH = { problems: 200, concurrency: 16, stepsPerProblem: 3, latencyMs: 100 };

/** The ideal wall time of BATCH in ms (see the file comment). */
export function idealMs({ problems, concurrency, stepsPerProblem, latencyMs }) {
  return Math.ceil(problems / concurrency) * stepsPerProblem * latencyMs;
}

function dataset(n) {
  const lines = [];
  for (let i = 1; i <= n; i += 1) {
    lines.push(JSON.stringify({ id: `b${String(i).padStart(3, '0')}`, problem: `[B${i}] What is ${i} + ${i}? ANSWER=${2 * i}`, answer: String(2 * i) }));
  }
  return `${lines.join('\n')}\n`;
}

/** Time-weighted calls in flight in each whole second of [0, wall), to one decimal. */
export function inFlightBySecond(intervals, wall) {
  const seconds = Math.ceil(wall / 1000);
  const out = new Array(seconds).fill(0);
  for (const [start, end] of intervals) {
    for (let k = Math.max(0, Math.floor(start / 1000)); k < seconds && k * 1000 < end; k += 1) {
      out[k] += Math.max(0, Math.min(end, (k + 1) * 1000) - Math.max(start, k * 1000)) / 1000;
    }
  }
  return out.map((v) => Math.round(v * 10) / 10);
}

const BATCH_ENDED = ['completed', 'failed', 'cancelled', 'interrupted', 'paused'];

export async function batchSaturation() {
  const { context, page, problems } = await freshBrowser('batch');
  try {
    await mockControl(MOCK_SLOW, 'reset');
    await seedStorage(context, {
      providers: mockProviders(MOCK_SLOW), keys: { openai: 'bench-key' }, config: mockConfig('bench-batch', 3),
    });
    await page.goto(`${APP}/batch`);
    await page.getByTestId('dataset-import').setInputFiles({
      name: 'bench-200.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(dataset(BATCH.problems)),
    });
    await page.getByTestId('dataset-save').click();
    await page.locator(`[data-testid="batch-selected"][data-count="${BATCH.problems}"]`).waitFor();
    await page.getByTestId('batch-mode-debate').check();
    await page.getByTestId('batch-concurrency').fill(String(BATCH.concurrency));
    await page.locator('[data-testid="batch-start"]:enabled').waitFor();
    await watch(page, { name: 'ended', selector: '[data-testid="batch-status"]', textIn: BATCH_ENDED });
    await page.evaluate(() => {
      performance.setResourceTimingBufferSize(10_000);
      performance.clearResourceTimings();
    });
    const busy = await mainThread(context, page);
    const before = await busy();
    await page.getByTestId('batch-start').click();
    const marks = await waitMark(page, 'ended', 300_000);
    const mainThreadMs = minus(await busy(), before);
    const r = await page.evaluate(({ mock, start, end }) => {
      const progress = document.querySelector('[data-testid="batch-progress"]');
      const requests = performance.getEntriesByType('resource')
        .filter((e) => e.name.startsWith(mock) && e.startTime >= start && e.startTime <= end)
        .map((e) => [e.startTime, e.responseEnd]);
      return {
        status: document.querySelector('[data-testid="batch-status"]').textContent.trim(),
        done: Number(progress?.dataset.done),
        failed: Number(progress?.dataset.failed),
        wall: end - start,
        requests,
      };
    }, { mock: MOCK_SLOW, start: marks['click:batch-start'], end: marks.ended });
    if (r.status !== 'completed' || r.done !== BATCH.problems || r.failed !== 0) {
      throw new Error(`batch ended ${r.status} with ${r.done} done, ${r.failed} failed`);
    }
    const calls = BATCH.problems * BATCH.stepsPerProblem;
    if (r.requests.length !== calls) throw new Error(`${r.requests.length} requests, expected ${calls}`);
    if (problems.length) throw new Error(problems.join('; '));
    const inFlight = maxOverlap(r.requests);
    const long = await longTaskMs(page, marks['click:batch-start'], marks.ended);
    const ideal = idealMs(BATCH);
    return {
      ...BATCH,
      wall: r.wall,
      ideal,
      ratio: r.wall / ideal,
      requests: r.requests.length,
      maxInFlight: inFlight,
      // Time-weighted mean of calls in flight: summed call time / wall.
      meanInFlight: r.requests.reduce((sum, [s, e]) => sum + (e - s), 0) / r.wall,
      longTaskMs: long,
      mainThreadMs,
      // Calls in flight per second of the batch (time-weighted), for results.json readers.
      inFlightBySecond: inFlightBySecond(r.requests.map(([s, e]) => [s - marks['click:batch-start'], e - marks['click:batch-start']]), r.wall),
      medianRequestMs: median(r.requests.map(([s, e]) => e - s)),
      // The ideal with the mock's measured median call in place of its nominal latency.
      idealAtMedianCall: idealMs({ ...BATCH, latencyMs: median(r.requests.map(([s, e]) => e - s)) }),
    };
  } finally {
    await context.close();
  }
}
