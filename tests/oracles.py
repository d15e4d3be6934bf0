"""Brute-force definitions that the reference package is tested against.

Each oracle is the textbook formula written with plain Python loops over output positions,
in float64, with no tricks (no strided views, no einsum, no reshapes of windows), so that it
can be checked by reading. They are slow; the tests call them on small shapes only.
Nothing here imports `solutions`. At the end: the hypothesis strategies for layer geometries
that the property tests of several chapters share.
"""
import numpy as np
from hypothesis import strategies as st


def pad_hw(x, pad):
    """Zero-pad the last two axes of x by pad on every side, with an explicit copy loop."""
    *lead, H, W = x.shape
    out = np.zeros((*lead, H + 2 * pad, W + 2 * pad), dtype=np.float64)
    for i in range(H):
        for j in range(W):
            out[..., pad + i, pad + j] = x[..., i, j]
    return out


def window_positions(n, k, stride, pad, dilation=1):
    """Number of window starts along an n-wide axis: counted, not computed from a formula."""
    span = dilation * (k - 1) + 1
    count, start = 0, 0
    while start + span <= n + 2 * pad:
        count += 1
        start += stride
    return count


def corr2d(x, k):
    """Valid cross-correlation of 2D arrays: y[i, j] = sum_ab x[i+a, j+b] k[a, b]."""
    H, W = x.shape
    HH, WW = k.shape
    y = np.zeros((H - HH + 1, W - WW + 1))
    for i in range(H - HH + 1):
        for j in range(W - WW + 1):
            for a in range(HH):
                for b in range(WW):
                    y[i, j] += x[i + a, j + b] * k[a, b]
    return y


def conv(x, w, b, stride=1, pad=0, dilation=1):
    """Conv layer (cross-correlation): out[n,f,i,j] = b[f] + sum_{c,a,b} xpad[n,c,i*s+a*d,j*s+b*d] w[f,c,a,b]."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = pad_hw(x, pad)
    Hout = window_positions(H, HH, stride, pad, dilation)
    Wout = window_positions(W, WW, stride, pad, dilation)
    out = np.zeros((N, F, Hout, Wout))
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    total = float(b[f])
                    for c in range(C):
                        for a in range(HH):
                            for bb in range(WW):
                                row, col = i * stride + a * dilation, j * stride + bb * dilation
                                total += xp[n, c, row, col] * w[f, c, a, bb]
                    out[n, f, i, j] = total
    return out


def conv_transpose(x, w, stride=1, pad=0):
    """Transposed conv by scattering: every x[n,c,i,j] adds x * w[c,f] at (i*s, j*s), then pad is cropped.

    x: (N, C, H, W), w: (C, F, HH, WW).
    """
    N, C, H, W = x.shape
    _, F, HH, WW = w.shape
    full = np.zeros((N, F, (H - 1) * stride + HH, (W - 1) * stride + WW))
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    for f in range(F):
                        for a in range(HH):
                            for bb in range(WW):
                                full[n, f, i * stride + a, j * stride + bb] += x[n, c, i, j] * w[c, f, a, bb]
    return full[:, :, pad:full.shape[2] - pad, pad:full.shape[3] - pad]


def first_max_index(window):
    """(row, col) of the first maximum of a 2D window, scanning in row-major order."""
    best = (0, 0)
    for a in range(window.shape[0]):
        for b in range(window.shape[1]):
            if window[a, b] > window[best]:
                best = (a, b)
    return best


def pool_windows(x, pool, stride):
    """Yield ((n, c, i, j), (top, left), window) for every pool x pool window of x, moved by stride."""
    N, C, H, W = x.shape
    Hout, Wout = window_positions(H, pool, stride, 0), window_positions(W, pool, stride, 0)
    for n, c, i, j in np.ndindex(N, C, Hout, Wout):
        top, left = i * stride, j * stride
        yield (n, c, i, j), (top, left), x[n, c, top:top + pool, left:left + pool]


def pooled_shape(x, pool, stride):
    """(N, C, Hout, Wout) of pooling x: (N, C, H, W) with no padding."""
    N, C, H, W = x.shape
    return N, C, window_positions(H, pool, stride, 0), window_positions(W, pool, stride, 0)


def max_pool(x, pool, stride):
    """Each window's first maximum (row-major)."""
    out = np.zeros(pooled_shape(x, pool, stride))
    for at, _, window in pool_windows(x, pool, stride):
        out[at] = window[first_max_index(window)]
    return out


