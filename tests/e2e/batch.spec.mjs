// The Batch page end to end: a 20-problem dataset imported from a JSONL file the test writes,
// run at concurrency 4 against the mock provider with injected faults (429s with Retry-After, a
// 500 once, a 500 on every call of one problem), a reload in the middle (the batch shows
// interrupted), a resume that runs exactly the unfinished problems, and the results and
// exports checked against numbers worked out here by hand.
import { test, expect } from './fixtures.mjs';
import {
  MOCK, download as downloadFile, failedCall, mockRequests, openApp, releaseMock, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';

// Two rounds at most, one attempt per request (so a 429 reaches the batch scheduler at once
// instead of being retried by the client).
const CONFIG = {
  config_version: 'e2e-batch',
  mode: 'debate',
  max_iterations: 2,
  max_attempts: 1,
  solver: {
    role: 'solver',
    model: MODEL,
    prompt_template: 'Solve this problem.\n{problem}\nCritique of the last attempt: {feedback}',
  },
  verifier: {
    role: 'verifier',
    model: MODEL,
    prompt_template: 'Check the solution.\nProblem: {problem}\nSolution: {solution}',
  },
  judge: {
    model: MODEL,
    prompt_template: 'Grade the solution.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when the final answer is right, else 0.0.',
  },
};

const tag = (i) => `[P${String(i).padStart(2, '0')}]`;
const truth = (i) => String(i * 7);

// Problems 1–15 and 20 carry their ground truth as the mock's ANSWER token; 16–19 carry a
// wrong one. Problem 20's solver always gets a 500, so it never answers: 5 wrong in all.
function datasetText() {
  const lines = [];
  for (let i = 1; i <= 20; i += 1) {
    const answer = i >= 16 && i <= 19 ? String(i * 7 + 1) : truth(i);
    lines.push(JSON.stringify({
      id: `q${String(i).padStart(2, '0')}`,
      problem: `${tag(i)} What is ${i} times 7? ANSWER=${answer}`,
      answer: truth(i),
      level: (i % 3) + 1,
      subject: i % 2 === 0 ? 'Arithmetic' : 'Algebra',
    }));
  }
  // One unreadable line: reported by its number, the other 20 rows kept.
  lines.push('{"problem": "cut off');
  return `${lines.join('\n')}\n`;
}


const script = scriptMock;

/** Downloads the export behind the button `testId`. */
function download(page, testId) {
  return downloadFile(page, () => page.getByTestId(testId).click());
}

/** The mock's record of the calls whose prompt holds problem `i`'s tag. */
async function callsOf(request, i) {
  return (await mockRequests(request)).filter((r) => JSON.stringify(r.body).includes(tag(i)));
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  // Seeded once: the reload in the middle must find the same browser state.
  await seedApp(page, { keys: { openai: 'sk-e2e-batch' }, config: CONFIG, once: true });
});

/** Imports the first `count` problems of the dataset and starts them at `concurrency`. */
async function startFirstProblems(page, count, concurrency) {
  const lines = datasetText().split('\n').slice(0, count).join('\n');
  await page.getByTestId('dataset-import').setInputFiles({
    name: `first-${count}.jsonl`, mimeType: 'application/x-ndjson', buffer: Buffer.from(lines),
  });
  await page.getByTestId('dataset-save').click();
  await page.getByTestId('batch-concurrency').fill(String(concurrency));
  await page.getByTestId('batch-start').click();
}

