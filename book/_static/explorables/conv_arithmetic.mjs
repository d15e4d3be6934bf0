// Explorable: the output size of a convolution (and of a transposed one, as zero insertion).
// Model keys: n, k, stride, pad, dilation (ints), mode ("conv" | "transposed"), sel ([i, j]).
// Its formulas are solutions.conv_output_size and solutions.conv_transpose_forward's shape;
// tests/test_explorables.py checks them, the window and the read pixels, against solutions/.
import { floorDiv, frame, grid, h, live, radios, range, readout, redrawOn, setKey, slider } from "./common.mjs";

/** Output size of a convolution along one axis, or a non-positive number when none fits. */
export function convOutputSize(n, k, stride, pad, dilation) {
  return floorDiv(n + 2 * pad - dilation * (k - 1) - 1, stride) + 1;
}

/** Output size of a transposed convolution (no output_padding, no dilation). */
export function transposedOutputSize(n, k, stride, pad) {
  return (n - 1) * stride - 2 * pad + k;
}

/** Input positions (may be negative or >= n: padding) read by output i of a convolution. */
export function taps(i, k, stride, dilation, pad) {
  return range(k).map((u) => i * stride + u * dilation - pad);
}

/** Input positions of a transposed convolution that reach output i. */
export function transposedSources(i, n, k, stride, pad) {
  return range(n).filter((a) => {
    const u = i + pad - a * stride;     // kernel tap that carries x[a] to out[i]
    return u >= 0 && u < k;
  });
}

function list(values) {
  return values.length ? values.join(", ") : "none";
}

function convView(model, p) {
  const { n, k, stride, pad, dilation } = p;
  const out = convOutputSize(n, k, stride, pad, dilation);
  const span = dilation * (k - 1) + 1;
  const formula = h("p", { class: "ex-formula", "data-readout": "formula" },
    `Hout = ⌊(n + 2·pad − dilation·(k − 1) − 1) / stride⌋ + 1 = ` +
    `⌊(${n} + 2·${pad} − ${dilation}·(${k} − 1) − 1) / ${stride}⌋ + 1 = ` +
    `⌊${n + 2 * pad - dilation * (k - 1) - 1} / ${stride}⌋ + 1 = ${out}`);
  if (out < 1) {
    return [formula, h("p", { class: "ex-warn", "data-readout": "out" },
      `No output: a window spanning ${span} does not fit in ${n} + 2·${pad} = ${n + 2 * pad} positions.`)];
  }
  const [si, sj] = clampSel(model, out, out);
  const rows = taps(si, k, stride, dilation, pad);
  const cols = taps(sj, k, stride, dilation, pad);
  const P = n + 2 * pad;
  const size = Math.max(12, Math.min(26, Math.floor(420 / P)));
  const read = new Set(range(out).flatMap((o) => taps(o, k, stride, dilation, pad)));
  const unread = range(n).filter((a) => !read.has(a));
  const input = grid({
    rows: P, cols: P, key: "input", size,
    label: `Input ${n} by ${n}, padded by ${pad} to ${P} by ${P}; the window of output (${si}, ${sj}) ` +
           `reads rows ${list(rows)} and columns ${list(cols)} (negative or ${n} and above: padding).`,
    cls: (a, b) => {
      const r = a - pad;
      const c = b - pad;
      const padCell = r < 0 || c < 0 || r >= n || c >= n;
      let cls = padCell ? "ex-pad" : "";
      if (rows.includes(r) && cols.includes(c)) cls += " ex-window";
      else if (r >= rows[0] && r <= rows[k - 1] && c >= cols[0] && c <= cols[k - 1]) cls += " ex-span";
      return cls;
    },
    text: (a, b) => {
      const r = a - pad;
      const c = b - pad;
      if (rows.includes(r) && cols.includes(c)) return "●";
      return r < 0 || c < 0 || r >= n || c >= n ? "0" : "";
    },
  });
  const output = grid({
    rows: out, cols: out, key: "output", size: Math.max(18, Math.min(26, Math.floor(260 / out))),
    label: `Output ${out} by ${out}: choose an output with the arrow keys`,
    selected: [si, sj],
    cellLabel: (i, j) => `output (${i}, ${j})`,
    select: (i, j) => setKey(model, "sel", [i, j]),
  });
  return [
    h("div", { class: "ex-panels" },
      h("div", {}, h("p", { class: "ex-panel-title" }, `padded input (${P} × ${P})`), input),
      h("div", {}, h("p", { class: "ex-panel-title" }, `output (${out} × ${out})`), output)),
    formula,
    h("p", { class: "ex-readouts" },
      readout("output size", "out", `${out} × ${out}`),
      readout("window rows", "rows", list(rows)),
      readout("window columns", "cols", list(cols)),
      readout("input rows never read", "unread", list(unread))),
    live(`Output (${si}, ${sj}) reads input rows ${list(rows)} and columns ${list(cols)}` +
         (pad ? ` (rows and columns below 0 or from ${n} on are padding zeros).` : "."), "live"),
  ];
}

