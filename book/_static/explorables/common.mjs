// Shared helpers of the course's explorables (anywidget front-end modules).
//
// Each explorable is an ES module with `export default { render({ model, el }) }`: it reads
// its settings and data with model.get, writes a changed setting with model.set +
// model.save_changes, and redraws on model.on("change:<key>"). Nothing here touches the
// network or the page outside `el`. Colours are CSS classes (explorables.css, Okabe-Ito
// hues); every colour also has a second cue (border style or a marker) and a text label.

let instances = 0;

/** A unique id prefix for one rendered explorable (ids must not repeat on a page). */
export function uid(name) {
  instances += 1;
  return `ex-${name}-${instances}`;
}

/** h("div", {class: "a", onclick: f}, child, ...): an element; children may be strings. */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Integer range [0, n). */
export function range(n) {
  return Array.from({ length: Math.max(0, n) }, (_, i) => i);
}

/** Python's floor division for integers (also for negative numerators). */
export function floorDiv(a, b) {
  return Math.floor(a / b);
}

/** A number as the explorables print it: integers exactly, others with `digits` decimals. */
export function fmt(value, digits = 3) {
  if (Number.isInteger(value)) return String(value);
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;   // never "-0.000"
}

/** Set a model key and tell the host (the anywidget contract's two calls). */
export function setKey(model, key, value) {
  model.set(key, value);
  model.save_changes();
}

/**
 * A labelled slider for an integer setting `key` of the model, min..max.
 * Keyboard: arrows, Home, End, Page Up/Down (the browser's own range input).
 */
export function slider(model, key, label, min, max, prefix, show = (v) => String(v)) {
  const id = `${prefix}-${key}`;
  const out = h("output", { id: `${id}-value`, for: id, class: "ex-value" }, show(model.get(key)));
  const input = h("input", {
    type: "range", id, min, max, step: 1, value: model.get(key), "data-key": key,
    "aria-valuetext": show(model.get(key)),
    oninput: () => setKey(model, key, Number(input.value)),
  });
  model.on(`change:${key}`, () => {
    const v = model.get(key);
    if (Number(input.value) !== v) input.value = v;
    out.textContent = show(v);
    input.setAttribute("aria-valuetext", show(v));
  });
  return h("div", { class: "ex-control" }, h("label", { for: id }, label), input, out);
}

/** A labelled group of radio buttons for a string setting `key`; options: [[value, text]]. */
export function radios(model, key, label, options, prefix) {
  const name = `${prefix}-${key}`;
  const inputs = options.map(([value, text]) => {
    const input = h("input", {
      type: "radio", name, id: `${name}-${value}`, value, "data-key": key,
      checked: model.get(key) === value,
      onchange: () => { if (input.checked) setKey(model, key, value); },
    });
    return h("label", { for: `${name}-${value}`, class: "ex-radio" }, input, text);
  });
  model.on(`change:${key}`, () => {
    for (const label of inputs) {
      const input = label.querySelector("input");
      input.checked = input.value === model.get(key);
    }
  });
  return h("fieldset", { class: "ex-control ex-radios" }, h("legend", {}, label), inputs);
}

/** A button that calls onclick; `key` names it for tests and focus restoring. */
export function button(text, key, onclick) {
  return h("button", { type: "button", class: "ex-button", "data-key": key, onclick }, text);
}

/**
 * A grid of cells. With `select` it is an ARIA grid: one cell is in the tab order, arrow
 * keys, Home and End move the focus and the selection with it, and a click selects.
 * Without, it is a picture (role="img") described by `label`.
 *
 * opts: {rows, cols, label, key (names the grid for focus restoring),
 *        text(i, j), cls(i, j), cellLabel(i, j) (select only), selected: [i, j] or null,
 *        select(i, j), size: cell size in px, rowHead(i), colHead(j), style(i, j)}
 */
