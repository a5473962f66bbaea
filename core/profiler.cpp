// Recording for the built-in profiler (core/profiler.h); the reports are in profiler_report.cpp.
#include "core/profiler.h"

#include <chrono>
#include <deque>
#include <mutex>

#include "kernels/profiling.h"

#ifdef DYTGRAD_CUDA
#include <nvtx3/nvToolsExt.h>
#define DYT_NVTX_PUSH(name) nvtxRangePushA(name)
#define DYT_NVTX_POP() nvtxRangePop()
#else
#define DYT_NVTX_PUSH(name) ((void)(name))
#define DYT_NVTX_POP() ((void)0)
#endif

namespace dytgrad::profiler {

namespace {
bool on = false;
std::chrono::steady_clock::time_point session_start;
int session_start_event = -1;  // CUDA event at start(), the zero of the GPU track
bool resolved = true;
std::vector<Record> all_records;
std::vector<PhaseRecord> all_phases;
std::vector<StepRecord> all_steps;
thread_local Phase phase = Phase::Forward;
thread_local double pending_bytes = 0, pending_flops = 0;
thread_local std::string pending_shapes;
thread_local const char* current_op = "";

double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - session_start).count();
}
}  // namespace

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Forward: return "forward";
    case Phase::Backward: return "backward";
    case Phase::Communication: return "communication";
    case Phase::Optimizer: return "optimizer";
  }
  return "?";
}

const char* kernel_name(const char* call_text) {
  static std::mutex mutex;
  static std::deque<std::string> names;  // stable addresses
  std::string name(call_text);
  name = name.substr(0, name.find('<'));
  std::lock_guard<std::mutex> lock(mutex);
  for (const std::string& n : names)
    if (n == name) return n.c_str();
  return names.emplace_back(name).c_str();
}

bool enabled() { return on; }

void start() {
  all_records.clear();
  all_phases.clear();
  all_steps.clear();
  session_start = std::chrono::steady_clock::now();
  session_start_event = -1;
  if (cuda_is_available()) {
    kernels::cuda::reset_events();
    session_start_event = kernels::cuda::record_event();
  }
  resolved = false;
  on = true;
}

void stop() { on = false; }

Phase current_phase() { return phase; }

PhaseScope::PhaseScope(Phase p) : previous_(phase), start_us_(on ? now_us() : 0) {
  phase = p;
  DYT_NVTX_PUSH(phase_name(p));
}

PhaseScope::~PhaseScope() {
  DYT_NVTX_POP();
  if (on) all_phases.push_back({phase, start_us_, now_us()});
  phase = previous_;
}

OpScope::OpScope(const char* op) : previous_(current_op) { current_op = op; }
OpScope::~OpScope() { current_op = previous_; }

std::string label(const Record& r) {
  if (r.op.empty() || r.kernel.compare(0, r.op.size(), r.op) == 0) return r.kernel;
  return r.op + " / " + r.kernel;
}

void note_work_of(double bytes, double flops, std::string shapes) {
  pending_bytes = bytes;
  pending_flops = flops;
  pending_shapes = std::move(shapes);
}

std::string shapes_text(std::initializer_list<const Shape*> shapes) {
  std::string text;
  for (const Shape* s : shapes) text += (text.empty() ? "" : ", ") + shape_str(*s);
  return text;
}

KernelRange::KernelRange(Device device, const char* kernel) {
  DYT_NVTX_PUSH(kernel);
  if (!on) return;
  Record r{};
  r.kernel = kernel, r.op = current_op, r.phase = phase, r.cuda = device.is_cuda();
  r.cpu_start_us = now_us();
  r.bytes = pending_bytes, r.flops = pending_flops, r.shapes = std::move(pending_shapes);
  pending_bytes = pending_flops = 0;
  pending_shapes.clear();
  if (r.cuda) r.gpu_start = kernels::cuda::record_event();
  record_ = int(all_records.size());
  all_records.push_back(std::move(r));
}

KernelRange::~KernelRange() {
  DYT_NVTX_POP();
  if (record_ < 0 || size_t(record_) >= all_records.size()) return;  // off, or a new session began inside
  Record& r = all_records[size_t(record_)];
  if (r.cuda) r.gpu_end = kernels::cuda::record_event();
  r.cpu_end_us = now_us();
}

const std::vector<Record>& records() {
  if (!resolved) {
    for (Record& r : all_records) {
      if (!r.cuda || r.gpu_end < 0) continue;
      r.gpu_ms = kernels::cuda::elapsed_ms(r.gpu_start, r.gpu_end);
      r.gpu_start_us = 1000.0 * kernels::cuda::elapsed_ms(session_start_event, r.gpu_start);
    }
    resolved = !on;
  }
  return all_records;
}

const std::vector<PhaseRecord>& phase_records() { return all_phases; }
const std::vector<StepRecord>& step_records() { return all_steps; }

void begin_step(int64_t step) {
  if (on) all_steps.push_back({step, now_us(), -1});
}

void end_step() {
  if (on && !all_steps.empty() && all_steps.back().cpu_end_us < 0) all_steps.back().cpu_end_us = now_us();
}

}  // namespace dytgrad::profiler
