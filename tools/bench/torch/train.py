"""PyTorch side of the pretext training-step benchmark (tools/bench/src/train.ts).

Workloads (the same names as tools/bench/src/train-workloads.ts):
  rotation-caffenet-small: rotation prediction (Gidaris et al. 2018) on caffenet-small,
      the trunk of step.py's caffenet_features (conv1 .. pool5, the layer shapes of
      libs/models' CAFFENET_SMALL_LAYOUT) at 28x28x1, global average pooling and one
      linear layer with 4 logits (libs/pretrain's withPretextHead on the last spatial
      layer). A step's batch is IMAGES seeded N(0, 1) images at 0, 90, 180 and 270
      degrees (torch.rot90): 4 x IMAGES network inputs, labels the turn.
  context-caffenet: context prediction (Doersch et al. 2015) as @ddinit/pretrain's contextTask
      builds it on caffenet conv1 .. pool5 at 96x96x3: 9 patches per image through the trunk
      once, the centre's features paired with each neighbour's, Linear(2F, 512) + ReLU,
      Linear(512, 8): 9 x IMAGES network inputs, 8 x IMAGES examples.

Trunk weights He-normal, biases zero, head Glorot-uniform (as tfjs). The optimizer is
@ddinit/train's default: SGD with momentum 0.9 (v <- m v + g, w <- w - lr v: torch's
SGD without dampening and tfjs's momentum optimizer agree), learning rate 0.01, L2
weight decay 5e-4 on kernels only (biases in a group without decay, as the Trainer).

A step, timed: train mode, zero_grad, forward, softmax cross-entropy (mean over the
batch), backward, optimizer.step(), loss.item() and the accuracy read back (the
Trainer reports both every step). The batch is built once, before timing (in the tfjs
run building it is data time, measured apart). `--warmup` steps untimed, then the
median of `--repeats`.

Usage: /usr/bin/python3 train.py WORKLOAD[:IMAGES] ... [--repeats N] [--warmup N]
           [--threads N] [--seed N]
Prints one JSON object per workload on stdout:
  {"workload", "images", "inputs", "stepMs", "cpuMs", "threads", "torch", "params"}
(stepMs: median wall time of a step; cpuMs: median process CPU time of a step, all threads.)
(inputs: examples per step, the rows of the loss; params: the parameter count, equal to the tfjs
pretext model's countParams()). Exit status 3 (message on stderr) for a workload with
no mirror here, before anything runs; 2 for bad arguments.
"""
import argparse
import json
import statistics
import sys
import time

import torch
from torch import nn

from step import CAFFENET_LAYOUTS, EXIT_UNKNOWN_NETWORK, caffenet_features, non_negative, positive

ROTATIONS = 4


def he_trunk_glorot_head(trunk, head):
    for m in trunk.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    nn.init.xavier_uniform_(head.weight)
    nn.init.zeros_(head.bias)


def rotation_caffenet_small(images):
    """(model, inputs, labels) of rotation prediction on caffenet-small."""
    layout = CAFFENET_LAYOUTS["caffenet-small"]
    layers, channels, _ = caffenet_features(layout)
    trunk = nn.Sequential(*layers)
    head = nn.Linear(channels, ROTATIONS)
    model = nn.Sequential(trunk, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)
    he_trunk_glorot_head(trunk, head)
    x = torch.randn(images, *layout["input"])
    inputs = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(ROTATIONS)])
    labels = torch.arange(ROTATIONS).repeat_interleave(images)
    return model, inputs, labels


PATCH, GAP, JITTER = 96, 48, 7
GRID_CELLS, CENTRE = 9, 4
CONTEXT_HIDDEN = 512


