"""Reference solutions of "CNNs from the ground up": one module per chapter.

Every graded function of the course contract is importable from here, e.g.
``from solutions import conv_forward_naive``; the chapter modules hold them.
"""
from .motivation import conv_as_matrix, conv_param_count, dense_param_count, locally_connected_param_count
from .convolution import conv1x1, conv_forward_naive, convolve2d, corr2d, dilate
from .padding_stride import conv_output_size, corr1d, receptive_field, same_padding, zero_pad
from .pooling import (avg_pool_backward, avg_pool_forward, global_avg_pool, global_max_pool, max_pool_backward,
                      max_pool_forward, max_unpool, upsample_bed_of_nails, upsample_nearest)
from .normalization import (batchnorm_backward, batchnorm_forward, batchnorm_inference, groupnorm_forward,
                            instancenorm_forward, layernorm_backward, layernorm_forward,
                            spatial_batchnorm_backward, spatial_batchnorm_forward, update_running_stats)
from .backprop import conv_backward_naive, conv_transpose_forward, numerical_gradient
from .im2col import col2im, conv_backward_im2col, conv_forward_im2col, im2col
from .fine_tuning import fc_to_conv
