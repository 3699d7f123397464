import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { openApp, resetMock, MOCK } from './helpers.mjs';

const FAMILIES = [
  ['openai', '/openai/v1', 'gpt-4.1-mini'],
  ['anthropic', '/anthropic/v1', 'claude-sonnet-4-5'],
  ['cohere', '/cohere/v2', 'command-r-plus'],
  ['gemini', '/gemini/v1beta', 'gemini-2.5-flash'],
];

async function pointAtMock(page, id, path, key = 'test-key') {
  await page.locator(`[name="providers.${id}.base_url"]`).fill(`${MOCK}${path}`);
  await page.locator(`[name="providers.${id}.api_key"]`).fill(key);
}

async function probe(page, id, model) {
  const card = page.locator(`[name="providers.${id}.base_url"]`).locator('xpath=ancestor::*[contains(@class,"card")][1]');
  await card.locator('.probe-model').fill(model);
  await page.getByTestId(`provider-test-${id}`).click();
  const report = card.locator('.probe-report');
  await expect(report).toBeVisible({ timeout: 30_000 });
  return report;
}

test.beforeEach(async ({ request }) => resetMock(request));

test('test connection works for all four provider families against the mock', async ({ page, request }) => {
  await openApp(page, '/settings');
  for (const [id, path, model] of FAMILIES) {
    await pointAtMock(page, id, path);
    const report = await probe(page, id, model);
    await expect(report).toHaveClass(/probe-ok/);
    await expect(report).toContainText('Connected');
    await expect(report).toContainText('Usage comes back');
    await expect(report).toContainText('Rate-limit headers are visible');
  }
  const log = await (await request.get(`${MOCK}/__mock/requests`)).json();
  const requests = log.requests ?? log;
  const anthropic = requests.find((r) => r.path.startsWith('/anthropic/'));
  expect(anthropic.headers['anthropic-dangerous-direct-browser-access']).toBe('true');
  expect(anthropic.headers['anthropic-version']).toBeTruthy();
  const gemini = requests.find((r) => r.path.startsWith('/gemini/'));
  expect(gemini.path).not.toContain('test-key'); // Gemini's key travels in a header, never the URL
  for (const r of requests) expect(JSON.stringify(r)).not.toContain('test-key');
});

test('provider faults come back as sentences a user can act on', async ({ page, request }) => {
  await openApp(page, '/settings');
  await pointAtMock(page, 'anthropic', '/anthropic/v1', 'bad-key');
  let report = await probe(page, 'anthropic', 'claude-sonnet-4-5');
  await expect(report).toContainText('rejected the key');
  await expect(report.getByTestId('error')).toContainText(/401/);

  await pointAtMock(page, 'openai', '/openai/v1');
  await request.post(`${MOCK}/__mock/script`, { data: { rules: [{ match: '', provider: 'openai', fault: '404' }] } });
  report = await probe(page, 'openai', 'gpt-nonexistent');
  await expect(report.getByTestId('error').first()).toContainText(/not found|404/i);

  await resetMock(request);
  await request.post(`${MOCK}/__mock/script`, { data: { rules: [{ match: '', provider: 'openai', fault: '500', times: 1 }] } });
  report = await probe(page, 'openai', 'gpt-4.1-mini');
  await expect(report).toHaveClass(/probe-ok/); // one 500, retried after a backoff, then success

  await pointAtMock(page, 'cohere', '/nowhere/v2');
  report = await probe(page, 'cohere', 'command-r-plus');
  await expect(report).not.toHaveClass(/probe-ok/);
  await expect(report.getByTestId('error').first()).toBeVisible();

  await page.locator('[name="providers.gemini.base_url"]').fill('http://127.0.0.1:9/v1beta');
  await page.locator('[name="providers.gemini.api_key"]').fill('k');
  report = await probe(page, 'gemini', 'gemini-2.5-flash');
  await expect(report).toContainText('No response');
  await expect(report.getByTestId('error').first()).toContainText(/network|reach|CORS/i);
});

test('keys are remembered only when asked, and never leave through exports', async ({ page }) => {
  await openApp(page, '/settings');
  const key = page.locator('[name="providers.openai.api_key"]');
  await expect(key).toHaveAttribute('type', 'password');
  await key.fill('sk-remember-me');
  await page.reload();
  await expect(page.locator('[name="providers.openai.api_key"]')).toHaveValue('sk-remember-me');

  await page.locator('label.switch').click();
  await expect(page.locator('input[name="remember_keys"]')).not.toBeChecked();
  const stored = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)));
  expect(stored).not.toContain('sk-remember-me');
  await page.locator('[name="providers.openai.api_key"]').fill('sk-memory-only');
  expect(await page.evaluate(() => JSON.stringify(Object.entries(localStorage)))).not.toContain('sk-memory-only');
  await page.reload();
  await expect(page.locator('[name="providers.openai.api_key"]')).toHaveValue('');

  await page.getByTestId('nav-configure').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('config-export-json').click()]);
  const text = readFileSync(await download.path(), 'utf8');
  expect(text).not.toContain('sk-');
});
