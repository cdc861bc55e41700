"""The engine against the article's pipeline and the bare-compute floor.

    python -m tools.bench --quick        # or `python -m regdemo bench --quick` from a checkout

Three ways to train the same model on the same digits, measured in one process, side by side:

  article  the article's pipeline, replicated: a torch Dataset that turns each uint8 digit into
           a normalized float tensor (torchvision's ToTensor + Normalize written out, since
           torchvision does not load here; without its PIL round trip, so if anything this
           replica is faster than the original), a DataLoader (batch 128, shuffle), SGD with
           momentum, NLL loss, loss.item() and the running accuracy read every step (what its
           tqdm line prints), and a pass over the test digits after each epoch.
  bare     the floor: forward, backward and optimizer step on batches sliced from one float
           tensor already on the device. No shuffle, no metrics, no events, no evaluation.
  engine   regdemo.training.engine.fit as the app runs it: shuffled batches gathered on the device,
           progress events, dropout-mask snapshots, and after each epoch eval-mode accuracy on
           as many training digits as the test split has, and on the test digits; augmentation
           off and on.

All three run in one process with the same settings (threads, the engine's malloc tuning)
and train the same network with the same hyper-parameters (the article's: batch 128,
SGD lr 0.01 momentum 0.9, dropout 0.25 so the engine captures masks). samples/s counts
training digits per second of wall time, evaluation included where the pipeline does it.
Each pipeline runs a warm-up epoch first; then `rounds` rounds measure each of them in turn
(the order rotates), and a ratio is the median of the ratios within each round: on a shared,
noisy machine two measurements taken a second apart see the same load.

In fresh child processes, like a student's first click: time from starting a run to its
first progress event (cold process, after engine.warm_up(), and a second run), peak memory of
one run, RSS after every epoch of a 20-epoch run (is it flat?), and the wall time of the
app's default run (RunConfig(), all its epochs).

--json prints one JSON object as the last line: engine_vs_article and engine_vs_bare (the
article net on the main device: CUDA when present), and everything else measured.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time

import torch
import torch.nn.functional as F

from regdemo.training import data as data_module
from regdemo.training import engine
from regdemo.training.config import RunConfig, preset
from regdemo.training.models import MNIST_MEAN, MNIST_STD, CapturingDropout, build_model
from regdemo.training.trainset import stratified_subset

ARTICLE_BATCH = 128
MODELS = ("article", "wide")
# name -> (augment level, label)
ENGINE_VARIANTS = {"engine": ("off", "engine, augmentation off"),
                   "engine_aug": ("light", "engine, augmentation light")}
MEMORY_EPOCHS = 20


# ----------------------------------------------------------------------------- data

def synthetic_dataset(n_train: int, n_test: int, seed: int = 0) -> data_module.Dataset:
    """uint8 digits of the right shape and sparsity (MNIST is ~19% ink) with random labels:
    for a machine without the IDX files. Speed does not depend on what the pixels show."""
    gen = torch.Generator().manual_seed(seed)

    def images(n):
        ink = torch.rand(n, 28, 28, generator=gen) < 0.19
        return (torch.randint(0, 256, (n, 28, 28), generator=gen, dtype=torch.uint8) * ink).to(torch.uint8)

    def labels(n):
        return torch.randint(0, 10, (n,), generator=gen)

    return data_module.Dataset("synthetic", images(n_train), labels(n_train), images(n_test), labels(n_test),
                               data_module.MNIST_CLASSES)


def bench_dataset(args) -> tuple[data_module.Dataset, str]:
    """The digits every pipeline trains on, and the dataset name RunConfig should carry."""
    if args.tiny:
        return synthetic_dataset(128, 64), "mnist-sample"
    if args.dataset == "synthetic":
        return synthetic_dataset(60_000, 10_000), "fashion-mnist"  # a 60k-digit config
    ds = data_module.load_dataset(args.dataset, args.data_dir or None)
    if args.train_size and args.train_size < len(ds.train_labels):
        idx = stratified_subset(ds.train_labels, args.train_size, seed=0)
        ds = data_module.Dataset(ds.name, ds.train_images[idx], ds.train_labels[idx], ds.test_images,
                                 ds.test_labels, ds.classes)
    return ds, args.dataset


# ----------------------------------------------------------------------------- (a) the article

class ArticleDigits(torch.utils.data.Dataset):
    """What torchvision's MNIST with ToTensor() and Normalize((0.1307,), (0.3081,)) hands the
    DataLoader: per digit, a new normalized float tensor (1, 28, 28) and an int label."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        x = self.images[index].unsqueeze(0).float().div(255)  # ToTensor
        x = x.sub(MNIST_MEAN).div(MNIST_STD)  # Normalize (a new tensor, as torchvision's)
        return x, int(self.labels[index])


