// The checks and profiler records every backend shares, the single-process communicator, and
// world(), which picks the backend.
#include "communicator.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "../error.h"
#include "../profiler.h"
#include "backends.h"
#include "kernels/memory.h"

namespace dytgrad::distributed {

namespace {

void check_tensor(const char* op, const Tensor& t, Device device) {
  DYT_CHECK(t.defined(), "{}: the tensor is undefined", op);
  DYT_CHECK(t.device() == device, "{}: the tensor is on {} but the communicator exchanges tensors on {}", op,
            t.device().str(), device.str());
  DYT_CHECK(t.is_contiguous(), "{}: expected a contiguous tensor, got shape {} with strides {}", op,
            shape_str(t.shape()), shape_str(t.strides()));
  DYT_CHECK(t.dtype() == DType::Float32 || t.dtype() == DType::Float64 || t.dtype() == DType::Int64,
            "{}: expected a float32, float64 or int64 tensor, got {}", op, dtype_name(t.dtype()));
}

void check_reduce(const char* op, const Tensor& t, Reduce reduce) {
  DYT_CHECK(reduce == Reduce::Sum || is_floating(t.dtype()), "{}: cannot average an {} tensor (sum it instead)", op,
            dtype_name(t.dtype()));
}

// For the profiler's record of a collective: the bytes this rank puts in, and their shape.
void note(const Tensor& t) { profiler::note_work(double(t.numel() * element_size(t.dtype())), 0, t.shape()); }

// World size 1: the collectives leave their tensor as it is, or copy it.
class SingleProcess final : public Communicator {
 public:
  explicit SingleProcess(Device device) : Communicator(0, 1, device) {}
  std::string backend() const override { return "single process"; }
  [[noreturn]] void abort(int code) override { std::exit(code); }

 protected:
  void all_reduce_raw(void*, int64_t, DType, Reduce) override {}
  void broadcast_raw(void*, int64_t, DType, int) override {}
  void all_gather_raw(const void* in, void* out, int64_t count, DType dtype) override { copy(in, out, count, dtype); }
  void reduce_scatter_raw(const void* in, void* out, int64_t count, DType dtype, Reduce) override {
    copy(in, out, count, dtype);
  }

 private:
  void copy(const void* in, void* out, int64_t count, DType dtype) const {
    size_t bytes = size_t(count * element_size(dtype));
    if (in == out || bytes == 0) return;
    if (device().is_cpu()) {
      std::memcpy(out, in, bytes);
      return;
    }
    std::vector<char> host(bytes);  // rare (ZeRO's copies are in place): through the host
    kernels::cuda::copy_device_to_host(host.data(), in, bytes);
    kernels::cuda::copy_host_to_device(out, host.data(), bytes);
  }
};

bool started_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name)) return true;
  return false;
}

bool nccl_requested() {
  const char* v = std::getenv("DYTGRAD_NCCL");
  return v && std::string(v) == "1";
}

}  // namespace

void Communicator::all_reduce(Tensor& t, Reduce op) {
  check_tensor("all_reduce", t, device_);
  check_reduce("all_reduce", t, op);
  note(t);
  profiler::KernelRange range(device_, "all_reduce");
  all_reduce_raw(t.raw_data(), t.numel(), t.dtype(), op);
}

void Communicator::broadcast(Tensor& t, int root) {
  check_tensor("broadcast", t, device_);
  DYT_CHECK(root >= 0 && root < world_size_, "broadcast: root {} is not a rank of a world of {}", root, world_size_);
  note(t);
  profiler::KernelRange range(device_, "broadcast");
  broadcast_raw(t.raw_data(), t.numel(), t.dtype(), root);
}

void Communicator::all_gather(const Tensor& in, Tensor& out) {
  check_tensor("all_gather", in, device_);
  check_tensor("all_gather", out, device_);
  DYT_CHECK(in.dtype() == out.dtype() && out.numel() == in.numel() * world_size_,
            "all_gather: expected out of {} x {} {} elements, got {} {} (in: shape {})", world_size_, in.numel(),
            dtype_name(in.dtype()), out.numel(), dtype_name(out.dtype()), shape_str(in.shape()));
  note(in);
  profiler::KernelRange range(device_, "all_gather");
  all_gather_raw(in.raw_data(), out.raw_data(), in.numel(), in.dtype());
}

void Communicator::reduce_scatter(const Tensor& in, Tensor& out, Reduce op) {
  check_tensor("reduce_scatter", in, device_);
  check_tensor("reduce_scatter", out, device_);
  check_reduce("reduce_scatter", in, op);
  DYT_CHECK(in.dtype() == out.dtype() && in.numel() == out.numel() * world_size_,
            "reduce_scatter: expected in of {} x {} {} elements, got {} {} (out: shape {})", world_size_, out.numel(),
            dtype_name(out.dtype()), in.numel(), dtype_name(in.dtype()), shape_str(out.shape()));
  note(in);
  profiler::KernelRange range(device_, "reduce_scatter");
  reduce_scatter_raw(in.raw_data(), out.raw_data(), out.numel(), in.dtype(), op);
}

double Communicator::all_reduce(double value, Reduce op) {
  if (world_size_ == 1) return value;
  Tensor t = Tensor::full({1}, value, DType::Float64, device_);
  all_reduce(t, op);
  return t.item();
}

bool built_with_mpi() {
#ifdef DYTGRAD_MPI
  return true;
#else
  return false;
#endif
}

bool built_with_nccl() {
#ifdef DYTGRAD_NCCL
  return true;
#else
  return false;
#endif
}

Communicator& world(Device device) {
  static std::unique_ptr<Communicator> the_world;
  if (!the_world) {
    bool under_mpirun = started_by_mpirun();
    if (device.is_cuda() && nccl_requested()) {
#ifdef DYTGRAD_NCCL
      the_world = make_nccl_communicator(device, under_mpirun);
#else
      throw Error("DYTGRAD_NCCL=1, but this build of dytgrad has no NCCL (a CUDA build finds nccl.h in the CUDA "
                  "toolkit)");
#endif
    } else if (under_mpirun) {
#ifdef DYTGRAD_MPI
      the_world = make_mpi_communicator(device);
#else
      throw Error("this program was started by mpirun, but this build of dytgrad has no MPI (install Debian's "
                  "libopenmpi-dev and configure again)");
#endif
    } else {
      the_world = std::make_unique<SingleProcess>(device);
    }
  }
  DYT_CHECK(the_world->device() == device, "distributed::world: the communicator exchanges tensors on {}, asked for {}",
            the_world->device().str(), device.str());
  return *the_world;
}

}  // namespace dytgrad::distributed