test('a 20-problem batch survives 429s, a 500 and a reload, resumes only what was left, retries what the provider failed, and exports every step', async ({ page, request, problems }) => {
  test.setTimeout(180_000);
  problems.allow(failedCall(429));
  problems.allow(failedCall(500));
  const rules = [];
  // Problems 2–4: the solver's first request is rate limited (Retry-After: 2 s).
  for (const i of [2, 3, 4]) rules.push({ match: tag(i), agent: 'solver', times: 1, fault: '429' });
  // Problem 5: the verifier's first request fails with a 500; round 2 passes.
  rules.push({ match: tag(5), agent: 'verifier', times: 1, fault: '500' });
  // Problems 6–9: the first verifier request is held until the reload has cut it off.
  for (const i of [6, 7, 8, 9]) rules.push({ match: tag(i), agent: 'verifier', times: 1, fault: 'hold:reload' });
  // Problem 20: every solver request fails.
  rules.push({ match: tag(20), agent: 'solver', fault: '500' });
  await script(request, rules);

  await openApp(page, '/batch');

  // Import: the mapping is detected, the bad line is reported by number, the rest is usable.
  await page.getByTestId('dataset-import').setInputFiles({
    name: 'e2e-twenty.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(datasetText()),
  });
  await expect(page.getByTestId('dataset-counts')).toHaveText('20 problems usable, 1 row left out.');
  await expect(page.getByTestId('dataset-issue')).toHaveAttribute('data-location', 'line 21');
  await expect(page.getByTestId('mapping-problem')).toHaveValue('problem');
  await expect(page.getByTestId('mapping-id')).toHaveValue('id');
  await expect(page.getByTestId('mapping-ground_truth')).toHaveValue('answer');
  await page.getByTestId('dataset-save').click();
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  await expect(page.getByTestId('dataset-row')).toContainText('e2e-twenty');

  // Facets filter (then are cleared again); all 20 are selected.
  await expect(page.getByTestId('batch-selected')).toHaveAttribute('data-count', '20');
  const algebra = page.locator('[data-testid="batch-facet"][data-key="subject"][data-value="Algebra"]');
  await algebra.check();
  await expect(page.getByTestId('batch-selected')).toHaveAttribute('data-count', '10');
  await algebra.uncheck();
  await expect(page.getByTestId('batch-selected')).toHaveAttribute('data-count', '20');
  // No run of this config yet: the forecast asks for a pilot.
  await expect(page.getByTestId('batch-forecast')).toContainText('pilot');

  // Concurrency is checked as typed.
  const concurrency = page.getByTestId('batch-concurrency');
  await concurrency.fill('257');
  await expect(page.getByTestId('error').filter({ hasText: 'from 1 to 256' })).toBeVisible();
  await expect(page.getByTestId('batch-start')).toBeDisabled();
  await concurrency.fill('4');
  await expect(page.getByTestId('batch-start')).toBeEnabled();
  await page.getByTestId('batch-start').click();

  const progress = page.getByTestId('batch-progress');
  await expect(page.getByTestId('batch-status')).toHaveText('running');
  await expect(progress).toHaveAttribute('data-total', '20');
  // Problems 1–5 finish; 6 onwards hang in their verifier. The 429s halved the concurrency.
  // A 429 or a 500 that outlasts the retries is the provider's failure, not an answer: the
  // runs of 2–5 stop there, failed with the reason, and nothing is written for the call.
  await expect(progress).toHaveAttribute('data-done', '1', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('data-failed', '4');
  await expect(page.getByTestId('batch-rate-limited')).toHaveText('rate limited \u2014 running 2 of 4');
  const batchId = (await page.getByTestId('batch-id').textContent()).trim();
  expect(batchId).toMatch(/^batch_\d{8}_\d{6}_[0-9a-f]{8}$/);
  // With 2 at a time, problems 6 and 7 are the ones in flight: wait until both hang in their
  // verifier (their solver step saved), so the reload cuts them off there.
  await expect.poll(async () => (await mockRequests(request)).filter((r) => r.fault === 'hold:reload').length).toBe(2);

  // Reload in the middle: the batch is interrupted, with what it finished kept.
  await page.reload();
  await expect(page.getByTestId('nav-batch')).toBeVisible();
  await expect(page.getByTestId('batch-id')).toHaveText(batchId);
  await expect(page.getByTestId('batch-status')).toHaveText('interrupted');
  await expect(page.getByTestId('error').filter({ hasText: 'cut off' })).toBeVisible();
  await expect(progress).toHaveAttribute('data-total', '20');
  expect(Number(await progress.getAttribute('data-done'))).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('batch-cancel')).toBeDisabled();
  // The reload closed the connections of the two calls it cut off; 8 and 9 meet an open gate.
  await expect.poll(async () => (await mockRequests(request))
    .filter((r) => r.fault === 'hold:reload').map((r) => r.status)).toEqual(['aborted', 'aborted']);
  await releaseMock(request, 'reload');

  await page.getByTestId('batch-resume').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 90_000 });
  // The provider failed 2–5 and 20 (every solver request of 20 fails): failed, with the
  // provider's error as the reason; no answer of theirs counts in the accuracy (11 of 15).
  await expect(progress).toHaveAttribute('data-done', '15');
  await expect(progress).toHaveAttribute('data-failed', '5');
  await expect(page.getByTestId('batch-resume')).toHaveCount(0);
  expect(Number(await page.getByTestId('batch-accuracy').textContent())).toBeCloseTo(11 / 15, 4);
  const failedRow = page.locator('[data-testid="batch-item"][data-problem-id="q05"]');
  await expect(failedRow).toHaveAttribute('data-status', 'failed');
  await expect(failedRow.locator('td[title*="had a server error (500)"]')).toHaveCount(1);

  // Retrying the failed items resumes their runs where the provider stopped them: the same
  // request goes out again, and 2–5 finish; 20 fails again.
  await page.getByTestId('batch-retry-failed').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 90_000 });
  await expect(progress).toHaveAttribute('data-done', '19');
  await expect(progress).toHaveAttribute('data-failed', '1');
  await expect(progress).toHaveAttribute('data-total', '20');

  // 15 of the 19 answers right; the failed run has no answer to check.
  await expect(page.getByTestId('batch-accuracy')).toHaveText(/^\d\.\d+$/);
  expect(Number(await page.getByTestId('batch-accuracy').textContent())).toBeCloseTo(15 / 19, 4); // shown with four decimals
  // The judge scored the 4 wrong answers 0.8 (and the verifier passed 16–19): worth a look.
  await expect(page.getByTestId('batch-disagreement')).toHaveCount(4);

  // Each item with its run: steps per problem, worked out from the faults. A call the
  // provider failed is no step: 1–19: solver, verifier, judge = 3; 20: none (its first call
  // fails every time). In all 19 × 3 = 57.
  const items = page.getByTestId('batch-item');
  await expect(items).toHaveCount(20);
  const rows = await items.evaluateAll((trs) => trs.map((tr) => ({
    problem: tr.dataset.problemId, status: tr.dataset.status, steps: Number(tr.dataset.steps),
    correct: tr.dataset.correct, run: tr.querySelector('a')?.textContent.trim(),
  })));
  expect(rows.map((r) => r.status)).toEqual(Array.from({ length: 20 }, (_, k) => (k === 19 ? 'failed' : 'done')));
  const expectedSteps = (i) => (i === 20 ? 0 : 3);
  expect(rows.map((r) => r.steps)).toEqual(Array.from({ length: 20 }, (_, k) => expectedSteps(k + 1)));
  expect(rows.filter((r) => r.correct === 'yes').map((r) => r.problem))
    .toEqual(Array.from({ length: 15 }, (_, k) => `q${String(k + 1).padStart(2, '0')}`));
  const stepSum = rows.reduce((sum, r) => sum + r.steps, 0);
  expect(stepSum).toBe(57);

  // The JSONL export has one line per step of the batch's runs, each run's steps once, in order.
  const jsonl = await download(page, 'batch-export-jsonl');
  expect(jsonl.name).toBe(`${batchId}.jsonl`);
  const lines = jsonl.text.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(stepSum);
  const entries = lines.map((l) => JSON.parse(l));
  const runIds = rows.map((r) => r.run);
  expect(new Set(runIds).size).toBe(20);
  expect(rows[19].run).toBeTruthy();
  for (const [k, id] of runIds.entries()) {
    const steps = entries.filter((e) => e.run_id === id).map((e) => e.step_id);
    expect(steps).toEqual(Array.from({ length: rows[k].steps }, (_, n) => n + 1));
  }

  // The per-problem summaries.
  const csv = await download(page, 'batch-export-csv');
  expect(csv.name).toBe(`${batchId}-problems.csv`);
  const csvLines = csv.text.split('\r\n');
  expect(csvLines[0]).toBe('problem_id,mode,run_id,status,ground_truth,final_answer,correct,judge_score,verifier_passed,iterations,circular,right_to_wrong,wrong_to_right,cost_usd,cost_complete,domain,level,subject');
  expect(csvLines.filter((l) => l !== '')).toHaveLength(21);
  const json = JSON.parse((await download(page, 'batch-export-json')).text);
  expect(json).toHaveLength(20);
  expect(json.filter((r) => r.correct === true)).toHaveLength(15);
  expect(json.find((r) => r.problem_id === 'q16')).toMatchObject({ ground_truth: '112', final_answer: '113', correct: false });

  // Every step of every run was priced at gpt-4.1-mini's rates in LiteLLM 1.110.2's table
  // ($0.40 / $1.60 per million input / output tokens) for the tokens the mock counted, and a
  // run's cost is the sum of its steps'. The problems no fault touched (1 and 6–19) called
  // only the priced model and got a reply every time: their runs must be fully priced.
  const stepsOf = (runId) => entries.filter((e) => e.run_id === runId);
  for (const row of json) {
    const steps = stepsOf(row.run_id);
    const known = steps.filter((e) => e.metadata.cost_usd !== null && e.metadata.cost_usd !== undefined);
    for (const e of known) {
      const t = e.metadata.tokens;
      expect(e.metadata.cost_usd).toBeCloseTo(t.prompt_tokens * 0.4e-6 + t.completion_tokens * 1.6e-6, 12);
    }
    expect(row.cost_complete, `${row.problem_id}: cost_complete`).toBe(known.length === steps.length);
    if (row.cost_complete) {
      expect(row.cost_usd).toBeCloseTo(known.reduce((sum, e) => sum + e.metadata.cost_usd, 0), 12);
    }
  }
  const faultless = ['q01', ...Array.from({ length: 14 }, (_, k) => `q${String(k + 6).padStart(2, '0')}`)];
  for (const id of faultless) {
    expect(json.find((r) => r.problem_id === id), id).toMatchObject({ status: 'completed', cost_complete: true });
  }

  // The forecast for the same 20 problems now rests on these runs: the median and the
  // nearest-rank 90th percentile of the fully priced runs' costs, times 20.
  const priced = json.filter((r) => r.status === 'completed' && r.cost_complete)
    .map((r) => r.cost_usd).sort((a, b) => a - b);
  expect(priced.length).toBeGreaterThanOrEqual(faultless.length);
  const n = priced.length;
  const median = n % 2 === 1 ? priced[(n - 1) / 2] : (priced[n / 2 - 1] + priced[n / 2]) / 2;
  const p90 = priced[Math.ceil((9 * n) / 10) - 1];
  const usd = (v) => `$${v.toFixed(6)}`;
  const forecast = page.getByTestId('batch-forecast');
  await expect(forecast).toContainText(`${usd(median * 20)} (median), ${usd(p90 * 20)} (90th percentile)`);
  await expect(forecast).toContainText(`based on ${n} earlier run`);

  // The resume ran exactly the unfinished work: no problem was solved twice, and problems 6
  // and 7, cut off at their verifier, went on from their saved solver step (their verifier
  // was asked again; 8 and 9 had not started and met their slow verifier after the resume).
  // Each of 2–4 has its solver's 429 (one attempt per call) and then, retried, the same
  // request answered; 5 its verifier's 500 and the same request answered; 20 one failed
  // solver request per session.
  const log = await mockRequests(request);
  const calls = (i, agent) => log.filter((r) => r.agent === agent && JSON.stringify(r.body).includes(tag(i)));
  for (let i = 1; i <= 20; i += 1) {
    const solver = [2, 3, 4, 20].includes(i) ? 2 : 1;
    const verifier = i === 20 ? 0 : [5, 6, 7].includes(i) ? 2 : 1;
    const judge = i === 20 ? 0 : 1;
    expect([i, calls(i, 'solver').length, calls(i, 'verifier').length, calls(i, 'judge').length]).toEqual([i, solver, verifier, judge]);
  }
  for (const i of [2, 3, 4]) {
    const [limited, again] = calls(i, 'solver');
    expect([limited.status, again.status]).toEqual([429, 200]);
    expect(again.body).toEqual(limited.body);
  }
  const [failedVerifier, answeredVerifier] = calls(5, 'verifier');
  expect([failedVerifier.status, answeredVerifier.status]).toEqual([500, 200]);
  expect(answeredVerifier.body).toEqual(failedVerifier.body);

  // Every run is tagged with the batch and listed on the Runs page.
  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId('run-row')).toHaveCount(20);
});

