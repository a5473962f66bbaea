// The NCCL communicator: CUDA tensors all-reduced, broadcast, gathered and scattered on the GPU, on
// the stream the kernels use (the default stream), so a collective is ordered after the kernels
// that wrote its tensor. MPI starts the processes and carries the NCCL id from rank 0 to the
// others. Each rank uses the GPU of its local rank on its machine (one process per GPU).
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <cstdlib>
#include <string>

#include "../error.h"
#include "backends.h"

namespace dytgrad::distributed {

namespace {

void check_nccl(ncclResult_t status, const char* call) {
  if (status != ncclSuccess) throw Error(fmt::format("{} failed: {}", call, ncclGetErrorString(status)));
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

int local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return 0;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(int rank, int world, Device device, ncclComm_t comm)
      : Communicator(rank, world, device), comm_(comm) {}
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }
  std::string backend() const override { return "NCCL"; }
  [[noreturn]] void abort(int code) override {
    ncclCommAbort(comm_);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
  }

 protected:
  void all_reduce_raw(void* data, int64_t count, DType dtype, Reduce op) override {
    check_nccl(ncclAllReduce(data, data, size_t(count), nccl_type(dtype), nccl_op(op), comm_, nullptr), "ncclAllReduce");
  }
  void broadcast_raw(void* data, int64_t count, DType dtype, int root) override {
    check_nccl(ncclBroadcast(data, data, size_t(count), nccl_type(dtype), root, comm_, nullptr), "ncclBroadcast");
  }
  void all_gather_raw(const void* in, void* out, int64_t count, DType dtype) override {
    check_nccl(ncclAllGather(in, out, size_t(count), nccl_type(dtype), comm_, nullptr), "ncclAllGather");
  }
  void reduce_scatter_raw(const void* in, void* out, int64_t count, DType dtype, Reduce op) override {
    check_nccl(ncclReduceScatter(in, out, size_t(count), nccl_type(dtype), nccl_op(op), comm_, nullptr),
               "ncclReduceScatter");
  }

 private:
  ncclComm_t comm_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Device device) {
  // MPI first (started by mpirun), for the ranks and to carry the NCCL id.
  std::unique_ptr<Communicator> mpi = make_mpi_communicator(Device::cpu());
  int rank = mpi->rank(), world = mpi->world_size();
  int gpus = 0;
  DYT_CHECK(cudaGetDeviceCount(&gpus) == cudaSuccess && gpus > 0, "NCCL: no CUDA device is visible");
  DYT_CHECK(cudaSetDevice(local_rank() % gpus) == cudaSuccess, "NCCL: cudaSetDevice({}) failed", local_rank() % gpus);
  ncclUniqueId id;
  if (rank == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  DYT_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD) == MPI_SUCCESS, "NCCL: MPI_Bcast of the NCCL id failed");
  ncclComm_t comm;
  check_nccl(ncclCommInitRank(&comm, world, id, rank), "ncclCommInitRank");
  return std::make_unique<NcclCommunicator>(rank, world, device, comm);
}

}  // namespace dytgrad::distributed
