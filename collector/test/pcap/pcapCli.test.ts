// `dvflow pcap` as a user runs it, against a spawned `dvflow start`: uploads with the token, `dvflow query`
// answering like nfdump on nfpcapd's flows of the same capture (same timeouts), packet and byte totals equal to
// nfpcapd's under dvflow's own flow rules, unreadable files reported while the others are ingested, the ERSPAN
// session stored, and the drop folder (ingested once, moved to done/, not again after a restart).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { dvflow, dvflowBin, startCliDaemon, type CliDaemon } from '../helpers/cliDaemon.ts';
import { tempDir } from '../helpers/peers.ts';
import { TESTDATA, feedFifo, have, nfpcapdFlows, tmpDir, tshark } from './tools.ts';

const run = promisify(execFile);
const HAVE = have('nfpcapd') && have('nfdump');
const TOKEN = 'pcap-cli-test-token';

interface Row {
  capture: string;
  packets: number;
  bytes: number;
  [k: string]: unknown;
}

async function flows(api: string): Promise<Row[]> {
  const res = await fetch(`${api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limit: 1_000_000 }) });
  return ((await res.json()) as { flows: Row[] }).flows;
}

function totals(rows: { packets: number; bytes: number }[]): { flows: number; packets: number; bytes: number } {
  return rows.reduce<{ flows: number; packets: number; bytes: number }>((t, f) => ({ flows: t.flows + 1, packets: t.packets + Number(f.packets), bytes: t.bytes + Number(f.bytes) }), { flows: 0, packets: 0, bytes: 0 });
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dvflow pcap --data: straight into an embedded store no daemon runs on', () => {
  it('stores the flows itself; a missing file still gives exit status 1', async () => {
    const root = tempDir('dvflow-pcapcli-direct-');
    try {
      const file = join(TESTDATA, 'ids/zeek/erspanIII.pcap');
      const r = await dvflow(['pcap', '--data', join(root, 'data'), '--session', 'direct', file, join(root, 'nope.pcap')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /nope\.pcap: no such file/);
      assert.match(r.stdout, /^erspanIII\.pcap: 2 packets, /m);
      const { ClickHouseStore } = await import('../../src/storage/clickhouseStore.ts');
      const store = await ClickHouseStore.open({ url: '', user: 'default', password: '', database: 'default', cluster: '', dataDir: join(root, 'data') });
      try {
        const rows = await store.queryRows<{ n: number; p: number; s: string }>(
          "SELECT count() AS n, sum(packets) AS p, any(encap) AS s FROM flows WHERE capture = 'direct'");
        assert.deepEqual(rows.map((x) => [Number(x.n) > 0, Number(x.p), x.s]), [[true, 2, 'gre,erspan3']]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('dvflow pcap --data -: standard input into a new embedded store', () => {
  // The store's first start runs the schema migrations, whose bookkeeping INSERTs clickhouse-local refuses while
  // descriptor 0 is a pipe with bytes waiting: the CLI moves standard input off descriptor 0 first.
  it('reads a pcap piped in, names it stdin, and stores its flows', async () => {
    const root = tempDir('dvflow-pcapcli-stdin-');
    try {
      const file = join(TESTDATA, 'ids/zeek/wikipedia.pcap');
      const r = await dvflow(['pcap', '--data', join(root, 'data'), '--json', '-'], readFileSync(file));
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { capture: string; packets: number; flows: number; fileBytes: number };
      assert.deepEqual([s.capture, s.packets, s.fileBytes], ['stdin', 136, statSync(file).size]);
      const { ClickHouseStore } = await import('../../src/storage/clickhouseStore.ts');
      const store = await ClickHouseStore.open({ url: '', user: 'default', password: '', database: 'default', cluster: '', dataDir: join(root, 'data') });
      try {
        const rows = await store.queryRows<{ n: number; p: number }>("SELECT count() AS n, sum(packets) AS p FROM flows WHERE capture = 'stdin'");
        assert.deepEqual(rows.map((x) => [Number(x.n), Number(x.p)]), [[s.flows, 126]], '126 IP packets of 136 (10 ARP/LLC)');
      } finally {
        await store.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses standard input twice, and reports a piped non-capture with exit status 1', async () => {
    const root = tempDir('dvflow-pcapcli-stdin-bad-');
    try {
      const twice = await dvflow(['pcap', '--data', join(root, 'data'), '-', '-'], '');
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /standard input \(-\) can be read only once/);
      const bad = await dvflow(['pcap', '--data', join(root, 'data'), '-'], 'not a capture at all\n');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /standard input: not a pcap or pcapng capture \(magic 0x6e6f7420\)/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('dvflow pcap on a terminal', () => {
  // `script` (util-linux's bsdutils, on every Debian) gives the command a terminal, so the progress bar is drawn; the
  // bar's library is loaded only then, so this is also what shows that loading works.
  it('draws the progress bar, then the summary', { skip: !have('script') }, async () => {
    const root = tempDir('dvflow-pcapcli-tty-');
    try {
      const file = join(TESTDATA, 'ids/zeek/erspanIII.pcap');
      const cmd = [process.execPath, dvflowBin, 'pcap', '--data', join(root, 'data'), file].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      const { stdout } = await run('script', ['-qec', cmd, join(root, 'typescript')], { timeout: 120_000 });
      const screen = stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
      assert.match(screen, /erspanIII\.pcap \|[^|]+\| 100% .* packets\/s \| \d+ flows/);
      assert.match(screen, /erspanIII\.pcap: 2 packets, /);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('dvflow pcap --data: the same flows and detections as through the daemon', () => {
  it('names portgroups from the config inventory and stores the IDS alerts of the capture', async () => {
    const root = tempDir('dvflow-pcapcli-direct-ids-');
    try {
      const config = join(root, 'dvflow.yaml');
      writeFileSync(config, `inventory: { files: [${JSON.stringify(join(import.meta.dirname, '..', '..', '..', 'web', 'test', 'e2e', 'fixtures', 'portgroups.yaml'))}] }\n`);
      const r = await dvflow(['pcap', '--data', join(root, 'data'), '--config', config, join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap')]);
      assert.equal(r.code, 0, r.stderr);
      const { ClickHouseStore } = await import('../../src/storage/clickhouseStore.ts');
      const store = await ClickHouseStore.open({ url: '', user: 'default', password: '', database: 'default', cluster: '', dataDir: join(root, 'data') });
      try {
        const pg = await store.queryRows<{ pg: string; n: number }>('SELECT in_portgroup AS pg, count() AS n FROM flows GROUP BY pg');
        assert.deepEqual(pg.map((x) => x.pg), ['lab'], 'every flow of 192.168.56.0/24 named by the CIDR portgroup');
        const alerts = await store.queryRows<{ detector: string; src: string }>(
          "SELECT detector, replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src FROM alerts FINAL");
        assert.ok(alerts.some((a) => a.detector === 'brute-force' && a.src === '192.168.56.1'), JSON.stringify(alerts));
      } finally {
        await store.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('dvflow pcap: the path to a daemon on this host, the bytes otherwise', () => {
  // A stand-in daemon that records what it is sent and refuses path mode as told.
  let server: Server;
  let api: string;
  let refuse: { status: number; code?: string } | null = null;
  const seen: Array<{ type: string; body: string; bytes: number; chunked: boolean; name: string | null }> = [];
  const summary = { name: 'x', capture: 'x', session: null, format: 'pcap', compressed: false, fileBytes: 1, packets: 1, bytes: 1, flows: 1,
    malformed: {}, skipped: {}, byEncap: {}, fragments: { total: 0, attributed: 0, orphaned: 0 }, evicted: 0, errors: [], complete: true,
    activeTimeout: 300, idleTimeout: 60, elapsedMs: 1 };
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const type = String(req.headers['content-type']);
        seen.push({
          type, body: type.includes('json') ? body.toString() : '', bytes: body.length,
          chunked: req.headers['transfer-encoding'] === 'chunked' && req.headers['content-length'] === undefined,
          name: new URL(req.url ?? '/', 'http://x').searchParams.get('name'),
        });
        if (req.headers.authorization !== 'Bearer t') {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"no token"}');
        } else if (type.includes('json') && refuse) {
          res.writeHead(refuse.status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: refuse.code, message: 'refused' }));
        } else {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(`${JSON.stringify({ type: 'summary', ...summary, fileBytes: body.length })}\n`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    api = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const file = join(TESTDATA, 'ids/zeek/erspanII.pcap');
  const size = statSync(file).size;

  it('names the file by its absolute path, size and time: nothing uploaded', async () => {
    seen.length = 0;
    refuse = null;
    const r = await dvflow(['pcap', '--api', api, '--token', 't', '--json', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(seen.length, 1);
    assert.match(seen[0].type, /^application\/json/);
    assert.deepEqual(JSON.parse(seen[0].body), { path: file, size, mtimeMs: statSync(file).mtimeMs });
  });

  for (const [status, code] of [[403, 'path-not-local'], [422, 'path-unreadable'], [422, 'path-changed'], [415, undefined]] as const) {
    it(`uploads the bytes when the daemon answers ${status} ${code ?? '(a daemon without path mode)'}`, async () => {
      seen.length = 0;
      refuse = { status, code };
      const r = await dvflow(['pcap', '--api', api, '--token', 't', '--json', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(seen.map((x) => [x.type.includes('json'), x.bytes > 0]), [[true, true], [false, true]]);
      assert.equal(seen[1].bytes, size);
      assert.equal(JSON.parse(r.stdout).fileBytes, size);
    });
  }

  it('--upload sends the bytes even to a daemon on this host; no token is still an error, not a reason to upload', async () => {
    seen.length = 0;
    refuse = null;
    const r = await dvflow(['pcap', '--api', api, '--token', 't', '--upload', '--json', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen.map((x) => [x.type, x.bytes]), [['application/octet-stream', size]]);
    seen.length = 0;
    const n = await dvflow(['pcap', '--api', api, '--token', 'wrong', file]);
    assert.equal(n.code, 1);
    assert.match(n.stderr, /refused the capture \(HTTP 401\).*--token/);
    assert.equal(seen.length, 1, 'no upload after a 401');
  });

  it('- and a named pipe are uploaded chunked, never named by path (their size is unknown, their bytes read once)', async () => {
    seen.length = 0;
    refuse = null;
    const bytes = readFileSync(file);
    const r = await dvflow(['pcap', '--api', api, '--token', 't', '--json', '-'], bytes);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen.map((x) => [x.type, x.bytes, x.chunked, x.name]), [['application/octet-stream', size, true, 'stdin']]);
    const root = tempDir('dvflow-pcapcli-fifo-');
    try {
      seen.length = 0;
      const fifo = join(root, 'mirror.fifo');
      const fed = feedFifo(fifo, bytes);
      const f = await dvflow(['pcap', '--api', api, '--token', 't', '--json', fifo]);
      await fed;
      assert.equal(f.code, 0, f.stderr);
      assert.deepEqual(seen.map((x) => [x.type, x.bytes, x.chunked, x.name]), [['application/octet-stream', size, true, 'mirror.fifo']]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('dvflow pcap against a running daemon', { skip: !HAVE && 'nfpcapd/nfdump not installed' }, () => {
  let root: string;
  let watch: string;
  let args: string[];
  let d: CliDaemon;
  let tz: string | undefined;
  const up = (...a: string[]) => dvflow(['pcap', '--api', d.api, '--token', TOKEN, ...a]);

  before(async () => {
    tz = process.env.TZ;
    process.env.TZ = 'UTC';
    root = tempDir('dvflow-pcapcli-');
    watch = join(root, 'watch');
    const cfg = join(root, 'dvflow.yaml');
    writeFileSync(cfg, `http: { token: ${TOKEN} }\npcap: { watch: ${watch} }\nwriter: { flushMs: 100 }\n`);
    args = ['--config', cfg];
    d = await startCliDaemon(join(root, 'data'), args);
  });
  after(async () => {
    await d?.stop();
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    rmSync(root, { recursive: true, force: true });
  });

  it('--nfpcapd-compat -e 30,5: dvflow query -s proto prints what nfdump prints for nfpcapd -e 30,5', async () => {
    const file = join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap');
    const r = await up('--nfpcapd-compat', '--active', '30', '--idle', '5', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ssh_sshguess\.pcap: 431 packets, /m);
    const nf = tmpDir('dvflow-nfpcapd-');
    try {
      await run('nfpcapd', ['-r', file, '-w', nf.dir, '-e', '30,5']);
      const ref = await run('nfdump', ['-R', nf.dir, '-s', 'proto', '-N']);
      const mine = await dvflow(['query', '--api', d.api, '-s', 'proto', '-N']);
      assert.equal(mine.code, 0, mine.stderr);
      const summary = (s: string) => s.split('\n').find((l) => l.startsWith('Summary:'));
      assert.ok(summary(ref.stdout));
      assert.equal(summary(mine.stdout), summary(ref.stdout));
      const rows = (s: string) => s.split('\n').filter((l) => /^\d{4}-\d\d-\d\d /.test(l)).map((l) => l.replace(/\s+/g, ' '));
      assert.deepEqual(rows(mine.stdout), rows(ref.stdout));
    } finally {
      nf.cleanup();
    }
  });

  it('dvflow rules: packets and bytes per capture equal nfpcapd\'s; bad files are reported, the others ingested', async () => {
    const good = ['ids/zeek/wikipedia.pcap', 'ids/generated/nmap-syn-scan.pcap', 'encap/akvorado/gre-v4-plain.pcap', 'ids/generated/lo-http.pcapng'];
    const dir = join(root, 'a-directory.pcap');
    mkdirSync(dir);
    const files = [join(TESTDATA, good[0]), join(root, 'missing.pcap'), join(TESTDATA, good[1]), join(TESTDATA, 'README.md'), dir,
      join(TESTDATA, good[2]), join(TESTDATA, good[3])];
    const r = await up('--active', '120', '--idle', '30', ...files);
    assert.equal(r.code, 1, 'a bad file makes the exit status 1');
    assert.match(r.stderr, /cannot open .*missing\.pcap: no such file/);
    assert.match(r.stderr, /README\.md is not a pcap or pcapng capture \(magic 0x/);
    assert.match(r.stderr, /a-directory\.pcap is a directory/);
    assert.match(r.stdout, /^Total: 7 files \(3 with errors\)/m);
    for (const g of good) assert.match(r.stdout, new RegExp(`^${g.split('/').pop()!.replace('.', '\\.')}: \\d[\\d,]* packets`, 'm'));
    assert.match(r.stdout, /timeouts 120\/30 s/);
    const stored = await flows(d.api);
    for (const g of good) {
      const name = g.split('/').pop()!;
      const ours = totals(stored.filter((f) => f.capture === name));
      const ref = totals(nfpcapdFlows(join(TESTDATA, g), ['-e', '120,30']));
      assert.deepEqual([ours.packets, ours.bytes], [ref.packets, ref.bytes], name);
      assert.ok(ours.flows > 0, name);
    }
  });

  it('the path (default on this host) and --upload store the same flows and print the same summary', async () => {
    const file = join(TESTDATA, 'ids/zeek/wikipedia.pcap');
    const byPath = await up('--session', 'mode-path', '--json', file);
    const upload = await up('--session', 'mode-upload', '--upload', '--json', file);
    assert.equal(byPath.code, 0, byPath.stderr);
    assert.equal(upload.code, 0, upload.stderr);
    const strip = (o: string) => {
      const { elapsedMs: _e, capture: _c, session: _s, ...rest } = JSON.parse(o) as Record<string, unknown>;
      return rest;
    };
    assert.deepEqual(strip(byPath.stdout), strip(upload.stdout));
    const rows = await flows(d.api);
    const a = totals(rows.filter((f) => f.capture === 'mode-path'));
    const b = totals(rows.filter((f) => f.capture === 'mode-upload'));
    assert.ok(a.flows > 0);
    assert.deepEqual(a, b);
  });

  it('standard input and a named pipe (gzip-compressed) store the same flows as the file', async () => {
    const file = join(TESTDATA, 'ids/zeek/wikipedia.pcap');
    const viaFile = await up('--session', 'feed-file', file);
    const viaStdin = await dvflow(['pcap', '--api', d.api, '--token', TOKEN, '--session', 'feed-stdin', '-'], readFileSync(file));
    const fifo = join(root, 'feed.fifo');
    const fed = feedFifo(fifo, gzipSync(readFileSync(file)));
    const viaFifo = await up('--session', 'feed-fifo', fifo);
    await fed;
    for (const r of [viaFile, viaStdin, viaFifo]) assert.equal(r.code, 0, r.stderr);
    assert.match(viaFifo.stdout, /format pcap \(gzip\)/);
    const rows = await flows(d.api);
    const by = (c: string) => totals(rows.filter((f) => f.capture === c));
    assert.ok(by('feed-file').flows > 0);
    assert.deepEqual(by('feed-stdin'), by('feed-file'));
    assert.deepEqual(by('feed-fifo'), by('feed-file'));
  });

  it('a live stream on standard input: flows that ended are stored while it still runs', async () => {
    const bytes = readFileSync(join(TESTDATA, 'ids/zeek/wikipedia.pcap'));
    const child = spawn(process.execPath, [dvflowBin, 'pcap', '--api', d.api, '--token', TOKEN, '--session', 'feed-live', '--idle', '1', '--json', '-'],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    const closed = new Promise<number | null>((r) => child.once('close', r));
    try {
      child.stdin.write(bytes.subarray(0, 20_000));
      const stored = async () => (await flows(d.api)).filter((f) => f.capture === 'feed-live').length;
      let early = 0;
      for (let i = 0; i < 100 && early === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        early = await stored();
      }
      assert.ok(early > 0, 'flows stored before the stream ended');
      assert.equal(child.exitCode, null, 'still reading');
      child.stdin.end(bytes.subarray(20_000));
      assert.equal(await closed, 0);
      const summary = JSON.parse(out) as { flows: number; packets: number };
      assert.equal(summary.packets, 136);
      assert.ok(early < summary.flows);
      assert.equal(await stored(), summary.flows);
    } finally {
      child.kill();
    }
  });

  it('a capture cut short on standard input: the error names the offset, the flows before it are stored', async () => {
    const cut = readFileSync(join(TESTDATA, 'ids/zeek/wikipedia.pcap')).subarray(0, 20_000);
    const r = await dvflow(['pcap', '--api', d.api, '--token', TOKEN, '--session', 'feed-cut', '-'], cut);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /standard input: truncated pcap at offset 19932: .*\(the 49 flows before it are stored\)/);
    assert.equal(totals((await flows(d.api)).filter((f) => f.capture === 'feed-cut')).flows, 49);
  });

  it('an ERSPAN capture: the mirror session and encapsulation are stored (tshark erspan.spanid)', async () => {
    const file = join(TESTDATA, 'ids/zeek/erspanII.pcap');
    const r = await up('--session', 'mirror-A', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /capture name 'mirror-A'/);
    assert.match(r.stdout, /encapsulation: (gre 4, erspan2 4|erspan2 4, gre 4)/);
    const spanIds = new Set(tshark(file, ['erspan.spanid']).map((x) => Number(x['erspan.spanid'])));
    assert.deepEqual([...spanIds], [100]);
    const mine = (await flows(d.api)).filter((f) => f.capture === 'mirror-A');
    assert.ok(mine.length > 0);
    for (const f of mine) {
      assert.equal(f.mirror_session, 100);
      assert.equal(f.encap, 'gre,erspan2');
      assert.equal(f.outer_src, '2.2.2.2');
      assert.equal(f.outer_dst, '1.1.1.1');
      assert.equal(f.source, 'pcap');
    }
  });

  it('drop folder: a copied capture is ingested once, moved to done/, and not again after a restart', async () => {
    copyFileSync(join(TESTDATA, 'ids/zeek/wikipedia.pcap'), join(watch, 'dropped.pcap'));
    const done = join(watch, 'done', 'dropped.pcap');
    await until(() => existsSync(done), 30_000);
    const count = async () => (await flows(d.api)).filter((f) => f.capture === 'dropped.pcap').length;
    let n = 0;
    for (let i = 0; i < 50 && n === 0; i++) {
      n = await count();
      if (n === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(n > 0, 'its flows are stored');
    const memory = JSON.parse(readFileSync(join(root, 'data', 'pcap-done.json'), 'utf8')).files;
    assert.equal(memory[join(watch, 'dropped.pcap')].movedTo, done);

    await d.stop();
    d = await startCliDaemon(join(root, 'data'), args);
    // The same capture comes back (a sync job restoring it, times kept): remembered, not stored twice.
    copyFileSync(done, join(watch, 'dropped.pcap'));
    const m = statSync(done).mtimeMs / 1000;
    utimesSync(join(watch, 'dropped.pcap'), m, m);
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(await count(), n);
    assert.ok(existsSync(join(watch, 'dropped.pcap')), 'left where it is');
  });
});
