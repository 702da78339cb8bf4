"""MobileNetV2 (Sandler et al. 2018) with torchvision's module layout.

Parameter names match ``torchvision.models.mobilenet_v2`` so the torchvision
ImageNet checkpoint (``mobilenet_v2-b0353104.pth``) loads with
``strict=True``; torchvision itself is not needed.
"""

from __future__ import annotations

import torch
from torch import nn

from skmm.image._architectures._fuse import fold_batchnorm

__all__ = ["MobileNetV2"]


def _make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # do not round down by more than 10%
        new_v += divisor
    return new_v


class _ConvBNReLU6(nn.Sequential):
    """conv -> batch norm -> ReLU6 (torchvision's ``Conv2dNormActivation``)."""

    def __init__(
        self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1
    ):
        super().__init__(
            nn.Conv2d(
                cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False
            ),
            nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        )


class _InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = int(round(cin * expand_ratio))
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_ConvBNReLU6(cin, hidden, kernel=1))
        layers += [
            _ConvBNReLU6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 backbone + classifier.

    Parameters
    ----------
    num_classes : int, default=1000
        Width of the classifier.
    width_mult : float, default=1.0
        Channel multiplier (the published ImageNet weights use 1.0).
    dropout : float, default=0.2
        Dropout before the classifier (inactive in eval mode).

    Examples
    --------
    >>> import torch
    >>> net = MobileNetV2().eval()
    >>> net.forward_features(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 1280, 1, 1])
    """

    # (expansion t, channels c, repeats n, first stride s)
    _SETTINGS = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )

    def __init__(
        self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2
    ):
        super().__init__()
        cin = _make_divisible(32 * width_mult)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult))
        features: list[nn.Module] = [_ConvBNReLU6(3, cin, stride=2)]
        for t, c, n, s in self._SETTINGS:
            cout = _make_divisible(c * width_mult)
            for i in range(n):
                features.append(_InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        features.append(_ConvBNReLU6(cin, self.last_channel, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes)
        )
        self.num_features = self.last_channel

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map, ``(n, 1280, h / 32, w / 32)``."""
        return self.features(x)

    def forward_head(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits from pooled ``(n, 1280)`` features."""
        return self.classifier(pooled)

    def feature_blocks(self) -> list[nn.Module]:
        """The blocks of :meth:`forward_features`, in order (19: the stem,
        17 inverted residuals, the 1x1 head conv); applying them one after
        the other is ``forward_features``.  Fine-tuning cuts this list."""
        return list(self.features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.forward_features(x).mean(dim=(2, 3))
        return self.forward_head(pooled)

    def fuse_batchnorm(self) -> MobileNetV2:
        """Fold every batch norm into its convolution (inference only).

        The same outputs (to float rounding) with about a quarter less time
        on CPU; the state dict no longer matches the checkpoint's.
        """
        for module in self.modules():
            if isinstance(module, nn.Sequential):
                for i in range(len(module) - 1):
                    conv, bn = module[i], module[i + 1]
                    if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                        fold_batchnorm(conv, bn)
                        module[i + 1] = nn.Identity()
        return self
