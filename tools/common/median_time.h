// Wall-clock timing for the CPU benchmarks (bench-cpu, dyt-ladder): warm-up runs, then the median
// of the timed repeats, in milliseconds.
#pragma once
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace dytgrad::tools {

inline double median_ms(int warmup, int repeats, const std::function<void()>& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace dytgrad::tools
