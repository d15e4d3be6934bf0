// Explorable: max and average pooling, forward and backward, with ties and overlapping windows.
// Model keys: mode ("max" | "avg"), pool, stride, H (ints), data ("distinct" | "ties"),
// sel ([i, j]); data x_distinct, x_ties (Hmax, Hmax) and dout (Hmax, Hmax), integers.
// tests/test_explorables.py checks the output, the routed positions and dx against
// max_pool_forward/backward and avg_pool_forward/backward.
import { fmt, floorDiv, frame, grid, h, live, radios, range, readout, redrawOn, setKey, slider } from "./common.mjs";

/** Forward and backward of pooling a 2D map x (H, W) with dout (Hout, Wout). */
export function pool2d(x, dout, mode, pool, stride) {
  const H = x.length;
  const W = x[0].length;
  const Hout = floorDiv(H - pool, stride) + 1;
  const Wout = floorDiv(W - pool, stride) + 1;
  const cells = (i, j) => range(pool).flatMap((a) => range(pool).map((b) => [i * stride + a, j * stride + b]));
  const out = (i, j) => {
    const v = cells(i, j).map(([r, c]) => x[r][c]);
    return mode === "max" ? Math.max(...v) : v.reduce((s, t) => s + t, 0) / (pool * pool);
  };
  // where output (i, j)'s gradient goes: [[r, c, share of dout]]
  const routes = (i, j) => {
    if (mode === "avg") return cells(i, j).map(([r, c]) => [r, c, 1 / (pool * pool)]);
    const best = out(i, j);
    const [r, c] = cells(i, j).find(([a, b]) => x[a][b] === best);   // the first maximum, row-major
    return [[r, c, 1]];
  };
  const dx = range(H).map(() => new Array(W).fill(0));
  if (Hout >= 1 && Wout >= 1) {
    for (const i of range(Hout)) {
      for (const j of range(Wout)) {
        for (const [r, c, share] of routes(i, j)) dx[r][c] += dout[i][j] * share;
      }
    }
  }
  return { Hout, Wout, cells, out, routes, dx };
}

