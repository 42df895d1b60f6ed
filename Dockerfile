# syntax=docker/dockerfile:1
#
# The ddinit GPU image: the pipeline CLI (`ddinit …`) on @tensorflow/tfjs-node-gpu.
#
#   docker build -t registry.example.com/ddinit:0.2.3 .
#   docker run --rm --gpus all registry.example.com/ddinit:0.2.3 --help
#
# @tensorflow/tfjs-node-gpu 4.22 loads libtensorflow 2.9 (GPU build), which needs the
# CUDA 11 runtime and cuDNN 8; CUDA 11.8 + cuDNN 8 satisfy it (CUDA minor-version
# compatibility). Nodes need an NVIDIA driver for CUDA 11.8 (>= 520) and the NVIDIA
# device plugin. The same image runs on CPU nodes (k8s/overlays/cpu).
#
# This repository's CI has no Docker engine, so this file is not built there; see
# docs/kubernetes.md. Building it needs network access to the npm registry and to
# the download of libtensorflow that tfjs-node-gpu's install script performs.

ARG CUDA_IMAGE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04
ARG NODE_IMAGE=node:20-bookworm-slim

# Node 20 comes from the official Node image: its binaries need glibc >= 2.28 and
# Ubuntu 22.04 has 2.35.
FROM ${NODE_IMAGE} AS node

FROM ${CUDA_IMAGE} AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
# Node's headers, so node-gyp builds @ddinit/native-blas without downloading them.
COPY --from=node /usr/local/include/node /usr/local/include/node
# Tools node-gyp needs, and OpenBLAS for @ddinit/native-blas (the wasm backend's
# convolutions on every core: what CPU nodes run when tfjs-node-gpu cannot start).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 make g++ libopenblas-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# The locked workspace dependencies with the build tools; the native BLAS kernels must
# build here (DDINIT_NATIVE_BLAS=require fails the build otherwise). npm ci's `prepare`
# compiles every package to dist/ (`nx run-many -t build`); the development tools are
# then pruned, so the image runs JavaScript only (no tsx, no TypeScript).
RUN DDINIT_NATIVE_BLAS=require npm ci --no-audit --no-fund \
 && test -f apps/pipeline/dist/cli.js \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf .nx
# tfjs-node-gpu is an optional dependency (npm skips it where libtensorflow cannot be
# downloaded), so install it explicitly, allowing its install script: it downloads
# libtensorflow (GPU) into deps/ and the N-API binding. (`--allow-scripts` is for npm
# versions that block install scripts by default; older npm ignores it and runs them.)
RUN npm install --no-save --omit=dev --no-audit --no-fund \
      --allow-scripts=@tensorflow/tfjs-node-gpu @tensorflow/tfjs-node-gpu@4.22.0 \
 && ls -l node_modules/@tensorflow/tfjs-node-gpu/deps/lib

FROM ${CUDA_IMAGE}
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# The OpenBLAS runtime the native BLAS kernels link.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopenblas0-pthread \
 && rm -rf /var/lib/apt/lists/*
# The user the Kubernetes Jobs run as (runAsUser/runAsGroup 1000, runAsNonRoot).
RUN groupadd --gid 1000 ddinit \
 && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin ddinit
WORKDIR /app
# Owned by root and read-only for ddinit: the pods also mount the root filesystem
# read-only; nothing is compiled at run time (bin/ddinit.js runs dist/).
COPY --from=build /app /app
ENV NODE_ENV=production \
    HOME=/tmp \
    TF_CPP_MIN_LOG_LEVEL=1
USER 1000:1000
ENTRYPOINT ["node", "/app/apps/pipeline/bin/ddinit.js"]
CMD ["--help"]
