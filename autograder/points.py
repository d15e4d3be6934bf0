"""Points of every graded function: the single source for this grader and nbgrader's test cells.

{assignment: {function: points}}, in the order of the course contract. A function's points are
shared evenly among the cases of its grid in autograder/cases (so partial credit means "this
many of the situations the function must handle"); the arguments its task calls invalid, when
it has any, weigh one more case together. The exception is an outcome-graded task
(fine_tune): one test, all its points or none.
"""
POINTS = {
    "ch01_motivation": {
        "dense_param_count": 4, "conv_param_count": 4, "locally_connected_param_count": 4,
        "conv_as_matrix": 4,
    },
    "ch02_convolution": {
        "corr2d": 4, "convolve2d": 4, "conv_forward_naive": 5, "conv1x1": 3, "dilate": 4,
    },
    "ch03_padding_stride": {
        "conv_output_size": 5, "same_padding": 5, "zero_pad": 4, "corr1d": 5, "receptive_field": 4,
    },
    "ch04_pooling": {
        "max_pool_forward": 5, "avg_pool_forward": 5, "max_pool_backward": 5, "avg_pool_backward": 5,
        "global_avg_pool": 3, "global_max_pool": 3, "upsample_nearest": 3, "upsample_bed_of_nails": 3,
        "max_unpool": 4,
    },
    "ch05_normalization": {
        "batchnorm_forward": 4, "update_running_stats": 4, "batchnorm_inference": 4, "batchnorm_backward": 4,
        "spatial_batchnorm_forward": 4, "spatial_batchnorm_backward": 4, "layernorm_forward": 4,
        "layernorm_backward": 4, "groupnorm_forward": 4, "instancenorm_forward": 4,
    },
    "ch06_backprop": {
        "numerical_gradient": 4, "conv_backward_naive": 5, "conv_transpose_forward": 4,
    },
    "ch07_im2col": {
        "im2col": 4, "col2im": 4, "conv_forward_im2col": 5, "conv_backward_im2col": 5,
    },
    "ch08_fine_tuning": {
        # fine_tune: one outcome-graded test, all or nothing (autograder/outcome.py, MAX_POINTS)
        "fc_to_conv": 3, "fine_tune": 5,
    },
}

# The course's assignments, in order: the one list every other part of the course reads.
ASSIGNMENTS = tuple(POINTS)


def topic(assignment):
    """The topic of an assignment, which names its modules: "ch03_padding_stride" -> "padding_stride"."""
    return assignment.split("_", 1)[1]
