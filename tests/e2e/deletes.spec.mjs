// Deleting a saved config can be undone: the entry comes back where it stood, and stays back
// after a reload; another action ends the offer.
import { test, expect } from './fixtures.mjs';
import { openApp } from './helpers.mjs';

async function saveAs(page, name) {
  await page.locator('#save-name').fill(name);
  await page.locator('#save-name').press('Enter');
  await expect(page.getByRole('status').filter({ hasText: `Saved “${name}”.` })).toBeVisible();
}

const names = (page) => page.locator('.saved-name').allTextContents();

test('a deleted saved config comes back with Undo, in its place, and stays after a reload', async ({ page }) => {
  await openApp(page, '/configure');
  for (const name of ['first', 'second', 'third']) await saveAs(page, name);
  expect(await names(page)).toEqual(['first', 'second', 'third']);

  await page.getByRole('button', { name: 'Delete second' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Deleted “second”.' })).toBeVisible();
  expect(await names(page)).toEqual(['first', 'third']);
  await page.getByTestId('saved-config-undo').click();
  await expect(page.getByRole('status').filter({ hasText: 'Restored “second”.' })).toBeVisible();
  await expect(page.getByTestId('saved-config-undo')).toHaveCount(0);
  expect(await names(page)).toEqual(['first', 'second', 'third']);

  await page.reload();
  await expect(page.locator('.saved-name')).toHaveCount(3);
  expect(await names(page)).toEqual(['first', 'second', 'third']);

  // A save after a delete ends the offer to undo it.
  await page.getByRole('button', { name: 'Delete third' }).click();
  await expect(page.getByTestId('saved-config-undo')).toBeVisible();
  await saveAs(page, 'fourth');
  await expect(page.getByTestId('saved-config-undo')).toHaveCount(0);
  expect(await names(page)).toEqual(['first', 'second', 'fourth']);
});
