"""PyTorch side of the training-step benchmark (tools/bench/src/step.ts).

Builds, with torch.nn, networks whose layer shapes mirror the @ddinit/models
definitions -- libs/models/src/architectures/caffenet.ts (CAFFENET_LAYOUT,
CAFFENET_SMALL_LAYOUT, POOL, drop6/drop7) and vgg-plain.ts (STAGE_WIDTHS,
vggStageDepths, 2x2 pools while the map is >= 2x2, fc1 128 + fc2), with the LRN
of libs/models/src/layers/local-response-normalization.ts (Caffe's: size 5,
alpha 1e-4, beta 0.75, k 1, which torch.nn.LocalResponseNorm computes the same
way). Layout is NCHW instead of tfjs's NHWC; sizes, kernels, strides, paddings
(tfjs 'same' at stride 1 = k // 2), groups, pools, dense sizes and dropout are
the same. Weights are He-normal, biases zero, like the tfjs models.

Times, on a seeded N(0, 1) batch with cyclic labels (as step-workload.ts):
  forward: eval mode, torch.no_grad(), logits;
  step:    train mode (dropout on), zero_grad, forward, softmax cross-entropy
           (mean over the batch), backward, SGD(lr 0.01).step(), loss.item().
Each `--warmup` times untimed, then the median of `--repeats` timed runs.

Usage: /usr/bin/python3 step.py NETWORK[:BATCH] ... [--batch N] [--repeats N]
           [--warmup N] [--threads N] [--seed N]
Prints one JSON object per network on stdout:
  {"network", "batch", "forwardMs", "stepMs", "threads", "torch", "params"}
(params: the parameter count, equal to the tfjs model's countParams()).
Exit status 3 (message on stderr) for a network with no mirror here, before
anything runs; 2 for bad arguments.
"""
import argparse
import json
import re
import statistics
import sys
import time

import torch
from torch import nn

# (filters, kernel, stride, padding, groups) of conv1..conv5; fc6/fc7 units.
CAFFENET_LAYOUTS = {
    "caffenet": {
        "input": (3, 227, 227),
        "classes": 1000,
        "conv": [(96, 11, 4, 0, 1), (256, 5, 1, 2, 2), (384, 3, 1, 1, 1), (384, 3, 1, 1, 2), (256, 3, 1, 1, 2)],
        "fc": (4096, 4096),
    },
    "caffenet-small": {
        "input": (1, 28, 28),
        "classes": 10,
        "conv": [(32, 5, 1, 2, 1), (64, 5, 1, 2, 2), (96, 3, 1, 1, 1), (96, 3, 1, 1, 2), (64, 3, 1, 1, 2)],
        "fc": (256, 256),
    },
}
VGG_INPUT, VGG_CLASSES, VGG_BASE, VGG_STAGE_WIDTHS, VGG_HEAD = (3, 32, 32), 10, 16, [1, 2, 4, 8, 8], 128
VGG_PATTERN = re.compile(r"^vgg-plain-(\d+)$")
EXIT_UNKNOWN_NETWORK = 3


def caffenet_features(layout):
    """conv1 pool1 norm1 conv2 pool2 norm2 conv3 conv4 conv5 pool5: (layers, channels, spatial size of pool5)."""
    layers, channels, size = [], layout["input"][0], layout["input"][1]
    for i, (filters, kernel, stride, pad, groups) in enumerate(layout["conv"]):
        layers += [nn.Conv2d(channels, filters, kernel, stride, pad, groups=groups), nn.ReLU()]
        size = (size + 2 * pad - kernel) // stride + 1
        channels = filters
        if i in (0, 1, 4):
            layers.append(nn.MaxPool2d(3, 2))
            size = (size - 3) // 2 + 1
        if i in (0, 1):
            layers.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0))
    return layers, channels, size


