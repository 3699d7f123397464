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

// The same model with streaming turned on explicitly (the built-in local provider does not stream
// by default): llama-cpp-python streams the structured reply as SSE. Its streamed chunks may carry
// no usage; a step without it must say its tokens are unknown, never count them as 0.
test('a streamed debate against the real local model stores sane steps', async ({ page }) => {
  test.setTimeout(600_000);
  await openApp(page, '/settings');
  await page.locator('[name="providers.local.base_url"]').fill(MODEL_URL);
  await page.locator('[name="providers.local.streaming"]').selectOption('on');

  await page.getByTestId('nav-configure').click();
  await expect(page.locator('[name="solver.model"]')).toHaveValue('local/smollm2-135m');
  await page.locator('[name="max_iterations"]').fill('1');

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
  const steps = (await readFile(await download.path(), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
  expect(steps.length).toBeGreaterThanOrEqual(3);
  const cards = page.getByTestId('step');
  for (const [i, s] of steps.entries()) {
    expect(s.output.error_type, `step ${s.step_id} failed: ${s.output.error_message}`).toBeUndefined();
    expect(s.metadata.streamed, `step ${s.step_id} streamed`).toBe(true);
    expect(s.metadata.ttft_ms).toBeGreaterThanOrEqual(0);
    await expect(cards.nth(i)).toHaveAttribute('data-streamed', 'true');
    await expect(cards.nth(i)).toHaveAttribute('data-ttft-ms', /^\d+$/);
    const t = s.metadata.tokens;
    if (s.metadata.usage_complete === false) {
      // No usage came: unknown, and no made-up count beside it.
      expect(t?.completion_tokens ?? 0, `step ${s.step_id}`).toBe(0);
    } else {
      expect(t.prompt_tokens).toBeGreaterThan(0);
      expect(t.completion_tokens).toBeGreaterThan(0);
      expect(t.total_tokens).toBe(t.prompt_tokens + t.completion_tokens);
    }
    expect(s.metadata.cost_usd).toBe(0);
  }
  const solver = steps.find((s) => s.agent === 'solver');
  expect(typeof solver.output.solution).toBe('string');
  expect(solver.output.solution.length).toBeGreaterThan(0);
});
