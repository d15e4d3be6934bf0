"""Mistakes in ch08_fine_tuning."""
from . import edit

A = "ch08_fine_tuning"

MUTANTS = {
    "fc_to_conv_hwc": ("fc_to_conv", "hwc_order", edit(
        A, "fc_to_conv", ("return W.reshape(W.shape[0], C, H, Wd).astype(dtype), b.astype(dtype)",
                          "return W.reshape(W.shape[0], H, Wd, C).transpose(0, 3, 1, 2).astype(dtype), b.astype(dtype)"))),
    # trains a copy, then hands back the dict it was given: the pretrained network, still scoring 0-4
    "fine_tune_returns_pretrained": ("fine_tune", "below_threshold", edit(
        A, "fine_tune", ("    return p\n", "    return params\n"))),
}
