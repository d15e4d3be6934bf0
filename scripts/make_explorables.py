"""Write the files of the book's explorables (interactive figures) that derive from code.

    python scripts/make_explorables.py            # (re)write what is stale
    python scripts/make_explorables.py --check    # exit 1 naming the stale files

The explorables themselves are hand-written ES modules, book/_static/explorables/<name>.mjs
(anywidget's render({model, el}) contract). This script writes, for each of them:

- book/explorables/<name>.md: the snippet a chapter includes with one {include} directive.
  It holds the model's initial state as JSON (settings, and input data drawn here with a
  fixed seed), the static figure that stands in when JavaScript is off, and the two scripts
  that mount the module (host.js, sources.js);
- book/_static/explorables/<name>.svg: that static figure, drawn with matplotlib from the
  reference solutions (solutions/) in the model's initial state, with alt text from the
  same numbers;

and, for all of them, book/_static/explorables/sources.js: the modules' text, so that the
host can import them from blob: URLs when the book is opened from file:// (Chromium refuses
to import ES modules from disk).

Every result the explorables show is computed by their JavaScript from these inputs;
tests/test_explorables.py drives them in headless Chromium and compares what they show with
solutions/ on a grid of settings. scripts/regenerate.py runs this script as one of its steps.
"""
import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import solutions  # noqa: E402

STATIC = ROOT / "book" / "_static" / "explorables"
SNIPPETS = ROOT / "book" / "explorables"
SEED = 15
# Paths as seen from a chapter's page, book/<chapter>.html in the built book.
STATIC_URL = "../_static/explorables"


# ---------------------------------------------------------------------------- initial states

def conv_arithmetic_state():
    return {"n": 5, "k": 3, "stride": 2, "pad": 1, "dilation": 1, "mode": "conv", "sel": [0, 0]}


def conv_volume_state(rng):
    return {"C": 3, "H": 5, "F": 2, "k": 3, "stride": 2, "pad": 1, "sel": [0, 0, 0],
            "x": rng.integers(-2, 3, size=(3, 7, 7)).tolist(),
            "w": rng.integers(-1, 2, size=(3, 3, 3, 3)).tolist(),
            "b": rng.integers(-1, 2, size=3).tolist()}


def receptive_field_state():
    layers = [(3, 1, 1), (3, 2, 1), (3, 1, 1), (3, 1, 2)]
    state = {"n": 16, "L": 3, "sel": [1, 1]}
    for index, (k, s, d) in enumerate(layers, start=1):
        state.update({f"k{index}": k, f"s{index}": s, f"d{index}": d})
    return state


def pooling_state(rng):
    return {"mode": "max", "pool": 3, "stride": 2, "H": 7, "data": "ties", "sel": [0, 0],
            "x_distinct": (rng.permutation(64) + 1).reshape(8, 8).tolist(),
            "x_ties": rng.integers(0, 6, size=(8, 8)).tolist(),
            "dout": rng.integers(1, 10, size=(8, 8)).tolist()}


def im2col_state():
    return {"N": 1, "C": 2, "H": 4, "k": 3, "stride": 1, "pad": 0, "sel": [0, 0]}


TRUE_MEAN = [2.0, -1.0, 0.5]
TRUE_STD = [1.5, 0.5, 3.0]


def batchnorm_state(rng):
    batches = rng.normal(TRUE_MEAN, TRUE_STD, size=(40, 4, 3)).round(1)
    return {"mode": "train", "momentum10": 1, "step": 0, "eps": 1e-5,
            "true_mean": TRUE_MEAN, "true_var": [s * s for s in TRUE_STD],
            "batches": batches.tolist()}


def states():
    """Every explorable's initial model state, drawn in a fixed order from one seed."""
    rng = np.random.default_rng(SEED)
    return {"conv_arithmetic": conv_arithmetic_state(), "conv_volume": conv_volume_state(rng),
            "receptive_field": receptive_field_state(), "pooling": pooling_state(rng),
            "im2col": im2col_state(), "batchnorm": batchnorm_state(rng)}


# ---------------------------------------------------------------------------- reference results
# The static figures and their alt text, from solutions/ in each initial state.

