// dytgrad reports every bad input as a dytgrad::Error whose message names the op, what it got and
// what it expected. DYT_CHECK(cond, "fmt string", args...) raises it when cond is false, DYT_FAIL(...)
// unconditionally (where the failure is known by the time the message is built).
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stdexcept>
#include <string>

namespace dytgrad {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace dytgrad

#define DYT_CHECK(cond, ...)                                           \
  do {                                                                 \
    if (!(cond)) throw ::dytgrad::Error(fmt::format(__VA_ARGS__));     \
  } while (0)

#define DYT_FAIL(...) throw ::dytgrad::Error(fmt::format(__VA_ARGS__))
