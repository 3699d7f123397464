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
