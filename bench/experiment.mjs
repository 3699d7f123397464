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
  APP, MOCK_FAST, MOCK_SLOW, checkTestId, clickTestId, fillTestId, freshBrowser, mainThread, median, minus, mockConfig,
  mockControl, mockProviders, quietFreshBrowser, seedStorage, setFileTestId, waitForTestId, waitInPage, waitMark, watch,
} from './lib.mjs';
import { timedRun } from './loop.mjs';
import { PROFILING, startCpuProfile } from './cpu_profile.mjs';

export const EXPERIMENT = { problems: 200, configs: 3, concurrency: 16, latencyMs: 100 };

const RUBRICS = ['1.0 when the final answer is right, else 0.0.', 'Score 1 for a right final answer.', 'Right answer: 1; otherwise 0.'];

/** `n` addition problems as JSONL, ids and tags starting with `tag`. */
function dataset(tag, n) {
  const lines = [];
  for (let i = 1; i <= n; i += 1) {
    lines.push(JSON.stringify({ id: `${tag.toLowerCase()}${String(i).padStart(4, '0')}`, problem: `[${tag}${i}] What is ${i} + ${i}? ANSWER=${2 * i}`, answer: String(2 * i) }));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Follows the mock's request log from its reset: the log keeps only its last 1,000 entries, so
 * it is read every 250 ms (from Node, not the page) and every entry kept here; a gap in the ids
 * (entries dropped between two reads) fails the benchmark rather than undercount. `done()` reads
 * the rest and gives the model calls, the distinct request bodies among them, and the calls per
 * agent.
 */
function followMockLog(mockUrl) {
  const calls = [];
  let last = 0;
  let failure = null;
  const read = async () => {
    const res = await fetch(`${mockUrl}/__mock/requests?since=${last}`);
    if (!res.ok) throw new Error(`mock requests answered ${res.status}`);
    const { requests } = await res.json();
    for (const r of requests) {
      if (r.id !== last + 1) throw new Error(`the mock's log dropped requests ${last + 1}–${r.id - 1} between two reads`);
      last = r.id;
      if (r.method === 'POST' && r.agent !== null) calls.push(r);
    }
  };
  let reading = Promise.resolve();
  const timer = setInterval(() => {
    reading = reading.then(read).catch((e) => { failure ??= e; });
  }, 250);
  return async () => {
    clearInterval(timer);
    await reading;
    await read();
    if (failure) throw failure;
    const byAgent = {};
    for (const r of calls) byAgent[r.agent] = (byAgent[r.agent] ?? 0) + 1;
    return { calls: calls.length, distinct: new Set(calls.map((r) => JSON.stringify(r.body))).size, byAgent };
  };
}

/** How many requests the mock served since its reset (its own counter, not its bounded log). */
async function mockServed(mockUrl) {
  const res = await fetch(`${mockUrl}/__mock/health`);
  if (!res.ok) throw new Error(`mock health answered ${res.status}`);
  return (await res.json()).served;
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
      name: 'bench-exp.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(dataset('E', EXPERIMENT.problems)),
    });
    await page.getByTestId('dataset-save').click();
    await page.locator(`[data-testid="batch-selected"][data-count="${EXPERIMENT.problems}"]`).waitFor();
    await page.getByTestId('nav-experiments').click();
    await page.getByTestId('experiment-dataset').selectOption({ label: 'bench-exp' });
    await page.getByTestId('experiment-vary-field').selectOption('judge.scoring_rubric');
    await page.getByTestId('experiment-vary-values').fill(RUBRICS.join('\n'));
    await page.getByTestId('experiment-concurrency').fill(String(EXPERIMENT.concurrency));
    await watch(page, { name: 'ended', selector: '[data-testid="experiment-status"]', textIn: ['completed', 'failed', 'cancelled', 'interrupted', 'budget_exceeded'] });
    const mockLog = followMockLog(MOCK_SLOW);
    await page.getByTestId('experiment-start').click();
    const marks = await waitMark(page, 'ended', 600_000);
    const status = (await page.getByTestId('experiment-status').textContent()).trim();
    if (status !== 'completed') throw new Error(`the experiment ended ${status}`);
    const rows = page.getByTestId('experiment-row');
    // The matrix is read again from the store after the end; wait until every row counts
    // every run.
    await page.waitForFunction(([configs, n]) => {
      const els = [...document.querySelectorAll('[data-testid="experiment-row"]')];
      return els.length === configs && els.every((el) => Number(el.dataset.runs) === n);
    }, [EXPERIMENT.configs, EXPERIMENT.problems], { timeout: 60_000 });
    const matrix = await rows.evaluateAll((els) => els.map((el) => ({
      runs: Number(el.dataset.runs), paid: Number(el.dataset.paidCalls), reused: Number(el.dataset.reusedCalls),
    })));
    const mock = await mockLog();
    const served = await mockServed(MOCK_SLOW);
    if (problems.length) throw new Error(problems.join('; '));
    const { problems: n, configs } = EXPERIMENT;
    return {
      ...EXPERIMENT,
      wall: marks.ended - marks['click:experiment-start'],
      // Solver and verifier once per problem, a judge per config and problem.
      expectedDistinct: n * (2 + configs),
      withoutSharing: n * 3 * configs,
      mockCalls: mock.calls,
      // Every request the mock served, by its own counter (model calls, and preflights or
      // model lists if any): a check on the log's count.
      mockServed: served,
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

const BATCH_ENDED = ['completed', 'failed', 'cancelled', 'interrupted', 'budget_exceeded'];

/**
 * A 1,000-run batch again from stored replies: 1,000 problems on /batch (debate, the verifier
 * passes at once: 3 calls a run, concurrency 16) run once against the mock at 0 ms, then the
 * same batch started again, every request of which the reply store answers (default policy,
 * temperature 0). Of the second: wall (`batch-start` click → `batch-status` shows the end), the
 * main thread's busy time (CDP `TaskDuration`), its longest task and the time in tasks over
 * 50 ms (Long Tasks API), and the calls the mock served meanwhile (must be none).
 */
export async function batchFromStoredReplies(problems = 1000) {
  const { context, page, readProblems } = await quietFreshBrowser('stored-replies');
  try {
    await mockControl(MOCK_FAST, 'reset');
    await seedStorage(context, {
      providers: mockProviders(MOCK_FAST), keys: { openai: 'bench-key' }, config: mockConfig('bench-stored-replies', 3),
    });
    await page.goto(`${APP}/batch`);
    await setFileTestId(page, 'dataset-import', { name: 'bench-replay.jsonl', mimeType: 'application/x-ndjson', text: dataset('R', problems) });
    await clickTestId(page, 'dataset-save');
    await waitInPage(page, `${problems} problems selected`, (n) => document.querySelector(
      `[data-testid="batch-selected"][data-count="${n}"]`) !== null, problems);
    await checkTestId(page, 'batch-mode-debate');
    await fillTestId(page, 'batch-concurrency', '16');
    const ended = (what) => waitInPage(page, what, (states) => {
      const el = document.querySelector('[data-testid="batch-status"]');
      return el !== null && states.includes(el.textContent.trim());
    }, BATCH_ENDED, 600_000);
    const running = () => waitInPage(page, 'the batch running', () => document.querySelector('[data-testid="batch-status"]')?.textContent.trim() === 'running', null, 60_000);
    // First pass: paid.
    await clickTestId(page, 'batch-start');
    await running();
    await ended('the paid batch ended');
    const paid = await mockServed(MOCK_FAST);
    // Second pass: answered from the store.
    const busy = await mainThread(context, page);
    await page.evaluate(() => { delete window.__bench.marks['click:batch-start']; });
    await clickTestId(page, 'batch-start');
    await running();
    await watch(page, { name: 'again', selector: '[data-testid="batch-status"]', textIn: BATCH_ENDED });
    const before = await busy();
    const stopProfile = PROFILING ? await startCpuProfile(context, page, 'stored-replies') : null;
    const marks = await waitMark(page, 'again', 600_000);
    if (stopProfile) process.stderr.write(await stopProfile());
    const mainThreadMs = minus(await busy(), before);
    const r = await page.evaluate(([start, end]) => {
      const progress = document.querySelector('[data-testid="batch-progress"]');
      const tasks = window.__bench.longTasks.filter(([t]) => t >= start && t <= end);
      return {
        status: document.querySelector('[data-testid="batch-status"]').textContent.trim(),
        done: Number(progress?.dataset.done),
        longestTaskMs: tasks.reduce((m, [, d]) => Math.max(m, d), 0),
        longTaskMs: tasks.reduce((s, [, d]) => s + d, 0),
        longTasks: tasks.length,
      };
    }, [marks['click:batch-start'], marks.again]);
    const after = await mockServed(MOCK_FAST);
    if (r.status !== 'completed' || r.done !== problems) throw new Error(`the second batch ended ${r.status} with ${r.done} done`);
    const found = await readProblems();
    if (found.length) throw new Error(found.join('; '));
    return {
      problems,
      paidCalls: paid,
      callsWhileAgain: after - paid,
      // The busy reading starts just after the click: the click's own handling is in the wall.
      wall: marks.again - marks['click:batch-start'],
      mainThreadMs,
      ...r,
    };
  } finally {
    await context.close();
  }
}
