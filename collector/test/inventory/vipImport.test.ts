import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../helpers/prng.ts';
import { readFileSync } from 'node:fs';
import { ImportError, type ImportWarning, type Vip, type VipInventory } from '../../src/inventory/inventoryModel.ts';
import { parseHaproxyConfig } from '../../src/inventory/vip/haproxyConfig.ts';
import { parseKeepalivedConfig } from '../../src/inventory/vip/keepalivedConfig.ts';
import { parseLdirectordConfig } from '../../src/inventory/vip/ldirectordConfig.ts';
import { parseVipYaml } from '../../src/inventory/vip/vipYaml.ts';
import { detectVipFormat, importVipConfig, mergeVipInventories, type VipFormat } from '../../src/inventory/vip/importVipConfig.ts';

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/lb/${name}`, import.meta.url), 'utf8');
}

/** 1-based line of the one line of `text` containing (or matching) `marker`; fails when there is none or several. */
function lineOf(text: string, marker: string | RegExp): number {
  const hits = text.split('\n').flatMap((l, i) => ((typeof marker === 'string' ? l.includes(marker) : marker.test(l)) ? [i + 1] : []));
  assert.equal(hits.length, 1, `marker ${JSON.stringify(marker)} found ${hits.length} times`);
  return hits[0];
}

function importErrorOf(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ImportError, `expected an ImportError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an ImportError');
}

function byName(inv: VipInventory, name: string): Vip {
  const v = inv.vips.find((x) => x.name === name);
  assert.ok(v, `no VIP named ${name}; have ${inv.vips.map((x) => x.name).join(', ')}`);
  return v;
}

const w = (file: string, line: number, message: string): ImportWarning => ({ file, line, message });

// ---- HAProxy

test('haproxy: frontends, listens and their pools as the manual-style fixture writes them', () => {
  const text = fixture('haproxy.cfg');
  const { inventory, warnings } = parseHaproxyConfig(text, 'haproxy.cfg');
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.address, v.port, v.proto, v.mode]), [
    ['http-in', '192.0.2.10', 80, 'tcp', 'http'],
    ['http-in:443', '192.0.2.10', 443, 'tcp', 'http'],
    ['mysql', '198.51.100.20', 3306, 'tcp', 'tcp'],
    ['mysql:[2001:db8::20]:3306', '2001:db8::20', 3306, 'tcp', 'tcp'],
    ['ftp-passive', '::', 21, 'tcp', 'tcp'],
    ['ftp-passive:30000', '192.0.2.30', 30000, 'tcp', 'tcp'],
    ['ftp-passive:30001', '192.0.2.30', 30001, 'tcp', 'tcp'],
    ['ftp-passive:30002', '192.0.2.30', 30002, 'tcp', 'tcp'],
  ]);
  for (const v of inventory.vips) assert.equal(v.lbKind, 'proxy');

  const www = byName(inventory, 'http-in');
  assert.deepEqual(www.origin, { kind: 'haproxy', name: 'haproxy.cfg', line: lineOf(text, 'bind 192.0.2.10:80') });
  assert.deepEqual(byName(inventory, 'http-in:443').origin?.line, lineOf(text, 'bind 192.0.2.10:443'));
  // default_backend first, then the use_backend targets in order.
  assert.deepEqual(www.pools, [
    {
      name: 'servers', balance: 'roundrobin', servers: [
        { name: 'web1', address: '10.0.1.11', port: 8000, cookie: 'w1', weight: 10 },
        { name: 'web2', address: '10.0.1.12', port: 8000, cookie: 'w2', weight: 20 },
        { name: 'web3', address: '10.0.1.13', port: 8000, cookie: 'w3', backup: true },
        { name: 'web4', address: '10.0.1.14', port: 8000, disabled: true },
      ],
    },
    {
      name: 'static', balance: 'uri', servers: [
        { name: 's1', address: '10.0.2.21', port: 80 },
        { name: 's2', address: '10.0.2.22', port: null },
      ],
    },
    {
      name: 'api', balance: 'leastconn', stick: 'stick-table type ip size 200k expire 30m; stick on src', persistenceTimeout: 1800,
      servers: [
        { name: 'api1', address: '10.0.3.31', port: 9000 },
        { name: 'api2', address: '2001:db8:3::32', port: 9000 },
      ],
    },
  ]);
  // `source` of a backend: the LB's address towards the servers.
  assert.deepEqual(www.lbAddresses, ['10.0.1.2']);

  const mysql = byName(inventory, 'mysql');
  assert.deepEqual(mysql.pools, [{
    name: 'mysql', balance: 'source', servers: [
      { name: 'db1', address: '10.0.4.41', port: 3306 },
      { name: 'db2', address: '10.0.4.42', port: 3306, backup: true },
    ],
  }]);
  assert.deepEqual(mysql.lbAddresses, ['10.0.4.2']);
  assert.deepEqual(byName(inventory, 'ftp-passive').pools, [{ name: 'ftp', balance: 'roundrobin', servers: [{ name: 'ftp1', address: '10.0.5.51', port: null }] }]);
  assert.deepEqual(warnings, [w('haproxy.cfg', lineOf(text, 'frobnicate'), "unknown directive 'frobnicate' in listen 'mysql'; ignored")]);
});

