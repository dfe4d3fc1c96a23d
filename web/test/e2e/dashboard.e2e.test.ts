// The dashboard in a real browser against a real daemon fed by softflowd: Overview, Portgroups and VIPs draw
// series with the names the inventory gives and non-zero data, the URL restores a view, a brush zooms, a bad
// filter shows its position, dark/light toggles, and an empty store says what to do. Screenshots of each page
// go to test-output/screenshots/.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDashboard, readCharts, replayCapture, screenshot, PORTGROUPS, VIPS, type Dashboard, type ChartSeries } from './harness.ts';

const names = (s: ChartSeries[]) => s.map((x) => x.name).sort();
const nonZero = (s: ChartSeries[], name: string) => (s.find((x) => x.name === name)?.total ?? 0) > 0 && (s.find((x) => x.name === name)?.max ?? 0) > 0;

/** Wait until the URL's query satisfies `check` (writes to the URL are batched in a microtask, then navigated). */
async function waitForQuery(d: Dashboard, check: (q: URLSearchParams) => boolean, what: string): Promise<URLSearchParams> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const q = new URL(d.page.url()).searchParams;
    if (check(q)) return q;
    if (Date.now() > deadline) throw new Error(`URL never got ${what}: ${d.page.url()}`);
    await d.page.waitForTimeout(100);
  }
}

