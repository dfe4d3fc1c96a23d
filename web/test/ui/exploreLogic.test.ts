// Pure logic of the Explore page: the `dvflow query` command line (parsed back by the real CLI definition, so
// the flags are the ones the CLI takes), the request body, CSV cells and quoting, the filter tokenizer and
// the nfdump-style statistics rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '@dvflow/collector/src/cli/main.ts';
import { queryArgs, queryBody, queryCommand, shellQuote, nfdumpTime, wholeSecondsWindow, type ExploreForm, type QueryWindow } from '../../ui/src/queryCommand.ts';
import { csvField, toCsv } from '../../ui/src/csv.ts';
import { errorSpan, tokenizeFilterLine } from '../../ui/src/filterTokens.ts';
import { flowColumns, flowsCsv, percent, statisticCsv, statTableRows, tcpFlags } from '../../ui/src/resultTable.ts';
import { parseTimeWindow } from '@dvflow/collector/src/query/timeWindow.ts';

const base: ExploreForm = {
  mode: 'stats', filter: '', stats: [{ element: 'srcip', orders: ['bytes'] }], topN: 10, limit: 100, order: '',
  aggregate: false, aggregateFields: '', bidirectional: false, postFilter: '',
};
const fixed: QueryWindow = { from: new Date(2024, 0, 2, 10, 0, 0).getTime(), to: new Date(2024, 0, 2, 11, 30, 15).getTime(), live: false };

/** Runs argv through the CLI's own option parser and returns what its query action would receive. */
async function parseWithCli(args: string[]): Promise<{ words: string[]; opts: Record<string, unknown> }> {
  const program = buildProgram().exitOverride();
  const query = program.commands.find((c) => c.name() === 'query')!;
  query.exitOverride();
  let seen: { words: string[]; opts: Record<string, unknown> } | undefined;
  query.action((words: string[], opts: Record<string, unknown>) => {
    seen = { words, opts };
  });
  await program.parseAsync(['node', 'dvflow', ...args]);
  assert.ok(seen, 'the query action ran');
  return seen;
}

/** Splits a command line the way a POSIX shell does for the quoting shellQuote produces. */
function shellSplit(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '\\') {
      cur += line[++i];
      inWord = true;
    } else if (c === ' ') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

test('statistics form: the command line parses back, through the CLI, to the same request', async () => {
  const form: ExploreForm = { ...base, filter: "proto tcp and portgroup 'web tier'", stats: [{ element: 'srcip', orders: ['bytes', 'flows'] }, { element: 'dstport', orders: ['flows'], byProto: true }], topN: 5 };
  const line = queryCommand(form, fixed);
  assert.equal(line, `dvflow query -t 2024/01/02.10:00:00-2024/01/02.11:30:15 -s srcip/bytes/flows -s dstport:p/flows -n 5 'proto tcp and portgroup '\\''web tier'\\'''`);
  const argv = shellSplit(line);
  assert.equal(argv[0], 'dvflow');
  const { words, opts } = await parseWithCli(argv.slice(1));
  const body = queryBody(form, fixed);
  assert.deepEqual(opts.s, body.statistics);
  assert.equal(opts.n, body.topN);
  assert.equal(words.join(' '), body.filter);
  assert.deepEqual(parseTimeWindow(String(opts.t)), { from: body.from, to: body.to });
});

