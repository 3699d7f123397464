// The Run page end to end: the loop runs in the page against the mock provider, steps appear
// live, are saved in IndexedDB, survive a reload, resume, cancel, and download as JSONL.
import { test, expect } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { MOCK, openApp, resetMock } from './helpers.mjs';

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

/** Points the app's OpenAI provider at the mock (with a dummy key) and seeds CONFIG. */
async function seed(page) {
  const providers = {
    providers: [{
      id: 'openai', label: 'OpenAI', kind: 'openai_compatible',
      base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true,
    }],
  };
  await page.addInitScript(([p, k, c]) => {
    localStorage.setItem('trialogue.providers.v1', p);
    localStorage.setItem('trialogue.keys.v1', k);
    localStorage.setItem('trialogue.config.v1', c);
  }, [JSON.stringify(providers), JSON.stringify({ openai: 'test-key' }), JSON.stringify(CONFIG)]);
}

async function script(request, rules) {
  const res = await request.post(`${MOCK}/__mock/script`, { data: { rules } });
  expect(res.ok(), await res.text()).toBeTruthy();
}

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
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('run-download-jsonl').click(),
  ]);
  const text = await readFile(await download.path(), 'utf8');
  return { name: download.suggestedFilename(), text, lines: text.split('\n').filter((l) => l !== '') };
}

/** Page errors and console errors, less Chromium's note that the CSP lists `http://[::1]:*`,
 *  which it cannot parse (a page-wide policy detail outside these pages; reported). */
function realProblems(problems) {
  return problems.filter((p) => !p.includes("contains an invalid source: 'http://[::1]:*'"));
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seed(page);
});

