"""ch08_fine_tuning, written the way a strong student fills in the notebook."""
# %% grade_id=fc_to_conv
def fc_to_conv(W, b, in_shape):
    """Dense layer W (K, C*H*W), b (K,) -> conv weights (K, C, H, W) and bias (K,)."""
    W, b = np.asarray(W), np.asarray(b)
    C, H, Wd = in_shape
    if W.shape[1] != C * H * Wd:
        raise ValueError(f"W has {W.shape[1]} inputs, in_shape {tuple(in_shape)} has {C * H * Wd}")
    dtype = np.result_type(W, b, np.float16)
    # a flattened (C, H, W) image is in C order, so the rows of W unflatten the same way
    return W.reshape(W.shape[0], C, H, Wd).astype(dtype), b.astype(dtype)


# %% grade_id=fine_tune
def fine_tune(params, x_train, y_train):
    """Fine-tune the digits 0-4 network to digits 5-9: a fresh head, then every layer trained.

    params: {"conv1.w": (16, 1, 3, 3), ..., "fc2.b": (5,)}; x_train: (N, 1, 8, 8); y_train: (N,)
    labels 0..4 (digits 5..9) -> a new dict of the same names and shapes.
    """
    rng = np.random.default_rng(0)
    p = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    # the old head scores digits 0-4: replace it, He-initialised like the rest
    p["fc2.W"], p["fc2.b"] = rng.normal(0, np.sqrt(2 / 64), (5, 64)), np.zeros(5)

    def conv(a, w, b):  # 3x3, stride 1, no padding; cols: (N, Ho, Wo, C*9) in (c, i, j) order
        cols = np.lib.stride_tricks.sliding_window_view(a, (3, 3), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5)
        cols = cols.reshape(*cols.shape[:3], -1)
        return (cols @ w.reshape(len(w), -1).T).transpose(0, 3, 1, 2) + b[:, None, None], cols

    def conv_back(d, cols, w):  # d: (N, F, Ho, Wo) -> dw, db, dx (N, C, Ho+2, Wo+2)
        N, F, Ho, Wo = d.shape
        dcols = (d.transpose(0, 2, 3, 1) @ w.reshape(F, -1)).reshape(N, Ho, Wo, -1, 3, 3)
        dx = np.zeros((N, w.shape[1], Ho + 2, Wo + 2))
        for i in range(3):
            for j in range(3):
                dx[:, :, i:i + Ho, j:j + Wo] += dcols[..., i, j].transpose(0, 3, 1, 2)
        dw = d.transpose(1, 0, 2, 3).reshape(F, -1) @ cols.reshape(-1, cols.shape[-1])
        return dw.reshape(w.shape), d.sum(axis=(0, 2, 3)), dx

    def gradients(x, y):
        # conv1 -> relu -> conv2 -> relu -> 2x2 max pool -> flatten -> fc1 -> relu -> fc2
        a1, cols1 = conv(x, p["conv1.w"], p["conv1.b"])
        h1 = np.maximum(a1, 0)
        a2, cols2 = conv(h1, p["conv2.w"], p["conv2.b"])
        blocks = np.maximum(a2, 0).reshape(len(x), -1, 2, 2, 2, 2)
        pooled = blocks.max(axis=(3, 5))
        f = pooled.reshape(len(x), -1)
        a3 = f @ p["fc1.W"].T + p["fc1.b"]
        h3 = np.maximum(a3, 0)
        scores = h3 @ p["fc2.W"].T + p["fc2.b"]
        # mean softmax cross-entropy: d/dscores = (softmax - onehot) / N
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(len(y)), y] -= 1
        ds = probs / len(y)
        g = {"fc2.W": ds.T @ h3, "fc2.b": ds.sum(axis=0)}
        da3 = (ds @ p["fc2.W"]) * (a3 > 0)
        g["fc1.W"], g["fc1.b"] = da3.T @ f, da3.sum(axis=0)
        dpooled = (da3 @ p["fc1.W"]).reshape(pooled.shape)[:, :, :, None, :, None]
        da2 = ((blocks == pooled[:, :, :, None, :, None]) * dpooled).reshape(a2.shape) * (a2 > 0)
        g["conv2.w"], g["conv2.b"], dh1 = conv_back(da2, cols2, p["conv2.w"])
        g["conv1.w"], g["conv1.b"], _ = conv_back(dh1 * (a1 > 0), cols1, p["conv1.w"])
        return g

    velocity = {name: np.zeros_like(value) for name, value in p.items()}
    for epoch in range(15):  # 15 epochs of batches of about 32 images: 300 steps on 646 images
        for idx in np.array_split(rng.permutation(len(x_train)), len(x_train) // 32):
            g = gradients(x_train[idx], y_train[idx])
            for name in p:  # SGD with momentum 0.9
                velocity[name] = 0.9 * velocity[name] + g[name]
                p[name] -= 0.05 * velocity[name]
    return p