test('haproxy: 1.x listen lines, dispatch, named defaults, quotes and host names', () => {
  const text = fixture('haproxy-legacy.cfg');
  const { inventory, warnings } = parseHaproxyConfig(text, 'legacy.cfg');
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.address, v.port, v.mode]), [
    ['appli1-rewrite', '0.0.0.0', 10001, 'http'],
    ['appli3-relais', '0.0.0.0', 10003, 'http'],
    ['stats', '0.0.0.0', 8080, 'http'],
    ['smtp', '198.51.100.25', 25, 'tcp'],
  ]);
  assert.deepEqual(byName(inventory, 'appli1-rewrite').pools, [{
    name: 'appli1-rewrite', balance: 'roundrobin', servers: [
      { name: 'app1_1', address: '10.0.34.23', port: 8080, cookie: 'app1inst1' },
      { name: 'app1_2', address: '10.0.34.32', port: 8080, cookie: 'app1inst2' },
    ],
  }]);
  assert.deepEqual(byName(inventory, 'appli3-relais').pools, [{ name: 'appli3-relais', servers: [{ name: 'dispatch', address: '10.0.35.17', port: 80 }] }]);
  // A listen without servers (the stats page) has no pool.
  assert.deepEqual(byName(inventory, 'stats').pools, []);
  // `from named-tcp`: mode tcp and balance leastconn inherited.
  assert.deepEqual(byName(inventory, 'smtp').pools, [{
    name: 'mail', balance: 'leastconn', servers: [
      { name: 'mx 1', address: '10.0.36.25', port: 25 },
      { name: 'mx2', address: 'mail2.example.net', port: 25 },
    ],
  }]);
  assert.deepEqual(warnings, [
    w('legacy.cfg', lineOf(text, 'mx2'), "server 'mx2' address 'mail2.example.net:25' is a host name; dvflow matches IP addresses only"),
  ]);
});

test('haproxy: bind address forms', () => {
  const cfg = [
    'frontend f', // 1
    '    bind *:443', // 2
    '    bind :::8443 v4v6', // 3
    '    bind [2001:db8::1]:444', // 4
    '    bind ipv6@:445', // 5
    '    bind udp@192.0.2.1:53,udp@192.0.2.2:54', // 6
    '    bind quic4@192.0.2.3:443 ssl crt /x.pem', // 7
    '    bind 192.0.2.4:1000-2000', // 8
    '    bind unix@/var/run/f.sock', // 9
    '    bind /var/run/g.sock', // 10
    '    bind "${VIP}:80"', // 11
    '    bind ipv4@192.0.2.5:80 name web', // 12
  ].join('\n');
  const { inventory, warnings } = parseHaproxyConfig(cfg, 'b.cfg');
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.address, v.port, v.proto]), [
    ['f', '0.0.0.0', 443, 'tcp'],
    ['f:8443', '::', 8443, 'tcp'],
    ['f:444', '2001:db8::1', 444, 'tcp'],
    ['f:445', '::', 445, 'tcp'],
    ['f:53', '192.0.2.1', 53, 'udp'],
    ['f:54', '192.0.2.2', 54, 'udp'],
    ['f:192.0.2.3:443', '192.0.2.3', 443, 'udp'],
    ['f:192.0.2.4', '192.0.2.4', null, 'tcp'],
    ['f:80', '192.0.2.5', 80, 'tcp'],
  ]);
  assert.deepEqual(warnings.map((x) => x.line), [8, 9, 10, 11]);
  assert.match(warnings[0].message, /port range 1000-2000 .*1001 ports.* every port/);
  assert.match(warnings[1].message, /not an IP socket/);
  assert.match(warnings[2].message, /unix socket/);
  assert.match(warnings[3].message, /environment variable/);
});

test('haproxy: server address forms', () => {
  const cfg = [
    'backend b', // 1
    '    server a 2001:db8::1', // 2: IPv6 without a port
    '    server b 2001:db8::1:8080', // 3: HAProxy reads the last colon as the port
    '    server c [2001:db8::2]:81', // 4
    '    server d 10.0.0.4:+1000', // 5: port offset
    '    server e ipv4@10.0.0.5:82 weight 7 source 10.0.0.250', // 6
    '    server f /run/app.sock', // 7
    '    server g 10.0.0.7:83 weight lots', // 8
    'frontend f', // 9
    '    bind 192.0.2.9:80', // 10
    '    use_backend b if { path_beg /x }', // 11
    '    use_backend %[req.hdr(host),lower] ', // 12
    '    use_backend nowhere', // 13
    '    server x 10.0.0.8:80', // 14
  ].join('\n');
  const { inventory, warnings } = parseHaproxyConfig(cfg, 's.cfg');
  assert.equal(inventory.vips.length, 1);
  const v = inventory.vips[0];
  assert.deepEqual(v.pools, [{
    name: 'b', servers: [
      { name: 'a', address: '2001:db8::1', port: null },
      { name: 'b', address: '2001:db8::1', port: 8080 },
      { name: 'c', address: '2001:db8::2', port: 81 },
      { name: 'd', address: '10.0.0.4', port: null },
      { name: 'e', address: '10.0.0.5', port: 82, weight: 7 },
      { name: 'g', address: '10.0.0.7', port: 83 },
    ],
  }]);
  assert.deepEqual(v.lbAddresses, ['10.0.0.250']);
  assert.deepEqual(warnings.map((x) => x.line), [5, 7, 8, 12, 13, 14]);
  assert.match(warnings[0].message, /server 'd' uses a port offset \(\+1000\)/);
  assert.match(warnings[1].message, /unix socket/);
  assert.match(warnings[2].message, /invalid weight 'lots'/);
  assert.match(warnings[3].message, /dynamic use_backend/);
  assert.match(warnings[4].message, /backend 'nowhere' used by frontend 'f' is not defined/);
  assert.match(warnings[5].message, /'server' is not allowed in a frontend section/);
});

