import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test, expect } from './fixtures.mjs';
import {
  MOCK, expectEachRequestCarriesItsOwnKeyOnly, mockRequests, openApp, resetMock, scriptMock,
} from './helpers.mjs';

// Every built-in provider, its mock route, a model to probe, and a key of its own.
const PROVIDERS = [
  ['openai', '/openai/v1', 'gpt-4.1-mini', 'sk-e2e-openai-probe'],
  ['anthropic', '/anthropic/v1', 'claude-sonnet-4-5', 'sk-ant-e2e-probe'],
  ['cohere', '/cohere/v2', 'command-r-plus', 'co-e2e-probe'],
  ['gemini', '/gemini/v1beta', 'gemini-2.5-flash', 'AIza-e2e-probe'],
  ['openrouter', '/openrouter/v1', 'openai/gpt-4o-mini', 'sk-or-e2e-probe'],
  ['local', '/local/v1', 'smollm2-135m', 'local-e2e-probe'],
];

/** A loopback port nothing listens on: one the system just gave out and took back. */
function closedPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function pointAtMock(page, id, path, key) {
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

test('test connection works for every built-in provider, each called with its own key only', async ({ page, request }) => {
  test.setTimeout(90_000);
  await openApp(page, '/settings');
  for (const [id, path, model, key] of PROVIDERS) {
    await pointAtMock(page, id, path, key);
    const report = await probe(page, id, model);
    await expect(report).toHaveClass(/probe-ok/);
    await expect(report).toContainText('Connected');
    await expect(report).toContainText('Usage comes back');
    await expect(report).toContainText('Rate-limit headers are visible');
  }
  const requests = await mockRequests(request);
  const anthropic = requests.find((r) => r.route === 'anthropic');
  expect(anthropic.headers['anthropic-dangerous-direct-browser-access']).toBe('true');
  expect(anthropic.headers['anthropic-version']).toBeTruthy();

  // The mock's raw record (keys as sent): each request carried its own provider's key in its
  // family's header, and no key anywhere else (Gemini's never in the URL).
  await expectEachRequestCarriesItsOwnKeyOnly(request, Object.fromEntries(PROVIDERS.map(([id, , , key]) => [id, key])));
});

test('provider faults come back as sentences a user can act on', async ({ page, request, problems }) => {
  problems.allow(/^console error: Failed to load resource: the server responded with a status of 401 .*\/anthropic\/v1\//);
  problems.allow(/^console error: Failed to load resource: the server responded with a status of 404 .*\/openai\/v1\//);
  problems.allow(/^console error: Failed to load resource: the server responded with a status of 500 .*\/openai\/v1\//);
  problems.allow(/^console error: Failed to load resource: the server responded with a status of 404 .*\/nowhere\/v2\//);
  const closed = await closedPort();
  problems.allow(new RegExp(`^console error: Failed to load resource: net::ERR_CONNECTION_REFUSED \\(http://127\\.0\\.0\\.1:${closed}/`));
  await openApp(page, '/settings');
  await pointAtMock(page, 'anthropic', '/anthropic/v1', 'bad-key');
  let report = await probe(page, 'anthropic', 'claude-sonnet-4-5');
  await expect(report).toContainText('rejected the key');
  await expect(report.getByTestId('error').first()).toContainText(/401/);

  await pointAtMock(page, 'openai', '/openai/v1', 'sk-e2e-faults');
  await scriptMock(request, [{ match: '', provider: 'openai', fault: '404' }]);
  report = await probe(page, 'openai', 'gpt-nonexistent');
  await expect(report.getByTestId('error').first()).toContainText(/not found|404/i);

  // A 500 in the provider's structured mode: a probe makes no backoff retries (runs do, see
  // run.spec); it asks once more in prompt-only mode, and says which mode answered.
  await resetMock(request);
  await scriptMock(request, [{ match: '', provider: 'openai', fault: '500', times: 1 }]);
  report = await probe(page, 'openai', 'gpt-4.1-mini');
  await expect(report).toHaveClass(/probe-ok/);
  await expect(report).toContainText('prompt-only');
  const chats = (await mockRequests(request)).filter((r) => r.path.endsWith('/chat/completions'));
  expect(chats.map((r) => [r.status, r.body.response_format?.type ?? 'prompt-only']))
    .toEqual([[500, 'json_schema'], [200, 'prompt-only']]);

  await pointAtMock(page, 'cohere', '/nowhere/v2', 'co-e2e-faults');
  report = await probe(page, 'cohere', 'command-r-plus');
  await expect(report).not.toHaveClass(/probe-ok/);
  await expect(report.getByTestId('error').first()).toContainText('404');

  // Nothing listens there.
  await page.locator('[name="providers.gemini.base_url"]').fill(`http://127.0.0.1:${closed}/v1beta`);
  await page.locator('[name="providers.gemini.api_key"]').fill('AIza-e2e-faults');
  report = await probe(page, 'gemini', 'gemini-2.5-flash');
  await expect(report).toContainText('No response');
  await expect(report.getByTestId('error').first()).toHaveText(
    'could not reach Gemini: Failed to fetch (no response; a CORS block looks the same to the page); '
    + 'check the base URL above, your connection, and that the server allows requests from this page (CORS)');
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

  // An export made while the key is in this tab's memory holds no key.
  await page.getByTestId('nav-configure').click();
  for (const button of ['config-export-json', 'config-export-yaml']) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(button).click()]);
    const text = readFileSync(await download.path(), 'utf8');
    expect(text).toContain('judge');
    expect(text).not.toContain('sk-memory-only');
    expect(text).not.toContain('sk-remember-me');
  }
  // The key was still there when they were made, and only in memory: a reload forgets it.
  await page.getByTestId('nav-settings').click();
  await expect(page.locator('[name="providers.openai.api_key"]')).toHaveValue('sk-memory-only');
  await page.reload();
  await expect(page.locator('[name="providers.openai.api_key"]')).toHaveValue('');
});
