// The IDX format of (Fashion-)MNIST (http://yann.lecun.com/exdb/mnist/), optionally gzip-compressed:
//   bytes 0-1  zero;  byte 2  element type (0x08: unsigned byte, the only one read here);
//   byte 3     number of dimensions d;  then d big-endian uint32 sizes;  then the elements, row-major.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dytgrad::data {

struct IdxArray {
  std::vector<int64_t> shape;
  std::vector<uint8_t> values;  // row-major, product(shape) of them
};

// Reads an IDX file of unsigned bytes (.gz or not). Missing, truncated, oversized or corrupt files
// are errors that name the file and what was wrong.
IdxArray read_idx(const std::string& path);

}  // namespace dytgrad::data
