// Shared helpers for the end-to-end specs.
import { expect } from '@playwright/test';

export const MOCK = process.env.TRIALOGUE_MOCK_URL ?? 'http://127.0.0.1:8099';

/** Opens a route with empty storage and fails the test on any page error or CSP violation. */
export async function openApp(page, route = '/') {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy/i.test(text)) problems.push(`CSP: ${text}`);
    else if (msg.type() === 'error' && !/Failed to load resource/.test(text)) problems.push(`console error: ${text}`);
  });
  await page.goto(route);
  await expect(page.getByTestId('nav-configure')).toBeVisible();
  return problems;
}

/** Resets the mock provider's scripts and request log. */
export async function resetMock(request) {
  await request.post(`${MOCK}/__mock/reset`);
}
