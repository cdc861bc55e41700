"""The one training loop: fit(config) yields events while a CNN trains.

The app's background runs, the CLI, the tests and the benchmark all call fit().
Everything a step touches already lives on the device as tensors (uint8 digits,
int64 labels, a shuffled index): a step is a gather, an optional augmentation,
forward, backward and an optimizer step, with no per-sample Python and no host
sync. The host reads numbers back only at progress points, a few times an epoch.

Where each regularizer lives (one grep each):
  dropout      models.CapturingDropout, its p from config.dropout
  L1           `l1_penalty` below, added to the loss
  L2           optimizer param groups' weight_decay in `make_optimizer` (decoupled for AdamW)
  augmentation augment.random_affine, called on each training batch
  batch norm   models._norm
  early stop   `patience` below, on the validation split (10 % of the training digits)
  train size   trainset.stratified_subset in `trainset.prepare_data`
"""

from __future__ import annotations

import ctypes
import math
import sys
import threading
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from regdemo.messages import encode, msg
from regdemo.training import data as data_module
from regdemo.training import memorization
from regdemo.training.augment import random_affine
from regdemo.training.config import ConfigError, RunConfig
from regdemo.training.events import (
    DIVERGED,
    EARLY_STOPPED,
    FINISHED,
    HIST_BINS,
    HIST_HIGH,
    HIST_LOW,
    NEAR_ZERO,
    STOPPED,
    Done,
    EpochEnd,
    MaskSnapshot,
    Progress,
    Started,
)
from regdemo.training.models import build_model, count_parameters, dropout_layers, penalized_weights
from regdemo.training.trainset import Split, prepare_data, train_eval_split

PROGRESS_PER_EPOCH = 8  # progress events (and mask snapshots) per epoch
# Evaluation batches. On a CPU, small batches keep each layer's activations in the
# caches: 128 digits forward 1.0-1.25x faster than 256 and batches of 1,000 cost
# 2-2.7x more per digit (2-core EPYC, both nets). A GPU wants large batches.
EVAL_BATCH = 128
EVAL_BATCH_GPU = 4096

# Model initialisation draws from torch's global RNG; runs in other threads
# draw only from their own generators, so seeding under this lock keeps every
# run reproducible even when several train at once.
_INIT_LOCK = threading.Lock()


def keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed blocks for reuse instead of returning them to the OS.

    Every step allocates and frees the same activation buffers. By default glibc
    serves blocks above 128 KiB with fresh mmap()s and trims the heap's top, so
    each step page-faults its activations in again: on the 2-core VMs measured
    (bench.py) that made evaluation 1.6-2x and training 1.3-1.45x slower. With
    this, memory stays at a run's high-water mark (flat, not growing) instead
    of going back and forth. Process-wide and idempotent; a no-op off glibc.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and others: nothing to tune
        return
    mallopt(_M_MMAP_THRESHOLD, 64 << 20)
    mallopt(_M_TRIM_THRESHOLD, 256 << 20)


_MALLOC_TUNED = False
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


def warm_up() -> None:
    """Pay torch's one-time costs now rather than in a student's first run.

    Building the first optimizer in a process imports torch._dynamo (about
    1.5 s on 2 cores); the app and the registry call this at start-up so that
    a run's first progress point arrives in a fraction of a second.
    """
    keep_freed_memory()
    layer = torch.nn.Linear(2, 2)
    torch.optim.SGD(layer.parameters(), lr=0.1)


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA, then MPS, then CPU; a forced device must exist."""
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise ConfigError(msg("config.no_cuda"))
    if name == "mps" and not mps:
        raise ConfigError(msg("config.no_mps"))
    return torch.device(name)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1], channels-last."""
    x = images.unsqueeze(1).float().div_(255.0)
    return x.contiguous(memory_format=torch.channels_last)


def make_optimizer(model, config: RunConfig) -> torch.optim.Optimizer:
    """L2 lives here: weight_decay on the penalized parameters' group only."""
    decayed = penalized_weights(model, config.penalize_all)
    decayed_ids = {id(p) for p in decayed}
    rest = [p for p in model.parameters() if id(p) not in decayed_ids]
    groups = [{"params": decayed, "weight_decay": config.l2}]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    # The same weight_decay means different things (Loshchilov & Hutter 2019). SGD and Adam add
    # l2 * w to the gradient: with plain SGD that is decay by lr * l2 * w per step, with momentum
    # it goes through the velocity, and Adam divides it by each weight's running gradient scale.
    # AdamW takes it out of the gradient: w <- w - lr * l2 * w, decoupled from Adam's step.
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)


def l1_penalty(weights: list[torch.Tensor]) -> torch.Tensor:
    """sum |w| over the penalized weights; the loss adds config.l1 times this."""
    return torch.stack([w.abs().sum() for w in weights]).sum()


