#include "tools/common/progress.h"

#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>
#include <vector>

#include "core/error.h"

namespace dytgrad::tools {

std::string duration(double seconds) {
  int s = int(seconds);
  return s >= 3600 ? fmt::format("{}h{:02}m", s / 3600, s / 60 % 60) : fmt::format("{}m{:02}s", s / 60, s % 60);
}

Progress::Progress(int64_t first_step, int64_t total)
    : first_step_(first_step), total_(total), tty_(isatty(STDOUT_FILENO)), start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::report(int64_t step, const std::string& figures, const std::string& evaluation) {
  double done = double(step - first_step_), left = double(total_ - step);
  double eta = done > 0 ? elapsed_seconds() / done * left : 0;
  std::string line = fmt::format("step {:>5}/{} [{:<20}] {} ETA {}", step, total_,
                                 std::string(size_t(20 * step / std::max<int64_t>(1, total_)), '#'), figures,
                                 duration(eta));
  bool every_2_percent = step % std::max<int64_t>(1, total_ / 50) == 0;
  if (!evaluation.empty()) fmt::print("{}{}  {}\n", tty_ ? "\r" : "", line, evaluation);
  else if (tty_) fmt::print("\r{}", line);
  else if (every_2_percent) fmt::print("{}\n", line);
  std::fflush(stdout);
}

JsonlLog::JsonlLog(const std::string& path, int64_t keep_through_step) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::vector<std::string> kept;
  if (keep_through_step > 0) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (row.is_object() && row.value("step", int64_t(0)) <= keep_through_step) kept.push_back(line);
    }
  }
  out_.open(path, std::ios::trunc);
  DYT_CHECK(out_.good(), "cannot write the log '{}'", path);
  for (const std::string& line : kept) out_ << line << "\n";
  out_.flush();
}

double Throughput::add(double items, double seconds) {
  steps_.push_back({items, seconds});
  items_ += items, seconds_ += seconds;
  if (steps_.size() > window_) {
    items_ -= steps_.front().first, seconds_ -= steps_.front().second;
    steps_.pop_front();
  }
  return seconds_ > 0 ? items_ / seconds_ : 0;
}

void JsonlLog::write(const nlohmann::json& row) { out_ << row.dump() << "\n" << std::flush; }

}  // namespace dytgrad::tools
