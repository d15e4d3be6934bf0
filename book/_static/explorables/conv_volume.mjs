// Explorable: a conv layer on a (C, H, W) volume with F filters, one output at a time.
// Model keys: C, H, F, k, stride, pad (ints), sel ([f, i, j]); data x (Cmax, Hmax, Hmax),
// w (Fmax, Cmax, kmax, kmax), b (Fmax,): small integers from scripts/make_explorables.py.
// Every output is conv_forward_naive's (tests/test_explorables.py checks the grids).
import { floorDiv, frame, grid, h, live, range, readout, redrawOn, setKey, slider } from "./common.mjs";

/** out[f][i][j] = b[f] + sum_{c,a,b} xpad[c][i*s + a][j*s + b] * w[f][c][a][b]; plus the terms. */
export function convolve(x, w, b, stride, pad) {
  const C = x.length;
  const H = x[0].length;
  const W = x[0][0].length;
  const k = w[0][0].length;
  const Hout = floorDiv(H + 2 * pad - k, stride) + 1;
  const Wout = floorDiv(W + 2 * pad - k, stride) + 1;
  const at = (c, r, s) => (r < 0 || s < 0 || r >= H || s >= W ? 0 : x[c][r][s]);
  const terms = (f, i, j) => range(C).map((c) => range(k).flatMap((u) => range(k).map((v) =>
    [at(c, i * stride + u - pad, j * stride + v - pad), w[f][c][u][v]])));
  const value = (f, i, j) => terms(f, i, j).flat().reduce((sum, [p, q]) => sum + p * q, b[f]);
  return { Hout, Wout, terms, value };
}

function slice(model) {
  const C = model.get("C");
  const H = model.get("H");
  const F = model.get("F");
  const k = model.get("k");
  const x = model.get("x").slice(0, C).map((plane) => plane.slice(0, H).map((row) => row.slice(0, H)));
  const w = model.get("w").slice(0, F).map((filter) => filter.slice(0, C).map(
    (plane) => plane.slice(0, k).map((row) => row.slice(0, k))));
  return { C, H, F, k, x, w, b: model.get("b").slice(0, F) };
}

function view(model) {
  const { C, H, F, k, x, w, b } = slice(model);
  const stride = model.get("stride");
  const pad = model.get("pad");
  const { Hout, Wout, terms, value } = convolve(x, w, b, stride, pad);
  if (Hout < 1) {
    return h("p", { class: "ex-warn", "data-readout": "shape" },
      `No output: a ${k} × ${k} filter does not fit in ${H} + 2·${pad} = ${H + 2 * pad} positions.`);
  }
  let [f, i, j] = model.get("sel") || [0, 0, 0];
  f = Math.min(f, F - 1);
  i = Math.min(i, Hout - 1);
  j = Math.min(j, Wout - 1);
  const P = H + 2 * pad;
  const inWindow = (r, s) => r >= i * stride && r < i * stride + k && s >= j * stride && s < j * stride + k;
  const inputs = range(C).map((c) => h("div", {},
    h("p", { class: "ex-panel-title" }, `x[${c}] (padded)`),
    grid({
      rows: P, cols: P, key: `x${c}`, size: 24,
      label: `Input channel ${c}, ${H} by ${H} padded by ${pad}; the window of output (${f}, ${i}, ${j}) ` +
             `is rows ${i * stride - pad} to ${i * stride - pad + k - 1}, columns ${j * stride - pad} to ${j * stride - pad + k - 1}.`,
      cls: (r, s) => {
        const isPad = r < pad || s < pad || r >= H + pad || s >= H + pad;
        return (isPad ? "ex-pad" : "") + (inWindow(r, s) ? " ex-window" : "");
      },
      text: (r, s) => (r < pad || s < pad || r >= H + pad || s >= H + pad ? 0 : x[c][r - pad][s - pad]),
    })));
  const filters = range(C).map((c) => h("div", {},
    h("p", { class: "ex-panel-title" }, `w[${f}, ${c}]`),
    grid({
      rows: k, cols: k, key: `w${c}`, size: 24,
      label: `Weights of filter ${f} on channel ${c}: ${w[f][c].map((row) => row.join(" ")).join("; ")}`,
      cls: () => "ex-window",
      text: (u, v) => w[f][c][u][v],
    })));
  const outputs = range(F).map((g) => h("div", {},
    h("p", { class: "ex-panel-title" }, `out[${g}] (b = ${b[g]})`),
    grid({
      rows: Hout, cols: Wout, key: `out${g}`, size: 28,
      label: `Output map ${g}, ${Hout} by ${Wout}: arrow keys choose an output`,
      selected: g === f ? [i, j] : null,
      text: (r, s) => value(g, r, s),
      cellLabel: (r, s) => `out[${g}, ${r}, ${s}] = ${value(g, r, s)}`,
      select: (r, s) => setKey(model, "sel", [g, r, s]),
    })));
  const parts = terms(f, i, j);
  const sums = parts.map((t) => t.reduce((sum, [p, q]) => sum + p * q, 0));
  const par = (v) => (v < 0 ? `(${v})` : String(v));
  const lines = parts.map((t, c) => h("li", {},
    `channel ${c}: ` + t.map(([p, q]) => `${par(p)}·${par(q)}`).join(" + ") + " = ",
    h("output", { "data-readout": `partial${c}` }, sums[c])));
  const total = value(f, i, j);
  return [
    h("div", { class: "ex-panels" }, inputs),
    h("div", { class: "ex-panels" }, filters),
    h("div", { class: "ex-panels" }, outputs),
    h("p", { class: "ex-readouts" },
      readout("output shape (F, Hout, Wout)", "shape", `(${F}, ${Hout}, ${Wout})`),
      readout(`out[${f}, ${i}, ${j}]`, "value", total)),
    h("ul", { class: "ex-formula ex-terms", "aria-label": "the dot product, channel by channel" }, lines),
    h("p", { class: "ex-formula" },
      `out[${f}, ${i}, ${j}] = ${sums.map(par).join(" + ")} + ${par(b[f])} = ${total} (the channels' sums plus b[${f}])`),
    live(`Output (${f}, ${i}, ${j}) = ${total}: the dot product of filter ${f} with the ` +
         `${C} by ${k} by ${k} block of the input at rows ${i * stride - pad} to ${i * stride - pad + k - 1}, ` +
         `plus the bias ${b[f]}.`, "live"),
  ];
}

function render({ model, el }) {
  const { prefix, controls, view: box } = frame(el, "conv_volume", "Explorable: a conv layer on a volume",
    "Each output is one filter's dot product with the depth column of windows under it, plus the filter's bias. Pick an output in any output map.");
  controls.append(
    slider(model, "C", "channels C", 1, 3, prefix),
    slider(model, "H", "size H = W", 3, 7, prefix),
    slider(model, "F", "filters F", 1, 3, prefix),
    slider(model, "k", "kernel k", 1, 3, prefix),
    slider(model, "stride", "stride", 1, 3, prefix),
    slider(model, "pad", "pad", 0, 2, prefix));
  redrawOn(model, ["C", "H", "F", "k", "stride", "pad", "sel"], box, () => view(model));
}

export default { render };
