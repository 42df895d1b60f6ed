import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleReport } from '../testing/sample-report';
import { InitReportSchema } from './report-schema';
import { formatLayerSummary } from './layer-summary';
import { renderReportHtml } from './render-html';
import { filterGridSvg } from './svg-charts';

const CHROMIUM = '/usr/bin/chromium';

describe('report schema', () => {
  it('accepts a complete report and rejects NaN, unknown fields and a bad filter shape', () => {
    expect(InitReportSchema.parse(sampleReport()).model).toBe('caffenet-small');
    const nan = sampleReport();
    nan.layers[0].outStd = Number.NaN;
    expect(InitReportSchema.safeParse(nan).error?.issues[0].path).toEqual(['layers', 0, 'outStd']);
    expect(InitReportSchema.safeParse({ ...sampleReport(), extra: 1 }).success).toBe(false);
    const filters = sampleReport().firstLayerFilters;
    if (!filters) throw new Error('fixture has filters');
    expect(InitReportSchema.safeParse({ ...sampleReport(), firstLayerFilters: { ...filters, values: filters.values.slice(1) } }).success).toBe(false);
  });

  it("names methods and kinds as the libraries do: the library's names pass, others (the old 'skipped') are rejected at their path", () => {
    const named = (layer: Record<string, unknown>, within = 'kmeans') => ({
      ...sampleReport(),
      within: { method: within, beta: 0 },
      layers: [{ ...sampleReport().layers[0], ...layer }],
    });
    for (const method of ['kept', 'batchnorm', 'patches']) expect(InitReportSchema.safeParse(named({ method })).success, method).toBe(true);
    expect(InitReportSchema.safeParse(named({ method: 'skipped' })).error?.issues[0].path).toEqual(['layers', 0, 'method']);
    expect(InitReportSchema.safeParse(named({ kind: 'convolution' })).error?.issues[0].path).toEqual(['layers', 0, 'kind']);
    expect(InitReportSchema.safeParse(named({}, 'batchnorm')).error?.issues[0].path).toEqual(['within', 'method']);
  });
});

describe('the initialization on the report', () => {
  /** A data-free report as the stage writes it: no within-layer method, layers named by the draw, no per-layer time. */
  const dataFree = (init: 'he-normal' | 'lsuv') =>
    sampleReport({
      init,
      within: null,
      calibration: null,
      lsuv:
        init === 'lsuv'
          ? { converged: true, tolerance: 0.1, layers: [{ layer: 'conv1', varianceBefore: 3.2, varianceAfter: 1.04, tries: 2, converged: true }], skipped: [] }
          : null,
      layers: sampleReport().layers.map((l) => ({ ...l, method: init, fallback: null, rows: null, images: null, outStdBefore: null, seconds: null })),
    });

  it('report.json names it (`init`), one of INITIALIZATIONS; an unknown one is rejected at its path', () => {
    expect(InitReportSchema.parse(sampleReport()).init).toBe('ddinit-kmeans+calibration');
    for (const init of ['he-normal', 'lsuv'] as const) expect(InitReportSchema.safeParse(dataFree(init)).success, init).toBe(true);
    expect(InitReportSchema.safeParse({ ...sampleReport(), init: 'xavier' }).error?.issues[0].path).toEqual(['init']);
  });

  it('the page and the summary show it, and say what a data-free draw and LSUV did', () => {
    expect(renderReportHtml(sampleReport())).toContain('<dt>init</dt><dd><code>ddinit-kmeans+calibration</code></dd>');
    const heNormal = renderReportHtml(dataFree('he-normal'));
    expect(heNormal).toContain('<dt>init</dt><dd><code>he-normal</code></dd>');
    expect(heNormal).toMatch(
      /<dt>within-layer<\/dt><dd>none: every kernel drawn by he-normal, no weight learnt from the data \(the sample only standardizes the inputs\)/,
    );
    expect(heNormal).toContain('<dt>between-layer</dt><dd>none</dd>');
    const lsuv = renderReportHtml(dataFree('lsuv'));
    expect(lsuv).toMatch(/LSUV <span class="ok">converged<\/span>: 1 layer\(s\) rescaled to unit output variance on the batch, max \|Var − 1\| = 0\.0400/);
    expect(formatLayerSummary(dataFree('lsuv'))).toMatch(/^init lsuv: model caffenet-small/m);
    expect(formatLayerSummary(dataFree('he-normal'))).toMatch(/^conv1 +conv +he-normal +— +— .* —$/m);
  });
});