function transposedView(model, p) {
  const { n, k, stride, pad } = p;
  const out = transposedOutputSize(n, k, stride, pad);
  const border = k - 1 - pad;                 // zeros around the zero-inserted input (crop if < 0)
  const inserted = (n - 1) * stride + 1;
  const formula = h("p", { class: "ex-formula", "data-readout": "formula" },
    `Hout = (n − 1)·stride − 2·pad + k = (${n} − 1)·${stride} − 2·${pad} + ${k} = ${out}. ` +
    `Zero insertion: (n − 1)·stride + 1 = ${inserted} cells, ` +
    (border >= 0 ? `padded by k − 1 − pad = ${border} on each side` :
                   `cropped by pad − (k − 1) = ${-border} on each side`) +
    ` = ${inserted + 2 * border}; a stride-1 window of ${k} (the kernel flipped): ` +
    `${inserted + 2 * border} − ${k} + 1 = ${out}.`);
  if (out < 1) {
    return [formula, h("p", { class: "ex-warn", "data-readout": "out" },
      `No output: pad ${pad} crops the whole output.`)];
  }
  const [si, sj] = clampSel(model, out, out);
  const G = inserted + 2 * border;
  const size = Math.max(10, Math.min(26, Math.floor(420 / G)));
  // grid cell g <-> zero-inserted position g - border; an input pixel sits at a * stride
  const source = (g) => {
    const z = g - border;
    return z >= 0 && z < inserted && z % stride === 0 ? z / stride : -1;
  };
  const kind = (g) => {
    const z = g - border;
    if (z < 0 || z >= inserted) return "pad";
    return z % stride === 0 ? "x" : "inserted";
  };
  const inWindow = (g, s) => g >= s && g < s + k;
  // an output that no input pixel reaches (stride > k leaves gaps) has no rows or columns
  let srcRows = transposedSources(si, n, k, stride, pad);
  let srcCols = transposedSources(sj, n, k, stride, pad);
  if (!srcRows.length || !srcCols.length) srcRows = srcCols = [];
  const input = grid({
    rows: G, cols: G, key: "input", size,
    label: `The ${n} by ${n} input with ${stride - 1} zeros inserted between pixels` +
           (border >= 0 ? ` and ${border} zeros of padding` : ` cropped by ${-border}`) +
           `: ${G} by ${G}. The window of output (${si}, ${sj}) covers input pixels in rows ` +
           `${list(srcRows)} and columns ${list(srcCols)}.`,
    cls: (a, b) => {
      const kinds = [kind(a), kind(b)];
      let cls = kinds.includes("pad") ? "ex-pad" : kinds.includes("inserted") ? "ex-inserted" : "ex-orig";
      if (inWindow(a, si) && inWindow(b, sj)) cls += " ex-window";
      return cls;
    },
    text: (a, b) => (source(a) >= 0 && source(b) >= 0 && size >= 14 ? "x" : size >= 14 ? "0" : ""),
  });
  const output = grid({
    rows: out, cols: out, key: "output", size: Math.max(12, Math.min(26, Math.floor(300 / out))),
    label: `Output ${out} by ${out}: choose an output with the arrow keys`,
    selected: [si, sj],
    cellLabel: (i, j) => `output (${i}, ${j})`,
    select: (i, j) => setKey(model, "sel", [i, j]),
  });
  const pairs = srcRows.flatMap((a) => srcCols.map((b) => `x[${a},${b}]`));
  return [
    h("div", { class: "ex-panels" },
      h("div", {}, h("p", { class: "ex-panel-title" }, `zero-inserted input (${G} × ${G})`), input),
      h("div", {}, h("p", { class: "ex-panel-title" }, `output (${out} × ${out})`), output)),
    formula,
    h("p", { class: "ex-readouts" },
      readout("output size", "out", `${out} × ${out}`),
      readout("input rows reaching it", "rows", list(srcRows)),
      readout("input columns reaching it", "cols", list(srcCols))),
    live(`Output (${si}, ${sj}) is a sum over ${pairs.length} input pixel` +
         `${pairs.length === 1 ? "" : "s"}: ${list(pairs)}.`, "live"),
  ];
}

function clampSel(model, rows, cols) {
  const [i, j] = model.get("sel") || [0, 0];
  return [Math.min(Math.max(0, i), rows - 1), Math.min(Math.max(0, j), cols - 1)];
}

function legend(mode) {
  const item = (cls, text, mark = "") => h("span", {}, h("span", { class: `ex-cell ${cls}`, "aria-hidden": "true" }, mark), text);
  return h("p", { class: "ex-legend" },
    item("ex-pad", "zero padding", "0"),
    mode === "transposed" ? item("ex-inserted", "inserted zero", "0") : item("ex-span", "spanned, not read"),
    item("ex-window", "window of the selected output", mode === "conv" ? "●" : ""),
    item("ex-selected", "selected output"));
}

function render({ model, el }) {
  const { prefix, controls, view } = frame(el, "conv_arithmetic", "Explorable: the output size",
    "Set the input size and the layer; pick an output cell (click, or arrow keys in the output grid) to see the window it reads.");
  controls.append(
    slider(model, "n", "input n", 1, 10, prefix),
    slider(model, "k", "kernel k", 1, 5, prefix),
    slider(model, "stride", "stride", 1, 3, prefix),
    slider(model, "pad", "pad", 0, 3, prefix),
    slider(model, "dilation", "dilation", 1, 3, prefix),
    radios(model, "mode", "view", [["conv", "convolution"], ["transposed", "transposed (zero insertion)"]], prefix));
  const dilationInput = controls.querySelector(`#${prefix}-dilation`);
  redrawOn(model, ["n", "k", "stride", "pad", "dilation", "mode", "sel"], view, () => {
    const p = Object.fromEntries(["n", "k", "stride", "pad", "dilation"].map((key) => [key, model.get(key)]));
    const transposed = model.get("mode") === "transposed";
    dilationInput.disabled = transposed;      // the reference transposed layer has no dilation
    return [(transposed ? transposedView : convView)(model, p), legend(model.get("mode"))].flat();
  });
}

export default { render };
