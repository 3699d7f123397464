// Shared helpers for the end-to-end specs.
import { expect } from './fixtures.mjs';

/** The mock provider's origin, set by playwright.config.mjs for every worker. */
export const MOCK = process.env.TRIALOGUE_MOCK_URL;
if (!MOCK) throw new Error('TRIALOGUE_MOCK_URL is not set: run the specs through tests/e2e/playwright.config.mjs');

/** Opens a route and waits for the app shell. Page problems are checked by the `problems`
 *  fixture (fixtures.mjs) after every test. */
export async function openApp(page, route = '/') {
  await page.goto(route);
  await expect(page.getByTestId('nav-configure')).toBeVisible();
}

/** Resets the mock provider's scripts and request records. */
export async function resetMock(request) {
  const res = await request.post(`${MOCK}/__mock/reset`);
  expect(res.ok(), await res.text()).toBeTruthy();
}

/** Adds rules to the mock provider's script (see tests/mock/README.md). */
export async function scriptMock(request, rules) {
  const res = await request.post(`${MOCK}/__mock/script`, { data: { rules } });
  expect(res.ok(), await res.text()).toBeTruthy();
}

/** The mock's log of provider requests (keys redacted), oldest first. */
export async function mockRequests(request) {
  const res = await request.get(`${MOCK}/__mock/requests`);
  expect(res.ok(), await res.text()).toBeTruthy();
  return (await res.json()).requests;
}

/** The same requests as they came, keys included: `{id, route, path, headers}`. */
export async function mockRawRequests(request) {
  const res = await request.get(`${MOCK}/__mock/raw-requests`);
  expect(res.ok(), await res.text()).toBeTruthy();
  return (await res.json()).requests;
}

/** The console error Chromium logs for a provider call the mock answered with `status`. */
export function failedCall(status) {
  return new RegExp(`^console error: Failed to load resource: the server responded with a status of ${status} .*\\(${escapeRegExp(MOCK)}/`);
}

export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Settles a download started by `click` and returns its name and text. */
export async function download(page, click) {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const { readFile } = await import('node:fs/promises');
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
}

/** Opens the mock's gate `gate`: the replies a `hold:<gate>` rule holds are sent. */
export async function releaseMock(request, gate) {
  const res = await request.post(`${MOCK}/__mock/release`, { data: { gate } });
  expect(res.ok(), await res.text()).toBeTruthy();
}

/**
 * Allows what Chromium and the split loader (scripts/split-wasm's __wasm_split.js) log for
 * page chunks a test refuses on purpose: the failed fetch of a chunk, the loader's report. Which
 * of them Chromium writes for one refusal varies (a fetch already under way for a preload is
 * reported once), so neither is required: the test checks what the page shows instead.
 */
export function allowRefusedChunks(problems) {
  const split = String.raw`http://127\.0\.0\.1:\d+/trialogue-[0-9a-f]+-split/`;
  problems.allow(new RegExp(String.raw`^console error: Failed to load resource: net::ERR_CONNECTION_REFUSED \(${split}[\w.]+\.wasm\)$`), { optional: true });
  problems.allow(new RegExp(String.raw`^console error: TypeError: Failed to fetch\s+at ${split}__wasm_split\.js:`), { optional: true });
}