def avg_pool(x, pool, stride):
    """Each window's sum divided by pool**2."""
    out = np.zeros(pooled_shape(x, pool, stride))
    for at, _, window in pool_windows(x, pool, stride):
        out[at] = sum(window[a, b] for a in range(pool) for b in range(pool)) / pool ** 2
    return out


def max_pool_backward(dout, x, pool, stride):
    """Each window's dout added to the cell of its first row-major maximum."""
    dx = np.zeros(x.shape)
    for (n, c, i, j), (top, left), window in pool_windows(x, pool, stride):
        a, b = first_max_index(window)
        dx[n, c, top + a, left + b] += dout[n, c, i, j]
    return dx


def max_unpool(y, x, pool):
    """Each y value written at its window's first maximum in x (non-overlapping windows)."""
    out = np.zeros(x.shape)
    for (n, c, i, j), (top, left), window in pool_windows(x, pool, pool):
        a, b = first_max_index(window)
        out[n, c, top + a, left + b] = y[n, c, i, j]
    return out


def im2col(x, HH, WW, stride, pad):
    """cols[(c*HH + i)*WW + j, (n*Hout + oh)*Wout + ow] = xpad[n, c, oh*stride + i, ow*stride + j]."""
    N, C, H, W = x.shape
    xp = pad_hw(x, pad)
    Hout, Wout = window_positions(H, HH, stride, pad), window_positions(W, WW, stride, pad)
    cols = np.zeros((C * HH * WW, N * Hout * Wout))
    for c in range(C):
        for i in range(HH):
            for j in range(WW):
                for n in range(N):
                    for oh in range(Hout):
                        for ow in range(Wout):
                            cols[(c * HH + i) * WW + j, (n * Hout + oh) * Wout + ow] = \
                                xp[n, c, oh * stride + i, ow * stride + j]
    return cols


def col2im(cols, x_shape, HH, WW, stride, pad):
    """Scatter-add every entry of cols back to the input pixel it was read from; padding dropped."""
    N, C, H, W = x_shape
    Hout, Wout = window_positions(H, HH, stride, pad), window_positions(W, WW, stride, pad)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for c in range(C):
        for i in range(HH):
            for j in range(WW):
                for n in range(N):
                    for oh in range(Hout):
                        for ow in range(Wout):
                            dxp[n, c, oh * stride + i, ow * stride + j] += \
                                cols[(c * HH + i) * WW + j, (n * Hout + oh) * Wout + ow]
    return dxp[:, :, pad:pad + H, pad:pad + W]


def normalize(values, eps):
    """(v - mean) / sqrt(biased var + eps) of a flat list of numbers, with the sums spelled out."""
    values = [float(v) for v in values]
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / len(values)
    return [(v - mean) / (var + eps) ** 0.5 for v in values]


def batchnorm(x, gamma, beta, eps):
    """(N, D): each column normalised over the batch."""
    N, D = x.shape
    out = np.zeros((N, D))
    for d in range(D):
        column = normalize(x[:, d], eps)
        for n in range(N):
            out[n, d] = gamma[d] * column[n] + beta[d]
    return out


def layernorm(x, gamma, beta, eps):
    """(N, D): each row normalised over its features."""
    N, D = x.shape
    out = np.zeros((N, D))
    for n in range(N):
        row = normalize(x[n], eps)
        for d in range(D):
            out[n, d] = gamma[d] * row[d] + beta[d]
    return out


def groupnorm(x, gamma, beta, groups, eps):
    """(N, C, H, W): per sample, each block of C/groups consecutive channels normalised over its values."""
    N, C, H, W = x.shape
    size = C // groups
    out = np.zeros(x.shape)
    for n in range(N):
        for g in range(groups):
            cells = [(c, i, j) for c in range(g * size, (g + 1) * size) for i in range(H) for j in range(W)]
            normed = normalize([x[n][cell] for cell in cells], eps)
            for (c, i, j), v in zip(cells, normed):
                out[n, c, i, j] = gamma[c] * v + beta[c]
    return out


