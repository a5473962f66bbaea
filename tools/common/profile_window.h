// --profile N in the training programs: N steps profiled after one warm-up step, then the kernel
// summary on the terminal and in <out>/profile.txt (which tools/compare_profiles.py reads) and the
// trace in <out>/trace.json.
#pragma once
#include <cstdint>
#include <string>

namespace dytgrad::tools {

constexpr const char* kProfileHelp =
    "profile this many steps (after one warm-up step): print the kernel summary and write <out>/profile.txt and "
    "<out>/trace.json (Chrome trace); default: DYTGRAD_PROFILE=N in the environment, else 0";

// The default of --profile: DYTGRAD_PROFILE=N in the environment profiles N steps (0 or unset: none);
// anything but a whole number from 0 up is an error that names the variable.
int64_t profile_steps_from_environment();

class ProfileWindow {
 public:
  // The run takes steps first_step+1 .. last_step. A window longer than the run has after its
  // warm-up step is shortened to it, with a line that says so (no profile when it has none).
  ProfileWindow(std::string out, int64_t requested_steps, int64_t first_step, int64_t last_step);
  // Around each step (`step`: the steps taken before it): starts the profiler before the first
  // profiled step, and reports after the last.
  void before_step(int64_t step);
  void after_step(int64_t step);

 private:
  std::string out_;
  int64_t steps_, first_step_;
};

}  // namespace dytgrad::tools