describe('dashboard end to end', { timeout: 300_000 }, () => {
  let d: Dashboard;
  before(async () => {
    d = await startDashboard();
  });
  after(async () => {
    await d?.close();
  });

  test('Overview: protocol, portgroup and VIP series with data, one small chart per portgroup', async () => {
    await d.page.goto(`${d.url}/`);
    const charts = await readCharts(d.page, '[data-page="overview"]');
    // flows/s, packets/s, bits/s by protocol; by portgroup; by VIP; then the small multiples
    assert.ok(charts.length >= 5 + PORTGROUPS.length, `charts: ${charts.length}`);
    for (const m of charts.slice(0, 3)) {
      assert.ok(names(m).includes('TCP') && names(m).includes('UDP'), `protocol series: ${names(m)}`);
      assert.ok(nonZero(m, 'TCP') && nonZero(m, 'UDP'));
      for (const n of names(m)) assert.ok(['TCP', 'UDP', 'ICMP', 'other'].includes(n), `nfsen protocol names only: ${n}`);
    }
    const byPg = await readCharts(d.page, '[data-chart="portgroup"]');
    for (const pg of PORTGROUPS) assert.ok(nonZero(byPg[0], pg), `portgroup ${pg} in ${JSON.stringify(byPg[0])}`);
    const byVip = await readCharts(d.page, '[data-chart="vip"]');
    for (const v of VIPS) assert.ok(nonZero(byVip[0], v), `VIP ${v} in ${JSON.stringify(byVip[0])}`);
    const multiples = await d.page.$$eval('[data-chart="multiples"] [data-portgroup]', (els) => els.map((e) => e.getAttribute('data-portgroup')));
    for (const pg of PORTGROUPS) assert.ok(multiples.includes(pg), `small multiple for ${pg}: ${multiples}`);
    const flows = await d.page.textContent('[data-testid="summary"] .fig b');
    assert.equal(flows?.trim(), String(d.fed.flows), 'the summary counts every flow fed');
    await screenshot(d.page, 'overview');
  });

  test('Overview: split, window and filter go to the URL, change the numbers, and survive a reload', async () => {
    await d.page.goto(`${d.url}/`);
    const before = await readCharts(d.page, '[data-page="overview"]');
    const bitsBefore = before[2].reduce((s, x) => s + x.total, 0);

    await d.page.click('[data-testid="split"] [data-key="portgroup"]');
    await d.page.click('[data-window="6h"]');
    await d.page.fill('[data-testid="filter-input"] input', 'proto udp');
    await d.page.press('[data-testid="filter-input"] input', 'Enter');
    await waitForQuery(d, (q) => q.get('split') === 'portgroup' && q.get('window') === '6h' && q.get('filter') === 'proto udp', 'split, window, filter');
    await d.page.waitForFunction(() => {
      const c = document.querySelector('[data-chart="metric-bps"] [data-testid="timeseries-chart"]');
      return c?.getAttribute('data-loading') === 'false' && !(c.getAttribute('data-series') ?? '').includes('"TCP"');
    });
    const check = async () => {
      const charts = await readCharts(d.page, '[data-page="overview"]');
      const pgNames = names(charts[2]);
      assert.ok(pgNames.includes('campus'), `bits/s by portgroup now: ${pgNames}`);
      assert.ok(!pgNames.includes('TCP'));
      // ssh (lab) is all TCP: gone with 'proto udp'
      assert.ok(!pgNames.includes('lab'), `lab has no UDP: ${pgNames}`);
      const bits = charts[2].reduce((s, x) => s + x.total, 0);
      assert.ok(bits > 0 && bits < bitsBefore, `the filter lowers the total: ${bits} vs ${bitsBefore}`);
      assert.equal(await d.page.inputValue('[data-testid="filter-input"] input'), 'proto udp');
      assert.equal(await d.page.getAttribute('[data-window="6h"]', 'class'), 'active');
      assert.match((await d.page.getAttribute('[data-testid="split"] [data-key="portgroup"]', 'class')) ?? '', /active/);
    };
    await check();
    await d.page.reload();
    await check();
    await screenshot(d.page, 'overview-split-filter');
  });

  test('Overview: a bad filter shows the position the API gives', async () => {
    await d.page.goto(`${d.url}/?filter=${encodeURIComponent('proto tcp and port')}`);
    const err = await d.page.waitForSelector('[data-testid="filter-error"]', { timeout: 15_000 });
    const text = (await err.textContent()) ?? '';
    assert.match(text, /port/i);
    // the caret line points at the end of the filter (position 19, after 'port')
    const caret = await d.page.textContent('[data-testid="filter-error"] .caret');
    assert.equal(caret?.indexOf('^'), 'proto tcp and port'.length, `caret: ${JSON.stringify(caret)}`);
  });

  test('Overview: dragging across a chart sets a custom window (time cursor)', async () => {
    await d.page.goto(`${d.url}/`);
    await readCharts(d.page, '[data-page="overview"]');
    const box = await d.page.locator('[data-chart="portgroup"] canvas').first().boundingBox();
    assert.ok(box);
    const y = box.y + box.height / 2;
    await d.page.mouse.move(box.x + box.width * 0.3, y);
    await d.page.mouse.down();
    await d.page.mouse.move(box.x + box.width * 0.5, y, { steps: 8 });
    await d.page.mouse.move(box.x + box.width * 0.7, y, { steps: 8 });
    await d.page.mouse.up();
    const q = await waitForQuery(d, (p) => p.get('window') === 'custom' && !!p.get('from') && !!p.get('to'), 'a custom window');
    const from = Number(q.get('from'));
    const to = Number(q.get('to'));
    assert.ok(to > from && to - from < 3_600_000, `a part of the hour: ${from}..${to}`);
    assert.equal(await d.page.getAttribute('[data-window="custom"]', 'class'), 'active');
    // Back returns to the hour
    await d.page.goBack();
    await waitForQuery(d, (p) => p.get('window') !== 'custom', 'the previous window after Back');
  });

  test('Overview: a window ending now follows new flows without a reload (server-sent events)', async () => {
    await d.page.goto(`${d.url}/`);
    await readCharts(d.page, '[data-page="overview"]');
    const flowsShown = async () => Number((await d.page.textContent('[data-testid="summary"] .fig b'))?.trim());
    const before = await flowsShown();
    assert.ok(before > 0);
    await d.page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 1));
    await replayCapture(d, 'ids/zeek/nmap-vsn.pcap', Date.now() - 90_000);
    await d.page.waitForFunction((n) => Number(document.querySelector('[data-testid="summary"] .fig b')?.textContent?.trim()) > n, before, { timeout: 20_000 });
    assert.equal(await d.page.evaluate(() => (window as unknown as { __marker?: number }).__marker), 1, 'same page, not reloaded');
    d.fed.flows = await flowsShown();
  });

  test('dark/light toggle follows the system first, then the user, and is remembered', async () => {
    await d.page.goto(`${d.url}/`);
    const theme = () => d.page.evaluate(() => document.documentElement.dataset.theme);
    const bg = () => d.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await theme(), 'light', 'the browser context prefers light');
    const light = await bg();
    await d.page.click('[data-testid="theme-toggle"]');
    assert.equal(await theme(), 'dark');
    assert.notEqual(await bg(), light);
    await d.page.reload();
    assert.equal(await theme(), 'dark', 'the choice survives a reload');
    await readCharts(d.page, '[data-page="overview"]');
    await d.page.waitForTimeout(300);
    await screenshot(d.page, 'overview-dark');
    await d.page.click('[data-testid="theme-toggle"]');
    assert.equal(await theme(), 'light');
  });

  test('Portgroups: traffic per portgroup, a portgroup picked from the URL, talkers, ports, inventory', async () => {
    await d.page.goto(`${d.url}/portgroups`);
    const all = await readCharts(d.page, '[data-chart="portgroups"]');
    for (const pg of PORTGROUPS) assert.ok(nonZero(all[0], pg), `portgroup ${pg}: ${JSON.stringify(all[0])}`);
    const inventory = await d.page.$$eval('[data-table="inventory"] tbody tr td:first-child', (els) => els.map((e) => e.textContent?.trim()));
    assert.deepEqual(inventory.sort(), [...PORTGROUPS].sort());

    await d.page.click('[data-pg="lab"]');
    await waitForQuery(d, (q) => q.get('pg') === 'lab', 'pg=lab');
    await d.page.click('[data-chart="portgroup-detail"] [data-key="srcip"]');
    await waitForQuery(d, (q) => q.get('split') === 'srcip', 'split=srcip');
    await d.page.reload();
    const detail = await readCharts(d.page, '[data-chart="portgroup-detail"]');
    assert.deepEqual(names(detail[0]), ['192.168.56.1', '192.168.56.103'], 'the lab portgroup by source address');
    assert.ok(nonZero(detail[0], '192.168.56.1'));
    await d.page.waitForSelector('[data-table="talkers-src"] tbody tr');
    const talkers = await d.page.$$eval('[data-table="talkers-src"] tbody td.key', (els) => els.map((e) => e.textContent?.trim()));
    assert.deepEqual(talkers.sort(), ['192.168.56.1', '192.168.56.103'], 'top talkers restricted to the portgroup');
    const ports = await d.page.$$eval('[data-table="ports"] tbody td.key', (els) => els.map((e) => e.textContent?.trim()));
    assert.ok(ports.includes('22'), `ssh port among the top ports: ${ports}`);
    await screenshot(d.page, 'portgroups');
  });

  test('VIPs: per VIP traffic by leg, clients, real-server shares with evenness, clients moved, sankey, legs', async () => {
    await d.page.goto(`${d.url}/vips?vip=web`);
    const traffic = await readCharts(d.page, '[data-chart="vip-traffic"]');
    assert.ok(nonZero(traffic[0], 'client-vip'), `legs: ${JSON.stringify(traffic[0])}`);
    assert.ok(nonZero(traffic[0], 'lb-server'));
    for (const n of names(traffic[0])) assert.ok(['client-vip', 'vip-client', 'lb-server', 'server-lb', 'server-client'].includes(n), n);
    const shares = JSON.parse((await d.page.getAttribute('[data-testid="share-chart"]', 'data-shares', { timeout: 15_000 })) ?? '[]') as { name: string; actual: number; expected: number }[];
    assert.deepEqual(shares.map((s) => s.name).sort(), ['web1', 'web2', 'web3']);
    assert.ok(Math.abs(shares.reduce((s, x) => s + x.actual, 0) - 1) < 1e-9, 'shares add up to 1');
    for (const s of shares) assert.ok(s.actual > 0 && Math.abs(s.expected - 1 / 3) < 1e-9, JSON.stringify(s));
    const evenness = await d.page.textContent('[data-testid="evenness"] b');
    assert.match(evenness ?? '', /^\d+ %$/);
    assert.ok(Number(await d.page.getAttribute('[data-testid="sankey-chart"]', 'data-links')) >= 2, 'client /24 → VIP → server links');
    const clients = await d.page.$$eval('[data-table="clients"] tbody td.key', (els) => els.map((e) => e.textContent?.trim()));
    assert.deepEqual(clients, ['192.168.1.71']);
    const legs = await d.page.$$eval('[data-table="legs"] tr[data-leg]', (els) => els.map((e) => e.getAttribute('data-leg')));
    assert.ok(legs.includes('client-vip') && legs.includes('lb-server'), `legs: ${legs}`);
    assert.equal((await d.page.textContent('[data-testid="anomalies"] b'))?.trim(), 'none', 'NAT with no direct return');
    // LVS NAT keeps the client as the source towards the servers: nmap's client reached all three (moved), and
    // round robin asks for no persistence, so the figure is not highlighted.
    await d.page.waitForSelector('[data-testid="clients-moved"][data-measurable="true"]', { timeout: 15_000 });
    assert.match((await d.page.textContent('[data-testid="clients-moved"] b'))?.trim() ?? '', /^\d+ of \d+ clients? \(\d+(\.\d)? %\)$/);
    assert.ok(Number(await d.page.getAttribute('[data-testid="clients-moved"]', 'data-moved')) >= 1, 'the nmap client moved');
    assert.equal(await d.page.getAttribute('[data-testid="clients-moved"]', 'data-persistent'), 'false');
    assert.ok(await d.page.$('[data-testid="moved-clients"] li[data-client="192.168.1.71"]'), 'the moved client is listed');
    await screenshot(d.page, 'vips-web');

    await d.page.click('[data-vip="wiki"]');
    await waitForQuery(d, (q) => q.get('vip') === 'wiki', 'vip=wiki');
    await d.page.waitForFunction(() => document.querySelector('[data-testid="vip-facts"]')?.textContent?.includes('208.80.152.118:80'));
    await d.page.waitForFunction(() => [...document.querySelectorAll('[data-table="clients"] tbody td.key')].some((e) => e.textContent?.trim() === '141.142.220.118'));
    const wikiShares = JSON.parse((await d.page.getAttribute('[data-testid="share-chart"]', 'data-shares')) ?? '[]') as { name: string }[];
    assert.deepEqual(wikiShares.map((s) => s.name).sort(), ['wiki-a', 'wiki-b']);
    // HAProxy connects to the servers from its own address: no flow ties a client to a server.
    await d.page.waitForSelector('[data-testid="clients-moved"][data-measurable="false"]', { timeout: 15_000 });
    assert.equal((await d.page.textContent('[data-testid="clients-moved"] b'))?.trim(), 'not measurable (proxy mode: …)');
    await screenshot(d.page, 'vips-wiki');
  });
});