@torch.inference_mode()
def evaluate(model, split: Split, autocast: bool = False):
    """Mean loss, accuracy and predictions in eval mode (dropout off, BN frozen)."""
    model.eval()
    n = len(split)
    loss_sum = torch.zeros((), device=split.labels.device)
    preds = []
    batch = EVAL_BATCH if split.labels.device.type == "cpu" else EVAL_BATCH_GPU
    for start in range(0, n, batch):
        x = to_float(split.images[start:min(n, start + batch)])
        y = split.labels[start:start + len(x)]
        with torch.autocast(split.labels.device.type, dtype=torch.bfloat16, enabled=autocast):
            out = model(x)
        loss_sum += F.nll_loss(out.float(), y, reduction="sum")
        preds.append(out.argmax(1))
    preds = torch.cat(preds)
    acc = (preds == split.labels).float().mean()
    return (loss_sum / n).item(), acc.item(), preds


@torch.no_grad()
def weight_stats(weights: list[torch.Tensor]):
    flat = torch.cat([w.detach().float().flatten() for w in weights])
    hist = torch.histc(flat.clamp(HIST_LOW, HIST_HIGH), bins=HIST_BINS, min=HIST_LOW, max=HIST_HIGH)
    return (
        flat.abs().sum().item(),
        flat.square().sum().sqrt().item(),
        (flat.abs() < NEAR_ZERO).float().mean().item(),
        tuple(int(c) for c in hist.tolist()),
    )


def _finite(*values) -> bool:
    return all(v is None or math.isfinite(v) for v in values)


def _diverged_message(step: int, config: RunConfig) -> str:
    # What to lower: the learning rate, and the penalty strengths this run has.
    lower = "run.lower_lr" + ("_l1" if config.l1 else "") + ("_l2" if config.l2 else "")
    return encode(msg("run.diverged", step=step, lower=msg(lower, lr=f"{config.lr:g}", l1=f"{config.l1:g}",
                                                            l2=f"{config.l2:g}")))