test('haproxy: sections, defaults, disabled proxies and conditional blocks', () => {
  const cfg = [
    'maxconn 10', // 1: outside any section
    'global', // 2
    '    nbthread 4', // 3: global is not read
    'defaults', // 4
    '    mode http', // 5
    '    balance static-rr', // 6
    'frontend off', // 7
    '    bind 192.0.2.1:80', // 8
    '    disabled', // 9
    '.if defined(FOO)', // 10
    'frontend nobind', // 11
    '.endif', // 12
    'defaults', // 13: a new defaults section starts afresh
    'listen l', // 14
    '    bind 192.0.2.2:80', // 15
    '    server s 10.0.0.1:80', // 16
    'peers mypeers', // 17
    '    peer lb1 192.0.2.200:1024', // 18
  ].join('\n');
  const { inventory, warnings } = parseHaproxyConfig(cfg, 'x.cfg');
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.mode, v.pools.map((p) => p.balance)]), [['l', 'tcp', [undefined]]]);
  assert.deepEqual(warnings.map((x) => x.line), [1, 7, 10, 11]);
  assert.match(warnings[1].message, /frontend 'off' is disabled/);
  assert.match(warnings[2].message, /\.if/);
  assert.match(warnings[3].message, /frontend 'nobind' has no bind address/);
});

test('haproxy: malformed files throw ImportError with their line', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['haproxy-bad-server.cfg', 'server web2', /'server' line has no address/],
    ['haproxy-bad-address.cfg', '10.0.1.300', /'10\.0\.1\.300' is not an IP address/],
    ['haproxy-unterminated-quote.cfg', '"www', /unterminated double quote/],
  ];
  for (const [file, marker, re] of cases) {
    const text = fixture(file);
    const e = importErrorOf(() => parseHaproxyConfig(text, file));
    assert.equal(e.file, file);
    assert.equal(e.line, lineOf(text, marker), file);
    assert.match(e.message, re);
    assert.ok(e.message.startsWith(`${file}:${e.line}: `));
  }
  const inline: Array<[string, number, RegExp]> = [
    ['frontend f\n  bind\n', 2, /'bind' without an address/],
    ['frontend f\n  bind 192.0.2.1\n', 2, /has no port/],
    ['frontend f\n  bind 192.0.2.1:99999\n', 2, /invalid port/],
    ['frontend f\n  bind 192.0.2.1:http\n', 2, /cannot parse port/],
    ['frontend f\n  bind foo@192.0.2.1:80\n', 2, /unknown address prefix/],
    ['backend b\n  server s 10.0.0.1:70000\n', 2, /invalid port/],
    ['backend b\n  server s 10.0.0.1:80\nbackend b\n', 3, /same name as the backend at line 1/],
    ['frontend f\n  bind :80\nlisten f\n', 3, /same name as the frontend/],
    ['frontend\n', 1, /without a name/],
  ];
  for (const [cfg, line, re] of inline) {
    const e = importErrorOf(() => parseHaproxyConfig(cfg, 'i.cfg'));
    assert.equal(e.line, line, cfg);
    assert.match(e.message, re, cfg);
  }
  // A frontend and a backend may share a name.
  assert.equal(parseHaproxyConfig('frontend web\n bind :80\n default_backend web\nbackend web\n server a 10.0.0.1:80\n', 'ok.cfg').inventory.vips[0].pools[0].name, 'web');
});

// ---- keepalived

