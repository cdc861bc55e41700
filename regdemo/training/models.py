"""The two networks: the article's all-conv net and a wider CNN that overfits.

Both take float images in [0, 1] of shape (N, 1, 28, 28) and return (N, 10)
log-probabilities; MNIST normalization happens inside the model so every
caller (engine, app, checkpoint users) feeds the same thing. A model knows
nothing of training: the engine turns mask capture on and off.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class CapturingDropout(nn.Module):
    """nn.Dropout that can report which elements of one batch row it zeroed.

    When `capture_row` is set, the row's input and the keep-mask that this
    very forward pass applied are kept in `captured` for the app's visual:
    the mask shown is the one the training step used, never a re-drawn one.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        # The engine hands each run its own seeded generator: F.dropout would
        # draw from torch's global RNG, shared by every run in the process.
        self.generator: torch.Generator | None = None
        self.capture_row: int | None = None
        self.captured: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        # keep = u < 1-p for u uniform in [0, 1), scaled in place by 1/(1-p): a
        # Bernoulli(1-p) mask, drawn 3x faster than bernoulli_ on the AMD CPUs
        # measured (bench.py), and applied with one multiply each way. u is
        # float32 even under bf16 autocast, so the keep rate is exactly 1-p.
        u = torch.empty_like(x, dtype=torch.float32).uniform_(generator=self.generator)
        keep = u.lt_(1.0 - self.p).mul_(1.0 / (1.0 - self.p)).to(x.dtype)
        if self.capture_row is not None:
            row = self.capture_row
            self.captured = (x[row].detach().float().cpu(), keep[row].detach().cpu() > 0)
        return x * keep

    def extra_repr(self):
        return f"p={self.p}"


def _norm(batchnorm: bool, channels: int, dims: int = 2) -> nn.Module:
    if not batchnorm:
        return nn.Identity()
    return nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)


class ArticleNet(nn.Module):
    """The article's all-conv net: 10,790 weights, bias=False, no padding.

    28 -> conv3 26 -> conv3 24 -> conv3 22 -> pool 11 -> conv1 11 -> conv3 9
    -> conv3 7 -> conv1 7 -> conv7 1. ReLU after every conv but the last;
    dropout after the third and the sixth conv's ReLU.
    """

    def __init__(self, dropout: float = 0.0, batchnorm: bool = False):
        super().__init__()

        def block(cin, cout, k):
            return nn.Sequential(nn.Conv2d(cin, cout, k, bias=False), _norm(batchnorm, cout), nn.ReLU())

        self.features = nn.Sequential(
            block(1, 10, 3),
            block(10, 10, 3),
            block(10, 20, 3),
        )
        self.drop1 = CapturingDropout(dropout)
        self.pool = nn.MaxPool2d(2)
        self.middle = nn.Sequential(
            block(20, 10, 1),
            block(10, 10, 3),
            block(10, 20, 3),
        )
        self.drop2 = CapturingDropout(dropout)
        self.head = nn.Sequential(block(20, 10, 1), nn.Conv2d(10, 10, 7, bias=False))

    def forward(self, x):
        x = (x - MNIST_MEAN) / MNIST_STD
        x = self.drop1(self.features(x))
        x = self.drop2(self.middle(self.pool(x)))
        x = self.head(x).flatten(1)
        return F.log_softmax(x, dim=1)


class WideNet(nn.Module):
    """Two 5x5 conv layers and a 256-unit fully connected hidden layer.

    Far more capacity than the embedded 4,000 training digits need, so without
    regularization it fits them perfectly while test accuracy lags: the
    overfitting the app sets out to tame. Dropout acts on the hidden units.
    """

    hidden = 256

    def __init__(self, dropout: float = 0.0, batchnorm: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)  # 28 -> 24, pool -> 12
        self.norm1 = _norm(batchnorm, 16)
        self.conv2 = nn.Conv2d(16, 32, 5)  # 12 -> 8, pool -> 4
        self.norm2 = _norm(batchnorm, 32)
        self.fc1 = nn.Linear(32 * 4 * 4, self.hidden)
        self.norm3 = _norm(batchnorm, self.hidden, dims=1)
        self.drop = CapturingDropout(dropout)
        self.fc2 = nn.Linear(self.hidden, 10)

    def forward(self, x):
        x = (x - MNIST_MEAN) / MNIST_STD
        x = F.max_pool2d(F.relu(self.norm1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.norm2(self.conv2(x))), 2)
        x = F.relu(self.norm3(self.fc1(x.flatten(1))))
        x = self.fc2(self.drop(x))
        return F.log_softmax(x, dim=1)


MODEL_CLASSES = {"article": ArticleNet, "wide": WideNet}


def build_model(name: str, dropout: float = 0.0, batchnorm: bool = False) -> nn.Module:
    return MODEL_CLASSES[name](dropout=dropout, batchnorm=batchnorm)


def dropout_layers(model: nn.Module) -> dict[str, CapturingDropout]:
    """Named dropout layers of a model, in forward order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, CapturingDropout)}


def penalized_weights(model: nn.Module, all_params: bool) -> list[torch.Tensor]:
    """The parameters L1 and L2 act on.

    all_params=True: every parameter (the article's sum over model.parameters()
    and plain weight_decay). Otherwise only conv and linear weights: biases and
    batch-norm scales/shifts do not add capacity the way weights do, and
    shrinking them toward zero only fights the data.
    """
    if all_params:
        return [p for p in model.parameters()]
    return [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
