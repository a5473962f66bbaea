// The NCCL communicator: CUDA tensors all-reduced, broadcast, gathered and scattered on the GPU, on
// the stream the kernels use (the default stream), so a collective is ordered after the kernels
// that wrote its tensor. Under mpirun, MPI carries the NCCL id from rank 0 to the others and each
// rank uses the GPU of its local rank on its machine (one process per GPU); without mpirun it is a
// world of one (which still runs every collective through NCCL: how a one-GPU machine checks it).
// NCCL is loaded when the first such communicator is made (dlopen of libnccl.so.2: the CUDA
// toolkit's, or PyTorch's nvidia-nccl package on LD_LIBRARY_PATH), so the programs start on
// machines without it; nccl.h gives the types and signatures.
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>
#ifdef DYTGRAD_MPI
#include <mpi.h>
#endif

#include <cstdlib>
#include <string>

#include "../error.h"
#include "backends.h"

namespace dytgrad::distributed {

namespace {

// The NCCL functions this file calls, from libnccl.so.2.
struct Nccl {
  decltype(&ncclGetErrorString) get_error_string;
  decltype(&ncclGetUniqueId) get_unique_id;
  decltype(&ncclCommInitRank) comm_init_rank;
  decltype(&ncclCommDestroy) comm_destroy;
  decltype(&ncclCommAbort) comm_abort;
  decltype(&ncclAllReduce) all_reduce;
  decltype(&ncclBroadcast) broadcast;
  decltype(&ncclAllGather) all_gather;
  decltype(&ncclReduceScatter) reduce_scatter;
};

const Nccl& nccl() {
  static const Nccl functions = [] {
    void* library = dlopen("libnccl.so.2", RTLD_NOW | RTLD_GLOBAL);
    DYT_CHECK(library != nullptr,
              "NCCL: cannot load libnccl.so.2 ({}); it comes with the CUDA toolkit, or with PyTorch's nvidia-nccl "
              "package: put its lib folder on LD_LIBRARY_PATH", dlerror());
    auto find = [&](auto& function, const char* name) {
      function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(dlsym(library, name));
      DYT_CHECK(function != nullptr, "NCCL: libnccl.so.2 has no {}", name);
    };
    Nccl f;
    find(f.get_error_string, "ncclGetErrorString");
    find(f.get_unique_id, "ncclGetUniqueId");
    find(f.comm_init_rank, "ncclCommInitRank");
    find(f.comm_destroy, "ncclCommDestroy");
    find(f.comm_abort, "ncclCommAbort");
    find(f.all_reduce, "ncclAllReduce");
    find(f.broadcast, "ncclBroadcast");
    find(f.all_gather, "ncclAllGather");
    find(f.reduce_scatter, "ncclReduceScatter");
    return f;
  }();
  return functions;
}

void check_nccl(ncclResult_t status, const char* call) {
  if (status != ncclSuccess) throw Error(fmt::format("{} failed: {}", call, nccl().get_error_string(status)));
}

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return ncclFloat32;
    case DType::Float64: return ncclFloat64;
    case DType::Int64: return ncclInt64;
    default: throw Error(fmt::format("NCCL: no collectives on {} tensors", dtype_name(dtype)));
  }
}

ncclRedOp_t nccl_op(Reduce op) { return op == Reduce::Sum ? ncclSum : ncclAvg; }

[[maybe_unused]] int local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return 0;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(int rank, int world, Device device, ncclComm_t comm, std::unique_ptr<Communicator> mpi)
      : Communicator(rank, world, device), comm_(comm), mpi_(std::move(mpi)) {}
  ~NcclCommunicator() override { nccl().comm_destroy(comm_); }
  std::string backend() const override { return "NCCL"; }
  [[noreturn]] void abort(int code) override {
    nccl().comm_abort(comm_);
    if (mpi_) mpi_->abort(code);
    std::exit(code);
  }

 protected:
  void all_reduce_raw(void* data, int64_t count, DType dtype, Reduce op) override {
    check_nccl(nccl().all_reduce(data, data, size_t(count), nccl_type(dtype), nccl_op(op), comm_, nullptr),
               "ncclAllReduce");
  }
  void broadcast_raw(void* data, int64_t count, DType dtype, int root) override {
    check_nccl(nccl().broadcast(data, data, size_t(count), nccl_type(dtype), root, comm_, nullptr), "ncclBroadcast");
  }
  void all_gather_raw(const void* in, void* out, int64_t count, DType dtype) override {
    check_nccl(nccl().all_gather(in, out, size_t(count), nccl_type(dtype), comm_, nullptr), "ncclAllGather");
  }
  void reduce_scatter_raw(const void* in, void* out, int64_t count, DType dtype, Reduce op) override {
    check_nccl(nccl().reduce_scatter(in, out, size_t(count), nccl_type(dtype), nccl_op(op), comm_, nullptr),
               "ncclReduceScatter");
  }

 private:
  ncclComm_t comm_;
  std::unique_ptr<Communicator> mpi_;  // the ranks and the id's carrier under mpirun; none alone
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Device device, bool under_mpirun) {
  int gpus = 0;
  DYT_CHECK(cudaGetDeviceCount(&gpus) == cudaSuccess && gpus > 0, "NCCL: no CUDA device is visible");
  std::unique_ptr<Communicator> mpi;
  int rank = 0, world = 1;
  if (under_mpirun) {
#ifdef DYTGRAD_MPI
    mpi = make_mpi_communicator(Device::cpu());
    rank = mpi->rank(), world = mpi->world_size();
    DYT_CHECK(cudaSetDevice(local_rank() % gpus) == cudaSuccess, "NCCL: cudaSetDevice({}) failed", local_rank() % gpus);
#else
    throw Error("NCCL under mpirun needs MPI to carry its id, and this build of dytgrad has no MPI");
#endif
  }
  ncclUniqueId id;
  if (rank == 0) check_nccl(nccl().get_unique_id(&id), "ncclGetUniqueId");
#ifdef DYTGRAD_MPI
  if (mpi)
    DYT_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD) == MPI_SUCCESS,
              "NCCL: MPI_Bcast of the NCCL id failed");
#endif
  ncclComm_t comm;
  check_nccl(nccl().comm_init_rank(&comm, world, id, rank), "ncclCommInitRank");
  return std::make_unique<NcclCommunicator>(rank, world, device, comm, std::move(mpi));
}

}  // namespace dytgrad::distributed