test('keepalived: virtual servers NAT, DR, UDP, fwmark and groups, VRRP addresses', () => {
  const text = fixture('keepalived.conf');
  const { inventory, warnings } = parseKeepalivedConfig(text, 'keepalived.conf');
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.address, v.port, v.proto, v.lbKind, v.mode, v.origin?.line]), [
    ['192.0.2.100:80', '192.0.2.100', 80, 'tcp', 'nat', 'nat', lineOf(text, 'virtual_server 192.0.2.100 80')],
    ['192.0.2.101:443', '192.0.2.101', 443, 'tcp', 'dr', 'dr', lineOf(text, 'virtual_server 192.0.2.101 443')],
    ['192.0.2.101:53/udp', '192.0.2.101', 53, 'udp', 'dr', 'dr', lineOf(text, 'virtual_server 192.0.2.101 53')],
    ['fwmark:7', '0.0.0.0', null, 'any', 'dr', 'dr', lineOf(text, 'virtual_server fwmark 7')],
    ['198.51.100.10:8080', '198.51.100.10', 8080, 'tcp', 'tun', 'tun', lineOf(text, '198.51.100.10 8080')],
    ['198.51.100.20:8080', '198.51.100.20', 8080, 'tcp', 'tun', 'tun', lineOf(text, '198.51.100.20-22')],
    ['198.51.100.21:8080', '198.51.100.21', 8080, 'tcp', 'tun', 'tun', lineOf(text, '198.51.100.20-22')],
    ['198.51.100.22:8080', '198.51.100.22', 8080, 'tcp', 'tun', 'tun', lineOf(text, '198.51.100.20-22')],
    ['fwmark:9', '0.0.0.0', null, 'any', 'tun', 'tun', lineOf(text, 'fwmark 9')],
    // VRRP addresses no virtual_server uses: 192.0.2.100 and .101 are covered above.
    ['VI_1', '192.0.2.102', null, 'any', 'proxy', 'vrrp', lineOf(text, '192.0.2.102/24')],
    ['VI_GATEWAY', '10.0.0.1', null, 'any', 'proxy', 'vrrp', lineOf(text, '10.0.0.1/24')],
    ['VI_GATEWAY#2', '2001:db8::1', null, 'any', 'proxy', 'vrrp', lineOf(text, '2001:db8::1/64')],
  ]);
  assert.deepEqual(byName(inventory, '192.0.2.100:80').pools, [{
    name: '192.0.2.100:80', balance: 'rr', persistenceTimeout: 50, servers: [
      { name: '10.0.0.11:80', address: '10.0.0.11', port: 80, weight: 1 },
      { name: '10.0.0.12:80', address: '10.0.0.12', port: 80, weight: 2 },
      { name: 'sorry_server', address: '10.0.0.250', port: 80, backup: true },
    ],
  }]);
  assert.deepEqual(byName(inventory, '192.0.2.101:443').pools, [{
    name: '192.0.2.101:443', balance: 'wlc', servers: [
      { name: '192.0.2.111:443', address: '192.0.2.111', port: 443, weight: 3 },
      { name: '192.0.2.112:443', address: '192.0.2.112', port: 443, weight: 1 },
      { name: '192.0.2.113:443', address: '192.0.2.113', port: 443, weight: 1, lbKind: 'tun' },
    ],
  }]);
  assert.deepEqual(byName(inventory, '192.0.2.101:53/udp').pools[0].servers, [{ name: '192.0.2.121:53', address: '192.0.2.121', port: 53 }]);
  assert.deepEqual(byName(inventory, 'fwmark:7').pools, [{
    name: 'fwmark:7', balance: 'wrr', persistenceTimeout: 600, servers: [{ name: '192.0.2.131', address: '192.0.2.131', port: null, weight: 5 }],
  }]);
  for (const n of ['198.51.100.10:8080', '198.51.100.21:8080', 'fwmark:9']) {
    assert.deepEqual(byName(inventory, n).pools, [{ name: 'WEB_GROUP', balance: 'lc', servers: [{ name: '10.0.9.1:8080', address: '10.0.9.1', port: 8080, weight: 4 }] }]);
  }
  assert.deepEqual(byName(inventory, 'VI_1').pools, []);
  assert.deepEqual(warnings.map((x) => [x.line, x.message]), [
    [lineOf(text, 'frobnicate'), "unknown keyword 'frobnicate' in virtual_server; ignored"],
    [lineOf(text, 'virtual_server fwmark 7'), 'fwmark 7: the marked addresses are chosen by firewall rules, not in this file; only its real servers can be recognised'],
    [lineOf(text, 'fwmark 9'), 'fwmark 9: the marked addresses are chosen by firewall rules, not in this file; only its real servers can be recognised'],
    [lineOf(text, 'MISSING_GROUP'), "virtual_server_group 'MISSING_GROUP' is not defined; virtual_server skipped"],
    [lineOf(text, 'include'), "include '/etc/keepalived/conf.d/*.conf' not followed: import that file on its own"],
  ]);
});

test('keepalived: syntax corners', () => {
  const conf = [
    '$VIP=192.0.2.9', // 1
    'virtual_server 2001:db8::80 80 { # inline comment', // 2
    '  protocol SCTP', // 3
    '  lb_kind BOGUS', // 4
    '  real_server 2001:db8::81 80 { lvs_method DR', // 5
    '  }', // 6
    '  real_server 2001:db8::82 80 {', // 7
    '    colour red', // 8
    '  }', // 9
    '}', // 10
    'virtual_server $VIP 80 {', // 11
    '}', // 12
    'virtual_server 192.0.2.7 0 { sorry_server 10.0.0.9 80 }', // 13
    'mystery_block {', // 14
    '  virtual_server 192.0.2.8 80', // 15
    '}', // 16
  ].join('\n');
  const { inventory, warnings } = parseKeepalivedConfig(conf, 'k.conf');
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.address, v.port, v.proto, v.lbKind]), [
    ['[2001:db8::80]:80', '2001:db8::80', 80, 'any', 'nat'],
    ['192.0.2.7', '192.0.2.7', null, 'tcp', 'nat'],
  ]);
  assert.deepEqual(inventory.vips[0].pools[0].servers, [
    { name: '[2001:db8::81]:80', address: '2001:db8::81', port: 80, lbKind: 'dr' },
    { name: '[2001:db8::82]:80', address: '2001:db8::82', port: 80 },
  ]);
  assert.deepEqual(inventory.vips[1].pools[0].servers, [{ name: 'sorry_server', address: '10.0.0.9', port: 80, backup: true }]);
  assert.deepEqual(warnings.map((x) => x.line), [1, 3, 4, 8, 11, 14]);
  assert.match(warnings[0].message, /parameter definition '\$VIP' is not expanded/);
  assert.match(warnings[1].message, /protocol 'SCTP' recorded as any/);
  assert.match(warnings[5].message, /unknown keyword 'mystery_block'/);
});

