// bench/firstPaint: how long the Overview takes to show in a real browser on localhost: first contentful
// paint, and the time until its three charts hold data. Starts `dvflow start` on ephemeral ports with a
// fresh store, feeds it a capture with softflowd (times moved to the last minutes), then loads the page
// --runs times in fresh browser contexts (cold cache) and prints the median and worst.
//
// Usage: node --import tsx bench/firstPaint.ts [--runs 5]
import { parseArgs } from 'node:util';
import { startDashboard } from '../web/test/e2e/harness.ts';
import { median } from './stats.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(1, Number(args.runs));
const d = await startDashboard();
const browser = d.browser;
const fcp: number[] = [];
const charts: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await ctx.newPage();
    const t0 = Date.now();
    await page.goto(`${d.url}/`);
    // The three metric charts expose their series as data-series once drawn with data.
    await page.waitForFunction(() => {
      const els = [...document.querySelectorAll('[data-series]')];
      return els.length >= 3 && els.slice(0, 3).every((e) => (e.getAttribute('data-series') ?? '[]') !== '[]');
    }, undefined, { timeout: 30_000 });
    charts.push(Date.now() - t0);
    fcp.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
    await ctx.close();
  }
} finally {
  await d.close();
}
console.log(`Overview on localhost, ${runs} cold loads: first contentful paint median ${median(fcp).toFixed(0)} ms (worst ${Math.max(...fcp).toFixed(0)}), ` +
  `charts with data median ${median(charts)} ms (worst ${Math.max(...charts)})`);
