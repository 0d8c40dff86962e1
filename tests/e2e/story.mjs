// The browser steps of the end-to-end story (tests/e2e/story_test.sh):
// Debian's headless Chromium driven by playwright-core, against the real
// `peerflow serve`. The shell script drives the story and calls one step
// at a time, in between reading mail, polling, pinging and dumping flows.
//
// usage: node story.mjs BASE_URL SHOT_DIR STEP ARGS...
//   submit EMAIL PASSWORD PEER_ASN PORT MESSAGE SHOT   files a request; prints id=N
//   approve EMAIL PASSWORD ID SHOT                     an admin approves in the UI
//   link URL approve|reject SHOT                       a contact decides by the mailed link
//   link-refused URL CODE SHOT                         the link is refused with CODE
//   show EMAIL PASSWORD ID STATE SHOT                  the request page shows STATE
//   teardown EMAIL PASSWORD ID SHOT                    an admin clicks "Tear down"
//   pictures EMAIL PASSWORD ID SWITCHES SHOT           the request page's path diagram and
//                                                      traffic graph (SWITCHES: s1,s2,s3)
//   fabric EMAIL PASSWORD SWITCHES SHOT                an operator's fabric page: the topology
//
// Prints one line per check ("ok ..." or "FAIL ...") and at the end
// "checks: N passed, M failed"; exits non-zero on any failure.
import { createRequire } from 'node:module';

// playwright-core is installed once, for all browser tests, in tests/browser
const require = createRequire(new URL('../browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [base, shots, step, ...args] = process.argv.slice(2);
let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) {
    passed++;
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}`);
  }
  return cond;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function fresh() {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  ctx.setDefaultTimeout(10000);
  return { ctx, page: await ctx.newPage() };
}

async function login(email, password) {
  const { ctx, page } = await fresh();
  await page.goto(`${base}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
  check((await page.textContent('h1')).includes('Dashboard'), `${email} logs in and sees the dashboard`);
  return { ctx, page };
}

const text = async (page, sel) => ((await page.textContent(sel)) || '').trim();

