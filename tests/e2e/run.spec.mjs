// The Run page end to end: the loop runs in the page against the mock provider, steps appear
// live, are saved in IndexedDB, survive a reload, resume, cancel, and download as JSONL.
import { test, expect } from './fixtures.mjs';
import {
  MOCK, download, failedCall, mockRequests, openApp, releaseMock, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';

// A config whose three agents call the mock's OpenAI-compatible endpoint (seeded the way the
// app stores it; the JSON reader fills the original's defaults).
const CONFIG = {
  config_version: 'e2e-run',
  mode: 'debate',
  max_iterations: 3,
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


/** Fills the form and starts a run. */
async function startRun(page, problem, truth = '') {
  await page.getByTestId('problem-input').fill(problem);
  await page.getByTestId('ground-truth-input').fill(truth);
  await page.getByTestId('run-start').click();
}

/** The transcript as [agent, iteration, status] triples. */
async function transcript(page) {
  return page.getByTestId('step').evaluateAll((cards) =>
    cards.map((c) => [c.dataset.agent, c.dataset.iteration ?? null, c.dataset.status]));
}

/** Downloads the current run's JSONL and parses it. */
async function downloadJsonl(page) {
  const { name, text } = await download(page, () => page.getByTestId('run-download-jsonl').click());
  return { name, text, lines: text.split('\n').filter((l) => l !== '') };
}

/** The mock's record of the calls so far: [agent, status] pairs. */
async function calls(request) {
  return (await mockRequests(request)).map((r) => [r.agent, r.status]);
}

/** Waits until the page shows the verifier's call in flight. */
async function verifierRunning(page) {
  await expect(page.locator('[data-testid="step"][data-status="running"]')).toHaveAttribute('data-agent', 'verifier');
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  // The app's OpenAI provider points at the mock.
  await seedApp(page, { keys: { openai: 'sk-e2e-run' }, config: CONFIG });
});

test('a debate run shows each step live, completes, and downloads the original JSONL shape', async ({ page, request }) => {
  // The verifier fails the first answer (held until the running card has been seen) and passes
  // the second by default.
  await scriptMock(request, [{
    agent: 'verifier', times: 1, fault: 'hold:first-verdict',
    reply: { passed: false, critique: 'The sum formula is misapplied in step 2.', confidence: 0.7, scores: [] },
  }]);
  await openApp(page, '/run');
  await startRun(page, 'Add the integers from 1 to 100. ANSWER=5050', '5050');

  // Live: while the verifier thinks, the solver's card is done and the verifier's is running.
  await verifierRunning(page);
  await expect(page.getByTestId('run-status')).toHaveText('running');
  await expect(page.locator('[data-testid="step"][data-agent="solver"][data-status="ok"]')).toHaveCount(1);
  await releaseMock(request, 'first-verdict');

  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  expect(await transcript(page)).toEqual([
    ['solver', '1', 'ok'],
    ['verifier', '1', 'ok'],
    ['solver', '2', 'ok'],
    ['verifier', '2', 'ok'],
    ['judge', null, 'ok'],
  ]);
  await expect(page.getByTestId('step-verdict')).toHaveText(['not passed', 'passed']);
  // The critique reached the solver's second round and is shown as text.
  await expect(page.getByTestId('step').nth(1)).toContainText('The sum formula is misapplied in step 2.');
  await expect(page.getByTestId('run-correct')).toHaveText('yes');
  const cost = (await page.getByTestId('run-cost').textContent()).trim();
  expect(cost, 'a plain number').toMatch(/^\d+\.\d{6,}$/);

  const runId = (await page.getByTestId('run-id').textContent()).trim();
  expect(runId).toMatch(/^run_\d{8}_\d{6}_[0-9a-f]{8}$/);
  const { name, lines } = await downloadJsonl(page);
  expect(name).toBe(`${runId}.jsonl`);
  expect(lines).toHaveLength(5);
  const steps = lines.map((l) => JSON.parse(l));
  const fields = ['timestamp', 'run_id', 'step_id', 'agent', 'action', 'input', 'output', 'metadata', 'reward', 'terminal', 'success'];
  // The mock's own count of the tokens of each call, in the order they were made.
  const served = (await mockRequests(request)).map((r) => r.usage);
  expect(served).toHaveLength(5);
  for (const [i, s] of steps.entries()) {
    expect(Object.keys(s)).toEqual(fields);
    expect(s.run_id).toBe(runId);
    expect(s.step_id).toBe(i + 1);
    expect(s.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(s.metadata.model).toBe(MODEL);
    expect(s.metadata.tokens).toEqual({
      prompt_tokens: served[i].prompt_tokens,
      completion_tokens: served[i].completion_tokens,
      total_tokens: served[i].prompt_tokens + served[i].completion_tokens,
    });
  }
  expect(steps.map((s) => [s.agent, s.action, s.metadata.iteration ?? null])).toEqual([
    ['solver', 'generate', 1], ['verifier', 'validate', 1], ['solver', 'generate', 2],
    ['verifier', 'validate', 2], ['judge', 'score', null],
  ]);
  expect(Object.keys(steps[0].input).sort()).toEqual(['feedback', 'problem']);
  expect(steps[0].input.feedback).toBe('');
  expect(steps[2].input.feedback).toBe('The sum formula is misapplied in step 2.');
  expect(Object.keys(steps[1].input).sort()).toEqual(['problem', 'solution']);
  expect(steps[0].output.solution).toBe('The answer is \\boxed{5050}.');
  expect(steps[1].output.passed).toBe(false);
  expect(steps[3].output.passed).toBe(true);
  expect(typeof steps[4].output.score).toBe('number');
  expect(steps.slice(0, 4).map((s) => [s.reward, s.terminal, s.success])).toEqual(Array(4).fill([null, false, null]));
  // Each step is priced at gpt-4.1-mini's rates in LiteLLM 1.110.2's table ($0.40 / $1.60 per
  // million input / output tokens), and the run's cost is their sum.
  let total = 0;
  for (const s of steps) {
    const t = s.metadata.tokens;
    const expected = t.prompt_tokens * 0.4e-6 + t.completion_tokens * 1.6e-6;
    expect(s.metadata.cost_usd).toBeCloseTo(expected, 12);
    total += expected;
  }
  expect(total).toBeGreaterThan(0);
  expect(Number(cost)).toBeCloseTo(total, 6);
  expect([steps[4].reward, steps[4].terminal, steps[4].success]).toEqual([1.0, true, true]);
});

test('a reload mid-run leaves it interrupted with its saved steps, and Resume finishes it without repeats', async ({ page, request }) => {
  // The verifier's first request is held until the reload cuts it off.
  await scriptMock(request, [{ agent: 'verifier', times: 1, fault: 'hold:cut-off' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 6 times 7? ANSWER=42', '42');
  await verifierRunning(page);
  const runId = (await page.getByTestId('run-id').textContent()).trim();

  await page.reload();
  await expect(page.getByTestId('nav-run')).toBeVisible();
  // The Run page names the run a closed page cut off.
  await expect(page.locator(`a[href="/runs/${runId}"]`)).toBeVisible();
  await page.goto(`/runs/${runId}`);
  await expect(page.getByTestId('run-status')).toHaveText('interrupted');
  expect(await transcript(page)).toEqual([['solver', '1', 'ok']]);
  // The reload closed the connection of the call it cut off.
  await expect.poll(() => calls(request)).toEqual([['solver', 200], ['verifier', 'aborted']]);

  await page.getByTestId('run-resume').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  expect(await transcript(page)).toEqual([
    ['solver', '1', 'ok'], ['verifier', '1', 'ok'], ['judge', null, 'ok'],
  ]);
  await expect(page.getByTestId('run-resume')).toHaveCount(0);

  const { lines } = await downloadJsonl(page);
  const steps = lines.map((l) => JSON.parse(l));
  expect(steps.map((s) => s.step_id)).toEqual([1, 2, 3]);
  expect(steps.map((s) => s.agent)).toEqual(['solver', 'verifier', 'judge']);
  expect(steps[2]).toMatchObject({ terminal: true, reward: 1.0, success: true });

  // Only one solver request was ever made: the resume did not repeat the saved step.
  expect(await calls(request)).toEqual([['solver', 200], ['verifier', 'aborted'], ['verifier', 200], ['judge', 200]]);

  // After another reload the run stays completed.
  await page.reload();
  await expect(page.getByTestId('run-status')).toHaveText('completed');
});

test('Cancel aborts the call in flight and the run ends cancelled', async ({ page, request }) => {
  await scriptMock(request, [{ agent: 'verifier', times: 1, fault: 'hold:never' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 2 + 2? ANSWER=4');
  await verifierRunning(page);
  await page.getByTestId('run-cancel').click();
  await expect(page.getByTestId('run-status')).toHaveText('cancelled');
  // The call was aborted, not left to finish: the mock saw the connection closed under it
  // (its reply was never going to come: the gate is never opened).
  await expect.poll(() => calls(request)).toEqual([['solver', 200], ['verifier', 'aborted']]);
  expect(await transcript(page)).toEqual([['solver', '1', 'ok'], ['verifier', '1', 'stopped']]);
  await expect(page.getByTestId('run-cancel')).toBeDisabled();
  await expect(page.getByTestId('run-start')).toBeEnabled();
  // The saved step stays downloadable, and the run can be resumed.
  const { lines } = await downloadJsonl(page);
  expect(lines.map((l) => JSON.parse(l).agent)).toEqual(['solver']);
  await expect(page.getByTestId('run-resume')).toBeVisible();

  // Resume from the Runs table: it opens the run, which goes on from step 2.
  const runId = (await page.getByTestId('run-id').textContent()).trim();
  await page.getByTestId('nav-runs').click();
  const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await expect(row.locator('[data-col="status"]')).toHaveText('cancelled');
  await row.getByTestId('run-resume').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  expect(await transcript(page)).toEqual([['solver', '1', 'ok'], ['verifier', '1', 'ok'], ['judge', null, 'ok']]);
});

test('a run budget too small for the next call stops the run as budget_exceeded', async ({ page, request }) => {
  await page.addInitScript((c) => localStorage.setItem('trialogue.config.v1', c),
    JSON.stringify({ ...CONFIG, run_budget_usd: 0.001 }));
  await openApp(page, '/run');
  await startRun(page, 'What is 5 + 5? ANSWER=10');
  await expect(page.getByTestId('run-status')).toHaveText('budget_exceeded', { timeout: 20_000 });
  await expect(page.getByTestId('step')).toHaveCount(0);
  await expect(page.getByTestId('error').first()).toContainText('run budget');
  await expect(page.getByTestId('run-cost')).toHaveText('unknown');
  // Stopped before the first call, not after it.
  expect(await mockRequests(request)).toEqual([]);
});

test('the run goes on while other pages are open, and its row follows it', async ({ page, request }) => {
  await scriptMock(request, [{ agent: 'verifier', times: 1, fault: 'hold:elsewhere' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 9 - 3? ANSWER=6', '6');
  await verifierRunning(page);
  const runId = (await page.getByTestId('run-id').textContent()).trim();
  await page.getByTestId('nav-runs').click();
  const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await expect(row.locator('[data-col="status"]')).toHaveText('running');
  await releaseMock(request, 'elsewhere');
  await expect(row.locator('[data-col="status"]')).toHaveText('completed', { timeout: 20_000 });
  await page.getByTestId('nav-run').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  await expect(page.getByTestId('step')).toHaveCount(3);
  // The form kept what was typed.
  await expect(page.getByTestId('problem-input')).toHaveValue('What is 9 - 3? ANSWER=6');
});

/**
 * Starts a run in `page` whose verifier call the mock holds at `gate`, then opens it in a second
 * tab, which loads the app (and its start-up check) while the first tab's call is out: the
 * second tab shows it running and offers no Resume. Returns the second tab.
 */
async function watchFromSecondTab(page, context, request, gate, problem, truth) {
  await scriptMock(request, [{ agent: 'verifier', times: 1, fault: `hold:${gate}` }]);
  await openApp(page, '/run');
  await startRun(page, problem, truth);
  await verifierRunning(page);
  const runId = (await page.getByTestId('run-id').textContent()).trim();
  const second = await context.newPage();
  await openApp(second, `/runs/${runId}`);
  await expect(second.getByTestId('run-status')).toHaveText('running');
  await expect(second.getByTestId('run-resume')).toHaveCount(0);
  return second;
}

test('a second tab leaves a run the first tab is driving running, and takes over only once that tab is gone', async ({ page, context, request }) => {
  const second = await watchFromSecondTab(page, context, request, 'first-tab', 'What is 5 + 4? ANSWER=9', '9');

  // The first tab finishes the run undisturbed.
  await releaseMock(request, 'first-tab');
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  await second.reload();
  await expect(second.getByTestId('run-status')).toHaveText('completed');
  expect(await transcript(second)).toEqual([
    ['solver', '1', 'ok'], ['verifier', '1', 'ok'], ['judge', null, 'ok'],
  ]);

  // A run whose tab is closed mid-call is interrupted for the next tab that loads.
  await scriptMock(request, [{ agent: 'verifier', times: 1, fault: 'hold:closed-tab' }]);
  await page.getByTestId('nav-run').click();
  await startRun(page, 'What is 8 + 1? ANSWER=9', '9');
  await verifierRunning(page);
  const cutId = (await page.getByTestId('run-id').textContent()).trim();
  await page.close();
  await second.goto(`/runs/${cutId}`);
  await expect(second.getByTestId('run-status')).toHaveText('interrupted');
  await expect(second.getByTestId('run-resume')).toBeVisible();
});

test('a second tab resumes a run the first tab drives only once that tab has stopped it', async ({ page, context, request }) => {
  const second = await watchFromSecondTab(page, context, request, 'never', 'What is 7 + 7? ANSWER=14', '14');

  // The first tab stops it: its call is aborted and the run is cancelled there.
  await page.getByTestId('run-cancel').click();
  await expect(page.getByTestId('run-status')).toHaveText('cancelled');
  await expect.poll(() => calls(request)).toEqual([['solver', 200], ['verifier', 'aborted']]);

  // Now the second tab finds it stopped, may resume it, and goes on from the saved solver step.
  await second.reload();
  await expect(second.getByTestId('run-status')).toHaveText('cancelled');
  await second.getByTestId('run-resume').click();
  await expect(second.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  expect(await transcript(second)).toEqual([['solver', '1', 'ok'], ['verifier', '1', 'ok'], ['judge', null, 'ok']]);
  expect(await calls(request)).toEqual([['solver', 200], ['verifier', 'aborted'], ['verifier', 200], ['judge', 200]]);
});

test('a storage failure stops the run with a message that says what happened', async ({ page, request }) => {
  await scriptMock(request, [{ agent: 'verifier', times: 1, fault: 'hold:storage' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 1 + 1? ANSWER=2');
  await verifierRunning(page);
  // Another tab deleting the database closes this page's connection under the running loop.
  await page.evaluate(() => new Promise((resolve) => {
    const request = indexedDB.deleteDatabase('trialogue');
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  }));
  await releaseMock(request, 'storage');
  await expect(page.getByTestId('run-status')).toHaveText('failed', { timeout: 20_000 });
  await expect(page.getByTestId('error').filter({ hasText: 'storage failed: step 2 (verifier) could not be saved' })).toBeVisible();
  // No further call was made after the step that could not be saved.
  expect(await calls(request)).toEqual([['solver', 200], ['verifier', 200]]);
  await expect(page.getByTestId('run-start')).toBeEnabled();
});

test('a rejected API key (a setup error, not an outage) becomes an error step with a readable message, and the loop goes on', async ({ page, request, problems }) => {
  problems.allow(failedCall(401));
  await scriptMock(request, [{ agent: 'solver', times: 1, fault: '401' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 3 + 4? ANSWER=7', '7');
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  // A failed solver step leaves no solution, so the verifier is skipped that round (as in the
  // original); the second round recovers.
  expect(await transcript(page)).toEqual([
    ['solver', '1', 'error'], ['solver', '2', 'ok'], ['verifier', '2', 'ok'], ['judge', null, 'ok'],
  ]);
  const error = page.getByTestId('step').first().getByTestId('error');
  await expect(error).toContainText('rejected the API key (401)');
  await expect(error).toContainText('check the key in Settings');
  // One request for the rejected call: a 401 is not retried.
  expect(await calls(request)).toEqual([['solver', 401], ['solver', 200], ['verifier', 200], ['judge', 200]]);
  const { lines } = await downloadJsonl(page);
  const first = JSON.parse(lines[0]);
  expect(first.output).toEqual({
    error_type: 'Auth',
    error_message: expect.stringContaining('(401)'),
  });
});

test('a provider outage that outlasts the retries stops the run with the provider named, and Resume sends the call again', async ({ page, request, problems }) => {
  problems.allow(failedCall(503));
  // Two attempts per call; both of the verifier's first call get a 503.
  await page.addInitScript((c) => localStorage.setItem('trialogue.config.v1', c),
    JSON.stringify({ ...CONFIG, max_attempts: 2 }));
  await scriptMock(request, [{ agent: 'verifier', times: 2, fault: '503' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 6 + 6? ANSWER=12', '12');
  await expect(page.getByTestId('run-status')).toHaveText('failed', { timeout: 30_000 });
  // The outage is no answer of the verifier's: its card shows the call stopped, no step is
  // stored for it, and the judge is not called.
  expect(await transcript(page)).toEqual([['solver', '1', 'ok'], ['verifier', '1', 'stopped']]);
  const error = page.getByTestId('error').filter({ hasText: 'failed on the provider\'s side after 2 requests' });
  await expect(error).toContainText(/OpenAI (had a server error|is overloaded) \(503\)/);
  await expect(error).toContainText('can be resumed');
  expect(await calls(request)).toEqual([['solver', 200], ['verifier', 503], ['verifier', 503]]);
  const { lines } = await downloadJsonl(page);
  expect(lines.map((l) => JSON.parse(l).agent)).toEqual(['solver']);

  // The provider is back: Resume asks the verifier the same question, and the run completes.
  await page.getByTestId('run-resume').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
  expect(await transcript(page)).toEqual([['solver', '1', 'ok'], ['verifier', '1', 'ok'], ['judge', null, 'ok']]);
  const log = await mockRequests(request);
  expect(log.map((r) => [r.agent, r.status])).toEqual([['solver', 200], ['verifier', 503], ['verifier', 503], ['verifier', 200], ['judge', 200]]);
  expect(log[3].body).toEqual(log[1].body);
});

test('a server error is retried after a backoff, and the step goes on as if nothing happened', async ({ page, request, problems }) => {
  problems.allow(failedCall(500));
  // Two attempts per call; the solver's first request gets a 500.
  await page.addInitScript((c) => localStorage.setItem('trialogue.config.v1', c),
    JSON.stringify({ ...CONFIG, max_attempts: 2 }));
  await scriptMock(request, [{ agent: 'solver', times: 1, fault: '500' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 4 + 4? ANSWER=8', '8');
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
  expect(await transcript(page)).toEqual([['solver', '1', 'ok'], ['verifier', '1', 'ok'], ['judge', null, 'ok']]);
  // The mock's record: the same request again, two seconds or more later (the shortest
  // backoff), and answered.
  const log = await mockRequests(request);
  expect(log.map((r) => [r.agent, r.status])).toEqual([['solver', 500], ['solver', 200], ['verifier', 200], ['judge', 200]]);
  expect(log[1].body).toEqual(log[0].body);
  expect(Date.parse(log[1].time) - Date.parse(log[0].time)).toBeGreaterThanOrEqual(2_000);
});

test('model text is shown as text, never as HTML', async ({ page, request }) => {
  const html = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
  await scriptMock(request, [{ agent: 'solver', reply: { solution: html, reasoning: 'r', confidence: 0.5 } }]);
  await openApp(page, '/run');
  await startRun(page, 'Say something.');
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  const card = page.getByTestId('step').first();
  await expect(card).toContainText(html);
  await expect(card.locator('img, b')).toHaveCount(0);
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
});

test('the run page connects to the config\'s provider before the first call, once', async ({ page }) => {
  await openApp(page, '/run');
  const hint = page.locator(`head link[rel="preconnect"][href="${new URL(MOCK).origin}"]`);
  await expect(hint).toHaveCount(1);
  await expect(hint).toHaveAttribute('crossorigin', 'anonymous');
  // Leaving and coming back adds no second hint.
  await page.getByTestId('nav-runs').click();
  await page.getByTestId('nav-run').click();
  await expect(page.getByTestId('run-start')).toBeVisible();
  await expect(page.locator('head link[rel="preconnect"]')).toHaveCount(1);
});

test('an invalid config points to Configure instead of starting', async ({ page, request }) => {
  await openApp(page, '/configure');
  await page.locator('[name="max_iterations"]').fill('99');
  await page.getByTestId('nav-run').click();
  await page.getByTestId('problem-input').fill('anything');
  await expect(page.getByTestId('error').first()).toContainText('Configure page');
  await page.getByTestId('run-start').click();
  // The click was handled: it said why it did not start.
  await expect(page.getByTestId('error').filter({ hasText: 'the configuration has 1 problem; fix it on the Configure page first' })).toBeVisible();
  await expect(page.getByTestId('step')).toHaveCount(0);
  expect(await mockRequests(request)).toEqual([]);
  await page.locator('.run-config-problem a[href="/configure"]').click();
  await expect(page).toHaveURL(/\/configure$/);
});
