// Shared by the browser scripts: Debian's headless Chromium through
// playwright-core, and a counting check().
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// check(cond, what) asserts; check.passed counts the checks that held.
export function checker() {
  const check = (cond, what) => {
    assert.ok(cond, what);
    check.passed++;
  };
  check.passed = 0;
  return check;
}
