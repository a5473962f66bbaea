// The profiler's reports: the nvprof-style summary and the Chrome trace.
#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/profiler.h"

namespace dytgrad::profiler {

namespace {
double duration_ms(const Record& r) { return r.cuda ? r.gpu_ms : (r.cpu_end_us - r.cpu_start_us) / 1000.0; }

struct Row {
  std::string name;  // label(): op / kernel, " (cpu)" for CPU kernels, and the input shapes when grouped by them
  Phase phase;
  bool cuda;
  int64_t calls = 0;
  double total_ms = 0, min_ms = 1e300, max_ms = 0, bytes = 0, flops = 0;
};
}  // namespace

std::string summary(int64_t steps, GroupBy group) {
  bool by_shapes = group == GroupBy::InputShapes;
  std::map<std::pair<std::string, int>, Row> rows;
  double total = 0;
  for (const Record& r : records()) {
    std::string name = label(r) + (r.cuda ? "" : " (cpu)");
    if (by_shapes) name += "  " + (r.shapes.empty() ? std::string("(shapes not noted)") : r.shapes);
    Row& row = rows[{name, int(r.phase)}];
    double ms = duration_ms(r);
    row.name = name, row.phase = r.phase, row.cuda = r.cuda;
    ++row.calls;
    row.total_ms += ms, row.min_ms = std::min(row.min_ms, ms), row.max_ms = std::max(row.max_ms, ms);
    row.bytes += r.bytes, row.flops += r.flops;
    total += ms;
  }
  std::vector<Row> sorted;
  for (auto& [key, row] : rows) sorted.push_back(row);
  std::sort(sorted.begin(), sorted.end(), [](const Row& a, const Row& b) { return a.total_ms > b.total_ms; });
  // The time per step, when the number of steps is known.
  auto per_step = [&](double ms) { return steps > 0 ? fmt::format(" {:>9.3f}", ms / double(steps)) : std::string(); };
  std::string out = fmt::format("{:>6} {:>10}{} {:>7} {:>10} {:>10} {:>10} {:>12}  {:<13} {}\n", "time%", "total ms",
                                steps > 0 ? fmt::format(" {:>9}", "ms/step") : "", "calls", "avg us", "min us", "max us",
                                "rate", "phase", by_shapes ? "op / kernel  input shapes" : "op / kernel");
  for (const Row& r : sorted) {
    std::string rate = r.flops > 0   ? fmt::format("{:.2f} TF/s", r.flops / (r.total_ms * 1e9))
                       : r.bytes > 0 ? fmt::format("{:.1f} GB/s", r.bytes / (r.total_ms * 1e6))
                                     : "";
    out += fmt::format("{:>5.1f}% {:>10.3f}{} {:>7} {:>10.1f} {:>10.1f} {:>10.1f} {:>12}  {:<13} {}\n",
                       total > 0 ? 100 * r.total_ms / total : 0.0, r.total_ms, per_step(r.total_ms), r.calls,
                       1000 * r.total_ms / double(r.calls), 1000 * r.min_ms, 1000 * r.max_ms, rate,
                       phase_name(r.phase), r.name);
  }
  out += fmt::format("{:>5.1f}% {:>10.3f}{} {:>7}  in all ({} time)\n", 100.0, total, per_step(total), records().size(),
                     rows.empty() || sorted[0].cuda ? "GPU" : "CPU wall");
  return out;
}

void write_chrome_trace(const std::string& path) {
  enum Track { kSteps = 0, kPhases = 1, kCpu = 2, kGpu = 3 };
  nlohmann::json events = nlohmann::json::array();
  for (auto [track, name] : {std::pair{kSteps, "steps"}, {kPhases, "phases"}, {kCpu, "CPU (kernel calls / launches)"},
                             {kGpu, "GPU"}})
    events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", 1}, {"tid", track}, {"args", {{"name", name}}}});
  for (const StepRecord& s : step_records())
    if (s.cpu_end_us >= s.cpu_start_us)
      events.push_back({{"ph", "X"}, {"cat", "step"}, {"name", fmt::format("step {}", s.step)}, {"pid", 1},
                        {"tid", kSteps}, {"ts", s.cpu_start_us}, {"dur", s.cpu_end_us - s.cpu_start_us}});
  for (const PhaseRecord& p : phase_records())
    events.push_back({{"ph", "X"}, {"cat", "phase"}, {"name", phase_name(p.phase)}, {"pid", 1}, {"tid", kPhases},
                      {"ts", p.cpu_start_us}, {"dur", p.cpu_end_us - p.cpu_start_us}});
  for (const Record& r : records()) {
    nlohmann::json args = {{"phase", phase_name(r.phase)}, {"kernel", r.kernel}};
    if (!r.op.empty()) args["op"] = r.op;
    if (!r.shapes.empty()) args["input shapes"] = r.shapes;
    std::string name = label(r);
    if (r.bytes > 0) args["bytes"] = r.bytes;
    if (r.flops > 0) args["flops"] = r.flops;
    events.push_back({{"ph", "X"}, {"cat", r.cuda ? "launch" : "kernel"}, {"name", name}, {"pid", 1}, {"tid", kCpu},
                      {"ts", r.cpu_start_us}, {"dur", r.cpu_end_us - r.cpu_start_us}, {"args", args}});
    if (r.cuda)
      events.push_back({{"ph", "X"}, {"cat", "kernel"}, {"name", name}, {"pid", 1}, {"tid", kGpu},
                        {"ts", r.gpu_start_us}, {"dur", 1000 * r.gpu_ms}, {"args", args}});
  }
  std::ofstream out(path);
  DYT_CHECK(out.good(), "profiler: cannot write the trace '{}'", path);
  out << nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ms"}}.dump() << "\n";
}

}  // namespace dytgrad::profiler