test('keepalived: malformed files throw ImportError with their line', () => {
  for (const [file, marker, re] of [
    ['keepalived-unclosed.conf', 'virtual_server 192.0.2.100 80 {', /'\{' is never closed/],
    ['keepalived-bad-address.conf', '10.0.0.1100', /cannot parse real_server address '10\.0\.0\.1100'/],
  ] as const) {
    const text = fixture(file);
    const e = importErrorOf(() => parseKeepalivedConfig(text, file));
    assert.equal(e.line, lineOf(text, marker), file);
    assert.match(e.message, re);
  }
  const inline: Array<[string, number, RegExp]> = [
    ['global_defs {\n}\n}\n', 3, /'\}' without a matching '\{'/],
    ['\n{\n', 2, /'\{' without a keyword/],
    ['virtual_server 192.0.2.1 80 {\n  virtualhost "www\n}\n', 2, /unterminated quote/],
    ['virtual_server {\n}\n', 1, /virtual_server without an address/],
    ['virtual_server 192.0.2.1 80 {\n  real_server {\n  }\n}\n', 2, /real_server without an address/],
    ['virtual_server 192.0.2.1 http8 {\n}\n', 1, /cannot parse virtual_server port 'http8'/],
    ['virtual_server fwmark x {\n}\n', 1, /firewall mark/],
    ['vrrp_instance V {\n virtual_ipaddress {\n  192.0.2.300/24\n }\n}\n', 3, /cannot parse virtual_ipaddress/],
  ];
  for (const [conf, line, re] of inline) {
    const e = importErrorOf(() => parseKeepalivedConfig(conf, 'i.conf'));
    assert.equal(e.line, line, conf);
    assert.match(e.message, re, conf);
  }
});

// ---- ldirectord

test('ldirectord: the sample-style file with gate, masq, ipip, fwmark, a range and IPv6', () => {
  const text = fixture('ldirectord.cf');
  const { inventory, warnings } = parseLdirectordConfig(text, 'ldirectord.cf');
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.address, v.port, v.proto, v.lbKind, v.mode, v.origin?.line]), [
    ['192.0.2.240:80', '192.0.2.240', 80, 'tcp', 'dr', 'dr', lineOf(text, 'virtual=192.0.2.240:80')],
    ['fwmark:1', '0.0.0.0', null, 'any', 'dr', 'dr', lineOf(text, /^virtual=1$/)],
    ['192.0.2.241:80', '192.0.2.241', 80, 'tcp', 'nat', 'nat', lineOf(text, 'virtual = 192.0.2.241:http')],
    ['192.0.2.242:53/udp', '192.0.2.242', 53, 'udp', 'nat', 'nat', lineOf(text, 'virtual=192.0.2.242:53')],
    ['[2001:db8::5]:119', '2001:db8::5', 119, 'tcp', 'nat', 'nat', lineOf(text, 'virtual6=')],
  ]);
  // The global fallback applies where a block has none; gate (dr) is the fallback's default method.
  assert.deepEqual(byName(inventory, '192.0.2.240:80').pools, [{
    name: '192.0.2.240:80', balance: 'rr', servers: [
      { name: '10.0.6.2:80', address: '10.0.6.2', port: 80 },
      { name: '10.0.6.3:80', address: '10.0.6.3', port: 80, weight: 2 },
      { name: '10.0.6.6:80', address: '10.0.6.6', port: 80, lbKind: 'tun' },
      { name: 'fallback', address: '127.0.0.1', port: 80, backup: true },
    ],
  }]);
  assert.deepEqual(byName(inventory, 'fwmark:1').pools[0].servers, [
    { name: '10.0.6.2', address: '10.0.6.2', port: null },
    { name: '10.0.6.3', address: '10.0.6.3', port: null },
    { name: 'fallback', address: '127.0.0.1', port: 80, backup: true },
  ]);
  assert.deepEqual(byName(inventory, '192.0.2.241:80').pools, [{
    name: '192.0.2.241:80', balance: 'wlc', persistenceTimeout: 600, servers: [
      { name: '10.0.6.2:80', address: '10.0.6.2', port: 80, weight: 5 },
      { name: '10.0.6.3:80', address: '10.0.6.3', port: 80, weight: 5 },
      { name: '10.0.6.4:80', address: '10.0.6.4', port: 80, weight: 5 },
      { name: 'fallback', address: '127.0.0.1', port: 80, backup: true, lbKind: 'dr' },
    ],
  }]);
  assert.deepEqual(byName(inventory, '192.0.2.242:53/udp').pools[0].servers.at(-1), { name: 'fallback', address: '127.0.0.1', port: 53, backup: true, lbKind: 'dr' });
  assert.deepEqual(byName(inventory, '[2001:db8::5]:119').pools[0].servers, [
    { name: '[2001:db8:0:1::4]:119', address: '2001:db8:0:1::4', port: 119 },
    { name: '[2001:db8:0:1::6]:119', address: '2001:db8:0:1::6', port: 119 },
  ]);
  assert.deepEqual(warnings.map((x) => [x.line, x.message]), [
    [lineOf(text, /^virtual=1$/), 'fwmark 1: the marked addresses are chosen by firewall rules, not in this file; only its real servers can be recognised'],
    [lineOf(text, 'frobnicate'), "unknown directive 'frobnicate' in virtual block; ignored"],
    [lineOf(text, 'colour'), "unknown global directive 'colour'; ignored"],
  ]);
});

test('ldirectord: a Loadbalancer.org-style file: labels, weights, majority method', () => {
  const text = fixture('lbo-ldirectord.cf');
  const { inventory, warnings } = parseLdirectordConfig(text, 'lbo.cf');
  assert.deepEqual(warnings, []);
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.address, v.port, v.proto, v.lbKind]), [
    ['VIP_Web', '192.0.2.50', 80, 'tcp', 'dr'],
    ['VIP_RDP', '192.0.2.51', 3389, 'tcp', 'nat'],
    ['VIP_Web#2', '192.0.2.50', 443, 'tcp', 'dr'],
  ]);
  assert.deepEqual(byName(inventory, 'VIP_Web').pools, [{
    name: 'VIP_Web', balance: 'wlc', persistenceTimeout: 300, servers: [
      { name: '10.0.20.11:80', address: '10.0.20.11', port: 80, weight: 100 },
      { name: '10.0.20.12:80', address: '10.0.20.12', port: 80, weight: 100 },
      { name: '10.0.20.13:80', address: '10.0.20.13', port: 80, weight: 0 },
      { name: 'fallback', address: '127.0.0.1', port: 9081, backup: true, lbKind: 'nat' },
    ],
  }]);
  // Two masq and one gate: the VIP is NAT, the odd server keeps its own method.
  assert.deepEqual(byName(inventory, 'VIP_RDP').pools[0].servers.map((s) => [s.address, s.lbKind]), [
    ['10.0.20.21', undefined], ['10.0.20.22', undefined], ['10.0.20.23', 'dr'],
  ]);
});

