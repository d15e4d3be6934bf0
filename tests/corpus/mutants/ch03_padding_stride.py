"""Mistakes in ch03_padding_stride."""
from . import edit

A = "ch03_padding_stride"

MUTANTS = {
    "output_size_ceil": ("conv_output_size", "output_size_ceil", edit(
        A, "conv_output_size", ("size = (n + 2 * pad - dilation * (k - 1) - 1) // stride + 1",
                                "size = -(-(n + 2 * pad - dilation * (k - 1) - 1) // stride) + 1"))),
    "output_size_no_plus_one": ("conv_output_size", "output_size_no_plus_one", edit(
        A, "conv_output_size", ("// stride + 1", "// stride"))),
    "conv_output_size_no_checks": ("conv_output_size", "no_value_error", '''\
def conv_output_size(n, k, stride=1, pad=0, dilation=1):
    """The formula alone: no check of its arguments or of the result."""
    return (n + 2 * pad - dilation * (k - 1) - 1) // stride + 1
'''),
    "same_padding_extra_before": ("same_padding", "extra_before", edit(
        A, "same_padding", ("before = total // 2", "before = total - total // 2"))),
    "zero_pad_all_axes": ("zero_pad", "pads_all_axes", edit(
        A, "zero_pad", ("np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode=\"constant\")",
                       "np.pad(x, pad, mode=\"constant\")"))),
    "corr1d_same_extra_before": ("corr1d", "same_extra_before", edit(
        A, "corr1d", ("left, right = same_padding(m)", "right, left = same_padding(m)"))),
    "corr1d_full_pads_k": ("corr1d", "full_pads_k", edit(
        A, "corr1d", ("left = right = m - 1", "left = right = m"))),
    "receptive_field_ignores_stride": ("receptive_field", "ignores_stride", edit(
        A, "receptive_field", ("r = r + (k - 1) * jump", "r = r + (k - 1)"))),
    "receptive_field_multiplies_kernels": ("receptive_field", "multiplies_kernels", edit(
        A, "receptive_field", ("r = r + (k - 1) * jump", "r = r * k"))),
    "receptive_field_endless_loop": ("receptive_field", "timeout", '''\
def receptive_field(layers):
    """Receptive field width after each (kernel, stride) layer, from the input upward."""
    fields = []
    r, jump = 1, 1
    while len(fields) < len(layers):
        k, s = layers[len(fields)]
        r = r + (k - 1) * jump
        jump *= s
    fields.append(int(r))  # meant inside the loop: the loop never ends (and holds no growing list)
    return fields
'''),
}
