// 8. The 10,000-problem live batch (issue 20): 10,000 problems on the Batch page at concurrency
// 64 in debate mode, against the mock over HTTP/2 + TLS (h2_front.mjs) with every reply 100 ms
// late, as batch.mjs's row but 50 times longer and 4 times wider.
//
// ideal = ceil(problems / concurrency) × steps per problem × latency, as in batch.mjs. Wall =
// batch-start click → batch-status shows the end. The main thread's busy share is CDP
// `TaskDuration` over the wall (target ≤ 25 %). Memory is sampled every few seconds while it
// goes: the JS heap (CDP `JSHeapUsedSize`, after no forced collection, so it saws) and the
// wasm linear memory (which only grows), each beside the items finished at that moment; the
// target is flat, not growing with the items done. BENCH_BATCH10K_PROBLEMS sets a smaller size
// for developing on a loaded machine.
import {
  APP, MOCK_FAST, MOCK_SLOW_H2, checkTestId, clickTestId, cpuUsed, fillTestId, machineCpu, mainThread, minus,
  mockConfig, mockControl, mockProviders, quietFreshBrowser, seedStorage, setFileTestId, waitInPage, waitMark, watch,
} from './lib.mjs';
import { idealMs } from './batch.mjs';
import { PROFILING, startCpuProfile } from './cpu_profile.mjs';

const problems = Number(process.env.BENCH_BATCH10K_PROBLEMS ?? 10_000);
export const BATCH10K = { problems, concurrency: 64, stepsPerProblem: 3, latencyMs: 100 };

const ENDED = ['completed', 'failed', 'cancelled', 'interrupted', 'paused'];
const SAMPLE_EVERY_MS = 2_000;

function dataset(n) {
  const lines = [];
  for (let i = 1; i <= n; i += 1) {
    lines.push(JSON.stringify({ id: `k${String(i).padStart(5, '0')}`, problem: `[K${i}] What is ${i} + ${i}? ANSWER=${2 * i}`, answer: String(2 * i) }));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The least-squares slope of `y` over `x` (bytes per item done), and the rise from the first
 * quarter's mean to the last quarter's, so "flat" is a figure rather than a picture.
 */
export function growth(samples, key) {
  const points = samples.filter((s) => Number.isFinite(s[key]) && Number.isFinite(s.done));
  if (points.length < 4) return { slopePerItem: NaN, firstQuarter: NaN, lastQuarter: NaN };
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.done, 0) / n;
  const my = points.reduce((a, p) => a + p[key], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.done - mx) * (p[key] - my);
    sxx += (p.done - mx) ** 2;
  }
  const q = Math.max(1, Math.floor(n / 4));
  const mean = (ps) => ps.reduce((a, p) => a + p[key], 0) / ps.length;
  return {
    slopePerItem: sxx > 0 ? sxy / sxx : NaN,
    firstQuarter: mean(points.slice(0, q)),
    lastQuarter: mean(points.slice(n - q)),
  };
}

/** The 10,000-problem live batch. */
export async function batch10k() {
  const { context, page, readProblems } = await quietFreshBrowser('batch10k', { ignoreCertificateErrors: true });
  try {
    await mockControl(MOCK_FAST, 'reset');
    await seedStorage(context, {
      providers: mockProviders(MOCK_SLOW_H2), keys: { openai: 'bench-key' }, config: mockConfig('bench-batch10k', 3),
    });
    await page.goto(`${APP}/batch`);
    await setFileTestId(page, 'dataset-import', {
      name: `bench-${BATCH10K.problems}.jsonl`, mimeType: 'application/x-ndjson', text: dataset(BATCH10K.problems),
    });
    await clickTestId(page, 'dataset-save');
    await waitInPage(page, `${BATCH10K.problems} problems selected`, (n) => document.querySelector(
      `[data-testid="batch-selected"][data-count="${n}"]`) !== null, BATCH10K.problems, 120_000);
    await checkTestId(page, 'batch-mode-debate');
    await fillTestId(page, 'batch-concurrency', String(BATCH10K.concurrency));
    await watch(page, { name: 'ended', selector: '[data-testid="batch-status"]', textIn: ENDED });

    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const sample = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      const s = await page.evaluate(() => ({
        at: performance.now(),
        wasm: window.__bench.memory?.buffer.byteLength ?? NaN,
        done: Number(document.querySelector('[data-testid="batch-progress"]')?.dataset.done ?? 0),
      }));
      return { ...s, heap: metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN };
    };
    const samples = [];
    let sampling = true;
    let samplerError = null;
    const busy = await mainThread(context, page);
    const before = await busy();
    const stopProfile = PROFILING ? await startCpuProfile(context, page, 'batch10k') : null;
    const cpuBefore = machineCpu();
    await clickTestId(page, 'batch-start');
    const sampler = (async () => {
      while (sampling) {
        samples.push(await sample());
        await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
      }
    })().catch((e) => { samplerError = e; });
    let marks;
    try {
      // 10 × the ideal at most: a run that slow is a finding of its own.
      marks = await waitMark(page, 'ended', Math.max(120_000, 10 * idealMs(BATCH10K)));
    } catch (e) {
      // How far it got, and its memory then, are the figures of a run cut off.
      const last = samples.at(-1);
      const first = samples.find((x) => x.done > 0) ?? samples[0];
      const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
      throw new Error(`${e.message}; by then ${last?.done ?? '?'} of ${BATCH10K.problems} items were done; `
        + `JS heap ${mb(first?.heap)} → ${mb(last?.heap)}, wasm memory ${mb(first?.wasm)} → ${mb(last?.wasm)}`);
    } finally {
      sampling = false;
      await sampler;
    }
    if (samplerError) throw new Error(`memory could not be sampled during the batch: ${samplerError.message}`);
    if (stopProfile) process.stderr.write(await stopProfile());
    const cpu = cpuUsed(cpuBefore, machineCpu());
    const mainThreadMs = minus(await busy(), before);
    const r = await page.evaluate(() => {
      const progress = document.querySelector('[data-testid="batch-progress"]');
      return {
        status: document.querySelector('[data-testid="batch-status"]').textContent.trim(),
        done: Number(progress?.dataset.done),
        failed: Number(progress?.dataset.failed),
      };
    });
    if (r.status !== 'completed' || r.done !== BATCH10K.problems || r.failed !== 0) {
      throw new Error(`batch ended ${r.status} with ${r.done} done, ${r.failed} failed`);
    }
    const problemsSeen = await readProblems();
    if (problemsSeen.length) throw new Error(problemsSeen.join('; '));
    samples.push(await sample());
    const wall = marks.ended - marks['click:batch-start'];
    const ideal = idealMs(BATCH10K);
    const start = marks['click:batch-start'];
    return {
      ...BATCH10K,
      wall,
      ideal,
      ratio: wall / ideal,
      mainThreadMs,
      busyShare: mainThreadMs.task / wall,
      cpu,
      heap: growth(samples, 'heap'),
      wasm: growth(samples, 'wasm'),
      heapMax: Math.max(...samples.map((s) => s.heap)),
      wasmMax: Math.max(...samples.map((s) => s.wasm)),
      // Every sample, for results.json readers: ms since the click, items done, bytes.
      samples: samples.map((s) => ({ ms: Math.round(s.at - start), done: s.done, heap: s.heap, wasm: s.wasm })),
    };
  } finally {
    await context.close();
  }
}