test('ldirectord: corners and malformed files', () => {
  const cf = [
    'checktimeout=3', // 1
    '    real=10.0.0.1:80 gate', // 2: indented with no virtual block
    'virtual=www.example.com:https', // 3
    '\treal=sql01->sql03:443 gate 10', // 4
    '\treal=10.0.0.2:443 masq 3 extra', // 5
    '', // 6: a blank line does not end the block
    '  real=10.0.0.3:443 masq', // 7
    'virtual=192.0.2.1:25', // 8
    '\tprotocol=fwm', // 9
    '\tlabel="Mail"', // 10
    'not a directive', // 11
  ].join('\n');
  const { inventory, warnings } = parseLdirectordConfig(cf, 'c.cf');
  assert.deepEqual(inventory.vips.map((v) => [v.name, v.address, v.port, v.lbKind, v.pools[0].servers.length]), [
    ['www.example.com:443', 'www.example.com', 443, 'nat', 2],
    ['Mail', '192.0.2.1', 25, 'dr', 0],
  ]);
  assert.deepEqual(warnings.map((x) => x.line), [2, 3, 4, 5, 9, 11]);
  assert.match(warnings[0].message, /indented 'real' outside a virtual block/);
  assert.match(warnings[1].message, /host name/);
  assert.match(warnings[2].message, /not an IPv4 range; skipped/);
  assert.match(warnings[3].message, /unexpected 'extra'/);

  for (const [file, marker, re] of [
    ['ldirectord-bad-real.cf', 'real=10.0.6.3:80', /forwarding method must be gate, masq or ipip/],
    ['ldirectord-bad-address.cf', '192.0.2.2400', /cannot parse virtual address '192\.0\.2\.2400'/],
  ] as const) {
    const text = fixture(file);
    const e = importErrorOf(() => parseLdirectordConfig(text, file));
    assert.equal(e.line, lineOf(text, marker), file);
    assert.match(e.message, re);
  }
  const inline: Array<[string, number, RegExp]> = [
    ['virtual=\n', 1, /virtual without an address/],
    ['virtual=192.0.2.1\n', 1, /has no port/],
    ['virtual=0\n', 1, /invalid firewall mark/],
    ['virtual=192.0.2.1:80\n\treal=\n', 2, /real without an address/],
    ['virtual=192.0.2.1:80\n\treal=10.0.0.1:80 bridge\n', 2, /not 'bridge'/],
    ['virtual=192.0.2.1:80\n\treal=2001:db8::1:80 gate\n', 2, /IPv6 addresses go in brackets/],
    ['virtual=192.0.2.1:nosuchservice\n', 1, /cannot parse virtual port/],
    ['virtual=192.0.2.1:80\n\treal=10.0.0.9->10.0.0.1:80 gate\n', 2, /cannot parse real server range/],
    ['virtual=192.0.2.1:80\n\treal=[2001:db8::1]->[2001:db8::9]:80 gate\n', 2, /cannot parse real server range/],
    ['fallback=127.0.0.1:80 tunnel\n', 1, /forwarding method/],
  ];
  for (const [text, line, re] of inline) {
    const e = importErrorOf(() => parseLdirectordConfig(text, 'i.cf'));
    assert.equal(e.line, line, text);
    assert.match(e.message, re, text);
  }
});

// ---- YAML

test('yaml: the documented format', () => {
  const text = fixture('vips.yaml');
  const { inventory, warnings } = parseVipYaml(text, 'vips.yaml');
  assert.deepEqual(inventory.vips, [
    {
      name: 'web', address: '10.0.0.10', port: 443, proto: 'tcp', mode: 'dr', lbKind: 'dr', lbAddresses: ['10.0.0.2'],
      pools: [{
        name: 'web', balance: 'source', servers: [
          { name: 'web1', address: '10.0.1.11', port: 443, weight: 1 },
          { name: 'web2', address: '10.0.1.12', port: 443, weight: 2, lbKind: 'tun' },
          { name: '10.0.1.13', address: '10.0.1.13', port: null, backup: true },
        ],
      }],
      origin: { kind: 'yaml', name: 'vips.yaml', line: lineOf(text, /- name: web$/) },
    },
    {
      name: 'api', address: '2001:db8::443', port: 8443, proto: 'tcp', mode: 'http', lbKind: 'proxy', lbAddresses: [],
      pools: [
        { name: 'api-blue', balance: 'roundrobin', stick: 'stick on src', persistenceTimeout: 1800, servers: [{ name: 'blue1', address: '2001:db8:1::1', port: 8080, cookie: 'b1' }] },
        { name: 'api-green', servers: [{ name: 'green1', address: '2001:db8:2::1', port: 8080, disabled: true }] },
      ],
      origin: { kind: 'yaml', name: 'vips.yaml', line: lineOf(text, /- name: api$/) },
    },
    {
      name: 'dns', address: '10.0.0.53', port: 53, proto: 'udp', mode: 'nat', lbKind: 'nat', lbAddresses: [], pools: [],
      origin: { kind: 'yaml', name: 'vips.yaml', line: lineOf(text, /- name: dns$/) },
    },
  ]);
  assert.deepEqual(warnings, [w('vips.yaml', lineOf(text, 'colour'), "unknown key 'colour' in a VIP; ignored")]);
  assert.deepEqual(parseVipYaml('', 'e.yaml'), { inventory: { vips: [] }, warnings: [] });
  assert.deepEqual(parseVipYaml('vips: []\n', 'e.yaml').inventory, { vips: [] });
});

