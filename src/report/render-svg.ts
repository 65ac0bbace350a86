/**
 * Vega-Lite spec -> SVG text, in Node without a browser (Vega's headless View, renderer "none"). Ids inside
 * each SVG (clip paths, gradients) get a per-figure prefix so that many SVGs can share one HTML page.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

const CONFIG = {
  font: FONT,
  background: 'white',
  axis: { labelFontSize: 10, titleFontSize: 11, grid: true, gridColor: '#eee' },
  axisX: { labelAngle: 0 },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  view: { stroke: '#ccc' },
  // No ARIA label and role on every mark: each figure's data is a table under it, and at cluster scale the
  // per-mark labels were a third of the page (1.2 of 3.8 MB of SVG at 100,000 cells). Axes and legends keep theirs.
  mark: { aria: false },
};

export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const { spec: vegaSpec } = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec);
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] as string));
    let out = svg;
    for (const id of ids) {
      out = out.split(`id="${id}"`).join(`id="${idPrefix}-${id}"`).split(`url(#${id})`).join(`url(#${idPrefix}-${id})`);
    }
    return out;
  } finally {
    view.finalize();
  }
}