def caffenet(layout):
    """caffenet_features, then flatten fc6 drop6 fc7 drop7 fc8."""
    layers, channels, size = caffenet_features(layout)
    fc6, fc7 = layout["fc"]
    layers += [
        nn.Flatten(),
        nn.Linear(channels * size * size, fc6), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc6, fc7), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc7, layout["classes"]),
    ]
    return nn.Sequential(*layers), layout["input"], layout["classes"]


def vgg_plain(depth):
    """N 3x3 'same' convs over 5 stages (extra ones to the last stages), 2x2 max pools, fc1 relu, fc2."""
    stages = len(VGG_STAGE_WIDTHS)
    counts = [depth // stages + (1 if s >= stages - depth % stages else 0) for s in range(stages)]
    layers, channels, size = [], VGG_INPUT[0], VGG_INPUT[1]
    for width, count in zip(VGG_STAGE_WIDTHS, counts):
        for _ in range(count):
            layers += [nn.Conv2d(channels, VGG_BASE * width, 3, 1, 1), nn.ReLU()]
            channels = VGG_BASE * width
        if size >= 2:
            layers.append(nn.MaxPool2d(2, 2))
            size //= 2
    layers += [nn.Flatten(), nn.Linear(channels * size * size, VGG_HEAD), nn.ReLU(), nn.Linear(VGG_HEAD, VGG_CLASSES)]
    return nn.Sequential(*layers), VGG_INPUT, VGG_CLASSES


def known(name):
    match = VGG_PATTERN.match(name)
    return name in CAFFENET_LAYOUTS or (match is not None and int(match.group(1)) >= 11)


def build(name):
    """(model, input shape CHW, classes) of a known name."""
    if name in CAFFENET_LAYOUTS:
        return caffenet(CAFFENET_LAYOUTS[name])
    return vgg_plain(int(VGG_PATTERN.match(name).group(1)))


def he_normal(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)


def median_ms(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench(name, batch, args):
    model, (c, h, w), classes = build(name)
    he_normal(model)
    x = torch.randn(batch, c, h, w)
    labels = torch.arange(batch) % classes
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def forward():
        model.eval()
        with torch.no_grad():
            model(x)

    def step():
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(x), labels)
        loss.backward()
        optimizer.step()
        loss.item()

    forward_ms = median_ms(forward, args.repeats, args.warmup)
    step_ms = median_ms(step, args.repeats, args.warmup)
    params = sum(p.numel() for p in model.parameters())
    return {"network": name, "batch": batch, "forwardMs": forward_ms, "stepMs": step_ms,
            "threads": torch.get_num_threads(), "torch": torch.__version__, "params": params}


def network_arg(text):
    name, _, batch = text.partition(":")
    if batch and not (batch.isdigit() and int(batch) > 0):
        raise argparse.ArgumentTypeError(f"batch of {name} must be a positive integer, got {batch!r}")
    return name, int(batch) if batch else None


def positive(text):
    if not (text.isdigit() and int(text) > 0):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def non_negative(text):
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("networks", nargs="+", type=network_arg, metavar="NETWORK[:BATCH]",
                        help="caffenet, caffenet-small or vgg-plain-<N> (N >= 11), optionally with its batch")
    parser.add_argument("--batch", type=positive, default=32, help="batch of networks given without one (default 32)")
    parser.add_argument("--repeats", type=positive, default=5, help="timed runs; the median is printed (default 5)")
    parser.add_argument("--warmup", type=non_negative, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--threads", type=positive, default=None, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--seed", type=non_negative, default=1, help="torch.manual_seed before each network (default 1)")
    args = parser.parse_args()
    unknown = [name for name, _ in args.networks if not known(name)]
    if unknown:
        print(f"step.py: unknown network {', '.join(unknown)} (expected caffenet, caffenet-small "
              "or vgg-plain-<N> with N >= 11)", file=sys.stderr)
        sys.exit(EXIT_UNKNOWN_NETWORK)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    for name, batch in args.networks:
        torch.manual_seed(args.seed)
        print(json.dumps(bench(name, batch or args.batch, args)), flush=True)


if __name__ == "__main__":
    main()
