"""CNN architectures defined in skmm, with the parameter names of the
checkpoints they load (torchvision's MobileNetV2, the TF-ported
EfficientNet-Lite), so the published state dicts load with ``strict=True``
without torchvision."""

from skmm.image._architectures.efficientnet_lite import EfficientNetLite
from skmm.image._architectures.mobilenetv2 import MobileNetV2

__all__ = ["EfficientNetLite", "MobileNetV2"]
