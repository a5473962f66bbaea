// What the training programs print while they work: one progress line per step (rewritten in
// place on a terminal, every 2% of the run otherwise) with a bar, the caller's figures and the ETA,
// and the JSONL log that keeps every step's figures.
#pragma once
#include <chrono>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace dytgrad::tools {

std::string duration(double seconds);  // "4m05s", "1h02m"

class Progress {
 public:
  // Steps first_step+1 .. total are to run (first_step > 0 when a run resumes).
  Progress(int64_t first_step, int64_t total);
  // After step `step` (1-based): prints the bar, `figures` and the ETA; `evaluation`, if not empty,
  // ends the line and keeps it on screen.
  void report(int64_t step, const std::string& figures, const std::string& evaluation = "");
  double elapsed_seconds() const;

 private:
  int64_t first_step_, total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

// Items per second over the last `window` steps (all of them before that many), for the progress
// line: one step's rate jumps with whatever else the machine did during it; the log keeps each step's.
class Throughput {
 public:
  explicit Throughput(size_t window = 20) : window_(window) {}
  double add(double items, double seconds);  // adds one step, returns the rate over the window

 private:
  size_t window_;
  std::deque<std::pair<double, double>> steps_;  // items, seconds
  double items_ = 0, seconds_ = 0;
};

// A JSON-lines log, one object per line, flushed as it goes (creates the folder).
class JsonlLog {
 public:
  // keep_through_step > 0: a resumed run continues the log, keeping the rows of steps up to its
  // checkpoint's and dropping later ones (written after the checkpoint by the run that stopped).
  JsonlLog(const std::string& path, int64_t keep_through_step);
  void write(const nlohmann::json& row);

 private:
  std::ofstream out_;
};

}  // namespace dytgrad::tools
