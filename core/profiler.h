// The built-in profiler. While it is on, every kernel call (each DYT_CALL of core/ops) is timed:
// with CUDA events on the GPU (GPU time, read when the report is made), with the wall clock on the
// CPU (whose kernels are synchronous). Each call is tagged with the kernel's name and the phase it
// ran in (forward, backward, optimizer), the op it belongs to, and the op's input shapes, bytes and
// FLOPs where the op states them (note_work). The report is an nvprof-style table (by op and kernel,
// or also by input shapes), or a Chrome trace-event JSON (chrome://tracing, Perfetto).
// Whether on or off, every kernel call and phase is also an NVTX range (in CUDA builds), which is
// what Nsight Systems and Nsight Compute show. Off, a call costs one branch and the NVTX push/pop.
//
//   { dytgrad::profiler::Session session;   // on until the end of the scope
//     train_step(); }
//   fmt::print("{}", profiler::summary());   // or profiler::write_chrome_trace("trace.json")
// DYTGRAD_PROFILE=N in the environment makes the programs that offer --profile profile N steps by default.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "device.h"
#include "shape.h"

namespace dytgrad::profiler {

// Communication: the collectives of data-parallel training (core/distributed/), between the
// backward and the optimizer.
enum class Phase : uint8_t { Forward, Backward, Communication, Optimizer };
const char* phase_name(Phase p);

// One timed kernel call.
struct Record {
  std::string kernel;  // e.g. "dyt_forward"
  Phase phase;
  bool cuda;
  double cpu_start_us, cpu_end_us;     // wall clock since the session started (on CUDA: the launch)
  int gpu_start = -1, gpu_end = -1;    // CUDA event ids (CUDA only)
  double gpu_start_us = 0, gpu_ms = 0;  // filled by resolve(): GPU start since the session started, duration
  double bytes = 0, flops = 0;          // 0: unknown
  std::string op;                       // the op whose call it is (OpScope), e.g. "tanh" for "unary"; "": unknown
  std::string shapes;                   // the op's input shapes, e.g. "[32, 128], [128]"; "": unknown
};

// How a record is named in the summary and the trace: "op / kernel" ("gelu / unary", "add / binary"),
// or the kernel alone when its name starts with the op's ("dyt_forward") or the op is unknown.
std::string label(const Record& r);

struct PhaseRecord {
  Phase phase;
  double cpu_start_us, cpu_end_us;
};

// One training step of a profiled run (begin_step / end_step), a span of the trace's steps track.
struct StepRecord {
  int64_t step;  // 1-based, as the programs count
  double cpu_start_us, cpu_end_us;
};

bool enabled();
void start();  // clears the previous records
void stop();   // keeps the records for the reports

class Session {
 public:
  Session() { start(); }
  ~Session() { stop(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

// Sets the phase for the scope (and opens an NVTX range named after it).
class PhaseScope {
 public:
  explicit PhaseScope(Phase phase);
  ~PhaseScope();
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  Phase previous_;
  double start_us_;
};
Phase current_phase();

// Names the op whose kernels the calls in this scope are (dispatch_floating opens one with the op's
// name), so that the summary can tell the ops apart that share a kernel.
class OpScope {
 public:
  explicit OpScope(const char* op);
  ~OpScope();
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  const char* previous_;
};

// What the next kernel call on this thread works on: the bytes it reads and writes and the FLOPs it
// does (0: unknown), for GB/s and TFLOP/s, and its inputs' shapes, for the summary by shape and the
// trace. The ops call it inside dispatch_floating, just before DYT_CALL:
//   profiler::note_work(2.0 * double(x.numel() * sizeof(T)), 0, x.shape());
// Off, it costs one branch (the shapes are only formatted while the profiler is on).
void note_work_of(double bytes, double flops, std::string shapes);
std::string shapes_text(std::initializer_list<const Shape*> shapes);  // "[32, 128], [128]"
template <class... Shapes> void note_work(double bytes, double flops, const Shapes&... inputs) {
  if (enabled()) note_work_of(bytes, flops, shapes_text({&inputs...}));
}

// The kernel's name from DYT_CALL's text ("dyt_forward<T>" -> "dyt_forward"), interned.
const char* kernel_name(const char* call_text);

// Times one kernel call (used by DYT_CALL). `kernel` is the call's text, e.g. "dyt_forward<T>".
class KernelRange {
 public:
  KernelRange(Device device, const char* kernel);
  ~KernelRange();
  KernelRange(const KernelRange&) = delete;
  KernelRange& operator=(const KernelRange&) = delete;

 private:
  int record_ = -1;  // index into the records, -1 when off
};

// Marks a training step, for the trace (the programs' --profile calls these around each step).
void begin_step(int64_t step);
void end_step();

// Every record of the last session, GPU times resolved (waits for the GPU).
const std::vector<Record>& records();
const std::vector<PhaseRecord>& phase_records();
const std::vector<StepRecord>& step_records();

// One row per (op / kernel, phase), sorted by total time: calls, total, average, min, max, percent of
// the total, and GB/s or TFLOP/s where known. GPU time for CUDA kernels, wall time for CPU ones.
// With the number of steps the session covered, also each row's time per step. GroupBy::InputShapes
// splits each row by its calls' input shapes (as PyTorch's group_by_input_shape), named after them.
enum class GroupBy : uint8_t { Op, InputShapes };
std::string summary(int64_t steps = 0, GroupBy group = GroupBy::Op);

// The last session as Chrome trace events: a "steps" track (when the steps were marked), a "phases"
// track, a "CPU" track (kernel calls on the CPU, launches on CUDA) and a "GPU" track (CUDA kernels'
// GPU time). Each kernel event's args hold its op, kernel, phase, and its input shapes, bytes and
// FLOPs where known.
void write_chrome_trace(const std::string& path);

}  // namespace dytgrad::profiler