def spatial_batchnorm(x, gamma, beta, eps):
    """(N, C, H, W): each channel normalised over all of its (n, i, j) values."""
    N, C, H, W = x.shape
    out = np.zeros(x.shape)
    for c in range(C):
        cells = [(n, i, j) for n in range(N) for i in range(H) for j in range(W)]
        normed = normalize([x[n, c, i, j] for n, i, j in cells], eps)
        for (n, i, j), v in zip(cells, normed):
            out[n, c, i, j] = gamma[c] * v + beta[c]
    return out


def receptive_field(layers):
    """Receptive field widths found by walking one top unit's input span down through the layers.

    For each depth, the span of unit 0 is pulled back layer by layer: units [lo, hi] of a
    layer with (k, s) read units [lo*s, hi*s + k - 1] of the layer below.
    """
    widths = []
    for depth in range(1, len(layers) + 1):
        lo, hi = 0, 0
        for k, s in reversed(layers[:depth]):
            lo, hi = lo * s, hi * s + k - 1
        widths.append(hi - lo + 1)
    return widths


def locally_connected_param_count(in_shape, c_out, k, stride, pad, bias):
    """Count parameters one output unit at a time: each owns a k*k*C filter (and a bias)."""
    C, H, W = in_shape
    count = 0
    for _ in range(c_out):
        for _ in range(window_positions(H, k, stride, pad)):
            for _ in range(window_positions(W, k, stride, pad)):
                count += C * k * k + (1 if bias else 0)
    return count


def numerical_gradient(f, x, dout, h=1e-6):
    """Centred differences of sum(f(x) * dout) in float64, on a copy of x (x is not touched)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (np.sum(f(plus) * dout) - np.sum(f(minus) * dout)) / (2 * h)
    return grad


def assert_conv_gradients_are_numerical(grads, forward, x, w, b, stride, pad, dout):
    """(dx, dw, db) of a conv layer equal the centred differences of `forward` for x, w and b."""
    numerical = (numerical_gradient(lambda v: forward(v, w, b, stride, pad), x, dout),
                 numerical_gradient(lambda v: forward(x, v, b, stride, pad), w, dout),
                 numerical_gradient(lambda v: forward(x, w, v, stride, pad), b, dout))
    for name, got, want in zip(("dx", "dw", "db"), grads, numerical):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=name)


def torch_conv_and_grads(torch, x, w, b, stride, pad, rng):
    """PyTorch's conv2d output and, for a random dout, its (dx, dw, db): returns out, dout, grads as numpy."""
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=pad)
    dout = rng.standard_normal(tuple(out.shape))
    grads = torch.autograd.grad(out, (tx, tw, tb), torch.from_numpy(dout))
    return out.detach().numpy(), dout, [g.numpy() for g in grads]


# Shapes for property tests -------------------------------------------------------------


@st.composite
def conv_geometries(draw, max_hw=8):
    """(N, C, H, W, F, HH, WW, stride, pad) with HH, WW <= H + 2*pad, so every output is >= 1."""
    N = draw(st.integers(1, 2))
    C = draw(st.integers(1, 3))
    F = draw(st.integers(1, 3))
    HH = draw(st.integers(1, 4))
    WW = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 2))
    H = draw(st.integers(max(1, HH - 2 * pad), max_hw))
    W = draw(st.integers(max(1, WW - 2 * pad), max_hw))
    return N, C, H, W, F, HH, WW, stride, pad


@st.composite
def pool_geometries(draw, max_hw=9):
    """(N, C, H, W, pool, stride) with pool <= min(H, W)."""
    N = draw(st.integers(1, 2))
    C = draw(st.integers(1, 3))
    pool = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 4))
    H = draw(st.integers(pool, max_hw))
    W = draw(st.integers(pool, max_hw))
    return N, C, H, W, pool, stride
