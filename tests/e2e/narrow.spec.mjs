// Every page at a phone's width (400 px): nothing may push the document wider than the window,
// so no page scrolls sideways into empty space. Wide tables scroll inside their own frame; the
// pages are looked at with data in them (a finished batch, its runs, a price of the user's),
// since the tables that overflowed are only drawn once there is something to list.
import { test, expect } from './fixtures.mjs';
import { MOCK, openApp, resetMock, seedApp } from './helpers.mjs';

const MODEL = 'openai/gpt-4.1-mini';
const CONFIG = {
  config_version: 'e2e-narrow',
  mode: 'debate',
  max_iterations: 2,
  max_attempts: 1,
  solver: { role: 'solver', model: MODEL, prompt_template: 'Solve this problem.\n{problem}\nCritique: {feedback}' },
  verifier: { role: 'verifier', model: MODEL, prompt_template: 'Check the solution.\nProblem: {problem}\nSolution: {solution}' },
  judge: {
    model: MODEL,
    prompt_template: 'Grade the solution.\nProblem: {problem}\nSolution: {solution}\nRubric: {rubric}',
    scoring_rubric: '1.0 when the final answer is right, else 0.0.',
  },
};

const DATASET = [1, 2].map((i) => JSON.stringify({
  id: `n${i}`, problem: `What is ${i} times 5? ANSWER=${i * 5}`, answer: String(i * 5), level: 'Level 1',
})).join('\n');

/** How far the document reaches past the window, and the elements that stick out most. */
function sideways(page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    // Inside a frame that scrolls or clips sideways, sticking out is that frame's business.
    // (A positioned element is clipped only by a frame that contains it: the visually hidden
    // header of a table in a frame that is not positioned escapes it.)
    const framed = (el) => {
      if (getComputedStyle(el).position === 'absolute') return false;
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible') return true;
      }
      return false;
    };
    const beyond = [...document.querySelectorAll('body *')]
      .filter((el) => !framed(el))
      .map((el) => ({ el, right: el.getBoundingClientRect().right }))
      .filter(({ right }) => right > width + 0.5)
      .sort((a, b) => b.right - a.right)
      .slice(0, 5)
      .map(({ el, right }) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} → ${Math.round(right)}`);
    return { over: document.documentElement.scrollWidth - width, beyond };
  });
}

test.beforeEach(async ({ page, request }) => {
  await resetMock(request);
  await seedApp(page, {
    providers: [{
      id: 'openai', label: 'OpenAI', kind: 'openai_compatible',
      base_url: `${MOCK}/openai/v1`, structured_mode: null, builtin: true,
    }],
    keys: { openai: 'sk-e2e-narrow' },
    config: CONFIG,
    once: true,
  });
});

test('no page scrolls sideways at 400 px wide', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page, '/batch');
  await page.getByTestId('dataset-import').setInputFiles({
    name: 'narrow.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(DATASET),
  });
  await page.getByTestId('dataset-save').click();
  await page.getByTestId('batch-start').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  const batchPath = `/batch/${await page.getByTestId('batch-row').first().getAttribute('data-batch-id')}`;

  await page.goto('/settings');
  await page.getByTestId('price-override-model').fill('mystery/a-model-with-a-rather-long-name-to-wrap');
  await page.getByTestId('price-override-input').fill('1');
  await page.getByTestId('price-override-output').fill('2');
  await page.getByTestId('price-override-save').click();
  await expect(page.getByTestId('price-override-row')).toHaveCount(1);

  await page.goto('/runs');
  await expect(page.getByTestId('run-row')).toHaveCount(2);
  const runId = await page.getByTestId('run-row').first().getAttribute('data-run-id');

  await page.setViewportSize({ width: 400, height: 800 });
  const pages = [
    ['/configure', page.getByTestId('config-hash')],
    ['/run', page.getByTestId('run-start')],
    ['/batch', page.getByTestId('dataset-import')],
    [batchPath, page.getByTestId('batch-status')],
    ['/runs', page.getByTestId('run-row').first()],
    [`/runs/${runId}`, page.getByTestId('run-download-jsonl')],
    ['/costs', page.locator('main h1')],
    ['/settings', page.getByTestId('price-override-row')],
    ['/training', page.locator('main h1')],
  ];
  for (const [path, drawn] of pages) {
    await page.goto(path);
    await expect(drawn).toBeVisible();
    const { over, beyond } = await sideways(page);
    expect(over, `${path} is ${over} px wider than the window: ${beyond.join(', ')}`).toBeLessThanOrEqual(0);
  }
});
