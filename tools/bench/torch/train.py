"""PyTorch side of the pretext training-step benchmark (tools/bench/src/train.ts).

Workloads (the same names as tools/bench/src/train-workloads.ts):
  rotation-caffenet-small: rotation prediction (Gidaris et al. 2018) on caffenet-small,
      the trunk of step.py's caffenet_features (conv1 .. pool5, the layer shapes of
      libs/models' CAFFENET_SMALL_LAYOUT) at 28x28x1, global average pooling and one
      linear layer with 4 logits (libs/pretrain's withPretextHead on the last spatial
      layer). A step's batch is IMAGES seeded N(0, 1) images at 0, 90, 180 and 270
      degrees (torch.rot90): 4 x IMAGES network inputs, labels the turn.

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
  {"workload", "images", "inputs", "stepMs", "threads", "torch", "params"}
(inputs: examples per step, the rows of the loss; params: the parameter count, equal to the tfjs
pretext model's countParams()). Exit status 3 (message on stderr) for a workload with
no mirror here, before anything runs; 2 for bad arguments.
"""
import argparse
import json
import sys

import torch
from torch import nn

from step import CAFFENET_LAYOUTS, EXIT_UNKNOWN_NETWORK, caffenet_features, median_ms, non_negative, positive

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


PATCH, GAP = 96, 48
NEIGHBOURS = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)]


class Siamese(nn.Module):
    """Both patches of a pair through the same trunk, flattened, concatenated, one linear layer."""

    def __init__(self, trunk, head):
        super().__init__()
        self.trunk, self.head = trunk, head

    def forward(self, pair):
        a, b = pair
        return self.head(torch.cat([self.trunk(a).flatten(1), self.trunk(b).flatten(1)], 1))


def context_caffenet_standin(images):
    """(model, (patches A, patches B), labels) of train-workloads.ts's context-prediction stand-in."""
    layout = {**CAFFENET_LAYOUTS["caffenet"], "input": (3, PATCH, PATCH)}
    layers, channels, size = caffenet_features(layout)
    trunk = nn.Sequential(*layers)
    head = nn.Linear(2 * channels * size * size, len(NEIGHBOURS))
    he_trunk_glorot_head(trunk, head)
    x = torch.randn(images, 3, 3 * PATCH + 2 * GAP, 3 * PATCH + 2 * GAP)

    def patch(row, col):
        top, left = row * (PATCH + GAP), col * (PATCH + GAP)
        return x[:, :, top:top + PATCH, left:left + PATCH]

    a = torch.cat([patch(1, 1)] * len(NEIGHBOURS)).contiguous()
    b = torch.cat([patch(row, col) for row, col in NEIGHBOURS]).contiguous()
    labels = torch.arange(len(NEIGHBOURS)).repeat_interleave(images)
    return Siamese(trunk, head), (a, b), labels


WORKLOADS = {"rotation-caffenet-small": rotation_caffenet_small, "context-caffenet-standin": context_caffenet_standin}


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

    step_ms = median_ms(step, args.repeats, args.warmup)
    params = sum(p.numel() for p in model.parameters())
    return {"workload": name, "images": images, "inputs": int(labels.shape[0]), "stepMs": step_ms,
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
