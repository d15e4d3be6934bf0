"""Two ways past im2col for the conv forward pass (chapter 7, "Beyond im2col"). Not graded.

- ``conv_forward_winograd``: Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2016).
  Each 4x4 tile of the input gives a 2x2 tile of the output with 16 multiplications per
  (filter, channel) pair instead of 2 * 2 * 9 = 36. Across channels the 16 products become 16
  matrix products (F, C) @ (C, tiles), so the arithmetic is 2.25 times smaller than im2col's
  single (F, 9C) @ (9C, positions) product.
- ``conv_forward_fft``: correlation theorem. One FFT per input channel and per (filter,
  channel) pair, a sum over channels of pointwise products in the frequency domain (a matrix
  product per frequency), one inverse FFT per output channel. Its cost hardly depends on the
  kernel size.

Both compute exactly what solutions.conv_forward_naive computes (cross-correlation, NCHW),
up to rounding; tests/test_fast_conv.py checks them against it.
"""
import numpy as np
from threadpoolctl import threadpool_limits

from . import _parallel
from ._checks import as_float, check_stride_pad, conv_shapes, float_dtype

# F(2x2, 3x3): Y = A^T [(G g G^T) * (B^T d B)] A for a 4x4 input tile d and a 3x3 filter g.
WINOGRAD_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=float)
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
WINOGRAD_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=float)


def winograd_tile(d, g):
    """One output tile, 2x2, of the correlation of a 4x4 tile d with a 3x3 filter g."""
    return WINOGRAD_AT @ ((WINOGRAD_G @ g @ WINOGRAD_G.T) * (WINOGRAD_BT @ d @ WINOGRAD_BT.T)) @ WINOGRAD_AT.T


def winograd_filters(w):
    """(F, C, 3, 3) filters -> their transforms G w G^T as 16 matrices, (16, F, C)."""
    F, C = w.shape[:2]
    G = WINOGRAD_G.astype(w.dtype)
    return np.einsum("ai,fcij,bj->abfc", G, w, G, optimize=True).reshape(16, F, C)


# The input transform B^T d B, one axis at a time. B^T's rows combine the four rows of a tile
# as (d0 - d2, d1 + d2, d2 - d1, d1 - d3), and row i of tile t is row 2t + i of the padded
# image, so each combination is two strided slices: no tile is ever cut out.
_BT_ROWS = ((0, 2, np.subtract), (1, 2, np.add), (2, 1, np.subtract), (1, 3, np.subtract))

# Images per chunk: each chunk's transformed tiles (16 * C * tiles values) should stay in the
# last-level cache while the 16 matrix products and the output transform read them.
_CHUNK_BYTES = 4 * 2**20