def article_model(model_name: str) -> torch.nn.Module:
    """Our network with the article's layers: torch's nn.Dropout in place of CapturingDropout,
    and the default (contiguous) memory format. It normalizes its input again inside: one
    cheap op on the batch that every pipeline pays alike."""
    model = build_model(model_name, dropout=0.25)
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if isinstance(child, CapturingDropout):
                setattr(parent, name, torch.nn.Dropout(child.p))
    return model


class ArticlePipeline:
    """The article's loop."""

    def __init__(self, model_name: str, dataset, device: torch.device):
        self.device = device
        torch.manual_seed(0)
        self.model = article_model(model_name).to(device)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        # num_workers/pin_memory as the article's kind of code sets them: worker processes
        # and pinned memory on CUDA, none on a CPU, where a worker competes with training.
        kwargs = {"num_workers": 4, "pin_memory": True} if device.type == "cuda" else {}
        self.train_loader = torch.utils.data.DataLoader(
            ArticleDigits(dataset.train_images, dataset.train_labels), batch_size=ARTICLE_BATCH,
            shuffle=True, **kwargs)
        self.test_loader = torch.utils.data.DataLoader(
            ArticleDigits(dataset.test_images, dataset.test_labels), batch_size=ARTICLE_BATCH,
            shuffle=True, **kwargs)
        self.samples = len(dataset.train_labels)

    def epoch(self) -> None:
        model, device = self.model, self.device
        model.train()
        correct = processed = 0
        for batch_idx, (data, target) in enumerate(self.train_loader):
            data, target = data.to(device), target.to(device)
            self.optimizer.zero_grad()
            y_pred = model(data)
            loss = F.nll_loss(y_pred, target)
            loss.backward()
            self.optimizer.step()
            pred = y_pred.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
            processed += len(data)
            # the article's tqdm description, formatted every step
            _ = f"Loss={loss.item()} Batch_id={batch_idx} Accuracy={100 * correct / processed:0.2f}"
        model.eval()
        test_loss = correct = 0
        with torch.no_grad():
            for data, target in self.test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction="sum").item()
                pred = output.argmax(dim=1, keepdim=True)
                correct += pred.eq(target.view_as(pred)).sum().item()


# ----------------------------------------------------------------------------- (b) the floor

class BareFloor:
    """Forward, backward, step over batches of one resident float tensor; nothing else."""

    def __init__(self, model_name: str, dataset, device: torch.device, channels_last: bool = True):
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.device = device
        torch.manual_seed(0)
        self.model = build_model(model_name, dropout=0.25).to(device, memory_format=fmt)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        x = dataset.train_images.to(device).unsqueeze(1).float().div_(255)
        self.x = x.contiguous(memory_format=fmt)
        self.y = dataset.train_labels.to(device)
        self.samples = len(self.y)
        self.autocast = device.type == "cuda"  # as the engine: bf16 on GPUs

    def epoch(self) -> None:
        self.model.train()
        for i in range(0, self.samples, ARTICLE_BATCH):
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                out = self.model(self.x[i:i + ARTICLE_BATCH])
            loss = F.nll_loss(out.float(), self.y[i:i + ARTICLE_BATCH])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        _sync(self.device)


# ----------------------------------------------------------------------------- (c) the engine

