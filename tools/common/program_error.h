// What a program prints for the error that ended it. A dytgrad::Error already names the file, flag
// or key; an error from underneath may name nothing ("std::bad_alloc"), so it is said in words.
#pragma once
#include <exception>
#include <new>
#include <string>

namespace dytgrad::tools {

inline std::string describe_error(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    return "out of memory: the model, the batch or the data does not fit in this machine's memory (try a smaller "
           "--batch or model; std::bad_alloc)";
  return e.what();
}

}  // namespace dytgrad::tools
