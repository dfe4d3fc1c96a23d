// End-to-end harness for the dashboard: the built UI served by a real `dvflow start` (embedded store, inventory
// of four CIDR portgroups and two VIPs from the fixtures), fed by softflowd replaying real captures whose
// timestamps are moved into the last hour, and a real headless chromium driven by playwright-core.
//
//   const d = await startDashboard();
//   await d.page.goto(`${d.url}/vips`);
//   ...
//   await d.close();
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCliDaemon, type CliDaemon } from '../../../collector/test/helpers/cliDaemon.ts';
import { runSoftflowd, tempDir, waitStable } from '../../../collector/test/helpers/peers.ts';

const run = promisify(execFile);

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
const uiDir = join(repoRoot, 'web', 'ui');
const fixtures = join(import.meta.dirname, 'fixtures');
export const testdata = join(repoRoot, '..', 'shared', 'testdata');
export const screenshotDir = join(repoRoot, 'test-output', 'screenshots');

/** The token the daemon is started with, for write routes (channels). */
export const E2E_TOKEN = 'e2e-secret-token';

/** Portgroups and VIPs the fixtures define, and what the captures put in them. */
export const PORTGROUPS = ['campus', 'wiki-dc', 'office', 'lab'] as const;
export const VIPS = ['web', 'wiki'] as const;

/**
 * Captures replayed, and how many minutes before "now" each copy starts: several copies spread over the last
 * hour so the charts have a shape, not one spike.
 *  - wikipedia.pcap: 141.142.220.0/24 (campus) ↔ 208.80.152.0/24 (wiki-dc, VIP wiki at .118:80, servers .2/.3),
 *    DNS to 141.142.2.2 (UDP), multicast;
 *  - nmap-vsn.pcap: 192.168.1.71 probing 192.168.1.0/24 (office; VIP web at .1:80, servers .61/.65/.69);
 *  - ssh_sshguess.pcap: 192.168.56.1 → 192.168.56.103:22 (lab), 70 s of password guessing.
 */
const REPLAYS: { file: string; minutesAgo: number[] }[] = [
  { file: 'ids/zeek/wikipedia.pcap', minutesAgo: [55, 41, 27, 12, 4] },
  { file: 'ids/zeek/nmap-vsn.pcap', minutesAgo: [50, 33, 18, 6] },
  { file: 'ids/zeek/ssh_sshguess.pcap', minutesAgo: [46, 22, 9] },
];

export interface Dashboard {
  /** Base URL of the dashboard (the daemon's HTTP address; the UI is served at /). */
  url: string;
  /** Base URL of the API (…/api/v1). */
  api: string;
  page: Page;
  browser: Browser;
  daemon: CliDaemon;
  token: string;
  /** Bounds of the flows fed (ms), for tests that set a custom window. */
  fed: { from: number; to: number; flows: number };
  close(): Promise<void>;
}

/** Newest modification time under a directory (sources of the UI). */
function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, e)));
  return newest;
}

/** Build web/ui/dist when it is missing or older than the UI's sources. */
export async function ensureUiBuilt(): Promise<void> {
  const index = join(uiDir, 'dist', 'index.html');
  const sources = Math.max(newestMtime(join(uiDir, 'src')), newestMtime(join(uiDir, 'index.html')), newestMtime(join(uiDir, 'vite.config.ts')));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  await run('npm', ['run', 'build', '-w', '@dvflow/ui'], { cwd: repoRoot, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  if (!existsSync(index)) throw new Error('the UI build produced no web/ui/dist/index.html');
}

/**
 * Copy a classic pcap with every packet time moved so the first packet is at `startMs`. softflowd (-A milli)
 * keeps capture times, so this is how old captures become "the last hour".
 */
export function shiftPcap(src: string, dst: string, startMs: number): void {
  const buf = Buffer.from(readFileSync(src));
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
    le = true;
    nano = magic === 0xa1b23c4d;
  } else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) {
    le = false;
    nano = magic === 0x4d3cb2a1;
  } else {
    throw new Error(`${src}: not a classic pcap`);
  }
  const rd = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const wr = (v: number, o: number) => (le ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o));
  const firstSec = rd(24);
  const firstFrac = rd(28);
  const firstMs = firstSec * 1000 + (nano ? firstFrac / 1e6 : firstFrac / 1e3);
  // shift by whole seconds: sub-second parts stay as they are
  const delta = Math.round((startMs - firstMs) / 1000);
  for (let o = 24; o + 16 <= buf.length; ) {
    wr(rd(o) + delta, o);
    const caplen = rd(o + 8);
    o += 16 + caplen;
  }
  writeFileSync(dst, buf);
}

