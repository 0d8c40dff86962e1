// Browser test of the BGP session on the pages (docs/bgp.md), on the demo
// data: request 1 (Alpha -> Beta, approved at once, with a TCP-MD5 secret).
//   - Alpha's admin sees the link addresses and the secret, picks FRR and
//     downloads Alpha's side of the configuration;
//   - Alpha's engineer sees the addresses, neither the secret nor the
//     download;
//   - Beta's admin edits Beta's routing facts: a bogon is refused beside
//     the form with the typed text kept, then a good set is saved;
//   - a request filed with IPv6 off and a secret asks for exactly that.
//
// usage: node bgp.mjs BASE_URL SCREENSHOT_DIR
import { checker, launch } from './lib.mjs';
import { readFile } from 'node:fs/promises';

const base = process.argv[2];
const shots = process.argv[3] || '.';
const check = checker();

const browser = await launch();
try {
  async function login(email) {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    const page = await ctx.newPage();
    await page.goto(`${base}/login`);
    await page.fill('#email', email);
    await page.fill('#password', 'peerflow-demo');
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    return { ctx, page };
  }

  // 1. Alpha's admin: addresses, secret, download
  const admin = await login('admin@alpha.example');
  await admin.page.goto(`${base}/requests/1`);
  const v4 = (await admin.page.textContent('#bgp-ipv4')) || '';
  check(v4.includes('requester 100.64.0.0/31') && v4.includes('peer 100.64.0.1/31'),
        `the IPv4 link addresses are shown: ${v4}`);
  check((await admin.page.textContent('#bgp-ipv6')).includes('2001:db8:100::'), 'the IPv6 ones too');
  const secret = (await admin.page.textContent('#md5-secret')).trim();
  check(/^[A-Za-z0-9]{24}$/.test(secret), 'the admin sees the 24-character secret');
  await admin.page.screenshot({ path: `${shots}/request-bgp.png`, fullPage: true });
  await admin.page.selectOption('#daemon', 'frr');
  const [download] = await Promise.all([
    admin.page.waitForEvent('download'),
    admin.page.click('#bgp-config button[type=submit]'),
  ]);
  check(download.suggestedFilename() === 'peerflow-request-1-frr.conf',
        `the download is named for the request and daemon: ${download.suggestedFilename()}`);
  const text = await readFile(await download.path(), 'utf8');
  check(text.includes('router bgp 64500'), "the file is Alpha's FRR configuration");
  check(text.includes('neighbor 100.64.0.1 remote-as 64501'), 'with Beta as the neighbour');
  check(text.includes(secret), 'and the secret the page showed');

  // 2. Alpha's engineer: addresses only
  const eng = await login('eng@alpha.example');
  await eng.page.goto(`${base}/requests/1`);
  check((await eng.page.textContent('#bgp-ipv4')).includes('100.64.0.0'), 'the engineer sees the addresses');
  check((await eng.page.locator('#md5-secret').count()) === 0, 'but not the secret');
  check((await eng.page.locator('#bgp-config').count()) === 0, 'nor the configuration download');
  const direct = await eng.page.goto(`${base}/requests/1/bgp-config?daemon=bird2`);
  check(direct.status() === 403, `the download URL refuses the engineer too: ${direct.status()}`);

  // 3. Beta's admin edits Beta's routing facts
  const beta = await login('admin@beta.example');
  await beta.page.goto(`${base}/networks/64501`);
  check((await beta.page.locator('#facts-form').count()) === 1, "Beta's admin may edit Beta's facts");
  await beta.page.fill('#prefixes_text', '203.0.113.0/24\n10.20.0.0/16\n');
  await beta.page.fill('#max_prefix4', '250');
  await beta.page.click('#facts-form button[type=submit]');
  await beta.page.locator('#error').waitFor();
  check((await beta.page.textContent('#error')).includes('10.20.0.0/16 is a bogon'),
        'the bogon is refused with the reason');
  check((await beta.page.inputValue('#prefixes_text')).includes('10.20.0.0/16'), 'the typed prefixes are kept');
  await beta.page.screenshot({ path: `${shots}/network-facts-error.png`, fullPage: true });
  await beta.page.fill('#prefixes_text', '203.0.113.0/24\n2001:db8:b::/48\n198.18.0.0/15\n');
  await beta.page.click('#facts-form button[type=submit]');
  await beta.page.waitForURL(`${base}/networks/64501`);
  const listed = await beta.page.textContent('#prefixes');
  check(listed.includes('198.18.0.0/15') && listed.includes('2001:db8:b::/48'), `the new set is shown: ${listed}`);
  check((await beta.page.textContent('#facts')).includes('250'), 'and the new max-prefix');
  await beta.page.goto(`${base}/networks/64500`);
  check((await beta.page.locator('#facts-form').count()) === 0, "but not Alpha's");

  // 4. a request with IPv6 off and a secret
  await admin.page.goto(`${base}/requests/new`);
  await admin.page.fill('#peer_asn', '64502');
  await admin.page.selectOption('#port', 'alpha-trunk');
  await admin.page.fill('#vlan', '777');
  await admin.page.selectOption('#bgp_ipv6', 'false');
  await admin.page.check('#bgp_md5');
  await admin.page.click('button:has-text("Send request")');
  await admin.page.waitForURL(/\/requests\/\d+$/);
  const id = admin.page.url().match(/\/requests\/(\d+)$/)[1];
  const api = await admin.ctx.request.get(`${base}/requests/${id}`);
  check(api.ok(), 'the new request page opens');
  check((await admin.page.textContent('#bgp')).includes('TCP-MD5'), 'the page says a secret will be set');
  console.log(`bgp.mjs: ${check.passed} checks passed (request ${id})`);
} finally {
  await browser.close();
}
