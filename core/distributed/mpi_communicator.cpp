// The MPI communicator (OpenMPI: Debian's libopenmpi-dev). MPI is initialised when the first
// communicator is made and finalised when the process ends. CPU tensors go to MPI as they are; CUDA
// tensors are copied to host memory and back around each call (NCCL is the GPU's own path).
// Average is a sum, then a division by the world size on the host.
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "../error.h"
#include "backends.h"
#include "kernels/memory.h"

namespace dytgrad::distributed {

namespace {

void check_mpi(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error(fmt::format("{} failed: {}", call, std::string(text, size_t(length))));
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return MPI_FLOAT;
    case DType::Float64: return MPI_DOUBLE;
    case DType::Int64: return MPI_INT64_T;
    default: throw Error(fmt::format("MPI: no collectives on {} tensors", dtype_name(dtype)));
  }
}

// MPI counts are ints: a larger tensor goes in pieces of at most 2^30 elements.
constexpr int64_t kMaxPiece = int64_t(1) << 30;

void divide(void* data, int64_t count, DType dtype, int world) {
  if (dtype == DType::Float32)
    for (float *p = static_cast<float*>(data), *end = p + count; p < end; ++p) *p /= float(world);
  else
    for (double *p = static_cast<double*>(data), *end = p + count; p < end; ++p) *p /= double(world);
}

// Host memory for a collective: the tensor's own on the CPU, a staging copy on CUDA.
class HostBuffer {
 public:
  HostBuffer(Device device, void* data, int64_t bytes, bool copy_in) : device_(device), data_(data), bytes_(bytes) {
    if (device.is_cpu()) return;
    staging_.resize(size_t(bytes));
    if (copy_in) kernels::cuda::copy_device_to_host(staging_.data(), data, size_t(bytes));
  }
  void* get() { return device_.is_cpu() ? data_ : staging_.data(); }
  void copy_out() {
    if (device_.is_cuda()) kernels::cuda::copy_host_to_device(data_, staging_.data(), size_t(bytes_));
  }

 private:
  Device device_;
  void* data_;
  int64_t bytes_;
  std::vector<char> staging_;
};

struct MpiSession {
  MpiSession() {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    }
  }
  ~MpiSession() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Finalize();
  }
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(int rank, int world, Device device) : Communicator(rank, world, device) {}
  std::string backend() const override {
    return device().is_cpu() ? "MPI" : "MPI (CUDA tensors through host memory)";
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
  }

 protected:
  void all_reduce_raw(void* data, int64_t count, DType dtype, Reduce op) override {
    int64_t size = element_size(dtype);
    HostBuffer buffer(device(), data, count * size, true);
    char* p = static_cast<char*>(buffer.get());
    for (int64_t done = 0; done < count; done += kMaxPiece) {
      int piece = int(std::min(kMaxPiece, count - done));
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, p + done * size, piece, mpi_type(dtype), MPI_SUM, MPI_COMM_WORLD),
                "MPI_Allreduce");
    }
    if (op == Reduce::Average) divide(p, count, dtype, world_size());
    buffer.copy_out();
  }

  void broadcast_raw(void* data, int64_t count, DType dtype, int root) override {
    int64_t size = element_size(dtype);
    HostBuffer buffer(device(), data, count * size, rank() == root);
    char* p = static_cast<char*>(buffer.get());
    for (int64_t done = 0; done < count; done += kMaxPiece) {
      int piece = int(std::min(kMaxPiece, count - done));
      check_mpi(MPI_Bcast(p + done * size, piece, mpi_type(dtype), root, MPI_COMM_WORLD), "MPI_Bcast");
    }
    buffer.copy_out();
  }

  // (in and out may overlap only as in == out + rank x count: MPI_IN_PLACE)
  void all_gather_raw(const void* in, void* out, int64_t count, DType dtype) override {
    check_count("all_gather", count);
    int64_t size = element_size(dtype), bytes = count * size;
    bool in_place = in == static_cast<const char*>(out) + rank() * bytes;
    HostBuffer out_buffer(device(), out, bytes * world_size(), in_place);
    HostBuffer in_buffer(device(), const_cast<void*>(in), bytes, !in_place);
    check_mpi(MPI_Allgather(in_place ? MPI_IN_PLACE : in_buffer.get(), int(count), mpi_type(dtype), out_buffer.get(),
                            int(count), mpi_type(dtype), MPI_COMM_WORLD),
              "MPI_Allgather");
    out_buffer.copy_out();
  }

  void reduce_scatter_raw(const void* in, void* out, int64_t count, DType dtype, Reduce op) override {
    check_count("reduce_scatter", count);
    int64_t bytes = count * element_size(dtype);
    HostBuffer in_buffer(device(), const_cast<void*>(in), bytes * world_size(), true);
    HostBuffer out_buffer(device(), out, bytes, false);
    check_mpi(MPI_Reduce_scatter_block(in_buffer.get(), out_buffer.get(), int(count), mpi_type(dtype), MPI_SUM,
                                       MPI_COMM_WORLD),
              "MPI_Reduce_scatter_block");
    if (op == Reduce::Average) divide(out_buffer.get(), count, dtype, world_size());
    out_buffer.copy_out();
  }

 private:
  static void check_count(const char* op, int64_t count) {
    DYT_CHECK(count < kMaxPiece, "{}: {} elements per rank, more than this MPI communicator sends in one call ({})",
              op, count, kMaxPiece);
  }
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(Device device) {
  static MpiSession session;  // MPI_Finalize at exit (no communicator calls MPI in its destructor)
  int rank = 0, world = 1;
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &world), "MPI_Comm_size");
  return std::make_unique<MpiCommunicator>(rank, world, device);
}

}  // namespace dytgrad::distributed