describe('dashboard with an empty store', { timeout: 180_000 }, () => {
  let d: Dashboard;
  before(async () => {
    d = await startDashboard({ feed: false });
  });
  after(async () => {
    await d?.close();
  });

  test('Overview says what to do when no flow ever arrived', async () => {
    await d.page.goto(`${d.url}/`);
    const box = await d.page.waitForSelector('[data-testid="no-flows"]', { timeout: 15_000 });
    assert.match((await box.textContent()) ?? '', /no flows yet: point a dvSwitch at UDP 23456/i);
    await screenshot(d.page, 'overview-empty');
  });

  test('Overview offers the period of stored flows that lie outside the window (a capture keeps its times)', async () => {
    // wikipedia.pcap replayed with its own packet times: March 2011, far outside "last hour".
    const start = Date.UTC(2011, 2, 18, 19, 6, 7);
    await replayCapture(d, 'ids/zeek/wikipedia.pcap', start);
    await d.page.goto(`${d.url}/`);
    const box = await d.page.waitForSelector('[data-testid="stored-elsewhere"]', { timeout: 20_000 });
    assert.match((await box.textContent()) ?? '', /2011-03-18/);
    await d.page.click('[data-testid="show-stored"]');
    await d.page.waitForFunction(() => new URL(location.href).searchParams.get('window') === 'custom');
    const from = Number(new URL(d.page.url()).searchParams.get('from'));
    assert.ok(from <= start && start - from < 3_600_000, `the window starts at the hour of the first flow (${new Date(from).toISOString()})`);
    await d.page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="summary"]');
      return el !== null && !/^\s*0\s*flows/.test(el.textContent ?? '');
    }, undefined, { timeout: 15_000 });
    assert.equal(await d.page.$('[data-testid="stored-elsewhere"]'), null, 'the notice is gone once the window holds the flows');
    await screenshot(d.page, 'overview-stored-elsewhere');
  });
});
