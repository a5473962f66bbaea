// Checks for the programs' flags that say what is wrong in words (CLI11's own range checks print
// the whole range of a double).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace dytgrad::tools {

// A number above 0: "--clip 0" fails with "--clip: must be above 0, got 0".
inline CLI::Validator above_zero() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "expected a number, got '" + text + "'";
        return value > 0 ? std::string() : "must be above 0, got " + text;
      },
      "POSITIVE");
}

}  // namespace dytgrad::tools
