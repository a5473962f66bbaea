#include "tools/data/idx.h"

#include <zlib.h>

#include <algorithm>

#include "core/error.h"

namespace dytgrad::data {

namespace {

// A gzip (or plain) file read through zlib, closed on every path out.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    DYT_CHECK(file_ != nullptr, "IDX: cannot open '{}'", path);
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads up to n bytes; returns how many (fewer only at the end of the data).
  size_t read(void* out, size_t n) {
    size_t total = 0;
    while (total < n) {
      unsigned chunk = unsigned(std::min<size_t>(n - total, 1u << 30));
      int got = gzread(file_, static_cast<char*>(out) + total, chunk);
      if (got < 0) {
        int code = 0;
        DYT_FAIL("IDX: '{}' is corrupt: {}", path_, gzerror(file_, &code));
      }
      if (got == 0) break;
      total += size_t(got);
    }
    return total;
  }

 private:
  std::string path_;
  gzFile file_;
};

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzFile file(path);
  unsigned char magic[4];
  DYT_CHECK(file.read(magic, 4) == 4, "IDX: '{}' ends before its 4-byte header", path);
  DYT_CHECK(magic[0] == 0 && magic[1] == 0, "IDX: '{}' does not start with two zero bytes: not an IDX file", path);
  DYT_CHECK(magic[2] == 0x08, "IDX: '{}' holds element type 0x{:02x}; only unsigned bytes (0x08) are read", path,
            magic[2]);
  DYT_CHECK(magic[3] >= 1 && magic[3] <= 4, "IDX: '{}' says it has {} dimensions (expected 1 to 4)", path, magic[3]);
  IdxArray out;
  constexpr int64_t kMaxValues = int64_t(1) << 34;
  int64_t count = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    DYT_CHECK(file.read(b, 4) == 4, "IDX: '{}' ends inside its list of sizes", path);
    int64_t size = int64_t(b[0]) << 24 | int64_t(b[1]) << 16 | int64_t(b[2]) << 8 | int64_t(b[3]);
    out.shape.push_back(size);
    // checked before multiplying, so that the product cannot wrap around
    DYT_CHECK(size == 0 || count <= kMaxValues / size, "IDX: '{}' claims sizes {} (more than {} values)", path,
              fmt::join(out.shape, " x "), kMaxValues);
    count *= size;
  }
  // The values are read a chunk at a time, so memory follows the data the file really holds, not
  // the count its header claims.
  constexpr size_t kChunk = size_t(64) << 20;
  while (out.values.size() < size_t(count)) {
    size_t have = out.values.size(), want = std::min(kChunk, size_t(count) - have);
    out.values.resize(have + want);
    size_t got = file.read(out.values.data() + have, want);
    out.values.resize(have + got);
    if (got < want) break;
  }
  DYT_CHECK(out.values.size() == size_t(count),
            "IDX: '{}' is truncated: its header promises {} values ({}) but it holds {}", path, count,
            fmt::join(out.shape, " x "), out.values.size());
  unsigned char extra;
  DYT_CHECK(file.read(&extra, 1) == 0, "IDX: '{}' has data after the {} values its header promises", path, count);
  return out;
}

}  // namespace dytgrad::data