test('yaml: type errors name their line', () => {
  for (const [file, marker, re] of [
    ['vips-bad-port.yaml', 'port: 70000', /port of VIP 'web' must be an integer 0\.\.65535/],
    ['vips-bad-syntax.yaml', 'port: 443', /./],
  ] as const) {
    const text = fixture(file);
    const e = importErrorOf(() => parseVipYaml(text, file));
    assert.equal(e.line, lineOf(text, marker), file);
    assert.match(e.message, re);
  }
  const head = 'vips:\n  - name: a\n';
  const cases: Array<[string, number, RegExp]> = [
    [`${head}    address: 10.0.0.300\n`, 3, /'10\.0\.0\.300' is not an IP address/],
    [`${head}    port: 80\n`, 2, /address of VIP 'a' is required/],
    [`${head}    address: 10.0.0.1\n    proto: sctp\n`, 4, /proto must be tcp, udp or any/],
    [`${head}    address: 10.0.0.1\n    kind: gate\n`, 4, /kind of VIP 'a' must be one of proxy, nat, dr, tun/],
    [`${head}    address: 10.0.0.1\n    servers: 5\n`, 4, /servers must be a list/],
    [`${head}    address: 10.0.0.1\n    servers:\n      - { address: 10.0.0.2, weight: -1 }\n`, 5, /weight must be an integer/],
    [`${head}    address: 10.0.0.1\n    servers:\n      - { address: 10.0.0.2, backup: yes }\n`, 5, /backup must be true or false/],
    [`${head}    address: 10.0.0.1\n    servers: []\n    pools: []\n`, 4, /'servers' goes in each pool/],
    [`${head}    address: 10.0.0.1\n  - name: a\n    address: 10.0.0.2\n`, 4, /duplicate VIP name 'a' \(first at line 2\)/],
    [`${head}    address: 10.0.0.1\n    pools:\n      - servers: []\n`, 5, /pool name is required/],
    ['- name: a\n', 1, /the file must be a mapping/],
    ['vips:\n  - name: [a, b]\n', 2, /single value/],
  ];
  for (const [text, line, re] of cases) {
    const e = importErrorOf(() => parseVipYaml(text, 'c.yaml'));
    assert.equal(e.line, line, text);
    assert.match(e.message, re, text);
  }
});

// ---- detection, dispatch, merge

test('format detection by content, the file name only as a hint', () => {
  const expect: Array<[string, VipFormat]> = [
    ['haproxy.cfg', 'haproxy'], ['haproxy-legacy.cfg', 'haproxy'], ['haproxy-bad-server.cfg', 'haproxy'],
    ['keepalived.conf', 'keepalived'], ['keepalived-unclosed.conf', 'keepalived'],
    ['ldirectord.cf', 'ldirectord'], ['lbo-ldirectord.cf', 'ldirectord'], ['ldirectord-bad-real.cf', 'ldirectord'],
    ['vips.yaml', 'yaml'], ['vips-bad-port.yaml', 'yaml'],
  ];
  for (const [file, format] of expect) {
    const text = fixture(file);
    // A misleading name does not win over the content.
    assert.equal(detectVipFormat(text, file), format, file);
    assert.equal(detectVipFormat(text, 'lb.conf'), format, `${file} as lb.conf`);
    assert.equal(detectVipFormat(text, format === 'yaml' ? 'haproxy.cfg' : 'vips.yaml'), format, `${file} under another name`);
  }
  // Nothing typical in the content: the name decides, or nothing does.
  assert.equal(detectVipFormat('', '/etc/haproxy/haproxy.cfg'), 'haproxy');
  assert.equal(detectVipFormat('# empty\n', 'keepalived.conf'), 'keepalived');
  assert.equal(detectVipFormat('', 'ldirectord.cf'), 'ldirectord');
  assert.equal(detectVipFormat('', 'lb.yml'), 'yaml');
  assert.equal(detectVipFormat('hello\n', 'lb.conf'), null);
  const e = importErrorOf(() => importVipConfig('hello\n', 'lb.conf'));
  assert.equal(e.line, 1);
  assert.match(e.message, /cannot tell the format/);
});

test('importVipConfig dispatches to the detected or the given format', () => {
  const r = importVipConfig(fixture('keepalived.conf'), 'lb.conf');
  assert.equal(r.format, 'keepalived');
  assert.equal(r.inventory.vips.length, 12);
  assert.deepEqual(importVipConfig(fixture('vips.yaml'), 'x', 'yaml').inventory, parseVipYaml(fixture('vips.yaml'), 'x').inventory);
  // Forcing the wrong format reads the file as that format (here: YAML sees no `vips`).
  const forced = importVipConfig('frontend f\n  bind :80\n', 'x.cfg', 'ldirectord');
  assert.equal(forced.format, 'ldirectord');
  assert.deepEqual(forced.inventory.vips, []);
});