export function grid(opts) {
  const { rows, cols, label, key, select } = opts;
  const size = opts.size || 26;
  const interactive = typeof select === "function";
  const table = h("div", {
    class: "ex-grid" + (interactive ? " ex-grid-interactive" : ""),
    role: interactive ? "grid" : "img",
    "aria-label": label,
    "data-grid": key,
    "data-rows": rows,
    "data-cols": cols,
    style: `--ex-cell: ${size}px;`,
  });
  const [si, sj] = opts.selected || [-1, -1];
  const focusI = si >= 0 ? si : 0;
  const focusJ = sj >= 0 ? sj : 0;
  if (opts.colHead) {     // column numbers: for the eye only (cells carry their own labels)
    const head = h("div", { class: "ex-row ex-headrow", "aria-hidden": "true" });
    if (opts.rowHead) head.append(h("div", { class: "ex-head ex-corner" }));
    for (const j of range(cols)) head.append(h("div", { class: "ex-head" }, opts.colHead(j)));
    table.append(head);
  }
  for (const i of range(rows)) {
    const row = h("div", { role: interactive ? "row" : null, class: "ex-row" });
    if (opts.rowHead) row.append(h("div", { class: "ex-head", "aria-hidden": "true" }, opts.rowHead(i)));
    for (const j of range(cols)) {
      const text = opts.text ? opts.text(i, j) : "";
      const cls = "ex-cell " + (opts.cls ? opts.cls(i, j) : "");
      const isSel = i === si && j === sj;
      const cell = h("div", {
        class: cls + (isSel ? " ex-selected" : ""),
        "data-i": i, "data-j": j,
        role: interactive ? "gridcell" : null,
        tabindex: interactive ? (i === focusI && j === focusJ ? 0 : -1) : null,
        "aria-selected": interactive ? String(isSel) : null,
        "aria-label": interactive && opts.cellLabel ? opts.cellLabel(i, j) : null,
        "data-focus-key": interactive ? `${key}:${i}:${j}` : null,
        style: opts.style ? opts.style(i, j) : null,
      }, text);
      if (interactive) cell.addEventListener("click", () => select(i, j));
      row.append(cell);
    }
    table.append(row);
  }
  if (interactive) {
    table.addEventListener("keydown", (event) => {
      const cell = event.target.closest("[role=gridcell]");
      if (!cell) return;
      let i = Number(cell.dataset.i);
      let j = Number(cell.dataset.j);
      const moves = {
        ArrowUp: () => { i = Math.max(0, i - 1); },
        ArrowDown: () => { i = Math.min(rows - 1, i + 1); },
        ArrowLeft: () => { j = Math.max(0, j - 1); },
        ArrowRight: () => { j = Math.min(cols - 1, j + 1); },
        Home: () => { j = 0; if (event.ctrlKey) i = 0; },
        End: () => { j = cols - 1; if (event.ctrlKey) i = rows - 1; },
        Enter: () => {},
        " ": () => {},
      };
      if (!(event.key in moves)) return;
      event.preventDefault();
      moves[event.key]();
      select(i, j);
    });
  }
  return table;
}

/**
 * Redraw `box` with build() after any change of the model's keys; when a grid cell had the
 * keyboard focus, the redrawn grid's tab stop (its selected cell) gets it.
 */
export function redrawOn(model, keys, box, build) {
  const draw = () => {
    const active = document.activeElement;
    const focusKey = active && box.contains(active) ? active.getAttribute("data-focus-key") : null;
    box.replaceChildren(...[].concat(build()));
    if (focusKey) {   // a grid's cell had the focus: give it to that grid's tab stop (the selection)
      const again = box.querySelector(`[data-grid="${focusKey.split(":")[0]}"] [tabindex="0"]`);
      if (again) again.focus();
    }
  };
  for (const key of keys) model.on(`change:${key}`, draw);
  draw();
  return draw;
}

/** Text colour (black or white) with the higher WCAG contrast against an [r, g, b] background. */
export function inkFor(rgb) {
  const lin = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) ? "#000" : "#fff";
}

/** Sequential colour map, white -> Okabe-Ito blue (#0072B2) -> dark blue, t in [0, 1]. */
export function heat(t) {
  const stops = [[255, 255, 255], [86, 180, 233], [0, 114, 178], [0, 45, 90]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x));
  const f = x - k;
  return stops[k].map((c, m) => Math.round(c + (stops[k + 1][m] - c) * f));
}

/** A polite live region: screen readers read what the selection now shows. */
export function live(text, key) {
  return h("p", { class: "ex-live", "aria-live": "polite", "data-readout": key }, text);
}

/** A readout "name = value" whose value the tests read: <output data-readout=key>. */
export function readout(name, key, value) {
  return h("span", { class: "ex-readout" }, `${name} = `,
           h("output", { "data-readout": key }, value));
}

/** The frame every explorable draws into `el`: a titled group with controls and a view. */
export function frame(el, name, title, help) {
  const prefix = uid(name);
  const controls = h("div", { class: "ex-controls" });
  const view = h("div", { class: "ex-view" });
  const root = h("div", { class: "ex-root", role: "group", "aria-labelledby": `${prefix}-title`,
                          "data-explorable-root": name },
                 h("p", { class: "ex-title", id: `${prefix}-title` }, title),
                 help ? h("p", { class: "ex-help" }, help) : null,
                 controls, view);
  el.replaceChildren(root);
  return { prefix, controls, view, root };
}
