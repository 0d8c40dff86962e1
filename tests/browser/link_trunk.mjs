// Browser test of the approval link when the peer's only port is a trunk:
// the page must ask the VLAN (without it every approve came back
// vlan_required and the link could never approve). The contact opens the
// mailed link, sends without choosing (nothing happens), approves with a
// VLAN out of range (the error beside the field, the typed VLAN kept, no
// decision preselected), then with a valid VLAN: approved.
// tests/integration/browser_test.sh checks the request in the database.
//
// usage: node link_trunk.mjs LINK_URL SCREENSHOT_DIR
import { checker, launch } from './lib.mjs';

const link = process.argv[2];
const shots = process.argv[3] || '.';
const check = checker();

const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  ctx.setDefaultTimeout(10000);
  const page = await ctx.newPage();
  const checked = () => page.locator('#decide input[name=decision]:checked').count();

  // GET only shows: the only port, a VLAN field, nothing chosen
  const resp = await page.goto(link);
  check(resp.status() === 200, `the link page answers 200 (got ${resp.status()})`);
  const h = resp.headers();
  check(/no-store/.test(h['cache-control'] || ''), 'the link page is Cache-Control: no-store');
  check((h['referrer-policy'] || '') === 'no-referrer', 'the link page is Referrer-Policy: no-referrer');
  check((await page.textContent('#only-port')).includes('delta-trunk'), 'the page names the only port');
  check(await page.locator('#decide #vlan').count() === 1, 'the page asks the VLAN of the trunk');
  check(await checked() === 0, 'no decision is preselected');
  await page.screenshot({ path: `${shots}/link-trunk.png`, fullPage: true });

  // a POST without a choice decides nothing; the typed VLAN stays
  await page.fill('#vlan', '120');
  await page.click('#decide button[type=submit]');
  await page.locator('#error').waitFor();
  check(await page.locator('#decide').count() === 1, 'without a choice the form comes back');
  check((await page.inputValue('#vlan')) === '120', 'the typed VLAN is kept');
  check(await checked() === 0, 'still nothing preselected');

  // approve with a VLAN out of range: the error beside the field
  await page.check('#decide input[name=decision][value=approve]');
  await page.fill('#vlan', '5000');
  await page.click('#decide button[type=submit]');
  const err = page.locator('#vlan-error');
  await err.waitFor();
  check((await err.textContent()).includes('1..4094'), 'the VLAN error is beside the field');
  check((await page.inputValue('#vlan')) === '5000', 'the typed VLAN is kept after the error');
  check(await checked() === 0, 'the decision is not preselected after the error');
  await page.screenshot({ path: `${shots}/link-trunk-error.png`, fullPage: true });

  // corrected: approved
  await page.check('#decide input[name=decision][value=approve]');
  await page.fill('#vlan', '120');
  await page.fill('#reason', 'browser test');
  await page.click('#decide button[type=submit]');
  await page.locator('#done').waitFor();
  check((await page.textContent('#done')).includes('approved'), 'the contact has approved');
  await page.screenshot({ path: `${shots}/link-trunk-done.png`, fullPage: true });
  await ctx.close();
  console.log(`${check.passed} passed, 0 failed`);
} catch (e) {
  console.error(e.message);
  console.log(`${check.passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
