// Explorable: im2col's column matrix. Pick an entry: its column is one window (n, oh, ow),
// its row one (c, i, j), the pixel at offset (i, j) of channel c in every window.
// Model keys: N, C, H, k, stride, pad (ints), sel ([row, col]). The input is 1, 2, 3, ...
// in C order (value - 1 is the pixel's flat index), so every entry names its pixel; padding
// is 0. tests/test_explorables.py checks the matrix against solutions.im2col.
import { floorDiv, frame, grid, h, live, range, readout, redrawOn, setKey, slider } from "./common.mjs";

/** cols[(c*k + i)*k + j][(n*Hout + oh)*Wout + ow] = xpad[n][c][oh*s + i][ow*s + j]. */
export function im2col(x, k, stride, pad) {
  const [N, C, H, W] = [x.length, x[0].length, x[0][0].length, x[0][0][0].length];
  const Hout = floorDiv(H + 2 * pad - k, stride) + 1;
  const Wout = floorDiv(W + 2 * pad - k, stride) + 1;
  const rowOf = (p) => [floorDiv(p, k * k), floorDiv(p, k) % k, p % k];                  // (c, i, j)
  const colOf = (q) => [floorDiv(q, Hout * Wout), floorDiv(q, Wout) % Hout, q % Wout];   // (n, oh, ow)
  const pixel = (p, q) => {            // (n, c, r, s) in padded coordinates
    const [c, i, j] = rowOf(p);
    const [n, oh, ow] = colOf(q);
    return [n, c, oh * stride + i, ow * stride + j];
  };
  const value = (p, q) => {
    const [n, c, r, s] = pixel(p, q);
    return r < pad || s < pad || r >= H + pad || s >= W + pad ? 0 : x[n][c][r - pad][s - pad];
  };
  return { rows: C * k * k, cols: N * Hout * Wout, Hout, Wout, rowOf, colOf, pixel, value };
}

