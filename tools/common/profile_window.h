// --profile N in the training programs: N steps profiled after one warm-up step, then the kernel
// summary on the terminal and in <out>/profile.txt (which tools/compare_profiles.py reads) and the
// trace in <out>/trace.json. --profile-shapes splits the summary's rows by input shapes.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "../../core/profiler.h"

namespace dytgrad::tools {

struct ProfileRequest {
  int64_t steps = 0;       // --profile N; default: DYTGRAD_PROFILE
  bool by_shapes = false;  // --profile-shapes
};

// Adds --profile and --profile-shapes.
void add_profile_flags(CLI::App& app, ProfileRequest& request);

// After parsing: without --profile, DYTGRAD_PROFILE=N in the environment profiles N steps (0 or
// unset: none); anything but a whole number from 0 up is an error that names the variable.
void apply_profile_environment(const CLI::App& app, ProfileRequest& request);

class ProfileWindow {
 public:
  // The run takes steps first_step+1 .. last_step. A window longer than the run has after its
  // warm-up step is shortened to it, with a line that says so (no profile when it has none).
  ProfileWindow(std::string out, const ProfileRequest& request, int64_t first_step, int64_t last_step);
  // Around each step (`step`: the steps taken before it): starts the profiler before the first
  // profiled step, and reports after the last.
  void before_step(int64_t step);
  void after_step(int64_t step);

 private:
  std::string out_;
  int64_t steps_, first_step_;
  profiler::GroupBy group_;
};

}  // namespace dytgrad::tools
