"""Reference solutions of "CNNs from the ground up": one module per chapter.

Every graded function of the course contract is importable from here, e.g.
``from solutions import conv_forward_naive``; each chapter module lists its graded functions in
``__all__``.
"""
from .motivation import *  # noqa: F403
from .convolution import *  # noqa: F403
from .padding_stride import *  # noqa: F403
from .pooling import *  # noqa: F403
from .normalization import *  # noqa: F403
from .backprop import *  # noqa: F403
from .im2col import *  # noqa: F403
from .fine_tuning import *  # noqa: F403
