// Explorable: the receptive field of a stack of unpadded conv layers, and its effective
// receptive field (the input gradient of one output unit with all weights 1, i.e. the number
// of paths from each input pixel to the unit).
// Model keys: n (input size), L (layers), k1..k4, s1..s4, d1..d4, sel ([i, j]).
// tests/test_explorables.py checks the sizes against conv_output_size, the fields against
// receptive_field and the heat map against chained conv_backward_naive calls.
import { fmt, frame, grid, h, heat, inkFor, live, range, readout, redrawOn, setKey, slider } from "./common.mjs";
import { convOutputSize } from "./conv_arithmetic.mjs";

/** Per layer: {k, s, d, size, field, jump}; field = r_l = r_{l-1} + d (k - 1) jump_{l-1}. */
export function stack(n, layers) {
  let size = n;
  let field = 1;
  let jump = 1;
  return layers.map(({ k, s, d }) => {
    size = size >= 1 ? convOutputSize(size, k, s, 0, d) : size;
    field += d * (k - 1) * jump;
    jump *= s;
    return { k, s, d, size, field, jump };
  });
}

/** Paths from each of the n input positions to output unit i of the last layer (1D). */
export function paths(n, layers, i) {
  const sizes = [n, ...stack(n, layers).map((layer) => layer.size)];
  let g = range(sizes[sizes.length - 1]).map((a) => (a === i ? 1 : 0));
  for (let l = layers.length - 1; l >= 0; l -= 1) {
    const { k, s, d } = layers[l];
    const below = new Array(sizes[l]).fill(0);
    g.forEach((value, a) => {
      for (const u of range(k)) below[a * s + u * d] += value;
    });
    g = below;
  }
  return g;
}

function layersOf(model) {
  return range(model.get("L")).map((l) => ({
    k: model.get(`k${l + 1}`), s: model.get(`s${l + 1}`), d: model.get(`d${l + 1}`),
  }));
}

function view(model) {
  const n = model.get("n");
  const layers = layersOf(model);
  const rows = stack(n, layers);
  const table = h("table", { class: "ex-table" },
    h("caption", {}, "Layer by layer (no padding)"),
    h("thead", {}, h("tr", {}, ["layer", "k", "stride", "dilation", "output size", "receptive field", "jump"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r, l) => h("tr", { "data-layer": l + 1 },
      h("th", { scope: "row" }, l + 1), h("td", {}, r.k), h("td", {}, r.s), h("td", {}, r.d),
      h("td", { "data-readout": `size${l + 1}` }, r.size >= 1 ? r.size : "none"),
      h("td", { "data-readout": `field${l + 1}` }, r.field),
      h("td", { "data-readout": `jump${l + 1}` }, r.jump)))));
  const last = rows[rows.length - 1];
  if (rows.some((r) => r.size < 1)) {
    return [table, h("p", { class: "ex-warn", "data-readout": "warn" },
      `The input of ${n} is too small for this stack: some layer has no output. Make n larger.`)];
  }
  const out = last.size;
  let [i, j] = model.get("sel") || [0, 0];
  i = Math.min(i, out - 1);
  j = Math.min(j, out - 1);
  const gi = paths(n, layers, i);
  const gj = paths(n, layers, j);
  const r0 = i * last.jump;
  const c0 = j * last.jump;
  const r1 = r0 + last.field - 1;
  const c1 = c0 + last.field - 1;
  const peak = Math.max(...gi) * Math.max(...gj);
  const total = gi.reduce((a, v) => a + v, 0) * gj.reduce((a, v) => a + v, 0);
  const size = Math.max(12, Math.min(26, Math.floor(440 / n)));
  const showNumbers = size >= 20;
  const inRF = (a, b) => a >= r0 && a <= r1 && b >= c0 && b <= c1;
  const heatmap = grid({
    rows: n, cols: n, key: "input", size,
    label: `Input ${n} by ${n}. Receptive field of output (${i}, ${j}): rows ${r0} to ${r1}, columns ${c0} to ${c1}. ` +
           `Effective receptive field: the number of paths to the unit, largest (${peak}) at the centre; ` +
           `row profile ${gi.slice(r0, r1 + 1).join(" ")}.`,
    cls: (a, b) => (inRF(a, b) ? "ex-receptive" : "ex-outside"),
    style: (a, b) => {
      const rgb = heat(gi[a] * gj[b] / peak);
      return `background: rgb(${rgb.join(",")}); color: ${inkFor(rgb)};`;
    },
    text: (a, b) => (showNumbers ? gi[a] * gj[b] : ""),
  });
  const output = grid({
    rows: out, cols: out, key: "output", size: Math.max(16, Math.min(26, Math.floor(220 / out))),
    label: `Last layer's output, ${out} by ${out}: arrow keys choose a unit`,
    selected: [i, j],
    cellLabel: (a, b) => `unit (${a}, ${b})`,
    select: (a, b) => setKey(model, "sel", [a, b]),
  });
  const centre = gi.slice(r0, r1 + 1);
  return [
    table,
    h("div", { class: "ex-panels" },
      h("div", {}, h("p", { class: "ex-panel-title" },
        `input (${n} × ${n}): paths to the unit${showNumbers ? "" : " (shade only: make n at most 22 for numbers)"}`), heatmap),
      h("div", {}, h("p", { class: "ex-panel-title" }, `last layer (${out} × ${out})`), output)),
    h("p", { class: "ex-readouts" },
      readout("receptive field", "field", `${last.field} × ${last.field}`),
      readout("rows", "rf-rows", `${r0}–${r1}`),
      readout("columns", "rf-cols", `${c0}–${c1}`),
      readout("paths, row profile", "profile", centre.join(" ")),
      readout("centre share of the gradient", "share",
              fmt(peak / total * 100, 1) + " %")),
    live(`Unit (${i}, ${j}) sees input rows ${r0} to ${r1} and columns ${c0} to ${c1} ` +
         `(${last.field} by ${last.field}); its gradient is largest at the centre, ${peak} paths of ${total}.`, "live"),
  ];
}

function render({ model, el }) {
  const { prefix, controls, view: box } = frame(el, "receptive_field", "Explorable: receptive fields",
    "Stack up to four unpadded conv layers; pick a unit of the last layer. The outline is its receptive field, the shading its effective receptive field: how many paths lead from each input pixel to the unit (its gradient with every weight 1).");
  controls.append(slider(model, "n", "input n", 5, 32, prefix), slider(model, "L", "layers", 1, 4, prefix));
  const perLayer = h("div", { class: "ex-controls" });
  controls.after(perLayer);
  const drawLayers = () => {
    perLayer.replaceChildren(...range(4).map((l) => h("div", {
      class: "ex-controls", role: "group", "aria-label": `layer ${l + 1}`,
      hidden: l >= model.get("L"),
    }, h("span", { "aria-hidden": "true" }, `layer ${l + 1}:`),
       slider(model, `k${l + 1}`, "k", 1, 7, prefix),
       slider(model, `s${l + 1}`, "stride", 1, 3, prefix),
       slider(model, `d${l + 1}`, "dilation", 1, 3, prefix))));
  };
  drawLayers();
  model.on("change:L", () => {
    perLayer.querySelectorAll("[role=group]").forEach((g, l) => { g.hidden = l >= model.get("L"); });
  });
  const keys = ["n", "L", "sel"].concat(...range(4).map((l) => [`k${l + 1}`, `s${l + 1}`, `d${l + 1}`]));
  redrawOn(model, keys, box, () => view(model));
}

export default { render };
