/**
 * A monotone dose-response curve: the logistic
 *   f(u) = bottom + (top - bottom) / (1 + exp(slope * (u - midpoint))),  slope > 0,
 * in u = ln(dose) (levels: sigma, lambda, rate span decades) or u = dose (fractions), with `top` fixed to
 * the clean model's score, fitted by least squares (Nelder-Mead from a few deterministic starts). At u =
 * midpoint the curve has lost half of the way from the clean score to its floor: that dose is where half
 * the performance that the corruption can take away is lost.
 */

export interface LogisticFit {
  top: number;
  bottom: number;
  /** The dose at the midpoint (exp(midpoint) on a log scale). */
  halfDose: number;
  /** Whether halfDose lies within the doses measured (else it is an extrapolation). */
  halfDoseMeasured: boolean;
  slope: number;
  /** Root-mean-square residual over the points fitted. */
  rmse: number;
  n: number;
  logScale: boolean;
}

/** Minimizes f from x0 (Nelder-Mead with the standard coefficients). */
export function nelderMead(f: (x: number[]) => number, x0: number[], step: number[], iterations = 2000): { x: number[]; value: number } {
  const n = x0.length;
  let simplex = [x0, ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + (step[j] as number) : v)))].map((x) => ({ x, value: f(x) }));
  for (let it = 0; it < iterations; it++) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0] as { x: number[]; value: number };
    const worst = simplex[n] as { x: number[]; value: number };
    if (Math.abs(worst.value - best.value) <= 1e-14 * (Math.abs(best.value) + 1e-14)) break;
    const centroid = x0.map((_, j) => simplex.slice(0, n).reduce((s, p) => s + (p.x[j] as number), 0) / n);
    const along = (t: number) => centroid.map((c, j) => c + t * ((worst.x[j] as number) - c));
    const reflected = along(-1);
    const fr = f(reflected);
    if (fr < best.value) {
      const expanded = along(-2);
      const fe = f(expanded);
      simplex[n] = fe < fr ? { x: expanded, value: fe } : { x: reflected, value: fr };
    } else if (fr < (simplex[n - 1] as { value: number }).value) {
      simplex[n] = { x: reflected, value: fr };
    } else {
      const contracted = fr < worst.value ? along(-0.5) : along(0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, worst.value)) {
        simplex[n] = { x: contracted, value: fc };
      } else {
        simplex = simplex.map((p, i) => (i === 0 ? p : { x: best.x.map((b, j) => b + 0.5 * ((p.x[j] as number) - b)), value: Number.NaN }));
        for (const p of simplex) if (Number.isNaN(p.value)) p.value = f(p.x);
      }
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  return simplex[0] as { x: number[]; value: number };
}

export const logistic = (u: number, top: number, bottom: number, midpoint: number, slope: number) =>
  bottom + (top - bottom) / (1 + Math.exp(slope * (u - midpoint)));

/** Fits the curve to (dose, score) points with doses > 0; null below three distinct doses. */
export function fitLogistic(points: readonly { dose: number; score: number }[], top: number, logScale: boolean): LogisticFit | null {
  const usable = points.filter((p) => Number.isFinite(p.score) && (logScale ? p.dose > 0 : p.dose >= 0));
  const doses = [...new Set(usable.map((p) => p.dose))].sort((a, b) => a - b);
  if (doses.length < 3 || !Number.isFinite(top)) return null;
  const us = usable.map((p) => (logScale ? Math.log(p.dose) : p.dose));
  const ys = usable.map((p) => p.score);
  const [uMin, uMax] = [Math.min(...us), Math.max(...us)];
  const span = uMax - uMin || 1;
  const sse = ([bottom, midpoint, logSlope]: number[]) => {
    const slope = Math.exp(logSlope as number);
    let s = 0;
    for (let i = 0; i < us.length; i++)
      s += ((ys[i] as number) - logistic(us[i] as number, top, bottom as number, midpoint as number, slope)) ** 2;
    return Number.isFinite(s) ? s : Number.MAX_VALUE;
  };
  const floor = Math.min(...ys);
  let best: { x: number[]; value: number } | null = null;
  for (const start of [0.25, 0.5, 0.75]) {
    for (const slope of [2 / span, 8 / span]) {
      const r = nelderMead(sse, [floor, uMin + start * span, Math.log(slope)], [Math.abs(top - floor) / 4 + 1e-3, span / 4, 0.5]);
      if (!best || r.value < best.value) best = r;
    }
  }
  const [bottom, midpoint, logSlope] = (best as { x: number[] }).x as [number, number, number];
  const halfDose = logScale ? Math.exp(midpoint) : midpoint;
  return {
    top,
    bottom,
    halfDose,
    halfDoseMeasured: halfDose >= (doses[0] as number) && halfDose <= (doses[doses.length - 1] as number),
    slope: Math.exp(logSlope),
    rmse: Math.sqrt((best as { value: number }).value / us.length),
    n: us.length,
    logScale,
  };
}

/** Points along a fitted curve for plotting, evenly spaced in u over the measured doses. */
export function curvePoints(fit: LogisticFit, minDose: number, maxDose: number, count = 60): { dose: number; score: number }[] {
  const [a, b] = fit.logScale ? [Math.log(minDose), Math.log(maxDose)] : [minDose, maxDose];
  const midpoint = fit.logScale ? Math.log(fit.halfDose) : fit.halfDose;
  return Array.from({ length: count }, (_, i) => {
    const u = a + ((b - a) * i) / (count - 1);
    return { dose: fit.logScale ? Math.exp(u) : u, score: logistic(u, fit.top, fit.bottom, midpoint, fit.slope) };
  });
}
