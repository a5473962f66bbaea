#include "tools/common/profile_window.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

#include "core/error.h"
#include "tools/common/training_run.h"

namespace dytgrad::tools {

void add_profile_flags(CLI::App& app, ProfileRequest& request) {
  app.add_option("--profile", request.steps,
                 "profile this many steps (after one warm-up step): print the kernel summary and write "
                 "<out>/profile.txt and <out>/trace.json (Chrome trace); default: DYTGRAD_PROFILE=N in the "
                 "environment, else 0")
      ->check(CLI::Range(int64_t(0), kMaxCount));
  app.add_flag("--profile-shapes", request.by_shapes,
               "with --profile: one summary row per op, kernel and input shapes (as PyTorch's group_by_input_shape)");
}

void apply_profile_environment(const CLI::App& app, ProfileRequest& request) {
  if (app.get_option("--profile")->count() > 0) return;
  const char* value = std::getenv("DYTGRAD_PROFILE");
  if (!value || !*value) return;
  std::string text = value;
  DYT_CHECK(text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 12,
            "DYTGRAD_PROFILE='{}': expected the number of steps to profile (0: none)", text);
  request.steps = std::stoll(text);
}

ProfileWindow::ProfileWindow(std::string out, const ProfileRequest& request, int64_t first_step, int64_t last_step)
    : out_(std::move(out)),
      steps_(request.steps),
      first_step_(first_step),
      group_(request.by_shapes ? profiler::GroupBy::InputShapes : profiler::GroupBy::Op) {
  int64_t to_run = last_step - first_step, available = std::max<int64_t>(to_run - 1, 0);  // the first warms up
  if (steps_ <= available) return;
  if (available == 0)
    fmt::print("--profile {}: no profile, the run has {} step{} to go and profiling starts after one warm-up step\n",
               steps_, to_run, to_run == 1 ? "" : "s");
  else
    fmt::print("--profile {}: profiling {} step{}, all the run has after its warm-up step\n", steps_, available,
               available == 1 ? "" : "s");
  steps_ = available;
}

void ProfileWindow::before_step(int64_t step) {
  if (steps_ > 0 && step == first_step_ + 1) profiler::start();
  profiler::begin_step(step + 1);
}

void ProfileWindow::after_step(int64_t step) {
  profiler::end_step();
  if (steps_ == 0 || step != first_step_ + steps_ || !profiler::enabled()) return;
  profiler::stop();
  std::filesystem::path trace = std::filesystem::path(out_) / "trace.json";
  profiler::write_chrome_trace(trace.string());
  std::string text = fmt::format("profile of {} step{} (kernel time by op, kernel, phase{}; trace: {}):\n{}\n",
                                 steps_, steps_ == 1 ? "" : "s", group_ == profiler::GroupBy::InputShapes ? " and input shapes" : "",
                                 trace.string(), profiler::summary(steps_, group_));
  fmt::print("\n{}", text);
  std::ofstream((std::filesystem::path(out_) / "profile.txt").string()) << text;
}

}  // namespace dytgrad::tools
