// Browser test of a change of a live circuit (docs/lifecycle.md, "Changes
// of a live circuit") on the demo data: request 1 (Alpha -> Beta, capped),
// made active by browser_test.sh. Alpha's admin asks for a new cap on the
// request page (a wrong value first: the error is shown), Beta's admin
// sees the change waiting and approves it; Alpha's engineer sees it but
// has no form.
//
// usage: node change.mjs BASE_URL SCREENSHOT_DIR
import { checker, launch } from './lib.mjs';

const base = process.argv[2];
const shots = process.argv[3] || '.';
const check = checker();
const browser = await launch();
try {
  async function login(email) {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(`${base}/login`);
    await page.fill('#email', email);
    await page.fill('#password', 'peerflow-demo');
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    return page;
  }

  const alpha = await login('admin@alpha.example');
  await alpha.goto(`${base}/requests/1`);
  const cap = (await alpha.textContent('#cap')).trim();
  check(/^\d+ Mbit\/s$/.test(cap), `the cap is shown: ${cap}`);
  await alpha.fill('#modify-bandwidth', cap.split(' ')[0]);
  await alpha.click('#modify button[type=submit]');
  await alpha.locator('#error').waitFor();
  check((await alpha.textContent('#error')).includes('already has that cap'),
        'asking for the same cap is refused with the reason');
  await alpha.fill('#modify-bandwidth', '250');
  await alpha.click('#modify button[type=submit]');
  await alpha.waitForURL(`${base}/requests/1`);
  const open = await alpha.textContent('#open-change');
  check(open.includes('250 Mbit/s') && open.includes('pending'), `the change waits: ${open}`);
  check((await alpha.locator('#change-approve').count()) === 0, 'Alpha cannot approve its own change');
  check((await alpha.locator('#change-cancel').count()) === 1, 'but may withdraw it');

  const eng = await login('eng@alpha.example');
  await eng.goto(`${base}/requests/1`);
  check((await eng.locator('#open-change').count()) === 1, 'the engineer sees the change');
  check((await eng.locator('#modify, #change-approve, #change-cancel').count()) === 0,
        'but has no form');

  const beta = await login('admin@beta.example');
  await beta.goto(`${base}/requests/1`);
  await beta.screenshot({ path: `${shots}/request-change.png`, fullPage: true });
  await beta.fill('#change-approve-reason', 'fine by Beta');
  await beta.click('#change-approve button[type=submit]');
  await beta.waitForURL(`${base}/requests/1`);
  const after = await beta.textContent('#open-change');
  check(after.includes('approved'), `approved, waiting for the fabric: ${after}`);
  check((await beta.textContent('#state')).trim() === 'active', 'the circuit stays active');
  console.log(`change.mjs: ${check.passed} checks passed`);
} finally {
  await browser.close();
}
