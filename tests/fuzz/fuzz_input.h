// What every fuzz harness shares: the input bytes as a file (the readers take paths), and the rule
// that decides what a finding is. A reader may refuse any input, but only with a dytgrad::Error
// (whose message names the file and what was wrong); a crash, a hang, a sanitizer report, or any
// other exception (a raw std::out_of_range or JSON error names nothing) is a finding.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <unistd.h>

#include "core/error.h"

namespace dytgrad::fuzz {

// Writes the input to one file per process (in TMPDIR, else /tmp), rewritten for every input.
inline const std::string& input_file(const uint8_t* data, size_t size, const char* suffix = "") {
  static const std::string path = [&] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/dytgrad-fuzz-" + std::to_string(getpid()) + suffix;
  }();
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file || std::fwrite(data, 1, size, file) != size || std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

// Runs `read` on one input: a dytgrad::Error is a fine answer, any other exception a finding.
template <class Read> void expect_clean_refusal(Read&& read) {
  try {
    read();
  } catch (const dytgrad::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "finding: an error that is not a dytgrad::Error: %s\n", e.what());
    std::abort();
  }
}

}  // namespace dytgrad::fuzz