def conv_forward_winograd(x, w, b, pad=1, transformed=None):
    """Stride-1 3x3 conv layer with Winograd F(2x2, 3x3).

    x: (N, C, H, W), w: (F, C, 3, 3), b: (F,) -> (N, F, H + 2 pad - 2, W + 2 pad - 2).
    transformed: winograd_filters(w), if already computed (the filters of a trained layer
    are transformed once, not at every call).
    """
    N, C, H, W, F, HH, WW, Hout, Wout = conv_shapes(x, w, b, 1, pad)
    if (HH, WW) != (3, 3):
        raise ValueError(f"Winograd F(2x2, 3x3) needs 3x3 filters, got {HH}x{WW}")
    x, w, b = as_float(float_dtype(x, w, b), x, w, b)
    U = winograd_filters(w) if transformed is None else transformed.astype(x.dtype, copy=False)
    th, tw = -(-Hout // 2), -(-Wout // 2)                     # 2x2 output tiles per axis
    step = max(1, _CHUNK_BYTES // (16 * max(C, F) * th * tw * x.itemsize))
    out = np.empty((N, F, Hout, Wout), dtype=x.dtype)

    def chunk(batch):
        """The images of `batch`, end to end, in buffers of their own."""
        n = batch.stop - batch.start
        # The padded images (zeros: `pad` on the top and left, enough on the bottom and right
        # for whole tiles), with even and odd columns stored apart: xp[..., e, t] is column
        # 2t + e, so that column 2t + i of every tile is a contiguous slice.
        xp = np.zeros((C, n, 2 * th + 2, 2, tw + 1), dtype=x.dtype)
        images = x[batch].transpose(1, 0, 2, 3)
        for e in range(2):
            first = (e - pad) % 2                              # the first column of x that lands on e
            xp[:, :, pad:pad + H, e, (first + pad) // 2:(first + pad) // 2 + len(range(first, W, 2))] = \
                images[..., first::2]
        rows = np.empty((4, C, n, th, 2, tw + 1), dtype=x.dtype)
        for a, (i, j, op) in enumerate(_BT_ROWS):             # B^T along the rows
            op(xp[:, :, i:i + 2 * th:2], xp[:, :, j:j + 2 * th:2], out=rows[a])
        V = np.empty((4, 4, C, n, th, tw), dtype=x.dtype)
        for c, (i, j, op) in enumerate(_BT_ROWS):             # ... and along the columns
            op(rows[..., i % 2, i // 2:i // 2 + tw], rows[..., j % 2, j // 2:j // 2 + tw], out=V[:, c])
        M = np.matmul(U, V.reshape(16, C, n * th * tw)).reshape(4, 4, F, n, th, tw)
        # A^T = [[1, 1, 1, 0], [0, 1, -1, -1]] along the rows, then along the columns.
        half = (M[0] + M[1] + M[2], M[1] - M[2] - M[3])
        tiles = np.empty((n, F, 2 * th, 2 * tw), dtype=x.dtype)
        for i, h in enumerate(half):
            tiles[:, :, i::2, 0::2] = (h[0] + h[1] + h[2]).transpose(1, 0, 2, 3)
            tiles[:, :, i::2, 1::2] = (h[1] - h[2] - h[3]).transpose(1, 0, 2, 3)
        out[batch] = tiles[:, :, :Hout, :Wout]

    batches = [slice(s, min(s + step, N)) for s in range(0, N, step)]
    if len(batches) > 1 and _parallel._WORKERS > 1:
        # The chunks are independent: one per core, each with a one-thread matrix product.
        with threadpool_limits(1):
            _parallel.run(chunk, batches)
    else:
        chunk(slice(0, N)) if len(batches) == 1 else [chunk(s) for s in batches]
    out += b[:, None, None]
    return out


def fast_length(n):
    """The smallest 2^a 3^b 5^c >= n: FFT lengths with only small prime factors are fast
    (a length with a large prime factor, such as 58 = 2 * 29, can be several times slower)."""
    best = None
    for p5 in (5 ** k for k in range(0, 20) if 5 ** k <= 2 * n):
        for p3 in (3 ** k for k in range(0, 20) if p5 * 3 ** k <= 2 * n):
            m = p5 * p3
            while m < n:
                m *= 2
            best = m if best is None else min(best, m)
    return best


def conv_forward_fft(x, w, b, stride=1, pad=0):
    """Conv layer forward through the correlation theorem, with real FFTs of the padded size.

    x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) -> (N, F, Hout, Wout), like conv_forward_naive.
    The circular correlation of the padded input with the zero-extended filter equals the
    ordinary one at every position where the filter fits, which are the ones kept.
    """
    stride, pad = check_stride_pad(stride, pad)
    N, C, H, W, F, HH, WW, Hout, Wout = conv_shapes(x, w, b, stride, pad)
    x, w, b = as_float(float_dtype(x, w, b), x, w, b)
    # Any FFT size of at least the padded input works (the zeros beyond it keep the circular
    # wrap-around away from the positions kept); a size with small prime factors is faster.
    Hf, Wf = fast_length(H + 2 * pad), fast_length(W + 2 * pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    X = np.fft.rfft2(xp, s=(Hf, Wf))                          # (N, C, Hf, Wf // 2 + 1)
    K = np.conj(np.fft.rfft2(w, s=(Hf, Wf)))                  # (F, C, Hf, Wf // 2 + 1)
    # Sum over channels of the pointwise products: one (N, C) @ (C, F) per frequency.
    Xf = X.reshape(N, C, -1).transpose(2, 0, 1)
    Kf = K.reshape(F, C, -1).transpose(2, 1, 0)
    Y = np.matmul(Xf, Kf).transpose(1, 2, 0).reshape(N, F, Hf, -1)
    full = np.fft.irfft2(Y, s=(Hf, Wf))
    out = full[:, :, :stride * (Hout - 1) + 1:stride, :stride * (Wout - 1) + 1:stride]
    return (out + b[:, None, None]).astype(x.dtype, copy=False)
