import { test, expect } from '@playwright/test';
import { openApp } from './helpers.mjs';

test('the app loads under its Content-Security-Policy with no errors', async ({ page }) => {
  const problems = await openApp(page, '/');
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' 'sha256-");
  expect(csp).not.toMatch(/\s'unsafe-eval'/);
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(csp).not.toContain('__TRUNK_LOADER_HASH__');
  // An inline script injected after load must be refused by the policy.
  const injectedRan = await page.evaluate(async () => {
    window.__injected = false;
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true';
    document.body.appendChild(s);
    await new Promise((r) => setTimeout(r, 50));
    return window.__injected;
  });
  expect(injectedRan).toBe(false);
  // The only policy violation is the one this test provoked; the policy itself parses cleanly.
  expect(problems.filter((p) => !/Executing inline script violates/.test(p))).toEqual([]);
  expect(problems.filter((p) => /Executing inline script violates/.test(p))).toHaveLength(1);
});

test('every navigation link reaches its page, and deep links survive a reload', async ({ page }) => {
  await openApp(page, '/');
  for (const [id, path] of [
    ['nav-run', '/run'], ['nav-batch', '/batch'], ['nav-runs', '/runs'],
    ['nav-costs', '/costs'], ['nav-settings', '/settings'], ['nav-configure', '/configure'],
  ]) {
    await page.getByTestId(id).click();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
  }
  await page.goto('/settings');
  await expect(page.locator('input[name="providers.openai.base_url"]')).toBeVisible();
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
  const problems = await openApp(page, '/configure');
  await expect(page.locator('[name="solver.model"]')).not.toHaveValue('');
  expect(fetched[0]).toMatch(/^\/trialogue-[0-9a-f]+_bg\.wasm$/);
  // The start-up checks (and the store's open) come after the first page, in a chunk of their
  // own; the loader asks for the chunks it needs at the same moment as the chunk itself.
  await expect.poll(() => fetched.some((p) => p.endsWith('/split_startup_checks.wasm'))).toBe(true);
  const atStart = fetched.length;
  expect(fetched.slice(1).every((p) => /^\/trialogue-[0-9a-f]+-split\/[\w.]+\.wasm$/.test(p))).toBe(true);

  // Links are not hovered here, so nothing is preloaded: opening Costs fetches its chunks.
  await page.evaluate(() => document.querySelector('[data-testid="nav-costs"]').click());
  await expect(page.getByRole('heading', { level: 1, name: 'Costs' })).toBeVisible();
  const chunks = fetched.slice(atStart);
  expect(chunks.length).toBeGreaterThan(0);
  for (const chunk of chunks) expect(chunk).toMatch(/^\/trialogue-[0-9a-f]+-split\/[\w.]+\.wasm$/);

  // Pointing at a link fetches its page's code before the click.
  const before = fetched.length;
  await page.getByTestId('nav-batch').hover();
  await expect.poll(() => fetched.length).toBeGreaterThan(before);
  await page.getByTestId('nav-batch').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Batch' })).toBeVisible();
  expect(problems).toEqual([]);
});

test('when the start-up checks\' code cannot be fetched, the Run page says so and a reload retries', async ({ page }) => {
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

test('a page whose code cannot be fetched says so; the app goes on and opening it again retries', async ({ page }) => {
  const problems = await openApp(page, '/configure');
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
  await expect(page.getByRole('heading', { level: 1, name: 'Costs' })).toBeVisible();
  await expect(page.getByTestId('page-load-error')).toHaveCount(0);
  expect(problems.filter((p) => !/chunk|wasm|load/i.test(p))).toEqual([]);
});
