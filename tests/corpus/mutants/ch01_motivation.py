"""Mistakes in ch01_motivation."""
from . import edit

A = "ch01_motivation"

MUTANTS = {
    "dense_no_bias": ("dense_param_count", "bias_ignored", edit(
        A, "dense_param_count", ("n_weights + (units if bias else 0)", "n_weights"))),
    "conv_no_bias": ("conv_param_count", "bias_ignored", edit(
        A, "conv_param_count", ("c_out * c_in * k * k + (c_out if bias else 0)", "c_out * c_in * k * k"))),
    "locally_connected_shared_bias": ("locally_connected_param_count", "shared_bias", edit(
        A, "locally_connected_param_count", ("(units if bias else 0)", "(c_out if bias else 0)"))),
    "conv_as_matrix_transposed": ("conv_as_matrix", "matrix_transposed", edit(
        A, "conv_as_matrix", ("return M.reshape(F * Hout * Wout, C * H * W)",
                              "return M.reshape(F * Hout * Wout, C * H * W).T"))),
    "conv_param_count_named_wrong": ("conv_param_count", "missing_function", edit(
        A, "conv_param_count", ("def conv_param_count(", "def conv_params_count("))),
}
