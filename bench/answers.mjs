// Answer checking: its accuracy against math-verify (the reviewed figures the differential
// tests hold it to, tests/fixtures/answers/differential/figures.json) and the time of one
// check in a native release build (examples/grade_answers --timing over the differential cases).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const CASES = 'tests/fixtures/answers/differential/cases.jsonl';
const FIGURES = 'tests/fixtures/answers/differential/figures.json';

export async function answerChecking() {
  const figures = JSON.parse(await readFile(FIGURES, 'utf8'));
  const { stdout } = await promisify(execFile)(
    'cargo',
    ['run', '--quiet', '--release', '--example', 'grade_answers', '--', '--timing', CASES],
    { maxBuffer: 1 << 20 },
  );
  return { ...figures, timing: JSON.parse(stdout) };
}