test('listing form: -a -A -P -O -c and a live window as -t -SECONDS', async () => {
  const form: ExploreForm = { ...base, mode: 'list', filter: 'net 10.0.0.0/8', limit: 50, order: 'bytes', aggregateFields: 'srcip4/24, dstport', postFilter: 'flows > 2' };
  const live: QueryWindow = { from: 1_700_000_000_000, to: 1_700_003_600_000, live: true };
  const args = queryArgs(form, live);
  assert.deepEqual(args, ['query', '-t', '-3600', '-A', 'srcip4/24,dstport', '-P', 'flows > 2', '-O', 'bytes', '-c', '50', 'net 10.0.0.0/8']);
  const { words, opts } = await parseWithCli(args);
  assert.equal(opts.t, '-3600');
  assert.deepEqual(opts.A, ['srcip4/24,dstport']);
  assert.equal(opts.P, 'flows > 2');
  assert.equal(opts.O, 'bytes');
  assert.equal(opts.c, 50);
  assert.equal(opts.a, undefined);
  assert.deepEqual(words, ['net 10.0.0.0/8']);
  const body = queryBody(form, live);
  assert.deepEqual(body, { from: live.from, to: live.to, filter: 'net 10.0.0.0/8', limit: 50, order: 'bytes', aggregateFields: ['srcip4/24,dstport'], postFilter: 'flows > 2' });

  const bi = queryArgs({ ...form, aggregateFields: '', postFilter: '', aggregate: true, bidirectional: true, order: '' }, fixed);
  const parsed = await parseWithCli(bi);
  assert.equal(parsed.opts.a, true);
  assert.equal(parsed.opts.b, true);
});

test('a post-filter without aggregation is not sent (the API would refuse it), an empty filter is left out', () => {
  const b = queryBody({ ...base, mode: 'list', postFilter: 'flows > 1' }, fixed);
  assert.equal(b.postFilter, undefined);
  assert.equal(b.filter, undefined);
  assert.ok(!queryCommand({ ...base, mode: 'list' }, fixed).includes('-P'));
});

test('--api appears only for a daemon other than the default', () => {
  assert.ok(!queryCommand(base, fixed, 'http://127.0.0.1:8080').includes('--api'));
  assert.ok(queryCommand(base, fixed, 'http://10.0.0.5:9000').includes('--api http://10.0.0.5:9000'));
});

test('windows are whole seconds; nfdump times are local', () => {
  assert.deepEqual(wholeSecondsWindow({ from: 1500, to: 10_999, live: false }), { from: 1000, to: 10_000, live: false });
  assert.equal(nfdumpTime(new Date(2023, 11, 31, 23, 5, 9).getTime()), '2023/12/31.23:05:09');
});

test('shell quoting', () => {
  assert.equal(shellQuote('srcip/bytes'), 'srcip/bytes');
  assert.equal(shellQuote('a b'), "'a b'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote('$(rm -rf /)'), "'$(rm -rf /)'");
});

test('CSV: quoting, numbers, and formula-looking strings defused', () => {
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField(-5), '-5');
  assert.equal(csvField('=cmd()'), "'=cmd()");
  assert.equal(csvField('-x,y'), `"'-x,y"`);
  assert.equal(csvField(undefined), '');
  assert.equal(toCsv(['a', 'b'], [[1, 'x y'], ['line\nbreak', 2]]), 'a,b\r\n1,x y\r\n"line\nbreak",2\r\n');
});

test('tokenizer: keywords, logic, comparators, numbers, addresses with CIDR, names, strings, comments', () => {
  const line = 'not proto tcp and src net 10.1.0.0/16 or bytes > 1k and vip "web app" or portgroup web # note';
  const kinds = tokenizeFilterLine(line).map((t) => [line.slice(t.start, t.end), t.kind]);
  assert.deepEqual(kinds, [
    ['not', 'logic'], ['proto', 'keyword'], ['tcp', 'name'], ['and', 'logic'], ['src', 'keyword'], ['net', 'keyword'],
    ['10.1.0.0/16', 'address'], ['or', 'logic'], ['bytes', 'keyword'], ['>', 'compare'], ['1k', 'number'], ['and', 'logic'],
    ['vip', 'keyword'], ['"web app"', 'string'], ['or', 'logic'], ['portgroup', 'keyword'], ['web', 'name'], ['# note', 'comment'],
  ]);
  const v6 = 'ip fe80::1 && !(port in [ 80, 443 ]) || mac 00:50:56:aa:bb:01 || vip 10.0.0.10:443';
  const k6 = tokenizeFilterLine(v6).map((t) => `${v6.slice(t.start, t.end)}:${t.kind}`);
  assert.deepEqual(k6, ['ip:keyword', 'fe80::1:address', '&&:logic', '!:logic', '(:bracket', 'port:keyword', 'in:keyword', '[:bracket',
    '80:number', ',:punct', '443:number', ']:bracket', '):bracket', '||:logic', 'mac:keyword', '00:50:56:aa:bb:01:address', '||:logic',
    'vip:keyword', '10.0.0.10:443:address']);
  assert.equal(tokenizeFilterLine('port "open').at(-1)!.kind, 'invalid');
});

