import { test, expect } from './fixtures.mjs';
import {
  allowRefusedChunks, importDataset, mockRequests, openApp, releaseMock, resetMock, scriptMock, seedApp,
} from './helpers.mjs';

test('the app loads under its Content-Security-Policy with no errors', async ({ page, problems }) => {
  // The one violation this test provokes on purpose.
  problems.allow(/^CSP: Executing inline script violates the following Content Security Policy directive 'script-src /);
  await openApp(page, '/');
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' 'sha256-");
  expect(csp).not.toMatch(/\s'unsafe-eval'/);
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(csp).not.toContain('__TRUNK_LOADER_HASH__');
  // An inline script injected after load must be refused by the policy: the browser reports
  // the violation as an event, and the script never ran.
  const outcome = await page.evaluate(() => new Promise((resolve) => {
    window.__injected = false;
    document.addEventListener('securitypolicyviolation', (e) => resolve({
      directive: e.effectiveDirective, ran: window.__injected,
    }), { once: true });
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true';
    document.body.appendChild(s);
  }));
  expect(outcome).toEqual({ directive: 'script-src-elem', ran: false });
  await expect.poll(() => problems.matching(/^CSP: /)).toHaveLength(1);
});

test('every navigation link draws its page, and deep links survive a reload', async ({ page }) => {
  await openApp(page, '/');
  // Something each page draws itself (a heading alone is also on the "could not be loaded" view).
  for (const [id, path, drawn] of [
    ['nav-run', '/run', page.getByTestId('run-start')],
    ['nav-batch', '/batch', page.getByTestId('dataset-import')],
    ['nav-runs', '/runs', page.getByTestId('trajectory-import')],
    ['nav-costs', '/costs', page.getByTestId('costs-empty')],
    ['nav-settings', '/settings', page.locator('input[name="providers.openai.base_url"]')],
    ['nav-configure', '/configure', page.getByTestId('config-hash')],
  ]) {
    await page.getByTestId(id).click();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await expect(drawn).toBeAttached();
    await expect(page.getByTestId('page-load-error')).toHaveCount(0);
  }
  await page.goto('/settings');
  await expect(page.locator('input[name="providers.openai.base_url"]')).toBeVisible();
  await page.goto('/runs/run_20250101_000000_00000000');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('run_20250101_000000_00000000');
});

// The pages other than Configure are split off the first page's wasm (scripts/split-wasm).
const wasmFetched = (page) => {
  const names = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('.wasm')) names.push(path);
  });
  return names;
};

test('the first page loads only its own module; a page\'s code comes when the page opens', async ({ page }) => {
  const fetched = wasmFetched(page);
  await openApp(page, '/configure');
  await expect(page.locator('[name="solver.model"]')).not.toHaveValue('');
  expect(fetched[0]).toMatch(/^\/trialogue-[0-9a-f]+_bg\.wasm$/);
  // The start-up checks (and the store's open) come after the first page, in a chunk of their
  // own; the loader asks for the chunks it needs at the same moment as the chunk itself.
  await expect.poll(() => fetched.some((p) => p.endsWith('/split_startup_checks.wasm'))).toBe(true);
  const atStart = fetched.length;
  expect(fetched.slice(1).every((p) => /^\/trialogue-[0-9a-f]+-split\/[\w.]+\.wasm$/.test(p))).toBe(true);

  // Links are not hovered here, so nothing is preloaded: opening Costs fetches its chunks.
  await page.evaluate(() => document.querySelector('[data-testid="nav-costs"]').click());
  await expect(page.getByTestId('costs-empty')).toBeAttached();
  const chunks = fetched.slice(atStart);
  expect(chunks.length).toBeGreaterThan(0);
  for (const chunk of chunks) expect(chunk).toMatch(/^\/trialogue-[0-9a-f]+-split\/[\w.]+\.wasm$/);

  // Pointing at a link fetches its page's code before the click.
  const before = fetched.length;
  await page.getByTestId('nav-batch').hover();
  await expect.poll(() => fetched.length).toBeGreaterThan(before);
  await page.getByTestId('nav-batch').click();
  await expect(page.getByTestId('dataset-import')).toBeAttached();
});

test('a deep link to Runs fetches its code in a few files, not one per set of pages sharing some of it', async ({ page }) => {
  const fetched = wasmFetched(page);
  await openApp(page, '/runs');
  await expect(page.getByTestId('trajectory-import')).toBeAttached();
  await expect.poll(() => fetched.some((p) => p.endsWith('/split_startup_checks.wasm'))).toBe(true);
  expect(fetched.filter((p) => p.endsWith('/split_runs_chunk.wasm'))).toHaveLength(1);
  // The main module, the Runs pages' chunk, the start-up checks' chunk and the code they share
  // with other pages. wasm-split-cli cuts that shared code into a chunk for every set of pages
  // using some of it, 30 files here, most of them a few hundred bytes; scripts/split-wasm
  // merges them into about a dozen.
  expect(fetched.length).toBeLessThanOrEqual(16);
  expect(new Set(fetched).size).toBe(fetched.length);
});