describe('the rows and images of each layer', () => {
  it('are in the table and on the page: a grown layer shows the images its rows came from, a data-free one a dash', () => {
    const report = sampleReport();
    const lines = formatLayerSummary(report).split('\n');
    expect(lines[0]).toMatch(/^layer +kind +method +rows +images +mean/);
    expect(lines.find((l) => l.startsWith('fc6'))).toMatch(/^fc6 +dense +kmeans +2500 +2048 /);
    expect(lines.find((l) => l.startsWith('conv1'))).toMatch(/^conv1 +conv +kmeans +4000 +160 /);
    expect(lines.find((l) => l.startsWith('fc8'))).toMatch(/^fc8 +dense +gaussian\* +— +— /);
    expect(renderReportHtml(report)).toMatch(/<td>fc6<\/td>.*?<td>2500<\/td><td>2048<\/td>/);
    // Reports written before the field existed still parse (images: null).
    const { images: _dropped, ...old } = report.layers[0];
    expect(InitReportSchema.parse({ ...report, layers: [old] }).layers[0].images).toBeNull();
  });
});

describe('the held-out numbers', () => {
  it('are in the schema: nullable per layer and as a section, finite when present', () => {
    expect(InitReportSchema.safeParse({ ...sampleReport(), heldOut: null }).success).toBe(true);
    const none = sampleReport();
    none.layers[0] = { ...none.layers[0], heldOutMean: null, heldOutStd: null, heldOutStrays: false };
    expect(InitReportSchema.safeParse(none).success).toBe(true);
    const nan = sampleReport();
    nan.layers[2].heldOutStd = Number.NaN;
    expect(InitReportSchema.safeParse(nan).error?.issues[0].path).toEqual(['layers', 2, 'heldOutStd']);
  });

  it('the printed table shows them next to the in-sample ones and names the stray layers', () => {
    const table = formatLayerSummary(sampleReport());
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/\bstd +held-out mean +held-out std +ρ before/);
    expect(lines.find((l) => l.startsWith('fc6'))).toMatch(/0\.9997 +0\.0600 +! 2\.4000/);
    expect(lines.find((l) => l.startsWith('conv2'))).toMatch(/0\.0200 +1\.0300 /);
    expect(table).toContain(
      '! held-out images differ from the sample (std ratio outside ×1.4 or mean shift > 0.25 std) in fc6: the sample is too small for them (raise --sample)',
    );
    expect(table).toContain('held-out: 256 images, loss 2.4100 (uniform guess 2.3026)');
    expect(formatLayerSummary(sampleReport({ heldOut: null }))).toContain('held-out: none');
  });

  it('the page marks a stray layer and summarizes the check', () => {
    const html = renderReportHtml(sampleReport());
    expect(html).toMatch(/<td>0\.0600<\/td><td class="bad">2\.4000<\/td>/);
    expect(html).toMatch(/<dt>held-out check<\/dt><dd>256 images outside the sample; loss 2\.4100 \(uniform guess 2\.3026\); <span class="bad">fc6 stray/);
    const clean = sampleReport();
    if (clean.heldOut) clean.heldOut.strayLayers = [];
    expect(renderReportHtml(clean)).toContain('every layer within its limits');
  });
});

describe('filterGridSvg', () => {
  it('draws one tile of kh×kw pixels per output channel, zero as mid-grey', () => {
    const svg = filterGridSvg([2, 2, 1, 3], [0, 1, -1, 0, 0, 0, 0, 0, 0, 1, 1, 1], 12);
    expect(svg.match(/<rect /g)?.length).toBe(12);
    expect(svg).toContain('fill="rgb(128,128,128)"');
    expect(svg).toContain('fill="rgb(255,255,255)"');
    expect(svg).toContain('fill="rgb(0,0,0)"');
  });
});

describe('report.html', () => {
  it('is self-contained and escapes layer names', () => {
    const html = renderReportHtml(sampleReport({ model: '<script>alert(1)</script>' }));
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html.match(/<svg /g)?.length).toBe(3);
  });

  describe('in headless Chromium', () => {
    let browser: Browser;
    let dir: string;
    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does) to test the report page`);
      }
      dir = mkdtempSync(join(tmpdir(), 'ddinit-report-'));
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      });
    });
    afterAll(async () => {
      await browser?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('renders every figure with no console error and no failed request', async () => {
      const file = join(dir, 'report.html');
      writeFileSync(file, renderReportHtml(sampleReport()));
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
      await page.goto(`file://${file}`);
      const figures = await page.$$eval('svg', (svgs) => svgs.map((s) => s.getBoundingClientRect().width * s.getBoundingClientRect().height));
      expect(figures).toHaveLength(3);
      for (const area of figures) expect(area).toBeGreaterThan(1000);
      expect(await page.$$eval('tbody tr', (rows) => rows.length)).toBe(5);
      expect(await page.title()).toBe('ddinit report: caffenet-small');
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});
