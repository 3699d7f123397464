// 2. Loop overhead: the time the app itself spends per debate step, with a mock that answers at
// once (--latency-ms 0 --keep-alive).
//
// For one run: wall = run-start click → run-status shows the end; service = the sum of the
// durations (startTime → responseEnd, Resource Timing) of the run's requests to the mock, i.e.
// everything from the request leaving the page to its last byte arriving, preflights included;
// app time per step = (wall − service) / steps. It covers building each request, parsing and
// validating the reply, saving the step to IndexedDB and drawing the transcript.
import {
  APP, MOCK_FAST, RUN_ENDED, cpuUsed, fillTestId, machineCpu, mainThread, median, minus, mockConfig, mockControl,
  mockProviders, quantile, quietFreshBrowser, seedStorage, waitForTestId, waitMark, watch,
} from './lib.mjs';
import { PROFILING, startCpuProfile } from './cpu_profile.mjs';

/** Verifier rounds that fail before one passes: 3 rounds, solver/verifier ×3 + judge = 7 steps. */
const FAILED_ROUNDS = 2;
const STEPS_PER_RUN = 2 * (FAILED_ROUNDS + 1) + 1;

/**
 * Runs one debate on /run against `mockUrl` and returns its timings. The page must already
 * hold a config and providers (see seedStorage).
 */
export async function timedRun(page, mockUrl, problem, truth, timeout = 60_000) {
  // In-page form filling and clicks (lib.mjs), so a Playwright page and a quiet one both serve.
  // Runs follow each other in one page, as a user's do: no reload between them (a reload
  // would make every run pay for loading the app's caches, such as the price table, again).
  if (new URL(page.url()).pathname !== '/run') await page.goto(`${APP}/run`);
  await fillTestId(page, 'problem-input', problem);
  await fillTestId(page, 'ground-truth-input', truth);
  const before = await page.evaluate(() => document.querySelector('[data-testid="run-id"]')?.textContent.trim() ?? '');
  await watch(page, {
    name: 'ended',
    all: [
      { selector: '[data-testid="run-status"]', textIn: RUN_ENDED },
      { selector: '[data-testid="run-id"]', textNot: before },
    ],
  });
  await page.evaluate(() => {
    performance.setResourceTimingBufferSize(10_000);
    performance.clearResourceTimings();
  });
  await page.evaluate(() => { delete window.__bench.marks['click:run-start']; });
  await waitForTestId(page, 'run-start');
  const cpuBefore = machineCpu();
  // Clicked from inside the page: the app handles it as a user's click, while Playwright's
  // own click (actionability checks, input events sent over CDP) would keep the browser
  // process busy in the very milliseconds the run starts, and count as the app's time.
  await page.evaluate(() => document.querySelector('[data-testid="run-start"]').click());
  const marks = await waitMark(page, 'ended', timeout);
  const cpu = cpuUsed(cpuBefore, machineCpu());
  const run = await page.evaluate(({ mock, start, end }) => {
    const requests = performance.getEntriesByType('resource')
      .filter((e) => e.name.startsWith(mock) && e.startTime >= start && e.startTime <= end)
      .map((e) => ({ start: e.startTime - start, end: e.responseEnd - start, duration: e.responseEnd - e.startTime }));
    return {
      status: document.querySelector('[data-testid="run-status"]').textContent.trim(),
      runId: document.querySelector('[data-testid="run-id"]')?.textContent.trim(),
      steps: document.querySelectorAll('[data-testid="step"]').length,
      wall: end - start,
      requests,
    };
  }, { mock: mockUrl, start: marks['click:run-start'], end: marks.ended });
  // The machine's CPU from just before the click to the end seen here: the run, plus the
  // click's own checks and the wait's one round trip.
  return { ...run, cpu };
}

/**
 * One warm-up run, then `runs` measured debate runs of STEPS_PER_RUN steps each. `streaming`:
 * null for the provider's default (streamed replies), false for whole replies (how every call
 * went before replies streamed, so the figure the older rows of RESULTS.md compare with).
 */
export async function loopOverhead(runs = 10, { streaming = null } = {}) {
  // Driven over a bare CDP pipe: see quietFreshBrowser.
  const { context, page, readProblems } = await quietFreshBrowser('loop');
  try {
    await seedStorage(context, {
      providers: mockProviders(MOCK_FAST, { streaming }), keys: { openai: 'bench-key' }, config: mockConfig('bench-loop', 3),
    });
    await page.goto(`${APP}/run`);
    const busy = await mainThread(context, page);
    const perRun = [];
    const gaps = [];
    const firstGaps = [];
    const lastGaps = [];
    let stopProfile = null;
    for (let i = 0; i <= runs; i += 1) {
      // After the warm-up: the measured runs only.
      if (PROFILING && i === 1) stopProfile = await startCpuProfile(context, page, 'loop');
      await mockControl(MOCK_FAST, 'reset');
      await mockControl(MOCK_FAST, 'script', {
        rules: [{
          agent: 'verifier', times: FAILED_ROUNDS,
          reply: { passed: false, critique: 'Step 2 does not follow from step 1.', confidence: 0.7, scores: {} },
        }],
      });
      const before = await busy();
      const r = await timedRun(page, MOCK_FAST, `Benchmark problem ${i}: add 19 and 23. ANSWER=42`, '42');
      const { cpu } = r;
      // Includes filling the form between the readings: a few ms per run, an upper bound.
      const used = minus(await busy(), before);
      if (r.status !== 'completed') throw new Error(`run ${i} ended ${r.status}`);
      if (r.steps !== STEPS_PER_RUN || r.requests.length !== STEPS_PER_RUN) {
        throw new Error(`run ${i}: ${r.steps} steps and ${r.requests.length} requests, expected ${STEPS_PER_RUN} of each`);
      }
      if (i === 0) continue; // warm-up: first compile of every code path, first preflights
      const service = r.requests.reduce((s, q) => s + q.duration, 0);
      perRun.push({
        wall: r.wall, service, perStep: (r.wall - service) / r.steps, mainThreadPerStep: used.task / r.steps,
        // The whole machine's CPU per step over the run (browser, mock, this process): with
        // few cores, what the run waits for.
        cpuPerStep: cpu.busyMs / r.steps, cores: cpu.cores,
      });
      // Between consecutive requests: what the app did after one reply and before the next call.
      const sorted = [...r.requests].sort((a, b) => a.start - b.start);
      for (let k = 1; k < sorted.length; k += 1) gaps.push(sorted[k].start - sorted[k - 1].end);
      firstGaps.push(sorted[0].start);
      lastGaps.push(r.wall - sorted.at(-1).end);
    }
    if (stopProfile) process.stderr.write(await stopProfile());
    const problems = await readProblems();
    if (problems.length) throw new Error(problems.join('; '));
    const perStep = perRun.map((r) => r.perStep);
    return {
      runs: perRun,
      stepsPerRun: STEPS_PER_RUN,
      median: median(perStep),
      p95: quantile(perStep, 0.95),
      gapMedian: median(gaps),
      gapP95: quantile(gaps, 0.95),
      // Click → first request (the run is created and stored); last reply → the end shown.
      firstGapMedian: median(firstGaps),
      lastGapMedian: median(lastGaps),
      mainThreadMedianPerStep: median(perRun.map((r) => r.mainThreadPerStep)),
      serviceMedianPerStep: median(perRun.map((r) => r.service / STEPS_PER_RUN)),
      cpuMedianPerStep: median(perRun.map((r) => r.cpuPerStep)),
      cores: perRun[0]?.cores,
      streamed: streaming !== false,
    };
  } finally {
    await context.close();
  }
}