def fit(
    config: RunConfig,
    stop: threading.Event | None = None,
    dataset=None,
    progress_per_epoch: int = PROGRESS_PER_EPOCH,
) -> Iterator:
    """Train `config`, yielding Started, Progress, MaskSnapshot, EpochEnd and one Done.

    `stop` (a threading.Event) is checked before every step: once set, the run
    ends with Done(status="stopped") within one step. `dataset` may be passed
    to skip loading (tests, the benchmark); otherwise data.load_dataset loads it.
    `config` was validated where it entered (RunConfig.validate); fit trusts it.
    """
    keep_freed_memory()
    device = resolve_device(config.device)
    if dataset is None:
        dataset = data_module.load_dataset(config.dataset, config.data_dir or None)
    train, test, val = prepare_data(config, dataset, device)
    train_eval = train_eval_split(train, test)

    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(config.model, config.dropout, config.batchnorm)
    model = model.to(device, memory_format=torch.channels_last)
    optimizer = make_optimizer(model, config)
    penalized = penalized_weights(model, config.penalize_all)
    drops = dropout_layers(model) if config.dropout > 0 else {}

    # Every random draw of the run comes from generators seeded here.
    order_gen = torch.Generator().manual_seed(config.seed)
    device_gen = torch.Generator(device=device).manual_seed(config.seed + 1)
    for layer in dropout_layers(model).values():
        layer.generator = device_gen
    autocast = device.type == "cuda"  # bf16 on GPUs; CPU stays float32
    probe = to_float(test.images[:1])  # the fixed probe digit of the mask visual

    n = len(train)
    bs = min(config.batch_size, n)
    steps_per_epoch = math.ceil(n / bs)
    progress_every = max(1, steps_per_epoch // max(1, progress_per_epoch))
    gallery = train.gallery
    yield Started(
        device=str(device), train_size=n, test_size=len(test), val_size=len(val) if val else 0,
        steps_per_epoch=steps_per_epoch, parameters=count_parameters(model),
        **(gallery.started_fields() if gallery is not None else {}),
    )

    step = 0
    best_loss, best_epoch, best_state, since_best = math.inf, 0, None, 0
    status, message = FINISHED, ""
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=order_gen).to(device)
        epoch_loss = torch.zeros((), device=device)
        epoch_correct = torch.zeros((), device=device, dtype=torch.long)
        window_losses = torch.zeros(progress_every + 1, device=device)
        window_correct = torch.zeros((), device=device, dtype=torch.long)
        window_steps, window_seen = 0, 0
        for i in range(steps_per_epoch):
            if stop is not None and stop.is_set():
                yield Done(STOPPED, epoch - 1, best_epoch, step, encode(msg("run.stopped_by_user")),
                           model=_cpu_eval(model))
                return
            idx = order[i * bs:(i + 1) * bs]
            x, y = to_float(train.images[idx]), train.labels[idx]
            if config.augment != "off":
                x = random_affine(x, config.augment, device_gen)
            capture = bool(drops) and (step + 1) % progress_every == 0
            if capture:
                # The probe digit rides along as row 0 of this real step, with
                # no weight in the loss: its mask is the one the step used.
                x = torch.cat([probe, x]).contiguous(memory_format=torch.channels_last)
                for layer in drops.values():
                    layer.capture_row = 0
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                out = model(x)
            out = out.float()
            if capture:
                out = out[1:]
                for layer in drops.values():
                    layer.capture_row = None
            loss = F.nll_loss(out, y)
            total = loss + config.l1 * l1_penalty(penalized) if config.l1 else loss
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            step += 1

            # Accumulate on the device; the host reads it at progress points.
            correct = (out.detach().argmax(1) == y).sum()
            window_losses[window_steps] = total.detach()
            window_correct += correct
            epoch_correct += correct
            epoch_loss += loss.detach() * len(y)
            window_steps += 1
            window_seen += len(y)

            if window_steps == progress_every or i == steps_per_epoch - 1 or step == 1:
                losses = window_losses[:window_steps].tolist()
                bad = [j for j, v in enumerate(losses) if not math.isfinite(v)]
                if bad:
                    bad_step = step - window_steps + bad[0] + 1
                    yield Done(DIVERGED, epoch - 1, best_epoch, bad_step,
                               _diverged_message(bad_step, config))
                    return
                yield Progress(
                    step=step, epoch=round(epoch - 1 + (i + 1) / steps_per_epoch, 4),
                    train_loss=sum(losses) / window_steps,
                    train_acc=window_correct.item() / window_seen,
                )
                if capture:
                    for name, layer in drops.items():
                        act, kept = layer.captured
                        yield MaskSnapshot(
                            step=step, epoch=round(epoch - 1 + (i + 1) / steps_per_epoch, 4),
                            layer=name, p=config.dropout, shape=tuple(act.shape),
                            activation=tuple(act.flatten().tolist()),
                            kept=tuple(bool(k) for k in kept.flatten().tolist()),
                        )
                window_losses.zero_()
                window_correct.zero_()
                window_steps, window_seen = 0, 0

        train_loss_eval, train_acc_eval, train_preds = evaluate(model, train_eval, autocast=autocast)
        memorized = train_acc_clean = None  # label noise: how much of it the net has learnt by heart
        if train_eval.true_labels is not None:
            memorized, train_acc_clean = memorization.measure(train_preds, train_eval.labels, train_eval.true_labels)
        gallery_preds = tuple(evaluate(model, gallery, autocast=autocast)[2].tolist()) if gallery else ()
        test_loss, test_acc, test_preds = evaluate(model, test, autocast=autocast)
        val_loss = val_acc = None
        if val is not None:
            val_loss, val_acc, _ = evaluate(model, val, autocast=autocast)
        train_loss = epoch_loss.item() / n
        if not _finite(train_loss, train_loss_eval, test_loss, val_loss):
            yield Done(DIVERGED, epoch - 1, best_epoch, step, _diverged_message(step, config))
            return

        held_out = val_loss if val is not None else None
        if held_out is None:
            best_epoch = epoch
        elif held_out < best_loss:
            best_loss, best_epoch, since_best = held_out, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            since_best += 1
        l1_norm, l2_norm, near_zero, hist = weight_stats(penalized)
        yield EpochEnd(
            epoch=epoch, train_loss=train_loss, train_acc=epoch_correct.item() / n,
            train_loss_eval=train_loss_eval, train_acc_eval=train_acc_eval,
            test_loss=test_loss, test_acc=test_acc, val_loss=val_loss, val_acc=val_acc,
            l1_norm=l1_norm, l2_norm=l2_norm, near_zero=near_zero, weight_hist=hist,
            best_epoch=best_epoch, seconds=time.perf_counter() - started, step=step,
            memorized=memorized, train_acc_clean=train_acc_clean, gallery_predictions=gallery_preds,
        )
        if config.patience and since_best >= config.patience:
            status = EARLY_STOPPED
            message = encode(msg("run.early_stopped", count=config.patience, epoch=epoch, best=best_epoch))
            break

    if best_state is not None and best_epoch != epoch:
        # Early stopping keeps the weights of the best validation epoch, also when training
        # ran to the last epoch; their predictions replace the last epoch's.
        model.load_state_dict(best_state)
        _, _, test_preds = evaluate(model, test, autocast=autocast)
    yield Done(status, epoch, best_epoch, step, message,
               test_predictions=tuple(test_preds.tolist()), model=_cpu_eval(model))


def _cpu_eval(model):
    for layer in dropout_layers(model).values():
        layer.generator = None
        layer.captured = None
    return model.to("cpu").eval()