try {
  switch (step) {
    case 'submit': {
      const [email, password, peerAsn, port, message, shot] = args;
      const { page } = await login(email, password);
      await page.click('text=New request');
      await page.waitForURL(`${base}/requests/new`);
      await page.fill('#peer_asn', peerAsn);
      await page.selectOption('#port', port);
      await page.fill('#message', message);
      await page.screenshot({ path: `${shots}/${shot}-form.png`, fullPage: true });
      await page.click('button:has-text("Send request")');
      await page.waitForURL(/\/requests\/\d+$/);
      const id = page.url().match(/\/requests\/(\d+)$/)[1];
      check(await text(page, '#state') === 'pending', `request #${id} is pending after submission`);
      check((await text(page, '#timeline')).includes('request.submitted'), 'the timeline shows the submission');
      // an engineer submits and cancels; approving is for admins
      check(await page.locator('button.btn-approve').count() === 0, 'the engineer is offered no Approve button');
      check(await page.locator('button.btn-cancel').count() === 1, 'the engineer may cancel');
      await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
      console.log(`id=${id}`);
      break;
    }
    case 'approve': {
      const [email, password, id, shot] = args;
      const { page } = await login(email, password);
      const waiting = page.locator(`#waiting a[href="/requests/${id}"]`);
      check(await waiting.count() === 1, `request #${id} waits on ${email}'s dashboard`);
      await page.goto(`${base}/requests/${id}`);
      const approve = page.locator('button.btn-approve');
      check(await approve.count() === 1, `${email} is offered Approve`);
      await approve.click();
      await page.waitForURL(`${base}/requests/${id}`);
      const approvals = await text(page, 'ul.approvals');
      check(/requester .*approve.* by .*via web/s.test(approvals),
            `the page lists the requester's approval by ${email} via web (${approvals.replace(/\s+/g, ' ')})`);
      check(await text(page, '#state') === 'pending', 'the request still waits on the peer');
      check(await page.locator('button.btn-approve').count() === 0, 'Approve is gone once decided');
      await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
      break;
    }
    case 'link': {
      const [url, decision, shot] = args;
      const { page } = await fresh();
      const resp = await page.goto(url);
      check(resp.status() === 200, `the link page answers 200 (got ${resp.status()})`);
      const h = resp.headers();
      check(/no-store/.test(h['cache-control'] || ''), 'the link page is Cache-Control: no-store');
      check((h['referrer-policy'] || '') === 'no-referrer', 'the link page is Referrer-Policy: no-referrer');
      const radios = page.locator('#decide input[name=decision]');
      check(await radios.count() === 2, 'the form offers approve and reject');
      check(await page.locator('#decide input[name=decision]:checked').count() === 0,
            'no decision is preselected');
      await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
      // what a link scanner that submits forms does: nothing is decided
      await page.click('#decide button[type=submit]');
      await page.locator('#error').waitFor();
      check(await page.locator('#decide').count() === 1, 'a POST without a choice shows the form again');
      check(await page.locator('#decide input[name=decision]:checked').count() === 0,
            'still nothing preselected');
      // the person chooses
      await page.check(`#decide input[name=decision][value=${decision}]`);
      await page.click('#decide button[type=submit]');
      await page.locator('#done').waitFor();
      const done = await text(page, '#done');
      const past = decision === 'approve' ? 'approved' : 'rejected';
      check(done.includes(past), `the contact is thanked: "${done}"`);
      await page.screenshot({ path: `${shots}/${shot}-done.png`, fullPage: true });
      break;
    }
    case 'link-refused': {
      const [url, code, shot] = args;
      const { page } = await fresh();
      await page.goto(url);
      const got = await page.getAttribute('#error', 'data-code');
      check(got === code, `the link is refused with ${code} (got ${got}: ${await text(page, '#error')})`);
      check(await page.locator('#decide').count() === 0, 'no decision form is shown');
      await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
      break;
    }
    case 'show': {
      const [email, password, id, state, shot] = args;
      const { page } = await login(email, password);
      await page.goto(`${base}/requests/${id}`);
      check(await text(page, '#state') === state, `${email} sees request #${id} ${state}`);
      const main = await text(page, 'main');
      if (state === 'active') {
        const circuit = main.match(/Circuit (\d+) \(cookie (0x[0-9a-f]+)\): (\w+)/);
        check(circuit && circuit[3] === 'installed', `the page shows the circuit installed (${circuit && circuit[0]})`);
        if (circuit) console.log(`cookie=${circuit[2]}`);
        const approvals = await text(page, 'ul.approvals');
        check(/via web/.test(approvals) && /via (email|link)/.test(approvals),
              `both approvals are listed, by web and by email link (${approvals.replace(/\s+/g, ' ')})`);
        check(await page.locator('button.btn-decommission').count() === 1, 'Tear down is offered');
      }
      await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
      break;
    }
    case 'teardown': {
      const [email, password, id, shot] = args;
      const { page } = await login(email, password);
      await page.goto(`${base}/requests/${id}`);
      const down = page.locator('button.btn-decommission');
      check(await down.count() === 1, `${email} is offered Tear down`);
      await down.click();
      await page.waitForURL(`${base}/requests/${id}`);
      const st = await text(page, '#state');
      check(st === 'decommissioning' || st === 'decommissioned', `after Tear down the request is ${st}`);
      check((await text(page, '#timeline')).includes('request.decommission_requested'),
            'the timeline shows the teardown request');
      await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
      break;
    }
    case 'pictures': {
      // the active circuit's pictures: server-rendered SVG, the switches named
      const [email, password, id, switches, shot] = args;
      const { page } = await login(email, password);
      await page.goto(`${base}/requests/${id}?range=1h#traffic`);
      const path = page.locator('section#traffic svg#path-diagram');
      check(await path.count() === 1, 'the request page has the path diagram (SVG)');
      const pathText = (await path.count()) ? await path.textContent() : '';
      for (const sw of switches.split(','))
        check(pathText.includes(sw), `the path diagram names switch ${sw}`);
      const graph = page.locator('section#traffic svg#traffic-graph');
      check(await graph.count() === 1, 'the request page has the traffic graph (SVG)');
      // each direction's line rises above the zero line somewhere (SVG y grows downwards)
      const plot = graph.locator('rect.plot');
      const zero = Number(await plot.getAttribute('y')) + Number(await plot.getAttribute('height'));
      for (const cls of ['line-ab', 'line-ba']) {
        const d = (await graph.locator(`path.${cls}`).getAttribute('d')) || '';
        const pts = [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
        const up = pts.filter(([, y]) => y < zero - 1);
        const wide = up.length > 1 && Math.max(...up.map(([x]) => x)) > Math.min(...up.map(([x]) => x));
        check(wide, `the graph's ${cls} line rises above zero over a visible width (${up.length} of ${pts.length} points)`);
      }
      const table = await text(page, '#traffic-table');
      check(/[1-9][0-9.]* (bit|kbit|Mbit)\/s/.test(table),
            `the graph's table shows a non-zero rate (${table.slice(0, 80).replace(/\s+/g, ' ')})`);
      await page.locator('#traffic').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
      // the pictures alone, for the README
      await graph.screenshot({ path: `${shots}/${shot}-graph.png` });
      await path.screenshot({ path: `${shots}/${shot}-path.png` });
      break;
    }
    case 'fabric': {
      const [email, password, switches, shot] = args;
      const { page } = await login(email, password);
      await page.goto(`${base}/fabric`);
      const topo = page.locator('svg#topology');
      check(await topo.count() === 1, 'the fabric page has the topology (SVG)');
      const topoText = (await topo.count()) ? await topo.textContent() : '';
      for (const sw of switches.split(','))
        check(topoText.includes(sw), `the topology shows switch ${sw}`);
      const n = switches.split(',').length;
      check(await page.locator('svg#topology g.node.switch.conn-connected').count() === n,
            `the topology draws ${n} switch nodes, coloured connected`);
      await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
      await topo.screenshot({ path: `${shots}/${shot}-topology.png` });
      break;
    }
    default:
      check(false, `unknown step '${step}'`);
  }
} catch (e) {
  check(false, `${step}: ${e.message.split('\n')[0]}`);
} finally {
  await browser.close();
}
console.log(`checks: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