def conv_arithmetic_facts(s):
    n, k, stride, pad, d = s["n"], s["k"], s["stride"], s["pad"], s["dilation"]
    return {"out": solutions.conv_output_size(n, k, stride, pad, d)}


def conv_volume_arrays(s):
    C, H, F, k = s["C"], s["H"], s["F"], s["k"]
    x = np.array(s["x"])[:C, :H, :H]
    w = np.array(s["w"])[:F, :C, :k, :k]
    b = np.array(s["b"])[:F]
    out = solutions.conv_forward_naive(x[None].astype(float), w.astype(float), b.astype(float),
                                       s["stride"], s["pad"])[0]
    return x, w, b, np.rint(out).astype(int)


def stack_layers(s):
    return [(s[f"k{i}"], s[f"s{i}"], s[f"d{i}"]) for i in range(1, s["L"] + 1)]


def effective_field(n, layers, unit):
    """Input gradient of one output unit of a stack of unpadded convs with all weights 1.

    Chains conv_backward_naive (with dilated all-ones kernels) from a one-hot dout; the value
    at each input pixel is the number of paths from it to the unit.
    """
    xs, size = [], n
    for k, stride, d in layers:
        xs.append(np.zeros((1, 1, size, size)))
        size = solutions.conv_output_size(size, k, stride, 0, d)
    grad = np.zeros((1, 1, size, size))
    grad[0, 0][unit] = 1
    for (k, stride, d), x in zip(reversed(layers), reversed(xs)):
        w = solutions.dilate(np.ones((1, 1, k, k)), d)
        grad = solutions.conv_backward_naive(grad, x, w, np.zeros(1), stride, 0)[0]
    return np.rint(grad[0, 0]).astype(int)


def pooling_arrays(s):
    H = s["H"]
    x = np.array(s["x_ties" if s["data"] == "ties" else "x_distinct"])[:H, :H].astype(float)
    Hout = solutions.conv_output_size(H, s["pool"], s["stride"])
    dout = np.array(s["dout"])[:Hout, :Hout].astype(float)
    forward = solutions.max_pool_forward if s["mode"] == "max" else solutions.avg_pool_forward
    backward = solutions.max_pool_backward if s["mode"] == "max" else solutions.avg_pool_backward
    out = forward(x[None, None], s["pool"], s["stride"])[0, 0]
    dx = backward(dout[None, None], x[None, None], s["pool"], s["stride"])[0, 0]
    one = np.zeros_like(dout)
    one[tuple(s["sel"])] = 1
    routed = np.argwhere(backward(one[None, None], x[None, None], s["pool"], s["stride"])[0, 0] != 0)
    return x, out, dout, dx, [tuple(map(int, rc)) for rc in routed]


def im2col_arrays(s):
    N, C, H = s["N"], s["C"], s["H"]
    x = np.arange(1, N * C * H * H + 1, dtype=float).reshape(N, C, H, H)
    cols = solutions.im2col(x, s["k"], s["k"], s["stride"], s["pad"])
    return x, np.rint(cols).astype(int)


def batchnorm_history(s):
    """Running mean and variance after each step, and each batch's mean, from solutions/."""
    batches = np.array(s["batches"])
    rm, rv = np.zeros(3), np.ones(3)
    means, variances, batch_means = [rm], [rv], []
    for batch in batches:
        _, mean, var = solutions.batchnorm_forward(batch, np.ones(3), np.zeros(3), s["eps"])
        rm, rv = solutions.update_running_stats(rm, rv, mean, var, len(batch), s["momentum10"] / 10)
        means.append(rm)
        variances.append(rv)
        batch_means.append(mean)
    return np.array(means), np.array(variances), np.array(batch_means)


# ---------------------------------------------------------------------------- static figures

PAD, WINDOW, EDGE, SELECTED, ROUTED = "#e6e6e6", "#fbd89a", "#9c5700", "#b7e0f7", "#9fe0cc"


