// Everything a program that uses dytgrad as a library needs, in one include:
//   #include <dytgrad/dytgrad.h>      (installed: cmake --install, then find_package(dytgrad))
// Tensors and their ops, autograd (backward, grad, custom ops, gradcheck), the nn library
// (modules, layers, norms, Transformer blocks, optimisers, checkpoints, data parallelism) and the
// GPT and ViT models.
// See docs/ARCHITECTURE.md for the layers and examples/ for programs built on this header.
#pragma once

#include "core/version.h"

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/random.h"
#include "core/tensor.h"
#include "core/capture.h"
#include "core/profiler.h"

#include "core/ops/ops.h"
#include "core/ops/optimizer.h"

#include "core/autograd/engine.h"
#include "core/autograd/grad_mode.h"
#include "core/autograd/gradcheck.h"
#include "core/autograd/graph_dump.h"
#include "core/autograd/node.h"

#include "core/distributed/communicator.h"

#include "nn/module.h"
#include "nn/layers.h"
#include "nn/norms.h"
#include "nn/transformer.h"
#include "nn/optim.h"
#include "nn/captured_step.h"
#include "nn/safetensors.h"
#include "nn/checkpoint.h"
#include "nn/data_parallel.h"
#include "nn/sharded_adamw.h"

#include "models/gpt.h"
#include "models/vit.h"
#include "models/generate.h"