test('when the start-up checks\' code cannot be fetched, the Run page says so and a reload retries', async ({ page, problems }) => {
  allowRefusedChunks(problems);
  await page.route(/\/split_startup_checks\.wasm$/, (route) => route.abort('connectionrefused'));
  await openApp(page, '/run');
  await expect(page.getByText('Runs cannot be saved right now: the start-up check could not be loaded'))
    .toBeVisible();
  await expect(page.getByTestId('run-start')).toBeVisible();

  await page.unroute(/\/split_startup_checks\.wasm$/);
  await page.reload();
  await expect(page.getByTestId('run-start')).toBeEnabled();
  await expect(page.getByText('Runs cannot be saved right now')).toHaveCount(0);
});

test('a page whose code cannot be fetched says so; the app goes on and opening it again retries', async ({ page, problems }) => {
  allowRefusedChunks(problems);
  await openApp(page, '/configure');
  await page.route(/-split\/.*\.wasm$/, (route) => route.abort('connectionrefused'));
  await page.getByTestId('nav-costs').click();
  const error = page.getByTestId('page-load-error');
  await expect(error).toBeVisible();
  await expect(error).toContainText('The code of the Costs page could not be loaded');

  // The wasm did not abort: the shell still navigates, and the form is still there.
  await page.getByTestId('nav-configure').click();
  await expect(page.locator('[name="solver.model"]')).toBeVisible();

  await page.unroute(/-split\/.*\.wasm$/);
  await page.getByTestId('nav-costs').click();
  await expect(page.getByTestId('costs-empty')).toBeAttached();
  await expect(page.getByTestId('page-load-error')).toHaveCount(0);
});

test('a page chunk that cannot be fetched leaves a run and a batch in progress untouched', async ({ page, request, problems }) => {
  test.setTimeout(90_000);
  allowRefusedChunks(problems);
  await resetMock(request);
  const model = 'openai/gpt-4.1-mini';
  const config = {
    config_version: 'e2e-chunks', mode: 'debate', max_iterations: 1, max_attempts: 1,
    solver: { role: 'solver', model, prompt_template: 'Solve: {problem}\nCritique: {feedback}' },
    verifier: { role: 'verifier', model, prompt_template: 'Verify: {problem}\nSolution: {solution}' },
    judge: { model, prompt_template: 'Grade: {problem}\nSolution: {solution}\nRubric: {rubric}', scoring_rubric: '1.0 when right.' },
  };
  await seedApp(page, { keys: { openai: 'sk-e2e-chunks' }, config });
  // Every verifier call is held until the page chunk has failed.
  await scriptMock(request, [{ agent: 'verifier', fault: 'hold:chunk' }]);

  // A run and a two-problem batch, each waiting on its verifier.
  await openApp(page, '/run');
  await page.getByTestId('problem-input').fill('[R] What is 2 + 5? ANSWER=7');
  await page.getByTestId('ground-truth-input').fill('7');
  await page.getByTestId('run-start').click();
  await page.getByTestId('nav-batch').click();
  await importDataset(page, 'chunks.jsonl', ['[B1] What is 3 + 5? ANSWER=8', '[B2] What is 4 + 5? ANSWER=9']
    .map((problem, i) => ({ id: `b${i + 1}`, problem, answer: String(8 + i) })));
  await page.getByTestId('batch-concurrency').fill('2');
  await page.getByTestId('batch-start').click();
  const held = async () => (await mockRequests(request)).filter((r) => r.fault === 'hold:chunk' && r.status === null).length;
  await expect.poll(held).toBe(3);

  // The Costs page's code cannot come.
  await page.route(/-split\/.*\.wasm$/, (route) => route.abort('connectionrefused'));
  await page.getByTestId('nav-costs').click();
  await expect(page.getByTestId('page-load-error')).toContainText('The code of the Costs page could not be loaded');
  // All three calls are still out, none cut off.
  expect(await held()).toBe(3);

  await releaseMock(request, 'chunk');
  await page.getByTestId('nav-batch').click();
  await expect(page.getByTestId('batch-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('data-done', '2');
  await expect(page.getByTestId('batch-accuracy')).toHaveText('1.0000');
  await page.getByTestId('nav-run').click();
  await expect(page.getByTestId('run-status')).toHaveText('completed');
  await expect(page.getByTestId('run-correct')).toHaveText('yes');
  await expect(page.getByTestId('step')).toHaveCount(3);
  // Each problem went through solver, verifier and judge once, every call answered.
  const log = await mockRequests(request);
  for (const tag of ['[R]', '[B1]', '[B2]']) {
    const calls = log.filter((r) => JSON.stringify(r.body).includes(tag)).map((r) => [r.agent, r.status]);
    expect(calls, tag).toEqual([['solver', 200], ['verifier', 200], ['judge', 200]]);
  }
});