def draw_grid(ax, values, colours=None, title="", edges=None, fontsize=9):
    """A grid of cells with their values (None: no text); colours[i][j] fills a cell."""
    rows, cols = len(values), len(values[0])
    for i in range(rows):
        for j in range(cols):
            face = colours[i][j] if colours is not None else "white"
            ax.add_patch(Rectangle((j, rows - 1 - i), 1, 1, facecolor=face, edgecolor="#808080", lw=0.6))
            if values[i][j] is not None:
                ax.text(j + 0.5, rows - 0.5 - i, str(values[i][j]), ha="center", va="center",
                        fontsize=fontsize, color="black")
    for (i0, j0, h, w, colour) in edges or []:
        ax.add_patch(Rectangle((j0, rows - i0 - h), w, h, fill=False, edgecolor=colour, lw=2.2))
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(-0.1, rows + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=9)


def svg_bytes(fig):
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue().encode()


def conv_arithmetic_figure(s):
    n, k, stride, pad = s["n"], s["k"], s["stride"], s["pad"]
    out = conv_arithmetic_facts(s)["out"]
    P = n + 2 * pad
    values = [["0" if min(i, j) < pad or max(i, j) >= n + pad else None for j in range(P)] for i in range(P)]
    colours = [[PAD if values[i][j] else "white" for j in range(P)] for i in range(P)]
    for i in range(k):
        for j in range(k):
            colours[i][j] = WINDOW
    fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.2), gridspec_kw={"width_ratios": [P, out + 1]})
    draw_grid(axes[0], values, colours, f"padded input ({P} x {P})", [(0, 0, k, k, EDGE)])
    out_colours = [[SELECTED if (i, j) == (0, 0) else "white" for j in range(out)] for i in range(out)]
    draw_grid(axes[1], [[None] * out for _ in range(out)], out_colours, f"output ({out} x {out})")
    fig.suptitle(f"Hout = floor(({n} + 2*{pad} - {k}) / {stride}) + 1 = {out}", fontsize=10)
    alt = (f"A {n} by {n} input padded by {pad} to {P} by {P}, with the {k} by {k} window of the "
           f"top-left output outlined, and the {out} by {out} output grid beside it: with stride "
           f"{stride} the output size is floor(({n} + 2 times {pad} - {k}) / {stride}) + 1 = {out}.")
    return svg_bytes(fig), alt


def conv_volume_figure(s):
    x, w, b, out = conv_volume_arrays(s)
    C, F, pad, k = len(x), len(w), s["pad"], s["k"]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    fig, axes = plt.subplots(1, C + C + F, figsize=(11, 2.6),
                             gridspec_kw={"width_ratios": [len(xp[0])] * C + [k] * C + [len(out[0])] * F})
    for c in range(C):
        colours = [[WINDOW if i < k and j < k else (PAD if min(i, j) < pad or max(i, j) >= len(xp[0]) - pad else "white")
                    for j in range(len(xp[0]))] for i in range(len(xp[0]))]
        draw_grid(axes[c], xp[c].tolist(), colours, f"x[{c}] (padded)", [(0, 0, k, k, EDGE)], fontsize=7)
        draw_grid(axes[C + c], w[0, c].tolist(), [[WINDOW] * k for _ in range(k)], f"w[0, {c}]", fontsize=7)
    for f in range(F):
        colours = [[SELECTED if (f, i, j) == (0, 0, 0) else "white" for j in range(len(out[0]))]
                   for i in range(len(out[0]))]
        draw_grid(axes[2 * C + f], out[f].tolist(), colours, f"out[{f}]\nb = {b[f]}", fontsize=8)
    alt = (f"A {C}-channel {len(x[0])} by {len(x[0])} input padded by {pad}, filter 0's {C} weight "
           f"slices of {k} by {k}, and the {F} output maps of {len(out[0])} by {len(out[0])} "
           f"(stride {s['stride']}): out[0] is {out[0].tolist()}"
           + (f", out[1] is {out[1].tolist()}" if F > 1 else "") +
           f". The top-left output, {out[0, 0, 0]}, is the dot product of filter 0 with the outlined "
           f"windows of all {C} channels plus the bias {b[0]}.")
    return svg_bytes(fig), alt