test('mergeVipInventories: later files win by name; same endpoints are reported', () => {
  const ha = importVipConfig(fixture('haproxy.cfg'), 'haproxy.cfg').inventory;
  const yaml = parseVipYaml([
    'vips:',
    '  - name: http-in', // 2: replaces haproxy's
    '    address: 192.0.2.10',
    '    port: 80',
    '  - name: other-mysql', // 5: same endpoint as haproxy's 'mysql', different name
    '    address: 198.51.100.20',
    '    port: 3306',
    '  - name: mysql-udp', // 8: same address and port, another protocol: no clash
    '    address: 198.51.100.20',
    '    port: 3306',
    '    proto: udp',
  ].join('\n'), 'fix.yaml').inventory;
  const { inventory, warnings } = mergeVipInventories([ha, yaml]);
  assert.equal(inventory.vips.length, ha.vips.length + 2);
  // Replaced in place: the order of the first file is kept.
  assert.equal(inventory.vips[0].name, 'http-in');
  assert.equal(inventory.vips[0].origin?.name, 'fix.yaml');
  assert.deepEqual(inventory.vips[0].pools, []);
  assert.deepEqual(inventory.vips.slice(-2).map((v) => v.name), ['other-mysql', 'mysql-udp']);
  assert.deepEqual(warnings, [
    w('fix.yaml', 2, "VIP 'http-in' replaces the one from haproxy.cfg:24"),
    w('fix.yaml', 5, "VIP 'other-mysql' has the same address, port and protocol (198.51.100.20:3306 tcp) as 'mysql' from haproxy.cfg:56"),
  ]);
  assert.deepEqual(mergeVipInventories([]), { inventory: { vips: [] }, warnings: [] });
  // Inputs are not modified.
  assert.equal(ha.vips[0].origin?.name, 'haproxy.cfg');
});

// ---- robustness


const NOISE = ['{', '}', '"', "'", ':', '[', ']', '=', '#', '!', '\n', ' ', '\t', '-', '->', '@', '$', '${', ',', '/', '\\', '0', '9', '65536', '::', '300', 'x', 'real=', 'server', 'bind', '- ', '  ', 'vips:', '&a', '*a'];

function mutate(text: string, r: () => number): string {
  const pick = (n: number) => Math.floor(r() * n);
  let t = text;
  const ops = 1 + pick(4);
  for (let k = 0; k < ops; k++) {
    const at = pick(t.length + 1);
    switch (pick(6)) {
      case 0: t = t.slice(0, at); break; // truncate
      case 1: t = t.slice(0, at) + t.slice(at + 1 + pick(40)); break; // delete a run
      case 2: t = t.slice(0, at) + NOISE[pick(NOISE.length)] + t.slice(at); break; // insert noise
      case 3: { // duplicate a line
        const lines = t.split('\n');
        const i = pick(lines.length);
        lines.splice(i, 0, lines[i]);
        t = lines.join('\n');
        break;
      }
      case 4: { // swap two lines
        const lines = t.split('\n');
        const i = pick(lines.length);
        const j = pick(lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        t = lines.join('\n');
        break;
      }
      default: t = t.slice(0, at) + String.fromCharCode(pick(128)) + t.slice(at + 1); // replace a character
    }
  }
  return t;
}

function checkResult(inv: VipInventory, warnings: ImportWarning[], label: string): void {
  const names = new Set<string>();
  for (const v of inv.vips) {
    assert.ok(!names.has(v.name), `${label}: duplicate VIP name ${v.name}`);
    names.add(v.name);
    assert.ok(v.address.length > 0, `${label}: empty address`);
    assert.ok(v.port === null || (Number.isInteger(v.port) && v.port > 0 && v.port <= 65535), `${label}: port ${v.port}`);
    for (const p of v.pools) for (const s of p.servers) assert.ok(s.port === null || (Number.isInteger(s.port) && s.port > 0 && s.port <= 65535), `${label}: server port ${s.port}`);
  }
  for (const x of warnings) assert.ok(Number.isInteger(x.line) && x.line >= 1, `${label}: warning line ${x.line}`);
}

test('fuzz: truncated and mutated fixtures give an inventory or an ImportError, nothing else', () => {
  const files: Array<[string, VipFormat]> = [
    ['haproxy.cfg', 'haproxy'], ['haproxy-legacy.cfg', 'haproxy'], ['keepalived.conf', 'keepalived'],
    ['ldirectord.cf', 'ldirectord'], ['lbo-ldirectord.cf', 'ldirectord'], ['vips.yaml', 'yaml'],
  ];
  let parsed = 0;
  let rejected = 0;
  for (const [file, format] of files) {
    const text = fixture(file);
    const r = prng(0xd5f10 + file.length);
    for (let i = 0; i < 400; i++) {
      const t = i < 40 ? text.slice(0, Math.floor((text.length * i) / 40)) : mutate(text, r);
      const label = `${file} #${i}: ${JSON.stringify(t.length > 300 ? `${t.slice(0, 300)}...` : t)}`;
      for (const f of [format, undefined] as const) {
        try {
          const res = importVipConfig(t, file, f);
          checkResult(res.inventory, res.warnings, label);
          parsed++;
        } catch (e) {
          if (!(e instanceof ImportError)) assert.fail(`${label}: threw ${(e as Error).stack}`);
          assert.ok(Number.isInteger(e.line) && e.line >= 1, `${label}: error line ${e.line}`);
          rejected++;
        }
      }
    }
  }
  // Both outcomes occur: the mutations do reach the error paths and do not all break the files.
  assert.ok(parsed > 1000 && rejected > 100, `parsed ${parsed}, rejected ${rejected}`);
});
