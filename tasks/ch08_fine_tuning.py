"""Chapter 8, fine-tuning: fc_to_conv, and the outcome-graded fine_tune.

fine_tune is not compared with a reference: its one case calls the student's
fine_tune(*outcome.task_inputs()) in the sandbox with outcome.TIME_LIMIT_SECONDS for that call,
then scores the returned parameters with outcome.HeldoutAccuracy: all of its points if the
held-out accuracy reaches outcome.THRESHOLD, none otherwise (autograder/outcome.py states the
task). Everything the course knows about each graded function is its Task record below.
"""
import numpy as np

from autograder import outcome
from autograder.cases import Case, normal
from autograder.outcome import THRESHOLD, TIME_LIMIT_SECONDS

from . import Code, Example, Exercise, Helper, Markdown, Task, randn


def _hwc(W, b, in_shape):
    C, H, Wd = in_shape
    return W.reshape(W.shape[0], H, Wd, C).transpose(0, 3, 1, 2), b


def _hwc_unpermuted(W, b, in_shape):
    C, H, Wd = in_shape
    return W.reshape(W.shape[0], H, Wd, C), b


def _fc_to_conv(rng):
    grid = [(4, (3, 2, 5), np.float64), (2, (1, 4, 4), np.float32), (5, (2, 3, 3), np.float64)]
    return [Case("fc_to_conv", f"K{K}_in{'x'.join(map(str, s))}_{np.dtype(dt)}",
                 (normal(rng, (K, int(np.prod(s))), dt), normal(rng, (K,), dt), s), outputs=("w", "b"),
                 mistakes=[("hwc_order", _hwc), ("hwc_order", _hwc_unpermuted)],
                 situations=("float32",) * (np.dtype(dt) == np.float32))
            for K, s, dt in grid]


def _fine_tune(rng):
    # the inputs are fixed (the task's training split), so rng is not used; they are loaded by
    # the check, not here: building the cases must stay cheap for every other use of the grid
    return [Case("fine_tune", "heldout_accuracy", (), check=outcome.HeldoutAccuracy(), seconds=outcome.TIME_LIMIT_SECONDS,
                 label="fine_tune(params (8 pretrained arrays), x_train (646, 1, 8, 8), y_train (646,))")]


def digits():
    """The training part of the target split (digits 5-9, labels 0-4), as fine_tune receives it."""
    from solutions.fine_tuning import target_split
    x_train, y_train, _, _ = target_split()
    return {"x_train": x_train, "y_train": y_train}


NETWORK = '''
"""The chapter's network, for fine_tune to call. Paste into the four stubs your code from
chapter 7 (conv) and chapter 4 (pooling); the rest is given. Every convolution here has
stride 1 and no padding; every pool is 2x2 with stride 2."""


def conv_forward(x, w, b):
    """x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) -> (N, F, H - HH + 1, W - WW + 1)."""
    ### BEGIN SOLUTION
    from solutions import conv_forward_im2col as _reference
    return _reference(x, w, b)
    ### END SOLUTION


def conv_backward(dout, x, w, b):
    """dout: (N, F, Hout, Wout) -> (dx (N, C, H, W), dw (F, C, HH, WW), db (F,))."""
    ### BEGIN SOLUTION
    from solutions import conv_backward_im2col as _reference
    return _reference(dout, x, w, b)
    ### END SOLUTION


def pool_forward(x):
    """2x2 max pooling, stride 2: (N, C, H, W) -> (N, C, H // 2, W // 2)."""
    ### BEGIN SOLUTION
    from solutions import max_pool_forward as _reference
    return _reference(x, 2, 2)
    ### END SOLUTION


def pool_backward(dout, x):
    """Gradient of pool_forward: (N, C, H // 2, W // 2) -> (N, C, H, W)."""
    ### BEGIN SOLUTION
    from solutions import max_pool_backward as _reference
    return _reference(dout, x, 2, 2)
    ### END SOLUTION


def forward(params, x):
    """Class scores (N, K) of the network on x (N, 1, 8, 8), and the cache backward needs."""
    h1 = conv_forward(x, params["conv1.w"], params["conv1.b"])
    a1 = np.maximum(h1, 0)
    h2 = conv_forward(a1, params["conv2.w"], params["conv2.b"])
    a2 = np.maximum(h2, 0)
    pooled = pool_forward(a2)
    flat = pooled.reshape(len(x), -1)
    h3 = flat @ params["fc1.W"].T + params["fc1.b"]
    a3 = np.maximum(h3, 0)
    scores = a3 @ params["fc2.W"].T + params["fc2.b"]
    return scores, (x, h1, a1, h2, a2, pooled, flat, h3, a3)


def backward(params, dscores, cache):
    """{"conv1.w": gradient, ...} of a loss whose gradient with respect to the scores is dscores."""
    x, h1, a1, h2, a2, pooled, flat, h3, a3 = cache
    grads = {"fc2.W": dscores.T @ a3, "fc2.b": dscores.sum(axis=0)}
    dh3 = (dscores @ params["fc2.W"]) * (h3 > 0)
    grads["fc1.W"], grads["fc1.b"] = dh3.T @ flat, dh3.sum(axis=0)
    dpooled = (dh3 @ params["fc1.W"]).reshape(pooled.shape)
    dh2 = pool_backward(dpooled, a2) * (h2 > 0)
    da1, grads["conv2.w"], grads["conv2.b"] = conv_backward(dh2, a1, params["conv2.w"], params["conv2.b"])
    _, grads["conv1.w"], grads["conv1.b"] = conv_backward(da1 * (h1 > 0), x, params["conv1.w"], params["conv1.b"])
    return grads


def softmax_cross_entropy(scores, y):
    """Mean cross-entropy loss of the scores (N, K) against labels y (N,), and its gradient dscores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(y)), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(len(y)), y] -= 1
    return loss, dscores / len(y)
'''

