// A full debate against a real model: SmolLM2-135M served by llama-cpp-python (scripts/local-llm),
// through the app's default `local` provider. The model is tiny and often wrong: this checks the
// machinery (structured output, real usage, persistence, JSONL), not the answer.
import { readFile } from 'node:fs/promises';
import { test, expect } from './fixtures.mjs';
import { openApp } from './helpers.mjs';

// Set by playwright.config.mjs to where it started the model server.
const MODEL_URL = process.env.TRIALOGUE_MODEL_URL;

test('a debate against the real local model completes with valid outputs and real usage', async ({ page }) => {
  test.setTimeout(600_000);
  await openApp(page, '/settings');
  await page.locator('[name="providers.local.base_url"]').fill(MODEL_URL);

  await page.getByTestId('nav-configure').click();
  await expect(page.locator('[name="solver.model"]')).toHaveValue('local/smollm2-135m'); // the default config
  await page.locator('[name="max_iterations"]').fill('2');

  await page.getByTestId('nav-run').click();
  await page.getByTestId('problem-input').fill('What is 2 + 3?');
  await page.getByTestId('ground-truth-input').fill('5');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveText(/completed|failed/, { timeout: 540_000 });
  await expect(page.getByTestId('run-status')).toHaveText('completed');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('run-download-jsonl').click(),
  ]);
  const lines = (await readFile(await download.path(), 'utf8')).trimEnd().split('\n');
  const steps = lines.map((line) => JSON.parse(line));
  await expect(page.getByTestId('step')).toHaveCount(steps.length);

  expect(steps.length).toBeGreaterThanOrEqual(3); // solver, verifier, judge at least
  steps.forEach((s, i) => expect(s.step_id).toBe(i + 1));
  const last = steps.at(-1);
  expect(last.agent).toBe('judge');
  expect(last.terminal).toBe(true);
  expect([0, 1]).toContain(last.reward);

  for (const s of steps) {
    expect(s.output.error_type, `step ${s.step_id} failed: ${s.output.error_message}`).toBeUndefined();
    const t = s.metadata.tokens;
    expect(t.prompt_tokens).toBeGreaterThan(0);
    expect(t.completion_tokens).toBeGreaterThan(0);
    expect(t.total_tokens).toBe(t.prompt_tokens + t.completion_tokens);
    expect(s.metadata.model).toBe('local/smollm2-135m');
    expect(s.metadata.cost_usd).toBe(0); // local models are free by an explicit rule
    if (s.agent === 'solver') {
      expect(typeof s.output.solution).toBe('string');
      expect(s.output.solution.length).toBeGreaterThan(0);
      expect(s.output.confidence).toBeGreaterThanOrEqual(0);
      expect(s.output.confidence).toBeLessThanOrEqual(1);
    } else if (s.agent === 'verifier') {
      expect(typeof s.output.passed).toBe('boolean');
      expect(typeof s.output.critique).toBe('string');
    } else {
      expect(s.output.score).toBeGreaterThanOrEqual(0);
      expect(s.output.score).toBeLessThanOrEqual(1);
      expect(Array.isArray(s.output.strengths)).toBe(true);
    }
  }
});