class EngineRuns:
    """fit() with `epochs` epochs per call; the time from its Started event to its last EpochEnd.

    Model building and data placement happen once per run, before Started, and the final
    test-set predictions once after the last epoch: not per-epoch costs, so not counted.
    Timestamps of the events split each epoch into its training steps (up to the epoch's last
    progress event) and its evaluation (from there to EpochEnd).
    """

    def __init__(self, config: RunConfig, dataset):
        self.config, self.dataset = config, dataset
        self.samples = len(dataset.train_labels)
        self.last = {}

    def run(self, epochs: int) -> None:
        config = self.config.replace(epochs=epochs)
        train_s = eval_s = 0.0
        start = epoch_start = last_progress = None
        events = 0
        for event in engine.fit(config, dataset=self.dataset):
            now = time.perf_counter()
            events += 1
            if event.kind == "started":
                start = epoch_start = now
            elif event.kind == "progress":
                last_progress = now
            elif event.kind == "epoch":
                train_s += last_progress - epoch_start
                eval_s += now - last_progress
                epoch_start = now
                end = now
            elif event.kind == "done" and event.status != "finished":
                raise RuntimeError(f"benchmark run ended {event.status}: {event.message}")
        self.last = {"seconds": end - start, "train_s": train_s, "eval_s": eval_s, "events": events}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_model(model_name: str, dataset, config_dataset: str, device: torch.device, rounds: int,
                  epochs: int, contiguous_floor: bool) -> dict:
    """samples/s of every pipeline for one model on one device, and the ratios."""
    base = preset("article-dropout", model=model_name, dataset=config_dataset, device=device.type)
    pipelines = {
        "article": ArticlePipeline(model_name, dataset, device),
        "bare": BareFloor(model_name, dataset, device),
    }
    if contiguous_floor:
        pipelines["bare_contiguous"] = BareFloor(model_name, dataset, device, channels_last=False)
    for name, (augment, _) in ENGINE_VARIANTS.items():
        pipelines[name] = EngineRuns(base.replace(augment=augment), dataset)

    def timed(name, n_epochs):
        p = pipelines[name]
        t = time.perf_counter()
        if isinstance(p, EngineRuns):
            p.run(n_epochs)
            return p.last["seconds"], p.last
        for _ in range(n_epochs):
            p.epoch()
        _sync(device)
        return time.perf_counter() - t, {}

    for name in pipelines:  # warm-up: allocator, oneDNN primitives, DataLoader, cuDNN autotune
        timed(name, 1)
    names = list(pipelines)
    per_round = []
    for r in range(rounds):
        rate = {}
        extra = {}
        for name in names[r % len(names):] + names[:r % len(names)]:
            seconds, info = timed(name, epochs)
            rate[name] = epochs * pipelines[name].samples / seconds
            if info:
                extra[name] = info
        # the engine's training steps alone (events and masks included, evaluation not)
        for name in ENGINE_VARIANTS:
            rate[f"{name}_steps"] = epochs * pipelines[name].samples / extra[name]["train_s"]
            rate[f"{name}_eval_share"] = extra[name]["eval_s"] / extra[name]["seconds"]
        per_round.append(rate)

    def med(key):
        return statistics.median(r[key] for r in per_round)

    def ratio(a, b):
        return statistics.median(r[a] / r[b] for r in per_round)

    result = {"samples_per_s": {k: round(med(k)) for k in per_round[0] if not k.endswith("_share")},
              "eval_share": {k: round(med(f"{k}_eval_share"), 3) for k in ENGINE_VARIANTS},
              "engine_vs_article": round(ratio("engine", "article"), 3),
              "engine_vs_bare": round(ratio("engine", "bare"), 3),
              "engine_steps_vs_bare": round(ratio("engine_steps", "bare"), 3),
              "engine_aug_vs_article": round(ratio("engine_aug", "article"), 3),
              "engine_aug_vs_bare": round(ratio("engine_aug", "bare"), 3),
              "article_vs_bare": round(ratio("article", "bare"), 3),
              "train_samples": len(dataset.train_labels), "test_samples": len(dataset.test_labels),
              "rounds": rounds, "epochs_per_round": epochs,
              "engine_epoch_s": round(len(dataset.train_labels) / med("engine"), 4)}
    if contiguous_floor:
        result["channels_last_speedup"] = round(ratio("bare", "bare_contiguous"), 3)
    return result


