// Every run tells the truth (issue 16): a run whose solver never produces an answer is failed,
// says why it stopped, shows no judge score for a failed judge call, and is not sent the same
// failing request again and again; its exported last line carries the run's facts; a keyboard
// start leaves the focus on the run's status.
import { test, expect } from './fixtures.mjs';
import { readFile } from 'node:fs/promises';
import { MOCK, openApp, resetMock } from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';

// Three agents on the mock's OpenAI-compatible endpoint, at temperature 0 as the SmolLM2
// preset runs them, with room for five rounds.
const CONFIG = {
  config_version: 'e2e-truth',
  mode: 'debate',
  max_iterations: 5,
  max_attempts: 1,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve this problem.\n{problem}\nCritique: {feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Check.\nProblem: {problem}\nSolution: {solution}' },
  judge: {
    model: MODEL,
    prompt_template: 'Grade the solution.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when the final answer is right, else 0.0.',
  },
};

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

async function transcript(page) {
  return page.getByTestId('step').evaluateAll((cards) =>
    cards.map((c) => [c.dataset.agent, c.dataset.iteration ?? null, c.dataset.status]));
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seed(page);
});

test('a run whose solver never answers is failed, stops after the same failure twice and scores nothing', async ({ page, request }) => {
  // The SmolLM2 story: every solver reply breaks the schema (re-asks included), and the
  // judge's reply is cut off at max_tokens.
  await script(request, [
    { agent: 'solver', fault: 'schema' },
    { agent: 'judge', fault: 'truncated' },
  ]);
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill('What is 20 + 22?');
  await page.getByTestId('ground-truth-input').fill('42');
  await page.getByTestId('run-start').click();

  await expect(page.getByTestId('run-status')).toHaveText('failed', { timeout: 30_000 });
  // Two solver rounds (the second the same request, failing the same way), then the judge.
  expect(await transcript(page)).toEqual([
    ['solver', '1', 'error'], ['solver', '2', 'error'], ['judge', null, 'error'],
  ]);
  const solverRequests = (await (await request.get(`${MOCK}/__mock/requests`)).json()).requests
    .filter((r) => JSON.stringify(r).includes('Solve this problem.'));
  // Two rounds, each the first request and the default two re-asks; a third round would add
  // three more.
  expect(solverRequests.length).toBe(2 * (1 + 2));

  // Its judge step is saved: the run is over, so there is nothing to resume.
  await expect(page.getByTestId('run-resume')).toHaveCount(0);
  await expect(page.getByTestId('run-stop-reason')).toHaveAttribute('data-stop-reason', 'error');
  await expect(page.getByTestId('run-errors')).toHaveAttribute('data-errors', '3');
  await expect(page.getByTestId('run-correct')).toHaveText('–');
  await expect(page.locator('.run-summary')).toContainText('no answer was produced');
  await expect(page.locator('.run-summary')).toContainText('failed the same way twice');
  const judgeScore = page.locator('.run-summary dt', { hasText: 'Judge score' }).locator('xpath=following-sibling::dd');
  await expect(judgeScore).toHaveText('–');

  // The exported last line says what happened; the failed judge step carries no reward.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('run-download-jsonl').click(),
  ]);
  const lines = (await readFile(await download.path(), 'utf8')).split('\n').filter((l) => l);
  const last = JSON.parse(lines[lines.length - 1]);
  expect(last.terminal).toBe(true);
  expect(last.reward).toBeNull();
  expect(last.success).toBeNull();
  expect(last.metadata.status).toBe('failed');
  expect(last.metadata.stop_reason).toBe('error');
  expect(last.metadata.ground_truth).toBe('42');
  expect(last.metadata.config.config_version).toBe('e2e-truth');

  // The Runs table says it too.
  await page.getByTestId('nav-runs').click();
  const row = page.getByTestId('run-row').first();
  await expect(row.getByTestId('run-row-stop-reason')).toHaveText(/error/);
  await expect(row.getByTestId('run-row-errors')).toHaveAttribute('data-errors', '3');
});

test('a keyboard start leaves the focus on the run status', async ({ page }) => {
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill('What is 2 + 2? ANSWER=4');
  // The button is disabled until the run store is open, and a disabled button takes no focus:
  // Enter would then go to the problem box and start nothing.
  await expect(page.getByTestId('run-start')).toBeEnabled();
  await page.getByTestId('run-start').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });
  const onStatus = await page.evaluate(() =>
    document.activeElement?.querySelector('[data-testid="run-status"]') !== null
      && document.activeElement !== document.body);
  expect(onStatus).toBeTruthy();

  // What was sent and what came back, folded under each step.
  const first = page.getByTestId('step').first();
  await first.getByTestId('step-sent').locator('summary').click();
  await expect(first.getByTestId('step-sent-user')).toHaveText(
    'Solve this problem.\nWhat is 2 + 2? ANSWER=4\nCritique: ');
  await expect(first.getByTestId('step-sent-reply')).toContainText('"solution"');
});

test('the sent panel shows the raw text of each reply that failed validation', async ({ page, request }) => {
  // The solver's first reply breaks the schema; its re-ask is answered well.
  await script(request, [{ agent: 'solver', fault: 'schema', times: 1 }]);
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill('What is 2 + 2? ANSWER=4');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed', { timeout: 30_000 });

  const solver = page.getByTestId('step').first();
  await solver.getByTestId('step-sent').locator('summary').click();
  const attempts = solver.getByTestId('step-sent-attempt');
  await expect(attempts).toHaveCount(2);
  await expect(attempts.nth(0)).toContainText('#1 · first request · failed:');
  await expect(attempts.nth(0).getByTestId('step-sent-attempt-reply'))
    .toHaveText('{"reasoning": "I skipped the solution field.", "confidence": 7}');
  // The accepted reply is the step's output, shown once above.
  await expect(attempts.nth(1)).toContainText('#2 · re-asked');
  await expect(attempts.nth(1).getByTestId('step-sent-attempt-reply')).toHaveCount(0);

  // Kept with the step: the run's page shows it after a reload too.
  const id = (await page.getByTestId('run-id').textContent()).trim();
  await page.goto(`/runs/${id}`);
  const stored = page.getByTestId('step').first();
  await stored.getByTestId('step-sent').locator('summary').click();
  await expect(stored.getByTestId('step-sent-attempt-reply')).toHaveText(/I skipped the solution field/);
});