def receptive_field_figure(s):
    n, layers, unit = s["n"], stack_layers(s), tuple(s["sel"])
    fields = solutions.receptive_field([(d * (k - 1) + 1, stride) for k, stride, d in layers])
    jump = int(np.prod([stride for _, stride, _ in layers]))
    erf = effective_field(n, layers, unit)
    r0, c0 = unit[0] * jump, unit[1] * jump
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.imshow(erf, cmap="Blues", extent=(0, n, 0, n))
    ax.add_patch(Rectangle((c0, n - r0 - fields[-1]), fields[-1], fields[-1], fill=False, edgecolor=EDGE, lw=2.2))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"receptive field {fields[-1]} x {fields[-1]}; paths per pixel (peak {erf.max()})", fontsize=9)
    spec = ", ".join(f"{k}x{k} stride {stride}" + (f" dilation {d}" if d > 1 else "") for k, stride, d in layers)
    profile = erf[r0:r0 + fields[-1], c0 + fields[-1] // 2].tolist()
    alt = (f"A {n} by {n} input under a stack of {len(layers)} unpadded conv layers ({spec}). The "
           f"receptive field of unit {unit} of the last layer, rows {r0} to {r0 + fields[-1] - 1} and "
           f"columns {c0} to {c0 + fields[-1] - 1}, is outlined; inside it the shading counts the paths "
           f"from each pixel to the unit, from 1 at the corners to {erf.max()} at the centre (down its "
           f"middle column: {profile}).")
    return svg_bytes(fig), alt


def pooling_figure(s):
    x, out, dout, dx, routed = pooling_arrays(s)
    pool, stride = s["pool"], s["stride"]
    H = len(x)
    colours = [[ROUTED if (i, j) in routed else (WINDOW if i < pool and j < pool else "white")
                for j in range(H)] for i in range(H)]
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw={"width_ratios": [H, len(out), H]})
    draw_grid(axes[0], x.astype(int).tolist(), colours, f"x ({H} x {H})", [(0, 0, pool, pool, EDGE)])
    draw_grid(axes[1], out.astype(int).tolist(),
              [[SELECTED if (i, j) == (0, 0) else "white" for j in range(len(out))] for i in range(len(out))],
              f"max pool {pool}, stride {stride}")
    draw_grid(axes[2], [[f"{v:g}" for v in row] for row in dx],
              [[ROUTED if (i, j) in routed else "white" for j in range(H)] for i in range(H)], "dx")
    alt = (f"A {H} by {H} input with ties, max pooled with {pool} by {pool} windows at stride {stride} "
           f"(overlapping) into {out.astype(int).tolist()}. The top-left window is outlined; its "
           f"gradient goes only to {routed[0]}, its first maximum in row-major order. The right grid is "
           f"dx for dout = {dout.astype(int).tolist()}, where overlapping windows add up.")
    return svg_bytes(fig), alt


def im2col_figure(s):
    x, cols = im2col_arrays(s)
    k, C, H = s["k"], s["C"], s["H"]
    fig, axes = plt.subplots(1, C + 1, figsize=(8, 4.2), gridspec_kw={"width_ratios": [H] * C + [len(cols[0]) + 1]})
    for c in range(C):
        colours = [[WINDOW if i < k and j < k else "white" for j in range(H)] for i in range(H)]
        draw_grid(axes[c], x[0, c].astype(int).tolist(), colours, f"x[0, {c}]", [(0, 0, k, k, EDGE)], fontsize=8)
    colours = [[WINDOW if j == 0 else "white" for j in range(len(cols[0]))] for i in range(len(cols))]
    draw_grid(axes[C], cols.tolist(), colours, f"im2col: {cols.shape[0]} x {cols.shape[1]}", fontsize=7)
    alt = (f"An input of {C} channels of {H} by {H} holding 1 to {x.size}, and its column matrix for "
           f"{k} by {k} windows (stride {s['stride']}, pad {s['pad']}): {cols.shape[0]} rows, one per "
           f"(channel, offset), by {cols.shape[1]} columns, one per window. Column 0, outlined, is the "
           f"top-left window of every channel: {cols[:, 0].tolist()}.")
    return svg_bytes(fig), alt


