// Settings across tabs: two tabs of the app share localStorage. Turning "Remember keys" off in
// one must stop the other from writing keys back, and a tab that did not make a change must not
// overwrite it with its stale copy.
import { test, expect } from './fixtures.mjs';
import { openApp } from './helpers.mjs';

const KEYS_KEY = 'trialogue.keys.v1';
const PROVIDERS_KEY = 'trialogue.providers.v1';

const stored = (page, key) => page.evaluate((k) => localStorage.getItem(k), key);
const field = (page, name) => page.locator(`[name="${name}"]`);

test('"Remember keys" off in one tab keeps the other from storing keys, and stale tabs keep others\' edits', async ({ context }) => {
  const a = await context.newPage();
  const b = await context.newPage();
  await openApp(a, '/settings');
  await openApp(b, '/settings');

  // Tab A stores a key while remembering is on.
  await field(a, 'providers.openai.api_key').fill('sk-tab-a-first');
  await expect.poll(() => stored(a, KEYS_KEY)).toContain('sk-tab-a-first');
  // Tab B hears it.
  await expect(field(b, 'providers.openai.api_key')).toHaveValue('sk-tab-a-first');

  // Tab B turns remembering off: the stored keys go, and tab A's switch follows.
  await b.locator('label.switch').click();
  await expect(field(b, 'remember_keys')).not.toBeChecked();
  await expect.poll(() => stored(b, KEYS_KEY)).toBeNull();
  await expect(field(a, 'remember_keys')).not.toBeChecked();
  // A key typed in tab A stays in that tab's memory only.
  await field(a, 'providers.openai.api_key').fill('sk-tab-a-second');
  await field(a, 'providers.anthropic.api_key').fill('sk-tab-a-third');
  await expect(field(a, 'providers.anthropic.api_key')).toHaveValue('sk-tab-a-third');
  expect(await stored(a, KEYS_KEY)).toBeNull();
  const everything = await a.evaluate(() => JSON.stringify(Object.entries(localStorage)));
  expect(everything).not.toContain('sk-tab-a-second');
  expect(everything).not.toContain('sk-tab-a-third');

  // Edits of different providers in the two tabs both stay stored.
  await field(b, 'providers.openai.base_url').fill('https://b.example.com/v1');
  await expect(field(a, 'providers.openai.base_url')).toHaveValue('https://b.example.com/v1');
  await field(a, 'providers.cohere.base_url').fill('https://a.example.com/v2');
  await expect.poll(async () => {
    const saved = JSON.parse(await stored(b, PROVIDERS_KEY));
    const url = (id) => saved.providers.find((p) => p.id === id)?.base_url;
    return [url('openai'), url('cohere')];
  }).toEqual(['https://b.example.com/v1', 'https://a.example.com/v2']);
  await expect(field(b, 'providers.cohere.base_url')).toHaveValue('https://a.example.com/v2');
});
