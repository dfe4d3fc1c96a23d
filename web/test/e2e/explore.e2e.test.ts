// End to end, in a real browser against a real daemon fed by softflowd: the Explore page (filter editor,
// validation position, top-N statistics, CSV, the command line run through the real CLI, URL state), the
// Exporters page, the Channels page (token, creating a channel, its series) and the Alerts page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { readCharts, repoRoot, screenshot, startDashboard, type Dashboard } from './harness.ts';

const run = promisify(execFile);
let d: Dashboard;

before(async () => {
  d = await startDashboard();
}, { timeout: 600_000 });

after(async () => {
  await d?.close();
});

interface Summary { flows: number; bytes: number; packets: number }
interface StatRow { key: string | number; flows: number; bytes: number }

async function apiQuery(body: Record<string, unknown>): Promise<{ summary: Summary; statistics?: { rows: StatRow[] }[] }> {
  const res = await fetch(`${d.api}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { summary: Summary; statistics?: { rows: StatRow[] }[] };
}

/** Flows in the summary once a run has finished (and differs from `not`, when given). */
async function summaryFlows(page: Page, not?: number): Promise<number> {
  await page.waitForFunction(
    (prev) => {
      const s = document.querySelector('[data-testid="summary"]');
      const running = document.querySelector('[data-testid="run"]')?.hasAttribute('disabled');
      return s && !running && (prev === null || Number(s.getAttribute('data-flows')) !== prev);
    },
    not ?? null,
    { timeout: 20_000 },
  );
  return Number(await page.getAttribute('[data-testid="summary"]', 'data-flows'));
}

/** Replace the editor's text the way a user does: select all, type. */
async function typeFilter(page: Page, text: string): Promise<void> {
  await page.click('[data-testid="filter-input"]');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  if (text) await page.keyboard.type(text, { delay: 10 });
  await page.keyboard.press('Escape'); // close a completion list, if one is open
}

const lastHour = () => ({ from: Date.now() - 3_600_000, to: Date.now() });

test('explore: a typed filter changes the numbers, as the API counts them', { timeout: 120_000 }, async () => {
  const page = d.page;
  await page.goto(`${d.url}/explore`);
  const all = await summaryFlows(page);
  assert.ok(all > 0, 'flows in the last hour');
  const api = await apiQuery(lastHour());
  assert.equal(all, api.summary.flows);

  // completion asks the API: after 'portgroup' come the inventory's portgroups
  await typeFilter(page, 'proto udp and portgroup ');
  await page.keyboard.press('Control+Space');
  const list = page.locator('.cm-tooltip-autocomplete');
  await list.waitFor({ timeout: 10_000 });
  const offered = await list.locator('li').allTextContents();
  for (const pg of ['campus', 'lab', 'office', 'wiki-dc']) assert.ok(offered.includes(pg), `completion offers ${pg}: ${offered.join(',')}`);
  await screenshot(page, 'explore-completion');

  await typeFilter(page, 'proto udp');
  await page.keyboard.press('Control+Enter');
  const udp = await summaryFlows(page, all);
  const apiUdp = await apiQuery({ filter: 'proto udp', ...lastHour() });
  assert.equal(udp, apiUdp.summary.flows);
  assert.ok(udp > 0 && udp < all, `udp ${udp} of ${all}`);
  assert.equal(new URL(page.url()).searchParams.get('filter'), 'proto udp');
  // the chart follows the filter: its series are UDP only
  const charts = await readCharts(page);
  assert.ok(charts[0]!.length > 0, 'the chart has series');
  assert.deepEqual(charts[0]!.filter((s) => s.total > 0).map((s) => s.name), ['UDP']);
  await screenshot(page, 'explore-filter');
});

test('explore: a bad filter shows its error position', { timeout: 60_000 }, async () => {
  const page = d.page;
  await typeFilter(page, 'proto tcp and port');
  const err = page.locator('[data-testid="filter-error"]');
  await err.waitFor({ timeout: 10_000 });
  const text = await err.textContent();
  assert.match(text ?? '', /position 19\b/);
  assert.match(text ?? '', /port/);
  // the lint marks the spot in the editor too
  assert.ok((await page.locator('.cm-lintPoint-error, .cm-lintRange-error').count()) > 0, 'a lint mark in the editor');
  // running it anyway: the query API answers 400 with the position, shown as such
  await page.keyboard.press('Control+Enter');
  await page.locator('[data-testid="query-error"]').waitFor({ timeout: 10_000 });
  assert.match((await page.textContent('[data-testid="query-error"]')) ?? '', /error at 19/);
  await screenshot(page, 'explore-bad-filter');
  await typeFilter(page, 'proto tcp');
  await page.locator('[data-testid="filter-error"]').waitFor({ state: 'detached', timeout: 10_000 });
});

test('explore: top-N statistics, CSV download, the command line through the real CLI, URL restore', { timeout: 180_000 }, async () => {
  const page = d.page;
  await page.keyboard.press('Control+Enter'); // runs 'proto tcp'
  await page.click('[data-testid="mode-stats"]');
  await page.selectOption('[data-testid="stat-element-0"]', 'dstport');
  await page.click('[data-testid="stat-order-0-flows"]'); // turn flows on (bytes was the default)
  await page.click('[data-testid="stat-order-0-bytes"]'); // and bytes off: dstport/flows
  await page.fill('[data-testid="opt-n"]', '5');
  await page.press('[data-testid="opt-n"]', 'Tab');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('n') === '5');
  const flows = await summaryFlows(page);
  const table = page.locator('[data-testid="stat-table"]');
  await table.first().waitFor();
  assert.equal(await table.count(), 1);
  assert.match((await table.first().locator('h2').textContent()) ?? '', /Top 5 Dst Port ordered by flows/);
  const rows = table.first().locator('tbody tr');
  const uiRows = await rows.count();
  assert.ok(uiRows > 0 && uiRows <= 5, `${uiRows} rows`);

  const api = await apiQuery({ filter: 'proto tcp', statistics: ['dstport/flows'], topN: 5, ...lastHour() });
  assert.equal(api.summary.flows, flows);
  const apiRows = api.statistics![0]!.rows;
  assert.equal(uiRows, apiRows.length);

  // CSV: nfdump's header, the same keys and counts as the API, percentages of the summary
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="csv-stat-0"]')]);
  assert.match(download.suggestedFilename(), /^dvflow-stats-dstport-flows-.*\.csv$/);
  const csv = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
  assert.equal(csv[0], 'ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,ipps,ibps,ibpp');
  assert.equal(csv.length - 1, apiRows.length);
  for (let i = 0; i < apiRows.length; i++) {
    const cells = csv[i + 1]!.split(',');
    assert.equal(cells[4], String(apiRows[i]!.key));
    assert.equal(Number(cells[5]), apiRows[i]!.flows);
    assert.equal(cells[6], ((apiRows[i]!.flows * 100) / flows).toFixed(1));
    assert.equal(Number(cells[9]), apiRows[i]!.bytes);
  }

  // the command line says what the form says, and the CLI answers the same
  const cmd = (await page.textContent('[data-testid="query-command"]'))!.trim();
  assert.equal(cmd, `dvflow query --api ${d.url} -t -3600 -s dstport/flows -n 5 'proto tcp'`);
  const { stdout } = await run('sh', ['-c', cmd.replace(/^dvflow /, `"${process.execPath}" "${join(repoRoot, 'collector', 'bin', 'dvflow.js')}" `)], { timeout: 60_000 });
  assert.match(stdout, new RegExp(`Summary: total flows: ${flows},`));
  assert.match(stdout, /Top 5 Dst Port ordered by flows:/);
  await screenshot(page, 'explore-stats');
  await page.click('[data-testid="theme-toggle"]');
  await screenshot(page, 'explore-stats-dark');
  await page.click('[data-testid="theme-toggle"]');

  // a reload restores the view from the URL
  const url = page.url();
  await page.reload();
  assert.equal(await summaryFlows(page), flows);
  assert.equal(page.url(), url);
  assert.equal(await page.inputValue('[data-testid="stat-element-0"]'), 'dstport');
  assert.equal(await page.inputValue('[data-testid="opt-n"]'), '5');
  assert.equal((await page.textContent('[data-testid="filter-input"]'))?.trim(), 'proto tcp');
  assert.equal((await page.textContent('[data-testid="query-command"]'))!.trim(), cmd);
  assert.equal(await table.first().locator('tbody tr').count(), uiRows);
});

test('explore: list flows with aggregation; the command line follows the form', { timeout: 120_000 }, async () => {
  const page = d.page;
  await page.click('[data-testid="mode-list"]');
  await page.fill('[data-testid="opt-A"]', 'srcip4/24,dstport');
  await page.press('[data-testid="opt-A"]', 'Tab');
  await page.selectOption('[data-testid="opt-O"]', 'bytes');
  await page.fill('[data-testid="opt-c"]', '20');
  await page.press('[data-testid="opt-c"]', 'Tab');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('c') === '20');
  const flowTable = page.locator('[data-testid="flow-table"]');
  await flowTable.waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]')?.hasAttribute('disabled'));
  const rows = await flowTable.locator('tbody tr').count();
  assert.ok(rows > 0 && rows <= 20);
  const heads = await flowTable.locator('thead th').allTextContents();
  assert.ok(heads.includes('Src IP Addr') && heads.includes('Dst Port') && heads.includes('Flows'), heads.join('|'));
  assert.ok(!heads.includes('Src Port'), 'only the aggregated keys');
  const cmd = (await page.textContent('[data-testid="query-command"]'))!.trim();
  assert.equal(cmd, `dvflow query --api ${d.url} -t -3600 -A srcip4/24,dstport -O bytes -c 20 'proto tcp'`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="csv-flows"]')]);
  const csv = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
  assert.equal(csv[0], 'ts,td,sa,dp,ipkt,ibyt,fl');
  assert.equal(csv.length - 1, rows);
  await screenshot(page, 'explore-list');
});

test('exporters: the softflowd exporter with its flows', { timeout: 60_000 }, async () => {
  const page = d.page;
  await page.goto(`${d.url}/exporters`);
  const row = page.locator('[data-testid="exporter-row"]').first();
  await row.waitFor({ timeout: 15_000 });
  assert.equal(await row.getAttribute('data-address'), '127.0.0.1');
  const flows = Number(await row.getAttribute('data-flows'));
  assert.ok(flows > 0, `exporter flows ${flows}`);
  assert.match((await row.textContent()) ?? '', /IPFIX/);
  await screenshot(page, 'exporters');
});

test('channels: saving needs the token; with it, a channel is created and drawn', { timeout: 120_000 }, async () => {
  const page = d.page;
  await page.goto(`${d.url}/channels`);
  await page.click('[data-testid="channel-new"]');
  await page.fill('[data-testid="channel-name"]', 'udp-below');
  await page.click('[data-testid="channel-form"] [data-testid="filter-input"]');
  await page.keyboard.type('proto udp', { delay: 10 });
  await page.keyboard.press('Escape');
  await page.click('[data-testid="channel-sign-minus"]');
  await page.click('[data-testid="channel-save"]');
  const err = page.locator('[data-testid="channel-error"]');
  await err.waitFor({ timeout: 10_000 });
  assert.match((await err.textContent()) ?? '', /token.*Settings|Settings.*token/i);
  await screenshot(page, 'channels-token-needed');

  await page.click('[data-testid="settings-open"]');
  await page.fill('[data-testid="token-input"]', d.token);
  await page.click('[data-testid="token-save"]');
  await page.click('[data-testid="channel-save"]');
  await page.locator('[data-testid="channel-row"][data-name="udp-below"]').waitFor({ timeout: 10_000 });
  const res = await fetch(`${d.api}/channels`);
  const saved = ((await res.json()) as { channels: { name: string; filter: string; sign: number }[] }).channels;
  assert.deepEqual(saved.map((c) => [c.name, c.filter, c.sign]), [['udp-below', 'proto udp', -1]]);

  let s: { name: string; total: number; max: number } | undefined;
  let seen: unknown;
  for (const deadline = Date.now() + 15_000; !s && Date.now() < deadline; await page.waitForTimeout(300)) {
    const charts = await readCharts(page);
    seen = charts;
    s = charts[0]?.find((x) => x.name === 'udp-below');
  }
  assert.ok(s, `series: ${JSON.stringify(seen)}`);
  assert.ok(s.max > 0 && s.total < 0, `sign -1 draws below the axis: ${JSON.stringify(s)}`);
  await screenshot(page, 'channels');
});

test('alerts: the replayed attacks are listed; facets filter; the detail shows evidence and links to its flows', { timeout: 60_000 }, async () => {
  const page = d.page;
  await page.goto(`${d.url}/alerts`);
  await page.locator('[data-testid="alerts-table"]').waitFor({ timeout: 15_000 });
  // ssh_sshguess.pcap (password guessing on 22) and nmap-vsn.pcap (a version scan) were replayed by softflowd.
  const detectors = await page.locator('[data-testid="alert-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-detector')));
  assert.ok(detectors.includes('brute-force'), `detectors: ${detectors.join(', ')}`);
  assert.ok(detectors.includes('trw-scan') || detectors.includes('port-scan'), `detectors: ${detectors.join(', ')}`);
  await screenshot(page, 'alerts');
  // A detector chip filters the list and goes to the URL.
  await page.locator('[data-testid="facet-detector"] [data-key="brute-force"]').click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('detector') === 'brute-force');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="alert-row"]')].every((r) => r.getAttribute('data-detector') === 'brute-force'));
  await page.locator('[data-testid="alert-row"]').first().click();
  const detail = page.locator('[data-testid="alert-detail"]');
  await detail.waitFor();
  assert.match((await page.locator('[data-testid="alert-summary"]').textContent()) ?? '', /192\.168\.56\.1\b.*ssh/);
  assert.ok(Number(await page.locator('[data-testid="alert-samples"] tbody tr').count()) > 0, 'sample flows shown');
  assert.equal((await page.locator('[data-testid="alert-flow-filter"]').textContent())?.trim(), 'src ip 192.168.56.1 and dst ip 192.168.56.103 and dst port 22');
  await screenshot(page, 'alert-detail');
  await page.locator('[data-testid="alert-show-flows"]').click();
  await page.waitForURL(/\/explore/);
  assert.ok((await summaryFlows(page)) > 0, 'the alert\'s flows are found in Explore');
  // A term alerts do not have: the API's message is shown.
  await page.goto(`${d.url}/alerts?filter=${encodeURIComponent('bytes > 10')}`);
  const err = page.locator('[data-testid="alerts-error"]');
  await err.waitFor({ timeout: 10_000 });
  assert.match((await err.textContent()) ?? '', /not supported on alerts/);
});