function view(model) {
  const mode = model.get("mode");
  const pool = model.get("pool");
  const stride = model.get("stride");
  const H = model.get("H");
  const x = model.get(model.get("data") === "ties" ? "x_ties" : "x_distinct").slice(0, H).map((r) => r.slice(0, H));
  const Hout = floorDiv(H - pool, stride) + 1;
  if (Hout < 1) {
    return h("p", { class: "ex-warn", "data-readout": "shape" }, `No output: a ${pool} × ${pool} window does not fit in ${H}.`);
  }
  const dout = model.get("dout").slice(0, Hout).map((r) => r.slice(0, Hout));
  const P = pool2d(x, dout, mode, pool, stride);
  let [i, j] = model.get("sel") || [0, 0];
  i = Math.min(i, Hout - 1);
  j = Math.min(j, Hout - 1);
  const win = P.cells(i, j);
  const inWin = (r, c) => win.some(([a, b]) => a === r && b === c);
  const routes = P.routes(i, j);
  const routed = (r, c) => routes.some(([a, b]) => a === r && b === c);
  const best = P.out(i, j);
  const maxima = win.filter(([r, c]) => x[r][c] === best);
  const overlap = stride < pool;
  const input = grid({
    rows: H, cols: H, key: "input", size: 28,
    label: `Input ${H} by ${H}; the window of output (${i}, ${j}) is rows ${i * stride} to ${i * stride + pool - 1}, ` +
           `columns ${j * stride} to ${j * stride + pool - 1}; its gradient goes to ` +
           routes.map(([r, c]) => `(${r}, ${c})`).join(", ") + ".",
    cls: (r, c) => (routed(r, c) ? "ex-routed" : inWin(r, c) ? "ex-window" : ""),
    text: (r, c) => x[r][c],
  });
  const output = grid({
    rows: Hout, cols: Hout, key: "output", size: 34,
    label: `Output ${Hout} by ${Hout}: arrow keys choose an output`,
    selected: [i, j],
    text: (a, b) => fmt(P.out(a, b), 2),
    cellLabel: (a, b) => `output (${a}, ${b}) = ${fmt(P.out(a, b), 2)}`,
    select: (a, b) => setKey(model, "sel", [a, b]),
  });
  const doutGrid = grid({
    rows: Hout, cols: Hout, key: "dout", size: 34,
    label: `Upstream gradient dout, ${Hout} by ${Hout}: ${dout.map((r) => r.join(" ")).join("; ")}`,
    cls: (a, b) => (a === i && b === j ? "ex-selected" : ""),
    text: (a, b) => dout[a][b],
  });
  const dxGrid = grid({
    rows: H, cols: H, key: "dx", size: 34,
    label: `dx, ${H} by ${H}, the sum of every window's share (overlapping windows add): ` +
           P.dx.map((r) => r.map((v) => fmt(v, 2)).join(" ")).join("; "),
    cls: (r, c) => (routed(r, c) ? "ex-routed" : ""),
    text: (r, c) => fmt(P.dx[r][c], 2),
  });
  const share = mode === "max" ? `all of dout[${i}, ${j}] = ${dout[i][j]}`
                               : `dout[${i}, ${j}] / ${pool * pool} = ${fmt(dout[i][j] / (pool * pool), 2)} each`;
  const tieNote = mode === "max" && maxima.length > 1
    ? `This window has ${maxima.length} tied maxima (${best}) at ${maxima.map(([r, c]) => `(${r}, ${c})`).join(", ")}: ` +
      `the reference gives the gradient to the first in row-major order.`
    : "";
  return [
    h("div", { class: "ex-panels" },
      h("div", {}, h("p", { class: "ex-panel-title" }, `input x (${H} × ${H})`), input),
      h("div", {}, h("p", { class: "ex-panel-title" }, `output (${Hout} × ${Hout})`), output),
      h("div", {}, h("p", { class: "ex-panel-title" }, "dout"), doutGrid)),
    h("div", { class: "ex-panels" },
      h("div", {}, h("p", { class: "ex-panel-title" }, `dx = ${mode}_pool_backward(dout, x)`), dxGrid)),
    h("p", { class: "ex-readouts" },
      readout("output size", "out", `${Hout} × ${Hout}`),
      readout(`output (${i}, ${j})`, "value", fmt(best, 2)),
      readout("its gradient goes to", "routed", routes.map(([r, c]) => `(${r}, ${c})`).join(", ")),
      readout("windows overlap", "overlap", overlap ? "yes: their shares add up in dx" : "no")),
    h("p", { class: "ex-formula" }, `Output (${i}, ${j}) sends ${share}.` + (tieNote ? " " + tieNote : "")),
    live(`Output (${i}, ${j}) = ${fmt(best, 2)}; its gradient goes to ` +
         routes.map(([r, c]) => `(${r}, ${c})`).join(", ") + `. ${tieNote}`, "live"),
    h("p", { class: "ex-legend" },
      h("span", {}, h("span", { class: "ex-cell ex-window", "aria-hidden": "true" }), "window"),
      h("span", {}, h("span", { class: "ex-cell ex-routed", "aria-hidden": "true" }), "receives the gradient"),
      h("span", {}, h("span", { class: "ex-cell ex-selected", "aria-hidden": "true" }), "selected output")),
  ];
}

function render({ model, el }) {
  const { prefix, controls, view: box } = frame(el, "pooling", "Explorable: pooling and its gradient",
    "Pick an output to see its window and where its gradient goes. Try stride < pool (overlapping windows) and the input with ties.");
  controls.append(
    radios(model, "mode", "pooling", [["max", "max"], ["avg", "average"]], prefix),
    radios(model, "data", "input", [["distinct", "distinct values"], ["ties", "with ties"]], prefix),
    slider(model, "H", "size H = W", 4, 8, prefix),
    slider(model, "pool", "pool", 1, 4, prefix),
    slider(model, "stride", "stride", 1, 4, prefix));
  redrawOn(model, ["mode", "pool", "stride", "H", "data", "sel"], box, () => view(model));
}

export default { render };