test('a debate run shows each step live, completes, and downloads the original JSONL shape', async ({ page, request }) => {
  // The verifier fails the first answer (slowly, so its running card can be seen) and passes
  // the second by default.
  await script(request, [{
    agent: 'verifier', times: 1, latency_ms: 800,
    reply: { passed: false, critique: 'The sum formula is misapplied in step 2.', confidence: 0.7, scores: [] },
  }]);
  const problems = await openApp(page, '/run');
  await startRun(page, 'Add the integers from 1 to 100. ANSWER=5050', '5050');

  // Live: while the verifier thinks, the solver's card is done and the verifier's is running.
  const running = page.locator('[data-testid="step"][data-status="running"]');
  await expect(running).toHaveAttribute('data-agent', 'verifier');
  await expect(page.getByTestId('run-status')).toHaveText('running');
  await expect(page.locator('[data-testid="step"][data-agent="solver"][data-status="ok"]')).toHaveCount(1);

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
  expect(Number(cost)).toBeGreaterThan(0);

  const runId = (await page.getByTestId('run-id').textContent()).trim();
  expect(runId).toMatch(/^run_\d{8}_\d{6}_[0-9a-f]{8}$/);
  const { name, lines } = await downloadJsonl(page);
  expect(name).toBe(`${runId}.jsonl`);
  expect(lines).toHaveLength(5);
  const steps = lines.map((l) => JSON.parse(l));
  const fields = ['timestamp', 'run_id', 'step_id', 'agent', 'action', 'input', 'output', 'metadata', 'reward', 'terminal', 'success'];
  for (const [i, s] of steps.entries()) {
    expect(Object.keys(s)).toEqual(fields);
    expect(s.run_id).toBe(runId);
    expect(s.step_id).toBe(i + 1);
    expect(s.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(s.metadata.model).toBe(MODEL);
    const t = s.metadata.tokens;
    expect(Number.isInteger(t.prompt_tokens) && t.prompt_tokens > 0).toBeTruthy();
    expect(t.total_tokens).toBe(t.prompt_tokens + t.completion_tokens);
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
  // Each step is priced at gpt-4.1-mini's rates in public/pricing.json ($0.40 / $1.60 per
  // million input / output tokens), and the run's cost is their sum.
  let total = 0;
  for (const s of steps) {
    const t = s.metadata.tokens;
    const expected = t.prompt_tokens * 0.4e-6 + t.completion_tokens * 1.6e-6;
    expect(s.metadata.cost_usd).toBeCloseTo(expected, 12);
    total += expected;
  }
  expect(Number(cost)).toBeCloseTo(total, 6);
  expect([steps[4].reward, steps[4].terminal, steps[4].success]).toEqual([1.0, true, true]);
  expect(realProblems(problems)).toEqual([]);
});

test('a reload mid-run leaves it interrupted with its saved steps, and Resume finishes it without repeats', async ({ page, request }) => {
  // The verifier's first request hangs long enough to reload the page under it.
  await script(request, [{ agent: 'verifier', times: 1, fault: 'slow:15000' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 6 times 7? ANSWER=42', '42');
  await expect(page.locator('[data-testid="step"][data-status="running"]')).toHaveAttribute('data-agent', 'verifier');
  const runId = (await page.getByTestId('run-id').textContent()).trim();

  await page.reload();
  await expect(page.getByTestId('nav-run')).toBeVisible();
  // The Run page names the run a closed page cut off.
  await expect(page.locator(`a[href="/runs/${runId}"]`)).toBeVisible();
  await page.goto(`/runs/${runId}`);
  await expect(page.getByTestId('run-status')).toHaveText('interrupted');
  expect(await transcript(page)).toEqual([['solver', '1', 'ok']]);

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
  const log = await (await request.get(`${MOCK}/__mock/requests`)).json();
  expect(log.requests.map((r) => r.agent)).toEqual(['solver', 'verifier', 'verifier', 'judge']);

  // After another reload the run stays completed.
  await page.reload();
  await expect(page.getByTestId('run-status')).toHaveText('completed');
});

test('Cancel aborts the call in flight at once and the run ends cancelled', async ({ page, request }) => {
  await script(request, [{ agent: 'verifier', times: 1, fault: 'slow:20000' }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 2 + 2? ANSWER=4');
  await expect(page.locator('[data-testid="step"][data-status="running"]')).toHaveAttribute('data-agent', 'verifier');
  const started = Date.now();
  await page.getByTestId('run-cancel').click();
  await expect(page.getByTestId('run-status')).toHaveText('cancelled', { timeout: 5_000 });
  expect(Date.now() - started).toBeLessThan(5_000);
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

test('a run budget too small for the next call stops the run as budget_exceeded', async ({ page }) => {
  await page.addInitScript((c) => localStorage.setItem('trialogue.config.v1', c),
    JSON.stringify({ ...CONFIG, run_budget_usd: 0.001 }));
  await openApp(page, '/run');
  await startRun(page, 'What is 5 + 5? ANSWER=10');
  await expect(page.getByTestId('run-status')).toHaveText('budget_exceeded', { timeout: 20_000 });
  await expect(page.getByTestId('step')).toHaveCount(0);
  await expect(page.getByTestId('error').first()).toContainText('run budget');
  await expect(page.getByTestId('run-cost')).toHaveText('unknown');
});

test('the run goes on while other pages are open, and its row follows it', async ({ page, request }) => {
  await script(request, [{ agent: 'verifier', times: 1, latency_ms: 2500 }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 9 - 3? ANSWER=6', '6');
  await expect(page.locator('[data-testid="step"][data-status="running"]')).toHaveAttribute('data-agent', 'verifier');
  const runId = (await page.getByTestId('run-id').textContent()).trim();
  await page.getByTestId('nav-runs').click();
  const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await expect(row.locator('[data-col="status"]')).toHaveText('running');
  await expect(row.locator('[data-col="status"]')).toHaveText('completed', { timeout: 20_000 });
  await page.getByTestId('nav-run').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  await expect(page.getByTestId('step')).toHaveCount(3);
  // The form kept what was typed.
  await expect(page.getByTestId('problem-input')).toHaveValue('What is 9 - 3? ANSWER=6');
});

test('a second tab leaves a run the first tab is driving running, and takes over only once that tab is gone', async ({ page, context, request }) => {
  await script(request, [{ agent: 'verifier', times: 1, latency_ms: 4000 }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 5 + 4? ANSWER=9', '9');
  await expect(page.locator('[data-testid="step"][data-status="running"]')).toHaveAttribute('data-agent', 'verifier');
  const runId = (await page.getByTestId('run-id').textContent()).trim();

  // A second tab loads the app (and its start-up check) while the first tab's call is out.
  const second = await context.newPage();
  await openApp(second, `/runs/${runId}`);
  await expect(second.getByTestId('run-status')).toHaveText('running');
  await expect(second.getByTestId('run-resume')).toHaveCount(0);

  // The first tab finishes the run undisturbed.
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  await second.reload();
  await expect(second.getByTestId('run-status')).toHaveText('completed');
  expect(await transcript(second)).toEqual([
    ['solver', '1', 'ok'], ['verifier', '1', 'ok'], ['judge', null, 'ok'],
  ]);

  // A run whose tab is closed mid-call is interrupted for the next tab that loads.
  await script(request, [{ agent: 'verifier', times: 1, fault: 'slow:15000' }]);
  await page.getByTestId('nav-run').click();
  await startRun(page, 'What is 8 + 1? ANSWER=9', '9');
  await expect(page.locator('[data-testid="step"][data-status="running"]')).toHaveAttribute('data-agent', 'verifier');
  const cutId = (await page.getByTestId('run-id').textContent()).trim();
  await page.close();
  await second.goto(`/runs/${cutId}`);
  await expect(second.getByTestId('run-status')).toHaveText('interrupted');
  await expect(second.getByTestId('run-resume')).toBeVisible();
});

test('a storage failure stops the run with a message that says what happened', async ({ page, request }) => {
  await script(request, [{ agent: 'verifier', times: 1, latency_ms: 1500 }]);
  await openApp(page, '/run');
  await startRun(page, 'What is 1 + 1? ANSWER=2');
  await expect(page.locator('[data-testid="step"][data-status="running"]')).toHaveAttribute('data-agent', 'verifier');
  // Another tab deleting the database closes this page's connection under the running loop.
  await page.evaluate(() => new Promise((resolve) => {
    const request = indexedDB.deleteDatabase('trialogue');
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  }));
  await expect(page.getByTestId('run-status')).toHaveText('failed', { timeout: 20_000 });
  await expect(page.getByTestId('error').filter({ hasText: 'storage failed: step 2 (verifier) could not be saved' })).toBeVisible();
  // No further call was made after the step that could not be saved.
  const log = await (await request.get(`${MOCK}/__mock/requests`)).json();
  expect(log.requests.map((r) => r.agent)).toEqual(['solver', 'verifier']);
  await expect(page.getByTestId('run-start')).toBeEnabled();
});

test('a provider error becomes an error step with a readable message, and the loop goes on', async ({ page, request }) => {
  await script(request, [{ agent: 'solver', times: 1, fault: '401' }]);
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
  const { lines } = await downloadJsonl(page);
  const first = JSON.parse(lines[0]);
  expect(first.output).toEqual({
    error_type: 'Auth',
    error_message: expect.stringContaining('(401)'),
  });
});

test('model text is shown as text, never as HTML', async ({ page, request }) => {
  const html = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
  await script(request, [{ agent: 'solver', reply: { solution: html, reasoning: 'r', confidence: 0.5 } }]);
  await openApp(page, '/run');
  await startRun(page, 'Say something.');
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 20_000 });
  const card = page.getByTestId('step').first();
  await expect(card).toContainText(html);
  await expect(card.locator('img, b')).toHaveCount(0);
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
});

test('the run page connects to the config\'s provider before the first call, once', async ({ page }) => {
  const problems = await openApp(page, '/run');
  const hint = page.locator(`head link[rel="preconnect"][href="${new URL(MOCK).origin}"]`);
  await expect(hint).toHaveCount(1);
  await expect(hint).toHaveAttribute('crossorigin', 'anonymous');
  // Leaving and coming back adds no second hint.
  await page.getByTestId('nav-runs').click();
  await page.getByTestId('nav-run').click();
  await expect(page.getByTestId('run-start')).toBeVisible();
  await expect(page.locator('head link[rel="preconnect"]')).toHaveCount(1);
  expect(realProblems(problems)).toEqual([]);
});

test('an invalid config points to Configure instead of starting', async ({ page }) => {
  await openApp(page, '/configure');
  await page.locator('[name="max_iterations"]').fill('99');
  await page.getByTestId('nav-run').click();
  await page.getByTestId('problem-input').fill('anything');
  await expect(page.getByTestId('error').first()).toContainText('Configure page');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('step')).toHaveCount(0);
  await page.locator('.run-config-problem a[href="/configure"]').click();
  await expect(page).toHaveURL(/\/configure$/);
});
