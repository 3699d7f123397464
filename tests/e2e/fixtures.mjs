// The `test` every spec uses: Playwright's, with a watch on every page of the test's browser
// context. A page error (an uncaught exception, a wasm panic), a Content-Security-Policy
// violation, a console error or a crashed page fails the test after it has run, whatever the
// test itself checked. A test that provokes one on purpose says so first with
// `problems.allow(pattern)`; an allowance that nothing used fails the test too, so the list
// cannot outlive the behaviour it was written for (unless it says it is optional: for messages
// the browser does not always write for the same cause).
import { test as base, expect } from '@playwright/test';
import { withoutSavePicker } from './save-picker.mjs';

/** What the pages of one test reported, and what the test allowed. */
class PageProblems {
  constructor() {
    /** @type {string[]} */
    this.seen = [];
    /** @type {{pattern: RegExp, optional: boolean, used: number}[]} */
    this.allowed = [];
  }

  /** Starts recording `page`'s problems; each page is watched once. */
  watch(page) {
    page.on('pageerror', (err) => this.seen.push(`page error: ${err.message}`));
    page.on('crash', () => this.seen.push(`crash: the page ${page.url()} crashed`));
    page.on('console', (msg) => {
      const text = msg.text();
      // Chromium reports a policy violation as a console message naming the policy.
      if (/Content Security Policy/i.test(text)) {
        this.seen.push(`CSP: ${text}`);
      } else if (msg.type() === 'error') {
        // The URL tells a failed provider call from a missing app file with the same text.
        const { url } = msg.location();
        this.seen.push(`console error: ${text}${url ? ` (${url})` : ''}`);
      }
    });
  }

  /**
   * Lets problems matching `pattern` through: for a test that provokes them on purpose (a
   * provider answering 429, a blocked page chunk, an injected script). Keep the pattern as
   * narrow as the provoked message. Unless `optional`, the test fails if none came.
   */
  allow(pattern, { optional = false } = {}) {
    if (!(pattern instanceof RegExp)) throw new TypeError('problems.allow takes a RegExp');
    this.allowed.push({ pattern, optional, used: 0 });
  }

  /** Problems seen so far that match `pattern` (allowed or not). */
  matching(pattern) {
    return this.seen.filter((p) => pattern.test(p));
  }

  /** Problems no allowance covers. */
  unexpected() {
    return this.seen.filter((p) => {
      const allowance = this.allowed.find((a) => a.pattern.test(p));
      if (allowance) allowance.used += 1;
      return !allowance;
    });
  }
}

export const test = base.extend({
  // Pages have no save picker unless a spec installs a stub (see save-picker.mjs): headless
  // Chromium's would reject every export as cancelled.
  noSavePicker: [async ({ context }, use) => {
    await context.addInitScript(withoutSavePicker);
    await use();
  }, { auto: true }],
  problems: [async ({ context }, use) => {
    const problems = new PageProblems();
    for (const page of context.pages()) problems.watch(page);
    context.on('page', (page) => problems.watch(page));
    await use(problems);
    // One check for both lists, so a failure shows them together.
    const unexpected = problems.unexpected();
    const neverSeen = problems.allowed.filter((a) => a.used === 0 && !a.optional).map((a) => String(a.pattern));
    expect(
      { unexpected, neverSeen },
      'page errors the test did not provoke (unexpected), and allowances nothing used (neverSeen)',
    ).toEqual({ unexpected: [], neverSeen: [] });
  }, { auto: true }],
});

export { expect };