test('error span: the word at a 1-based position, empty at the end', () => {
  assert.deepEqual(errorSpan('proto tcp and port', 19), { from: 18, to: 18 });
  assert.deepEqual(errorSpan('port 70000 and x', 6), { from: 5, to: 10 });
  assert.deepEqual(errorSpan('(a', 1), { from: 0, to: 1 });
});

test('statistics rows: percentages of the summary, per-row rates, nfdump CSV header', () => {
  const summary = { flows: 8, bytes: 10_000, packets: 40, firstSeen: 0, lastSeen: 10_000, bps: 0, pps: 0, bpp: 0 };
  const st = { element: 'proto', title: 'Protocol', column: 'Protocol', kind: 'proto', orderedBy: 'flows' as const, byProto: false,
    rows: [{ key: 6, first: 1_000, last: 5_000, flows: 6, packets: 30, bytes: 9_000 }, { key: 17, first: 2_000, last: 2_000, flows: 2, packets: 10, bytes: 1_000 }] };
  const rows = statTableRows(st, summary);
  assert.equal(rows[0]!.value, 'TCP');
  assert.equal(rows[0]!.flowsPct, 75);
  assert.equal(rows[0]!.bytesPct, 90);
  assert.equal(rows[0]!.bps, 18_000);
  assert.equal(rows[0]!.pps, 7);
  assert.equal(rows[0]!.bpp, 300);
  assert.equal(rows[1]!.bps, 0);
  const csv = statisticCsv(st, summary);
  assert.equal(csv.header.join(','), 'ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,ipps,ibps,ibpp');
  assert.deepEqual(csv.rows[1]!.slice(2), ['0.000', 'UDP', 'UDP', 2, '25.0', 10, '25.0', 1000, '10.0', 0, 0, 100]);
  assert.equal(percent(1, 3), 33.3);
  assert.equal(tcpFlags(0x12), '...A..S.');
});

test('flow columns: enrichment columns only when present; CSV cells', () => {
  const rows = [
    { first: 0, last: 1500, proto: 6, src_addr: '10.0.0.1', src_port: 1234, dst_addr: '10.0.0.2', dst_port: 443, tcp_flags: 0x12, packets: 3, bytes: 180, flows: 1, in_portgroup: 'web', out_portgroup: '', vip: '', exporter: '127.0.0.1' },
  ];
  const ids = flowColumns(rows).map((c) => c.id);
  assert.deepEqual(ids, ['first', 'duration', 'proto', 'src_addr', 'src_port', 'dst_addr', 'dst_port', 'tcp_flags', 'in_portgroup', 'packets', 'bytes', 'flows']);
  const agg = [{ first: 0, last: 0, src_addr: '10.1.0.0', dst_port: 53, packets: 9, bytes: 900, flows: 3 }];
  assert.deepEqual(flowColumns(agg).map((c) => c.id), ['first', 'duration', 'src_addr', 'dst_port', 'packets', 'bytes', 'flows']);
  const csv = flowsCsv(rows);
  assert.equal(csv.header.join(','), 'ts,td,pr,sa,sp,da,dp,flg,ipg,ipkt,ibyt,fl');
  assert.deepEqual(csv.rows[0]!.slice(1), ['1.500', 'TCP', '10.0.0.1', 1234, '10.0.0.2', 443, '...A..S.', 'web', 3, 180, 1]);
});
