import { readFileSync, writeFileSync } from 'node:fs';
import { test, expect } from './fixtures.mjs';
import { allowRefusedChunks, openApp } from './helpers.mjs';

const VECTORS = new URL('../fixtures/config/vectors/', import.meta.url);
const vector = (name) => readFileSync(new URL(name, VECTORS));
const expected = JSON.parse(vector('expected.json'));
const hashOf = (file) => expected.find((v) => v.file === file).config_hash;

const hash = (page) => page.getByTestId('config-hash');
const field = (page, name) => page.locator(`[name="${name}"]`);

async function importFile(page, name, buffer, mimeType = 'text/plain') {
  await page.getByTestId('config-import').setInputFiles({ name, mimeType, buffer });
}

test('the original configs import with the original hash', async ({ page }) => {
  await openApp(page, '/configure');
  await importFile(page, 'minimal.yaml', vector('minimal.yaml'));
  await expect(hash(page)).toHaveText(hashOf('minimal.yaml'));
  await expect(field(page, 'solver.model')).toHaveValue('command-r-plus');
  await importFile(page, 'full.json', vector('full.json'), 'application/json');
  await expect(hash(page)).toHaveText(hashOf('full.json'));
  await expect(field(page, 'max_iterations')).toHaveValue('7');
  await expect(field(page, 'verifier.system_prompt')).toHaveValue('Be strict; naïve mistakes fail.');
});

test('editing the form validates inline and updates the hash', async ({ page }) => {
  await openApp(page, '/configure');
  await importFile(page, 'minimal.yaml', vector('minimal.yaml'));
  await expect(hash(page)).toHaveText(hashOf('minimal.yaml'));

  const temperature = field(page, 'solver.temperature');
  await temperature.fill('hot');
  await expect(page.getByTestId('error').filter({ hasText: /number/i }).first()).toBeVisible();
  await expect(temperature).toHaveValue('hot'); // what the user typed stays

  await temperature.fill('0.7');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(hash(page)).not.toHaveText(hashOf('minimal.yaml'));
  await expect(hash(page)).toHaveText(/^[0-9a-f]{8}$/);

  await temperature.fill('0');
  await expect(hash(page)).toHaveText(hashOf('minimal.yaml')); // 0 and 0.0 hash alike

  await field(page, 'max_iterations').fill('21');
  await expect(page.getByTestId('error').filter({ hasText: /20/ }).first()).toBeVisible();
  await field(page, 'max_iterations').fill('5');

  await field(page, 'verifier.prompt_template').fill('Check {answer}');
  await expect(page.getByTestId('error').filter({ hasText: '{answer}' }).first()).toBeVisible();
  await field(page, 'verifier.prompt_template').fill('Verify {solution} for {problem}');

  await field(page, 'judge.model').fill('mystery-model');
  await expect(page.getByTestId('error').filter({ hasText: /provider\/model|provider/i }).first()).toBeVisible();
  await field(page, 'judge.model').fill('command-r-plus');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(hash(page)).toHaveText(hashOf('minimal.yaml'));
});

test('a broken or hostile import shows an error and keeps the form', async ({ page }) => {
  await openApp(page, '/configure');
  await importFile(page, 'full.json', vector('full.json'), 'application/json');
  await expect(hash(page)).toHaveText(hashOf('full.json'));

  const broken = 'config_version: "1"\nsolver:\n  role: solver\n  model: [unclosed\n';
  await importFile(page, 'broken.yaml', Buffer.from(broken));
  await expect(page.getByTestId('error')).toContainText(/could not import broken\.yaml: YAML syntax error at line 5, column 1/);
  await expect(hash(page)).toHaveText(hashOf('full.json'));

  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 0; i < 9; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
  await importFile(page, 'bomb.yaml', Buffer.from(bomb.join('\n') + '\n'));
  await expect(page.getByTestId('error')).toContainText('could not import bomb.yaml: the YAML file is too deeply nested or expands too much');
  await expect(hash(page)).toHaveText(hashOf('full.json'));

  await importFile(page, 'garbage.json', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  await expect(page.getByTestId('error')).toContainText('could not import garbage.json: the file is not UTF-8 text');
  await expect(hash(page)).toHaveText(hashOf('full.json'));

  // Playwright passes buffers only up to 50 MB, so the 50 MB file goes through the disk.
  const huge = test.info().outputPath('huge.yaml');
  writeFileSync(huge, Buffer.alloc(50 * 1024 * 1024, 0x61));
  await page.getByTestId('config-import').setInputFiles(huge);
  await expect(page.getByTestId('error')).toContainText('huge.yaml is 52428800 bytes, over the 1048576 byte limit for this import; pick a smaller file');
  await expect(hash(page)).toHaveText(hashOf('full.json'));
  await expect(field(page, 'solver.model')).toHaveValue('gpt-4.1-mini');
});

test('export then re-import gives the same hash, and a reload keeps the config', async ({ page }) => {
  // A remembered key is present while the config is exported.
  const key = 'sk-e2e-configure-4d2c';
  await page.addInitScript((k) => localStorage.setItem('trialogue.keys.v1', k), JSON.stringify({ openai: key }));
  await openApp(page, '/configure');
  await importFile(page, 'full.json', vector('full.json'), 'application/json');
  await field(page, 'judge.temperature').fill('0.25');
  const edited = await hash(page).textContent();
  expect(edited).not.toBe(hashOf('full.json'));

  for (const [button, ext] of [['config-export-yaml', 'yaml'], ['config-export-json', 'json']]) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(button).click()]);
    expect(download.suggestedFilename()).toBe(`trialogue-config-${edited}.${ext}`);
    const text = readFileSync(await download.path(), 'utf8');
    expect(text).toContain('judge');
    expect(await page.evaluate(() => localStorage.getItem('trialogue.keys.v1'))).toContain(key);
    expect(text).not.toContain(key);
    expect(text).not.toMatch(/api_key/);
    await importFile(page, 'minimal.yaml', vector('minimal.yaml'));
    await expect(hash(page)).toHaveText(hashOf('minimal.yaml'));
    await importFile(page, `exported.${ext}`, Buffer.from(text));
    await expect(hash(page)).toHaveText(edited);
  }

  await page.reload();
  await expect(hash(page)).toHaveText(edited);
  await expect(field(page, 'judge.temperature')).toHaveValue('0.25');
});

test('a YAML config needs the YAML reader, fetched on demand; when it cannot come, JSON still imports', async ({ page, problems }) => {
  allowRefusedChunks(problems);
  await openApp(page, '/configure');
  await page.route(/-split\/.*\.wasm$/, (route) => route.abort('connectionrefused'));
  await importFile(page, 'minimal.yaml', vector('minimal.yaml'));
  await expect(page.getByTestId('error')).toContainText(
    'could not import minimal.yaml: the YAML reader could not be loaded');
  await importFile(page, 'full.json', vector('full.json'), 'application/json');
  await expect(hash(page)).toHaveText(hashOf('full.json'));

  await page.unroute(/-split\/.*\.wasm$/);
  await importFile(page, 'minimal.yaml', vector('minimal.yaml'));
  await expect(hash(page)).toHaveText(hashOf('minimal.yaml'));
});