test('a bad dataset file is refused with a clear error and nothing is stored', async ({ page }) => {
  await openApp(page, '/batch');
  await page.getByTestId('dataset-import').setInputFiles({
    name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"problems": [1, 2'),
  });
  await expect(page.getByTestId('error').first()).toContainText('broken.json');
  await expect(page.getByTestId('error').first()).toContainText('line 1');
  await expect(page.getByTestId('dataset-save')).toHaveCount(0);
  await expect(page.getByTestId('dataset-row')).toHaveCount(0);
});

test('pause holds back new problems, cancel stops the ones in flight, and resume finishes the rest', async ({ page, request }) => {
  test.setTimeout(120_000);
  await script(request, [
    // Problems 1 and 2 are held in their verifier until the batch has been paused under them.
    { match: tag(1), agent: 'verifier', times: 1, fault: 'hold:paused' },
    { match: tag(2), agent: 'verifier', times: 1, fault: 'hold:paused' },
    // Problem 3's verifier is held until it is cancelled.
    { match: tag(3), agent: 'verifier', times: 1, fault: 'hold:never' },
  ]);
  await openApp(page, '/batch');
  await startFirstProblems(page, 6, 2);
  const progress = page.getByTestId('batch-progress');
  await expect(progress).toHaveAttribute('data-running', '2');
  await page.getByTestId('batch-pause').click();
  await expect(page.getByTestId('batch-status')).toHaveText('paused');
  await expect.poll(async () => (await mockRequests(request)).filter((r) => r.fault === 'hold:paused').length).toBe(2);
  await releaseMock(request, 'paused');

  // The two in flight finish, and nothing new starts: an unpaused batch starts the next
  // problem as each of these frees its place, so it would show one running when the second is
  // done. Paused, both are done with none running, and problem 3 was never asked.
  const state = async () => [await progress.getAttribute('data-done'), await progress.getAttribute('data-running')];
  await expect.poll(state, { timeout: 15_000 }).toEqual(['2', '0']);
  await expect(page.getByTestId('batch-status')).toHaveText('paused');
  expect(await callsOf(request, 3)).toHaveLength(0);

  await page.getByTestId('batch-continue').click();
  await expect(page.getByTestId('batch-status')).toHaveText('running');
  // Cancel while problem 3 waits for its verifier: the call is aborted, not left to finish.
  await expect.poll(async () => (await callsOf(request, 3)).filter((r) => r.agent === 'verifier').length).toBe(1);
  await page.getByTestId('batch-cancel').click();
  await expect(page.getByTestId('batch-status')).toHaveText('cancelled');
  await expect.poll(async () => (await callsOf(request, 3)).map((r) => [r.agent, r.status]))
    .toEqual([['solver', 200], ['verifier', 'aborted']]);
  expect(Number(await progress.getAttribute('data-done'))).toBeLessThan(6);

  await page.getByTestId('batch-resume').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('data-done', '6');
  expect(Number(await page.getByTestId('batch-accuracy').textContent())).toBe(1);
  // Problem 3 went on from its saved solver step: one solver call in all.
  expect((await callsOf(request, 3)).filter((r) => r.agent === 'solver')).toHaveLength(1);
});

test('a second tab leaves a batch the first tab is driving, and its runs, running', async ({ page, context, request }) => {
  test.setTimeout(90_000);
  await script(request, [
    { match: tag(1), agent: 'verifier', times: 1, fault: 'hold:first-tab' },
    { match: tag(2), agent: 'verifier', times: 1, fault: 'hold:first-tab' },
  ]);
  await openApp(page, '/batch');
  await startFirstProblems(page, 3, 2);
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-running', '2');

  // The second tab's start-up finds the batch and its two runs stored as running, and leaves
  // them be: the first tab holds their lock.
  const second = await context.newPage();
  await openApp(second, '/batch');
  await expect(second.getByTestId('batch-status')).toHaveText('running');
  await second.goto('/runs');
  await expect(second.locator('[data-testid="run-row"] [data-col="status"]')).toHaveText(['running', 'running']);

  await releaseMock(request, 'first-tab');
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', '3');
  await second.reload();
  await expect(second.locator('[data-testid="run-row"] [data-col="status"]')).toHaveText(['completed', 'completed', 'completed']);
});

test('a second tab resumes a batch the first tab drives only once that tab has stopped it', async ({ page, context, request }) => {
  test.setTimeout(90_000);
  await script(request, [{ match: tag(1), agent: 'verifier', times: 1, fault: 'hold:never' }]);
  await openApp(page, '/batch');
  await startFirstProblems(page, 2, 1);
  await expect.poll(async () => (await callsOf(request, 1)).map((r) => r.agent)).toEqual(['solver', 'verifier']);
  const batchId = (await page.getByTestId('batch-id').textContent()).trim();

  const second = await context.newPage();
  await openApp(second, '/batch');
  await expect(second.getByTestId('batch-id')).toHaveText(batchId);
  await expect(second.getByTestId('batch-status')).toHaveText('running');
  await expect(second.getByTestId('batch-resume')).toHaveCount(0);

  // The first tab stops it: problem 1's call is aborted, and the batch is cancelled.
  await page.getByTestId('batch-cancel').click();
  await expect(page.getByTestId('batch-status')).toHaveText('cancelled');
  await expect.poll(async () => (await callsOf(request, 1)).map((r) => [r.agent, r.status]))
    .toEqual([['solver', 200], ['verifier', 'aborted']]);

  // Now the second tab finds it stopped and may resume it: both problems finish there, problem
  // 1 from its saved solver step.
  await second.reload();
  await expect(second.getByTestId('batch-status')).toHaveText('cancelled');
  await second.getByTestId('batch-resume').click();
  await expect(second.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(second.getByTestId('batch-progress')).toHaveAttribute('data-done', '2');
  expect((await callsOf(request, 1)).map((r) => [r.agent, r.status]))
    .toEqual([['solver', 200], ['verifier', 'aborted'], ['verifier', 200], ['judge', 200]]);
  expect((await callsOf(request, 2)).map((r) => r.agent)).toEqual(['solver', 'verifier', 'judge']);
});

/**
 * Starts 3 problems, 2 at a time, under a batch budget far below one call's worst case: the
 * batch pauses before any call.
 */
async function startPausedByBudget(page) {
  await page.addInitScript((c) => {
    localStorage.setItem('trialogue.config.v1', c);
  }, JSON.stringify({ ...CONFIG, batch_budget_usd: 0.0001 }));
  await openApp(page, '/batch');
  await startFirstProblems(page, 3, 2);
  await expect(page.getByTestId('batch-status')).toHaveText('paused');
}

test('a batch stopped by its budget pauses, and resumes under a budget raised on Configure', async ({ page }) => {
  test.setTimeout(120_000);
  await startPausedByBudget(page);

  await expect(page.getByTestId('batch-budget')).toContainText('$0.000100');
  await expect(page.getByTestId('error').filter({ hasText: 'batch budget of $0.0001' })).toBeVisible();
  const progress = page.getByTestId('batch-progress');
  await expect(progress).toHaveAttribute('data-running', '0');
  await expect(progress).toHaveAttribute('data-done', '0');
  await page.getByTestId('batch-cancel').click();
  await expect(page.getByTestId('batch-status')).toHaveText('cancelled');
  await expect(page.locator('.batch-budget-note')).toContainText('larger batch_budget_usd on the Configure page');

  // Raise the budget on Configure, come back, resume: the batch finishes under the new cap.
  await page.getByTestId('nav-configure').click();
  await page.locator('[name="batch_budget_usd"]').fill('5');
  await page.getByTestId('nav-batch').click();
  await page.getByTestId('batch-resume').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('data-done', '3');
  // The runs kept the batch's config: one hash, the one in the batch id.
  const batchId = (await page.getByTestId('batch-id').textContent()).trim();
  const hash = batchId.split('_').pop();
  const runs = await page.getByTestId('batch-item').evaluateAll((trs) => trs.map((tr) => tr.querySelector('a').textContent.trim()));
  expect(runs).toHaveLength(3);
  for (const run of runs) expect(run).toMatch(new RegExp(`^run_\\d{8}_\\d{6}_${hash}(_\\d+)?$`));
});

test('a batch paused by its budget goes on under a budget raised beside Continue, and keeps it', async ({ page }) => {
  test.setTimeout(120_000);
  await startPausedByBudget(page);
  const progress = page.getByTestId('batch-progress');
  await expect(progress).toHaveAttribute('data-running', '0');

  // Less than the budget now: refused with a message, and the batch stays paused.
  const raise = page.getByTestId('batch-budget-raise');
  await raise.fill('-1');
  await page.getByTestId('batch-continue').click();
  await expect(page.getByTestId('error').filter({ hasText: 'can only be raised' })).toBeVisible();
  await expect(page.getByTestId('batch-status')).toHaveText('paused');

  // Continue with $5: the batch finishes, under that budget.
  await raise.fill('5');
  await page.getByTestId('batch-continue').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('data-done', '3');
  await expect(page.locator('.batch-budget-note')).toHaveCount(0);

  // The stored batch keeps the raise; its config keeps the budget it was made with.
  await page.reload();
  await expect(page.getByTestId('batch-status')).toHaveText('completed');
  const stored = await page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('trialogue');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise((resolve, reject) => {
      const req = db.transaction('batches').objectStore('batches').getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    db.close();
    return rows.map((row) => JSON.parse(row.json ?? JSON.stringify(row)));
  });
  expect(stored).toHaveLength(1);
  expect(stored[0].raised_budget_usd).toBe(5);
  expect(stored[0].config.batch_budget_usd).toBe(0.0001);
});

test('above 6 at a time, the start panel says calls to a plain-http server queue in the browser', async ({ page }) => {
  await openApp(page, '/batch');
  const six = datasetText().split('\n').slice(0, 6).join('\n');
  await page.getByTestId('dataset-import').setInputFiles({
    name: 'six.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(six),
  });
  await page.getByTestId('dataset-save').click();
  const concurrency = page.getByTestId('batch-concurrency');
  const hint = page.getByTestId('batch-http1-hint');
  // The seeded provider is the mock, on plain http: above six, the hint says so.
  await concurrency.fill('7');
  await expect(hint).toBeVisible();
  await expect(hint).toContainText('at most 6 connections');
  await expect(hint).toContainText(`openai (${MOCK}/openai/v1)`);
  // A hint, not an error: nothing is blocked.
  await expect(page.getByTestId('batch-start')).toBeEnabled();
  await expect(page.getByTestId('error')).toHaveCount(0);
  // Six fit in the browser's connections: the hint goes away, and so for fewer.
  await concurrency.fill('6');
  await expect(hint).toHaveCount(0);
  await expect(page.getByTestId('batch-start')).toBeEnabled();
  await concurrency.fill('7');
  await expect(hint).toBeVisible();
  await concurrency.fill('2');
  await expect(hint).toHaveCount(0);
  // The start panel has the browser connect to the config's provider before Start.
  const preconnect = page.locator(`head link[rel="preconnect"][href="${new URL(MOCK).origin}"]`);
  await expect(preconnect).toHaveCount(1);
  await expect(preconnect).toHaveAttribute('crossorigin', 'anonymous');
});