FINE_TUNE_CHECK = '''
# Visible check: fine-tune on 80% of x_train, measure the accuracy on the other 20% with a
# forward pass independent of your code (scipy), and time the call.
import time

from scipy.signal import correlate

from compare import passed_message


def _scores(params, x):
    def conv(x, w, b):
        return np.stack([np.stack([correlate(image, w[f], mode="valid")[0] + b[f] for f in range(len(w))]) for image in x])
    a = np.maximum(conv(x, params["conv1.w"], params["conv1.b"]), 0)
    a = np.maximum(conv(a, params["conv2.w"], params["conv2.b"]), 0)
    n, c, h, w = a.shape
    a = a[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5)).reshape(n, -1)
    a = np.maximum(a @ params["fc1.W"].T + params["fc1.b"], 0)
    return a @ params["fc2.W"].T + params["fc2.b"]


def _check_fine_tune():
    with np.load("digits.npz") as data:
        x, y = data["x_train"], data["y_train"]
    with np.load("pretrained.npz") as weights:
        pretrained = {name: weights[name] for name in weights.files}
    order = np.random.default_rng(8).permutation(len(x))
    train, valid = order[:len(x) * 4 // 5], order[len(x) * 4 // 5:]
    start = time.perf_counter()
    try:
        tuned = fine_tune({k: v.copy() for k, v in pretrained.items()}, x[train], y[train])
    except NotImplementedError:
        return report("fine_tune is not implemented yet (or one of the network's stubs is not)")
    seconds = time.perf_counter() - start
    if not isinstance(tuned, dict) or set(tuned) != set(pretrained):
        return report(f"fine_tune must return a dict with the names {sorted(pretrained)}")
    for name, value in tuned.items():
        if np.shape(value) != pretrained[name].shape:
            return report(f"{name} has shape {np.shape(value)}, expected {pretrained[name].shape}")
    accuracy = float(np.mean(_scores(tuned, x[valid]).argmax(axis=1) == y[valid]))
    print(f"fine_tune took {seconds:.1f} s; accuracy on {len(valid)} images it did not train on: {accuracy:.3f}")
    if accuracy < THRESHOLD:
        return report(f"accuracy {accuracy:.3f} is below {THRESHOLD:.2f}: output k must score digit 5 + k")
    if seconds > TIME_LIMIT_SECONDS:
        return report(f"fine_tune took {seconds:.0f} s, more than the {TIME_LIMIT_SECONDS} s limit")
    print(passed_message("fine_tune", 1))


THRESHOLD, TIME_LIMIT_SECONDS = {threshold!r}, {limit!r}
_check_fine_tune()
'''.replace("{threshold!r}", repr(THRESHOLD)).replace("{limit!r}", repr(TIME_LIMIT_SECONDS))