async function totalFlows(api: string): Promise<number> {
  const res = await fetch(`${api}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (!res.ok) return 0;
  const body = (await res.json()) as { summary?: { flows?: number } };
  return body.summary?.flows ?? 0;
}

function writeConfig(dir: string): string {
  const cfg = join(dir, 'dvflow.yaml');
  writeFileSync(
    cfg,
    [
      'inventory:',
      `  files: [${JSON.stringify(join(fixtures, 'portgroups.yaml'))}]`,
      `  vipFiles: [${JSON.stringify(join(fixtures, 'haproxy.cfg'))}, ${JSON.stringify(join(fixtures, 'vips.yaml'))}]`,
      'writer: { flushMs: 300 }',
      `http: { token: ${JSON.stringify(E2E_TOKEN)} }`,
      '',
    ].join('\n'),
  );
  return cfg;
}

/** Feed the captures (time-shifted into the last hour) and wait until the store has them all. */
async function feed(daemon: CliDaemon, work: string): Promise<{ from: number; to: number; flows: number }> {
  const now = Date.now();
  let from = Infinity;
  let to = 0;
  for (const r of REPLAYS) {
    const src = join(testdata, r.file);
    for (const ago of r.minutesAgo) {
      const start = now - ago * 60_000;
      const dst = join(work, `${ago}-${r.file.replace(/\W+/g, '_')}`);
      shiftPcap(src, dst, start);
      await runSoftflowd(dst, daemon.udpPort, 10);
      from = Math.min(from, start);
      to = Math.max(to, start + 2 * 60_000);
    }
  }
  let flows = 0;
  const api = `${daemon.api}/api/v1`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && flows === 0) {
    flows = await totalFlows(api);
    if (flows === 0) await new Promise((res) => setTimeout(res, 300));
  }
  let latest = flows;
  const poll = setInterval(() => void totalFlows(api).then((n) => (latest = n)), 200);
  try {
    flows = await waitStable(() => latest, 1500, 30_000);
  } finally {
    clearInterval(poll);
  }
  if (flows === 0) throw new Error(`no flows stored after feeding the captures: ${daemon.stderr().slice(-2000)}`);
  return { from, to: Math.min(to, Date.now()), flows };
}

/** Replay one more capture (a path under the shared testdata) with its first packet at `startMs`. */
export async function replayCapture(d: Dashboard, file: string, startMs: number): Promise<void> {
  const work = tempDir('dvflow-e2e-replay-');
  try {
    const dst = join(work, 'replay.pcap');
    shiftPcap(join(testdata, file), dst, startMs);
    await runSoftflowd(dst, d.daemon.udpPort, 10);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Start daemon + feed + browser. Pass `feed: false` for an empty store (empty states). */
export async function startDashboard(opts: { feed?: boolean } = {}): Promise<Dashboard> {
  await ensureUiBuilt();
  const work = tempDir('dvflow-e2e-');
  const data = join(work, 'data');
  mkdirSync(data);
  const daemon = await startCliDaemon(data, ['--config', writeConfig(work)]);
  let browser: Browser | undefined;
  try {
    const fed = opts.feed === false ? { from: Date.now() - 3_600_000, to: Date.now(), flows: 0 } : await feed(daemon, work);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, colorScheme: 'light' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    return {
      url: daemon.api,
      api: `${daemon.api}/api/v1`,
      page,
      browser,
      daemon,
      token: E2E_TOKEN,
      fed,
      close: async () => {
        await browser?.close().catch(() => {});
        await daemon.stop();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close().catch(() => {});
    await daemon.stop();
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/** Save a full-page screenshot under test-output/screenshots/NAME.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface ChartSeries {
  name: string;
  total: number;
  max: number;
}

/**
 * Series of every time-series chart in the page (the `data-series` attribute TimeSeriesChart keeps), in
 * document order, once none is loading. `selector` narrows to charts under an element.
 */
export async function readCharts(page: Page, selector = 'body', timeoutMs = 20_000): Promise<ChartSeries[][]> {
  await page.waitForFunction(
    (sel) => {
      const charts = document.querySelectorAll(`${sel} [data-testid="timeseries-chart"]`);
      return charts.length > 0 && [...charts].every((c) => c.getAttribute('data-loading') === 'false');
    },
    selector,
    { timeout: timeoutMs },
  );
  return page.$$eval(`${selector} [data-testid="timeseries-chart"]`, (els) =>
    els.map((e) => JSON.parse(e.getAttribute('data-series') ?? '[]') as { name: string; total: number; max: number }[]),
  );
}