# ----------------------------------------------------------------------------- child processes

def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def _first_progress(config: RunConfig, then_finish: bool = False) -> dict:
    """Seconds from calling fit() to its first Progress; with then_finish, to its Done too."""
    stop = threading.Event()
    out = {}
    rss = []
    t = time.perf_counter()
    for event in engine.fit(config, stop=stop):
        if event.kind == "progress" and "first_progress_s" not in out:
            out["first_progress_s"] = time.perf_counter() - t
            if not then_finish:
                stop.set()
        elif event.kind == "epoch":
            rss.append(_rss_mib())
        elif event.kind == "done":
            out["done_s"] = time.perf_counter() - t
            out["status"] = event.status
    out["rss_per_epoch_mib"] = rss
    return out


def _slope(ys: list[float]) -> float:
    """Least-squares slope of ys against their index."""
    n = len(ys)
    if n < 2:
        return 0.0
    mx, my = (n - 1) / 2, sum(ys) / n
    return sum((i - mx) * (y - my) for i, y in enumerate(ys)) / sum((i - mx) ** 2 for i in range(n))


def child_main(spec: dict) -> dict:
    """One fresh process, as the app's first run would see it."""
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    if spec["kind"] == "threads":
        engine.keep_freed_memory()  # as in the app
        return {"samples_per_s": _bare_rate(spec["digits"])}
    default = RunConfig.from_dict(spec["default"])
    out = {"rss_after_import_mib": round(_rss_mib(), 1)}
    if spec["kind"] == "after_warm_up":
        t = time.perf_counter()
        engine.warm_up()
        out["warm_up_s"] = round(time.perf_counter() - t, 3)
        out["first_progress_s"] = round(_first_progress(default)["first_progress_s"], 3)
        return out
    cuda = torch.cuda.is_available() and engine.resolve_device(default.device).type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    cold = _first_progress(default, then_finish=True)
    out["cold_first_progress_s"] = round(cold["first_progress_s"], 3)
    out["default_run_s"] = round(cold["done_s"], 2)
    out["default_run_status"] = cold["status"]
    out["peak_rss_mib"] = round(_peak_rss_mib(), 1)
    if cuda:
        out["cuda_max_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    out["warm_first_progress_s"] = round(_first_progress(default)["first_progress_s"], 3)
    long_run = _first_progress(RunConfig.from_dict(spec["memory"]), then_finish=True)
    rss = long_run["rss_per_epoch_mib"]
    settled = rss[2:] if len(rss) > 4 else rss  # the first epochs fill the allocator's caches
    out["memory_run"] = {
        "config": spec["memory"], "seconds": round(long_run["done_s"], 2),
        "rss_per_epoch_mib": [round(r, 1) for r in rss],
        "slope_mib_per_epoch": round(_slope(settled), 3),
        "growth_after_epoch_3_mib": round(settled[-1] - settled[0], 1) if settled else 0.0,
    }
    return out


def _bare_rate(digits: int) -> int:
    """Best-of-3 samples/s of the article net's bare floor on the first `digits` sample digits."""
    ds = data_module.load_dataset("mnist-sample")
    ds = data_module.Dataset(ds.name, ds.train_images[:digits], ds.train_labels[:digits], ds.test_images[:1],
                             ds.test_labels[:1], ds.classes)
    floor = BareFloor("article", ds, torch.device("cpu"))
    floor.epoch()
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        floor.epoch()
        best = min(best, time.perf_counter() - t)
    return round(digits / best)


# label -> (torch threads, environment): OpenMP reads its wait policy when torch loads, so
# each setting gets its own process. By default idle OpenMP threads spin, waiting for the
# next parallel region; on a shared machine whose cores are all busy, a spinning thread
# holds a core its partner needs.
THREAD_SETTINGS = {
    "all cores, OpenMP defaults": (0, {}),
    "all cores, OMP_WAIT_POLICY=PASSIVE": (0, {"OMP_WAIT_POLICY": "PASSIVE"}),
    "1 thread": (1, {}),
}


def thread_settings(args) -> dict:
    digits = 32 if args.tiny else 1024
    out = {}
    for label, (threads, env) in THREAD_SETTINGS.items():
        out[label] = run_child({"kind": "threads", "digits": digits, "threads": threads}, env)["samples_per_s"]
    return out


def run_child(spec: dict, extra_env: dict | None = None) -> dict:
    root = str(pathlib.Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
               **(extra_env or {}))
    code = ("import json, sys; from tools.bench import child_main; "
            "print(json.dumps(child_main(json.loads(sys.argv[1]))))")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True,
                          env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child process failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def startup_and_memory(args) -> dict:
    if args.tiny:
        default = RunConfig(train_size=20, epochs=1, device=args.main_device)
        memory = default.replace(epochs=3)
    else:
        default = RunConfig(device=args.main_device)  # the app's default run, all its epochs
        memory = default.replace(epochs=MEMORY_EPOCHS)
        if args.quick:
            memory = memory.replace(train_size=1000)
    spec = {"default": default.to_dict(), "memory": memory.to_dict(), "threads": args.threads}
    app = run_child(dict(spec, kind="app"))
    after = run_child(dict(spec, kind="after_warm_up"))
    app["first_progress_after_warm_up_s"] = after["first_progress_s"]
    app["warm_up_s"] = after["warm_up_s"]
    return app


# ----------------------------------------------------------------------------- report

def load_average() -> float | None:
    """The 1-minute load average: above the core count, other work shared the cores."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "load_average_1m": load_average()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


ROWS = [("article", "article's pipeline (DataLoader)"), ("bare", "bare floor, channels-last"),
        ("bare_contiguous", "bare floor, contiguous"),
        ("engine", ENGINE_VARIANTS["engine"][1]), ("engine_steps", "  its training steps alone"),
        ("engine_aug", ENGINE_VARIANTS["engine_aug"][1]), ("engine_aug_steps", "  its training steps alone")]


def format_table(results: dict) -> str:
    lines = []
    for device, models in results.items():
        for model_name, r in models.items():
            sps = r["samples_per_s"]
            lines.append(f"\n{model_name} net on {device}: {r['train_samples']:,} training digits, "
                         f"{r['test_samples']:,} test; {r['rounds']} rounds x {r['epochs_per_round']} epochs")
            lines.append(f"  {'pipeline':<34}{'samples/s':>10}{'vs article':>12}{'vs bare':>9}")
            for key, label in ROWS:
                if key not in sps:
                    continue
                rel_a = sps[key] / sps["article"]
                rel_b = sps[key] / sps["bare"]
                lines.append(f"  {label:<34}{sps[key]:>10,}{rel_a:>12.2f}{rel_b:>9.2f}")
            lines.append(f"  engine_vs_article {r['engine_vs_article']:.2f}   engine_vs_bare {r['engine_vs_bare']:.2f}"
                         f"   (training steps alone vs bare {r['engine_steps_vs_bare']:.2f}; evaluation is "
                         f"{100 * r['eval_share']['engine']:.0f}% of the engine's epoch)")
            if "channels_last_speedup" in r:
                lines.append(f"  channels-last vs contiguous (bare): {r['channels_last_speedup']:.2f}x")
            lines.append(f"  engine epoch: {r['engine_epoch_s']:.3f} s")
    return "\n".join(lines)


def format_startup(s: dict) -> str:
    m = s["memory_run"]
    lines = [
        "\nstarting a run (embedded default config) to its first progress event:",
        f"  cold process {s['cold_first_progress_s']:.2f} s   after warm_up() "
        f"{s['first_progress_after_warm_up_s']:.2f} s (warm_up itself {s['warm_up_s']:.2f} s)   "
        f"warm (second run) {s['warm_first_progress_s']:.2f} s",
        f"default app run, all epochs, cold process: {s['default_run_s']:.1f} s",
        f"peak RSS of that process: {s['peak_rss_mib']:.0f} MiB (after imports {s['rss_after_import_mib']:.0f} MiB)"
        + (f"; CUDA max allocated {s['cuda_max_allocated_mib']:.0f} MiB" if "cuda_max_allocated_mib" in s else ""),
        f"RSS over a {len(m['rss_per_epoch_mib'])}-epoch run: {m['rss_per_epoch_mib'][0]:.0f} -> "
        f"{m['rss_per_epoch_mib'][-1]:.0f} MiB, slope {m['slope_mib_per_epoch']:+.2f} MiB/epoch "
        f"after epoch 2 ({m['seconds']:.1f} s)",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- command

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="fewer rounds and epochs: about a minute on 2 cores")
    p.add_argument("--json", action="store_true", help="end with one JSON line of everything measured")
    p.add_argument("--devices", default="auto",
                   help="comma-separated: cpu, cuda; auto = cpu, and cuda when present")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated: article, wide")
    p.add_argument("--dataset", default="mnist-sample",
                   choices=("mnist-sample", "mnist", "fashion-mnist", "synthetic"),
                   help="the digits to train on (synthetic: 60,000 random uint8 digits)")
    p.add_argument("--data-dir", help="folder with the four IDX files")
    p.add_argument("--train-size", type=int, default=0, help="train on a stratified subset of this size")
    p.add_argument("--rounds", type=int, help="measurement rounds (default 3, --quick 2)")
    p.add_argument("--epochs", type=int, help="epochs per pipeline per round (default 2, --quick 1)")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    p.add_argument("--no-startup", dest="startup", action="store_false",
                   help="skip the child-process measurements (first progress, memory, default run, threads)")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # tests: seconds, not minutes


def run(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu", "cuda"] if args.devices == "auto" else args.devices.split(",")
    devices = [d for d in devices if d != "cuda" or torch.cuda.is_available()]
    if not devices:
        print("error: no requested device is available", file=sys.stderr)
        return 2
    models = args.models.split(",")
    if not set(models) <= set(MODELS) or not set(devices) <= {"cpu", "cuda"}:
        print(f"error: --models takes {', '.join(MODELS)}; --devices takes cpu, cuda", file=sys.stderr)
        return 2
    args.main_device = "cuda" if "cuda" in devices else "cpu"
    rounds = args.rounds or (1 if args.tiny else 2 if args.quick else 3)
    epochs = args.epochs or (1 if args.quick or args.tiny else 2)

    # Every pipeline runs under the same process settings: the engine's malloc tuning
    # (engine.keep_freed_memory) applies to the article's pipeline and the floor too.
    engine.warm_up()
    dataset, config_dataset = bench_dataset(args)
    info = machine()
    print(f"regdemo bench: {info['cpu']}, {info['cores']} cores, torch {info['torch']} with "
          f"{info['torch_threads']} threads" + (f", {info['gpu']}" if "gpu" in info else "")
          + f"; load average {info['load_average_1m']}", flush=True)
    if info["load_average_1m"] is not None and info["load_average_1m"] > info["cores"]:
        print("warning: other work is keeping every core busy; absolute numbers will be low and noisy "
              "(ratios within a round hold up better; see also the thread settings below)", flush=True)
    results = {}
    for device_name in devices:
        device = torch.device(device_name)
        results[device_name] = {}
        for model_name in models:
            r = measure_model(model_name, dataset, config_dataset, device, rounds, epochs,
                              contiguous_floor=not args.quick)
            results[device_name][model_name] = r
            print(format_table({device_name: {model_name: r}}), flush=True)
    startup = threads = None
    if args.startup:
        startup = startup_and_memory(args)
        print(format_startup(startup), flush=True)
        threads = thread_settings(args)
        print("\nthread settings, each in a fresh process (bare floor, article net, CPU, "
              f"load average now {load_average()}):", flush=True)
        for label, rate in threads.items():
            print(f"  {label:<38}{rate:>8,} samples/s", flush=True)
    info["load_average_1m_end"] = load_average()

    main = results[args.main_device].get("article") or next(iter(results[args.main_device].values()))
    summary = {"engine_vs_article": main["engine_vs_article"], "engine_vs_bare": main["engine_vs_bare"],
               "main_device": args.main_device, "dataset": dataset.name, "machine": info,
               "results": results, "startup": startup, "threads": threads}
    if args.json:
        print(json.dumps(summary))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
