// Hardening: what the page does when the app itself fails.
import { test, expect } from './fixtures.mjs';
import { openApp } from './helpers.mjs';

// The app panics once on start when this localStorage key is set (src/ui/components/panic_banner.rs).
const TEST_PANIC_KEY = 'trialogue.test.panic';

test('a panic shows the "Trialogue stopped" banner, and its Reload brings the app back', async ({ page, problems }) => {
  // The deliberate panic is the only failure: the console's panic message and the abort that
  // follows it (a release build aborts on panic, which the page sees as an `unreachable` trap).
  problems.allow(/deliberate test panic/);
  problems.allow(/unreachable/);
  await openApp(page, '/');
  expect(problems.seen).toEqual([]);
  await expect(page.getByTestId('panic-banner')).toBeHidden();
  await page.evaluate((key) => localStorage.setItem(key, 'deliberate test panic'), TEST_PANIC_KEY);
  await page.reload();

  const banner = page.getByTestId('panic-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toHaveAttribute('role', 'alert');
  await expect(banner).toContainText('Trialogue stopped: deliberate test panic');
  await expect(banner).toContainText('every step already saved is kept');
  await expect(banner.getByRole('link', { name: 'Reload' })).toHaveAttribute('href', '');
  expect(problems.matching(/deliberate test panic/)).not.toEqual([]);

  // The key is gone, so the reload starts normally.
  await banner.getByRole('link', { name: 'Reload' }).click();
  await expect(page.getByTestId('config-hash')).toBeVisible();
  await expect(page.getByTestId('panic-banner')).toBeHidden();
});
