// Package plots draws the publication figures of a grid study with
// gonum/plot: heatmaps (with small multiples over a third parameter), line
// plots, sensitivity bars, Pareto fronts, convergence curves and
// model-difference heatmaps; and interactive 3-D surfaces as
// self-contained HTML pages (Surface, SurfaceAll).
//
// The collector fills a Data (parameters, models, per-cell statistics,
// optional convergence curves) and calls DrawAll, or builds single figures
// with Heatmap, Lines, Sensitivity, Pareto, Convergence and ModelDifference
// and writes them with Figure.Save or Figure.Render.
//
// Conventions, the same in every figure:
//   - Colour: viridis, reversed for metrics to minimise, so the good end is
//     always yellow; differences use a blue–white–red map centred on zero
//     with red meaning "A is better". Series use the Okabe–Ito palette with
//     distinct markers and dashes, legible in greyscale.
//   - Parameters: levels are labelled as the user wrote them, numbers in
//     numeric order; a model's figures show the levels it sweeps
//     (Param.ModelLevels). Heatmap cells sit at evenly spaced positions;
//     line plots put log-spaced numbers on a log axis. Labels are thinned
//     so that they never overlap; cell values carry the digits it takes to
//     tell neighbours apart.
//   - Metrics: named by their declared label and unit (MetricInfo). Only a
//     declared direction gives a best cell, a Pareto front or a reversed
//     colour scale; nothing is guessed from a metric's name. Error bars and
//     bands are clipped to declared bounds. Options.Metrics and
//     Options.Kinds choose what is drawn (Selection).
//   - Marginalisation: parameters a figure does not show are averaged over
//     their levels (MarginalMean, the default) or replaced by their best
//     level (MarginalBest); the subtitle names them.
//     A model-difference heatmap instead draws the caller's comparisons
//     when Data.Comparisons holds them (collect's best vs best), so that
//     it shows the numbers the reports state.
//   - Missing data never stops a figure: failed cells are grey with a ×,
//     cells never run light grey with a /, cells whose every value was NaN
//     or ±Inf hatched, cells with some such values marked (Stat.NonFinite),
//     a constant metric gets a valid colour scale, and a figure with
//     nothing to show returns ErrNoData (DrawAll skips it).
//   - Output: PNG at 300 dpi, PDF with embedded Liberation Sans, SVG
//     naming it (with Arial and Helvetica, metric-compatible, as fallbacks);
//     the same figure always gives the same bytes (PDF dates pinned to
//     SOURCE_DATE_EPOCH or 2000-01-01). Widths: 3.5 in (one column) for
//     single panels, 7 in (full page) for small multiples, unless
//     Options.Width says otherwise; text is 7–9 pt at print size.
package plots
