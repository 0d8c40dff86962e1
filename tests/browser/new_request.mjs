// Browser test of the web forms: a real headless Chromium (Debian's),
// driven by playwright-core. An engineer logs in, files a request with one
// mistake, sees the error beside the field with the typed values kept,
// corrects it, submits, finds the request in the list, and the peer's admin
// finds it on the dashboard as waiting on their decision.
//
// usage: node new_request.mjs BASE_URL SCREENSHOT_DIR
import { checker, launch } from './lib.mjs';

const base = process.argv[2];
const shots = process.argv[3] || '.';
const check = checker();

const browser = await launch();
try {
  async function login(email) {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    check(page.url().endsWith('/login'), 'an anonymous visitor is sent to the login page');
    await page.fill('#email', email);
    await page.fill('#password', 'peerflow-demo');
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    check((await page.textContent('h1')).includes('Dashboard'), `${email} sees the dashboard`);
    return { ctx, page };
  }

  // 1. the engineer of AS64500 files a request, with a VLAN out of range
  const eng = await login('eng@alpha.example');
  await eng.page.click('text=New request');
  await eng.page.waitForURL(`${base}/requests/new`);
  await eng.page.fill('#peer_asn', '64502');
  await eng.page.selectOption('#port', 'alpha-trunk');
  await eng.page.fill('#vlan', '5000');
  await eng.page.fill('#message', 'Browser test: hello Gamma');
  await eng.page.click('button:has-text("Send request")');
  const err = eng.page.locator('#vlan-error');
  await err.waitFor();
  check((await err.textContent()).includes('1..4094'), 'the VLAN error is shown beside the field');
  check((await eng.page.inputValue('#vlan')) === '5000', 'the typed VLAN is kept');
  check((await eng.page.inputValue('#message')) === 'Browser test: hello Gamma', 'the message is kept');
  check((await eng.page.inputValue('#peer_asn')) === '64502', 'the peer is kept');
  await eng.page.screenshot({ path: `${shots}/request-form-error.png`, fullPage: true });

  // 2. corrected and sent
  await eng.page.fill('#vlan', '120');
  await eng.page.click('button:has-text("Send request")');
  await eng.page.waitForURL(/\/requests\/\d+$/);
  const id = eng.page.url().match(/\/requests\/(\d+)$/)[1];
  check((await eng.page.textContent('#state')).trim() === 'pending', 'the new request is pending');
  check((await eng.page.textContent('main')).includes('VLAN 120'), 'the request page shows the VLAN');
  check((await eng.page.textContent('#timeline')).includes('request.submitted'), 'the timeline shows the submission');
  await eng.page.screenshot({ path: `${shots}/request.png`, fullPage: true });

  // 3. it is in the engineer's list
  await eng.page.click('nav >> text=Requests');
  const row = eng.page.locator(`#request-list a[href="/requests/${id}"]`);
  check(await row.count() === 1, 'the request is in the list');

  // 4. the peer's admin sees it waiting on their decision
  const peer = await login('admin@gamma.example');
  const waiting = peer.page.locator(`#waiting a[href="/requests/${id}"]`);
  check(await waiting.count() === 1, "the request waits on the peer's dashboard");
  await waiting.click();
  check(await peer.page.locator('button.btn-approve').count() === 1, 'the peer admin may approve');
  await peer.page.screenshot({ path: `${shots}/request-peer.png`, fullPage: true });
  await eng.ctx.close();
  await peer.ctx.close();
  console.log(`${check.passed} passed, 0 failed`);
} catch (e) {
  console.error(e.message);
  console.log(`${check.passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