EXERCISE = Exercise(
    assignment="ch08_fine_tuning",
    title="Fine-tuning",
    intro="""
A network trained on one task has learned features that help on a related one. This chapter
takes a small CNN trained on the handwritten digits 0-4 and adapts it to the digits 5-9 with
few labels. First, a piece of the machinery: a dense layer is a convolution whose kernel covers
its whole input, which lets a classifier trained on small crops slide over a larger image.
""",
    cells=(
        Task(
            name="fc_to_conv",
            points=3,
            task="""
A dense layer computes `W @ x.ravel() + b` for an input `x` of shape `in_shape = (C, H, W)`,
flattened in C order, with `W` of shape `(K, C*H*W)`. Return the conv layer `(w, b)` that
computes the same thing: `K` filters of shape `(C, H, W)` such that
`sum(w[k] * x) + b[k] == (W @ x.ravel() + b)[k]`. Keep the float dtype of `W` and `b`. A `W`
whose second dimension is not `C*H*W` is a `ValueError`.
""",
            examples=(
                Example("K 4, in_shape (3, 2, 5)", lambda r: (randn(r, 4, 30), randn(r, 4), (3, 2, 5))),
                Example("float32, K 2, in_shape (1, 4, 4)",
                     lambda r: (randn(r, 2, 16, dtype="float32"), randn(r, 2, dtype="float32"), (1, 4, 4))),
                Example("W (4, 29), in_shape (3, 2, 5)", lambda r: (randn(r, 4, 29), randn(r, 4), (3, 2, 5)),
                        invalid="W's second dimension is not C*H*W"),
            ),
            hidden=_fc_to_conv,
            invalid=lambda rng: [("W's second dimension is not C*H*W", (normal(rng, (4, 29)), normal(rng, (4,)), (3, 2, 5)), {})],
            mistakes={
                "hwc_order": "matches reading W as (K, H, W, C): inputs were flattened from (C, H, W) in C "
                             "order, so reshape to (K, C, H, W)",
            },
        ),
        Code("""
# A dense "template" classifier for the digits 5-9 of digits.npz (one row per digit: its mean
# image, centred), turned into a conv and slid over a 8 x 40 strip of five digits: row k of the
# score map is high where the window looks like digit 5 + k (templates are a weak classifier:
# expect mistakes).
from scipy.signal import correlate

with np.load("digits.npz") as data:
    images, labels = data["x_train"][:, 0], data["y_train"]
templates = np.stack([images[labels == k].mean(axis=0) for k in range(5)])
templates -= templates.mean(axis=(1, 2), keepdims=True)
W_dense, b_dense = templates.reshape(5, 64), np.zeros(5)
strip = np.concatenate([images[np.flatnonzero(labels == k)[0]] for k in (3, 1, 4, 0, 2)], axis=1)
try:
    w_conv, b_conv = fc_to_conv(W_dense, b_dense, (1, 8, 8))
except NotImplementedError:
    print("Implement fc_to_conv to slide the classifier over the strip.")
else:
    scores = np.stack([correlate(strip, w_conv[k, 0], mode="valid")[0] + b_conv[k] for k in range(5)])
    fig, axes = plt.subplots(2, 1, figsize=(10, 5))
    axes[0].imshow(strip, cmap="gray_r")
    axes[0].set_title("input strip")
    axes[1].imshow(scores, cmap="viridis", aspect="auto")
    axes[1].set_yticks(range(5), labels=[str(5 + k) for k in range(5)])
    axes[1].set_xlabel("horizontal offset of the 8x8 window")
    axes[1].set_ylabel("digit")
    axes[1].set_title("score map of the convolutionalized dense layer")
    plt.tight_layout()
    plt.show()
    print("best digit every 8 pixels:", 5 + scores.argmax(axis=0)[::8], "(the strip holds 8 6 9 5 7)")
"""),
        Markdown(f"""
## Fine-tuning on new digits

`pretrained.npz` holds a small CNN trained on the digits 0-4 (chapter 8 shows how):
conv1 3x3 (1 -> 16) -> ReLU -> conv2 3x3 (16 -> 32) -> ReLU -> 2x2 max pool -> flatten (128)
-> fc1 (64) -> ReLU -> fc2 (5 scores). Your task is to adapt it to the digits **5-9**: label
`k` means digit `5 + k`. Chapter 8 compares the options: train only a new head on frozen
features, unfreeze more layers, choose a learning rate.

The cell below gives you the network's forward and backward passes; paste into its four stubs
your convolution (chapter 7) and max pooling (chapter 4). It is a solution cell: the grader
runs it before `fine_tune`.
"""),
        Helper("network", NETWORK),
        Task(
            name="fine_tune",
            points=5,
            own_signature="fine_tune(params, x_train, y_train)",
            own_doc="""Adapt the pretrained network to the digits 5-9.

params: {"conv1.w": (16, 1, 3, 3), "conv1.b": (16,), "conv2.w": (32, 16, 3, 3), "conv2.b": (32,),
"fc1.W": (64, 128), "fc1.b": (64,), "fc2.W": (5, 64), "fc2.b": (5,)}; x_train: (N, 1, 8, 8)
in [0, 1]; y_train: (N,) labels 0..4 meaning digits 5..9 -> a dict with the same names and
shapes: the fine-tuned network.""",
            task=f"""
Return the fine-tuned parameters (a new dict, same names and shapes) of a network whose output
`k` scores digit `5 + k`. numpy only; seed any randomness you use yourself (for example
`np.random.default_rng(0)`), so that a re-run gives the same network.

**Graded by outcome**: the grader calls `fine_tune` on the {len(digits()["y_train"])} training
images of `digits.npz`, then measures the accuracy of the returned network on 250 held-out
digits you never see. Full marks need an accuracy of at least **{THRESHOLD:.0%}**, within
**{TIME_LIMIT_SECONDS} s**. The check below estimates both on a split of your training data.
""",
            visible=FINE_TUNE_CHECK,
            solution="""
from solutions.training import replace_head, small_cnn, train
net = replace_head(small_cnn(n_classes=5).load(params), 5, seed=0)
train(net, x_train, y_train, steps=300, lr=0.05, seed=0, progress=False)
return {name: value.copy() for name, value in net.params().items()}
""",
            hidden=_fine_tune,
        ),
    ),
    data={"digits.npz": digits},
)