def batchnorm_figure(s):
    means, variances, batch_means = batchnorm_history(s)
    steps = np.arange(len(means))
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    colours = ["#0072B2", "#D55E00", "#009E73"]
    styles = ["-", "--", ":"]
    for d in range(3):
        axes[0].plot(steps, means[:, d], styles[d], color=colours[d], label=f"feature {d}")
        axes[0].axhline(TRUE_MEAN[d], color=colours[d], lw=0.6)
        axes[1].plot(steps, variances[:, d], styles[d], color=colours[d], label=f"feature {d}")
        axes[1].axhline(TRUE_STD[d] ** 2, color=colours[d], lw=0.6)
    axes[0].set(title="running mean (momentum 0.1)", xlabel="training step")
    axes[1].set(title="running variance", xlabel="training step")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    end = ", ".join(f"{m:.2f}" for m in means[-1])
    alt = (f"Running mean and variance of three features over {len(means) - 1} training steps with "
           f"momentum 0.1, starting at 0 and 1: the means approach the true values "
           f"{', '.join(f'{m:g}' for m in TRUE_MEAN)} (thin lines), reaching {end}; the variances "
           f"approach {', '.join(f'{s * s:g}' for s in TRUE_STD)}, reaching "
           f"{', '.join(f'{v:.2f}' for v in variances[-1])}.")
    return svg_bytes(fig), alt


# ---------------------------------------------------------------------------- the explorables

EXPLORABLES = {
    # name: (figure function, caption of the static figure)
    "conv_arithmetic": (conv_arithmetic_figure,
                        "The output size, for one setting (the interactive version needs JavaScript)."),
    "conv_volume": (conv_volume_figure,
                    "A conv layer on a 3-channel volume, for one setting (the interactive version needs JavaScript)."),
    "receptive_field": (receptive_field_figure,
                        "Receptive field and effective receptive field of a 3-layer stack (the interactive version needs JavaScript)."),
    "pooling": (pooling_figure,
                "Max pooling with ties and overlapping windows, and its gradient (the interactive version needs JavaScript)."),
    "im2col": (im2col_figure, "im2col for one setting (the interactive version needs JavaScript)."),
    "batchnorm": (batchnorm_figure,
                  "Batch norm's running statistics over training steps (the interactive version needs JavaScript)."),
}
MODULES = ["common.mjs"] + [f"{name}.mjs" for name in EXPLORABLES]


def snippet(name, state, alt, caption):
    """The raw-HTML snippet a chapter includes: one HTML block (no blank line inside)."""
    model = json.dumps(state, separators=(",", ":")).replace("<", "\\u003c")
    esc = (lambda t: t.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;"))
    return "\n".join([
        f"<!-- explorable {name}: generated by scripts/make_explorables.py, do not edit -->",
        f'<div class="explorable" data-explorable="{name}">',
        f'<link rel="stylesheet" href="{STATIC_URL}/explorables.css">',
        f'<script type="application/json" class="explorable-model">{model}</script>',
        f'<figure class="explorable-static"><img src="{STATIC_URL}/{name}.svg" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>",
        '<div class="explorable-root"></div>',
        "</div>",
        f'<script src="{STATIC_URL}/sources.js"></script>',
        f'<script src="{STATIC_URL}/host.js"></script>',
        "",
    ])


def sources_js():
    """A classic script holding every module's text, for the host's blob: imports."""
    text = {name: (STATIC / name).read_text(encoding="utf-8") for name in MODULES}
    return ("// Generated by scripts/make_explorables.py from the .mjs files beside it: do not edit.\n"
            "// host.js imports these modules from blob: URLs when the book is opened from file://.\n"
            f"window.CNNExplorableSources = {json.dumps(text, indent=0, ensure_ascii=True)};\n")


def files():
    """{path: bytes} of every generated file."""
    out = {STATIC / "sources.js": sources_js().encode()}
    # deterministic SVG (fixed ids, no date), text kept as text; nothing leaks to the caller
    with matplotlib.rc_context({"svg.hashsalt": "cnn-explorables", "svg.fonttype": "none",
                                "font.family": "DejaVu Sans"}):
        for name, state in states().items():
            figure, caption = EXPLORABLES[name]
            svg, alt = figure(state)
            out[STATIC / f"{name}.svg"] = svg
            out[SNIPPETS / f"{name}.md"] = snippet(name, state, alt, caption).encode()
    return out


def stale(check):
    """Paths whose content is not what this script writes (written unless check)."""
    found = []
    for path, data in files().items():
        if path.exists() and path.read_bytes() == data:
            continue
        found.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    args = parser.parse_args(argv)
    found = stale(args.check)
    for path in found:
        print(("stale: " if args.check else "wrote: ") + str(path.relative_to(ROOT)))
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
