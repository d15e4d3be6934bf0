// Explorable: batch norm's statistics in training and inference mode, step by step.
// Model keys: mode ("train" | "inference"), momentum10 (momentum = momentum10 / 10), step
// (training steps taken); data batches (S, N, D), eps, true_mean, true_var.
// Running statistics start at mean 0, variance 1 and follow update_running_stats (the
// unbiased variance n / (n - 1) goes in). tests/test_explorables.py checks every number
// shown against batchnorm_forward, update_running_stats and batchnorm_inference.
import { button, fmt, frame, h, live, radios, range, redrawOn, setKey, slider } from "./common.mjs";

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const biasedVar = (v) => { const m = mean(v); return mean(v.map((t) => (t - m) ** 2)); };
const column = (batch, d) => batch.map((row) => row[d]);

/** Batch statistics (mean, biased variance) of an (N, D) batch. */
export function batchStats(batch) {
  const D = batch[0].length;
  return { mean: range(D).map((d) => mean(column(batch, d))), var: range(D).map((d) => biasedVar(column(batch, d))) };
}

/** update_running_stats: (1 - m) * running + m * batch, the variance unbiased. */
export function updateRunning(running, stats, n, momentum) {
  return {
    mean: running.mean.map((r, d) => (1 - momentum) * r + momentum * stats.mean[d]),
    var: running.var.map((r, d) => (1 - momentum) * r + momentum * stats.var[d] * n / (n - 1)),
  };
}

/** Running statistics after the first `steps` batches, from mean 0 and variance 1. */
export function runningAfter(batches, steps, momentum) {
  const D = batches[0][0].length;
  let running = { mean: new Array(D).fill(0), var: new Array(D).fill(1) };
  for (const t of range(steps)) running = updateRunning(running, batchStats(batches[t]), batches[t].length, momentum);
  return running;
}

/** (x - mean) / sqrt(var + eps) per feature (gamma 1, beta 0). */
export function normalise(batch, stats, eps) {
  return batch.map((row) => row.map((v, d) => (v - stats.mean[d]) / Math.sqrt(stats.var[d] + eps)));
}

function table(caption, head, rows) {
  return h("table", { class: "ex-table" }, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("td", {}), head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map(([name, cells, key]) => h("tr", {},
      h("th", { scope: "row" }, name),
      cells.map((v, d) => h("td", { "data-readout": `${key}-${d}` }, fmt(v, 3)))))));
}

function view(model) {
  const batches = model.get("batches");
  const S = batches.length;
  const step = Math.min(model.get("step"), S - 1);
  const momentum = model.get("momentum10") / 10;
  const eps = model.get("eps");
  const train = model.get("mode") === "train";
  const batch = batches[step % S];
  const N = batch.length;
  const D = batch[0].length;
  const stats = batchStats(batch);
  const running = runningAfter(batches, step, momentum);
  const next = updateRunning(running, stats, N, momentum);
  const used = train ? stats : running;
  const y = normalise(batch, used, eps);
  const features = range(D).map((d) => `feature ${d}`);
  return [
    h("p", { class: "ex-readouts" },
      h("span", { class: "ex-readout" }, "training steps taken = ", h("output", { "data-readout": "step" }, step)),
      h("span", { class: "ex-readout" }, `batch shown: ${step % S} of ${S}, N = ${N}`),
      h("span", { class: "ex-readout" }, `momentum = ${fmt(momentum, 1)}, eps = ${eps}`)),
    h("div", { class: "ex-panels" },
      table(`Batch ${step % S} (x)`, features, batch.map((row, n) => [`x[${n}]`, row, `x${n}`])),
      table("Statistics per feature", features, [
        ["batch mean", stats.mean, "mean"],
        ["batch var (biased)", stats.var, "var"],
        ["running mean", running.mean, "rmean"],
        ["running var", running.var, "rvar"],
        ["true mean", model.get("true_mean"), "tmean"],
        ["true var", model.get("true_var"), "tvar"],
      ])),
    h("div", { class: "ex-panels" },
      table(train ? "Output, training mode: normalised with the batch's statistics"
                  : "Output, inference mode: normalised with the running statistics",
            features, y.map((row, n) => [`y[${n}]`, row, `y${n}`])),
      train ? table("Running statistics after this step", features, [
        ["running mean", next.mean, "nmean"], ["running var", next.var, "nvar"]]) : null),
    h("p", { class: "ex-formula" }, train
      ? `y = (x − batch mean) / √(batch var + eps); then running = (1 − ${fmt(momentum, 1)})·running + ` +
        `${fmt(momentum, 1)}·batch, with the variance times N / (N − 1) = ${N}/${N - 1}.`
      : "y = (x − running mean) / √(running var + eps): the batch's own statistics are not used, " +
        "so each example's output does not depend on the others, and nothing is updated."),
    live(train
      ? `Training step ${step}: batch mean ${stats.mean.map((v) => fmt(v, 3)).join(", ")}; ` +
        `running mean will become ${next.mean.map((v) => fmt(v, 3)).join(", ")}.`
      : `Inference: running mean ${running.mean.map((v) => fmt(v, 3)).join(", ")} after ${step} steps.`, "live"),
  ];
}

function render({ model, el }) {
  const { prefix, controls, view: box } = frame(el, "batchnorm", "Explorable: batch norm, training and inference",
    "In training mode a batch is normalised with its own mean and variance, and the running averages move towards them; inference mode uses the running averages instead. Take training steps and compare.");
  controls.append(
    radios(model, "mode", "mode", [["train", "training"], ["inference", "inference"]], prefix),
    slider(model, "momentum10", "momentum", 1, 9, prefix, (v) => fmt(v / 10, 1)),
    button("take a training step", "step", () => {
      const S = model.get("batches").length;
      if (model.get("mode") !== "train") setKey(model, "mode", "train");
      setKey(model, "step", Math.min(S - 1, model.get("step") + 1));
    }),
    button("ten steps", "step10", () => {
      const S = model.get("batches").length;
      if (model.get("mode") !== "train") setKey(model, "mode", "train");
      setKey(model, "step", Math.min(S - 1, model.get("step") + 10));
    }),
    button("reset", "reset", () => setKey(model, "step", 0)));
  redrawOn(model, ["mode", "momentum10", "step"], box, () => view(model));
}

export default { render };