function view(model) {
  const [N, C, H, k, stride, pad] = ["N", "C", "H", "k", "stride", "pad"].map((key) => model.get(key));
  const x = range(N).map((n) => range(C).map((c) => range(H).map((r) => range(H).map(
    (s) => ((n * C + c) * H + r) * H + s + 1))));
  const M = im2col(x, k, stride, pad);
  if (M.Hout < 1) {
    return h("p", { class: "ex-warn", "data-readout": "shape" }, `No output: a ${k} × ${k} window does not fit in ${H} + 2·${pad}.`);
  }
  let [p, q] = model.get("sel") || [0, 0];
  p = Math.min(p, M.rows - 1);
  q = Math.min(q, M.cols - 1);
  const [c0, i0, j0] = M.rowOf(p);
  const [n0, oh0, ow0] = M.colOf(q);
  const [, , pr, ps] = M.pixel(p, q);
  const P = H + 2 * pad;
  const inColumn = (n, c, r, s) => n === n0 && r >= oh0 * stride && r < oh0 * stride + k &&
                                   s >= ow0 * stride && s < ow0 * stride + k;
  const gathered = (n, c, r, s) => c === c0 && (r - i0) % stride === 0 && (s - j0) % stride === 0 &&
    (r - i0) / stride >= 0 && (r - i0) / stride < M.Hout && (s - j0) / stride >= 0 && (s - j0) / stride < M.Wout;
  const inputs = range(N).flatMap((n) => range(C).map((c) => h("div", {},
    h("p", { class: "ex-panel-title" }, `x[${n}, ${c}]${pad ? " (padded)" : ""}`),
    grid({
      rows: P, cols: P, key: `x${n}${c}`, size: 24,
      label: `Image ${n}, channel ${c}, ${H} by ${H}` + (pad ? ` padded by ${pad}` : "") +
             (n === n0 ? `; column ${q} is its window at rows ${oh0 * stride - pad} to ${oh0 * stride - pad + k - 1}` : "") +
             (c === c0 ? `; row ${p} gathers offset (${i0}, ${j0}) of every window` : ""),
      cls: (r, s) => {
        const isPad = r < pad || s < pad || r >= H + pad || s >= H + pad;
        return (isPad ? "ex-pad" : "") + (inColumn(n, c, r, s) ? " ex-window" : "") +
               (gathered(n, c, r, s) ? " ex-gathered" : "");
      },
      text: (r, s) => (r < pad || s < pad || r >= H + pad || s >= H + pad ? 0 : x[n][c][r - pad][s - pad]),
    }))));
  const matrix = grid({
    rows: M.rows, cols: M.cols, key: "cols", size: 24,
    label: `Column matrix, ${M.rows} rows by ${M.cols} columns: arrow keys choose an entry`,
    selected: [p, q],
    rowHead: (a) => M.rowOf(a).join(","),
    cls: (a, b) => (b === q ? "ex-window" : a === p ? "ex-gathered" : ""),
    text: (a, b) => M.value(a, b),
    cellLabel: (a, b) => `row (c, i, j) = (${M.rowOf(a).join(", ")}), column (n, oh, ow) = (${M.colOf(b).join(", ")}): ${M.value(a, b)}`,
    select: (a, b) => setKey(model, "sel", [a, b]),
  });
  const xSize = N * C * H * H;
  const colSize = M.rows * M.cols;
  const isPad = pr < pad || ps < pad || pr >= H + pad || ps >= H + pad;
  return [
    h("div", { class: "ex-panels" }, inputs),
    h("p", { class: "ex-panel-title" },
      `cols = im2col(x, ${k}, ${k}, stride=${stride}, pad=${pad}): (C·k·k, N·Hout·Wout) = (${M.rows}, ${M.cols}); rows labelled c,i,j`),
    h("div", { class: "ex-scroll" }, matrix),
    h("p", { class: "ex-readouts" },
      readout("shape", "shape", `(${M.rows}, ${M.cols})`),
      readout("row", "row", `${p} = (c, i, j) = (${c0}, ${i0}, ${j0})`),
      readout("column", "col", `${q} = (n, oh, ow) = (${n0}, ${oh0}, ${ow0})`),
      readout("entry", "entry", M.value(p, q))),
    h("p", { class: "ex-formula", "data-readout": "index" },
      `cols[${p}, ${q}] = xpad[n, c, oh·stride + i, ow·stride + j] = xpad[${n0}, ${c0}, ${pr}, ${ps}]` +
      (isPad ? " = 0 (padding)" : ` = x[${n0}, ${c0}, ${pr - pad}, ${ps - pad}] = ${M.value(p, q)}`)),
    h("p", { class: "ex-readouts" },
      readout("x holds", "x-size", `${xSize} values`),
      readout("cols holds", "cols-size", `${colSize} values`),
      readout("ratio", "ratio", `${(colSize / xSize).toFixed(2)}×`),
      readout("in float32", "bytes", `${colSize * 4} bytes`)),
    live(`Entry (${p}, ${q}): column ${q} is the window of image ${n0} at output (${oh0}, ${ow0}); ` +
         `row ${p} is channel ${c0}, offset (${i0}, ${j0}); the entry is ${M.value(p, q)}.`, "live"),
    h("p", { class: "ex-legend" },
      h("span", {}, h("span", { class: "ex-cell ex-window", "aria-hidden": "true" }), "selected column: one window"),
      h("span", {}, h("span", { class: "ex-cell ex-gathered", "aria-hidden": "true" }), "selected row: one (c, i, j) of every window"),
      h("span", {}, h("span", { class: "ex-cell ex-selected", "aria-hidden": "true" }), "selected entry")),
  ];
}

function render({ model, el }) {
  const { prefix, controls, view: box } = frame(el, "im2col", "Explorable: im2col",
    "Every column of the matrix is one window, every row one (channel, offset) pair. Pick an entry of the matrix; the input values are 1, 2, 3, ... so each entry names its pixel.");
  controls.append(
    slider(model, "N", "images N", 1, 2, prefix),
    slider(model, "C", "channels C", 1, 3, prefix),
    slider(model, "H", "size H = W", 3, 5, prefix),
    slider(model, "k", "kernel k", 1, 3, prefix),
    slider(model, "stride", "stride", 1, 2, prefix),
    slider(model, "pad", "pad", 0, 1, prefix));
  redrawOn(model, ["N", "C", "H", "k", "stride", "pad", "sel"], box, () => view(model));
}

export default { render };