class ContextSiamese(nn.Module):
    """@ddinit/pretrain's context model: every patch through the trunk once, each image's centre
    feature paired with its 8 neighbours' (reading order), one fused ReLU layer, 8 logits."""

    def __init__(self, trunk, features):
        super().__init__()
        self.trunk = trunk
        self.hidden = nn.Linear(2 * features, CONTEXT_HIDDEN)
        self.head = nn.Linear(CONTEXT_HIDDEN, GRID_CELLS - 1)

    def forward(self, patches):
        cells = self.trunk(patches).flatten(1).view(-1, GRID_CELLS, self.hidden.in_features // 2)
        neighbours = torch.cat([cells[:, :CENTRE], cells[:, CENTRE + 1:]], 1)
        centre = cells[:, CENTRE:CENTRE + 1].expand(-1, GRID_CELLS - 1, -1)
        pairs = torch.cat([centre, neighbours], 2).reshape(-1, 2 * cells.shape[2])
        return self.head(torch.relu(self.hidden(pairs)))


def context_caffenet(images):
    """(model, patches, labels) of context prediction on caffenet (train-workloads.ts's context-caffenet):
    IMAGES x 9 seeded N(0, 1) 96-px patches (the defences are data time in the tfjs run), labels 0..7 per image."""
    layout = {**CAFFENET_LAYOUTS["caffenet"], "input": (3, PATCH, PATCH)}
    layers, channels, size = caffenet_features(layout)
    trunk = nn.Sequential(*layers)
    model = ContextSiamese(trunk, channels * size * size)
    he_trunk_glorot_head(trunk, model.head)
    nn.init.kaiming_normal_(model.hidden.weight, nonlinearity="relu")
    nn.init.zeros_(model.hidden.bias)
    patches = torch.randn(images * GRID_CELLS, 3, PATCH, PATCH)
    labels = torch.arange(GRID_CELLS - 1).repeat(images)
    return model, patches, labels


WORKLOADS = {"rotation-caffenet-small": rotation_caffenet_small, "context-caffenet": context_caffenet}


def trainer_optimizer(model):
    """SGD momentum 0.9, lr 0.01, L2 decay 5e-4 on kernels (dim > 1) only."""
    kernels = [p for p in model.parameters() if p.dim() > 1]
    others = [p for p in model.parameters() if p.dim() <= 1]
    groups = [{"params": kernels, "weight_decay": 5e-4}, {"params": others, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=0.01, momentum=0.9)


def bench(name, images, args):
    model, inputs, labels = WORKLOADS[name](images)
    optimizer = trainer_optimizer(model)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        model.train()
        optimizer.zero_grad()
        logits = model(inputs)
        loss = loss_fn(logits, labels)
        loss.backward()
        optimizer.step()
        loss.item()
        (logits.argmax(1) == labels).float().mean().item()

    for _ in range(args.warmup):
        step()
    walls, cpus = [], []
    for _ in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    params = sum(p.numel() for p in model.parameters())
    return {"workload": name, "images": images, "inputs": int(labels.shape[0]), "stepMs": statistics.median(walls),
            "cpuMs": statistics.median(cpus),
            "threads": torch.get_num_threads(), "torch": torch.__version__, "params": params}


def workload_arg(text):
    name, _, images = text.partition(":")
    if images and not (images.isdigit() and int(images) > 0):
        raise argparse.ArgumentTypeError(f"images of {name} must be a positive integer, got {images!r}")
    return name, int(images) if images else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workloads", nargs="+", type=workload_arg, metavar="WORKLOAD[:IMAGES]",
                        help=f"one of {', '.join(WORKLOADS)}, optionally with its images per step")
    parser.add_argument("--images", type=positive, default=32, help="images per step of workloads given without (default 32)")
    parser.add_argument("--repeats", type=positive, default=20, help="timed steps; the median is printed (default 20)")
    parser.add_argument("--warmup", type=non_negative, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--threads", type=positive, default=None, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--seed", type=non_negative, default=1, help="torch.manual_seed before each workload (default 1)")
    args = parser.parse_args()
    unknown = [name for name, _ in args.workloads if name not in WORKLOADS]
    if unknown:
        print(f"train.py: unknown workload {', '.join(unknown)} (expected one of {', '.join(WORKLOADS)})", file=sys.stderr)
        sys.exit(EXIT_UNKNOWN_NETWORK)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    for name, images in args.workloads:
        torch.manual_seed(args.seed)
        print(json.dumps(bench(name, images or args.images, args)), flush=True)


if __name__ == "__main__":
    main()
