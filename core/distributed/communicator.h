// Processes that train one model together exchange tensors through a Communicator: the collectives
// of data parallelism (all-reduce, broadcast, all-gather, reduce-scatter) over the ranks 0 ..
// world_size - 1 of one run. Three implementations, picked by world() from how the program was
// started and on which device it trains:
//   single process   world size 1, every collective is a copy or nothing (no library needed)
//   MPI (OpenMPI)    under mpirun; CPU tensors directly, CUDA tensors through host memory
//   NCCL             CUDA tensors on the GPU, with DYTGRAD_NCCL=1 (the default until it has run on
//                    a GPU); under mpirun the NCCL id is sent over MPI (as llm.c does), alone it is
//                    a world of one
// Every rank makes the same calls in the same order, with tensors of the same shape and dtype
// (float32, float64 or int64); a collective's tensors are contiguous and on the communicator's
// device. Each call is a profiler record (op "all_reduce" and so on, with its bytes).
#pragma once
#include <memory>
#include <string>

#include "../tensor.h"

namespace dytgrad::distributed {

enum class Reduce { Sum, Average };

class Communicator {
 public:
  virtual ~Communicator() = default;
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  Device device() const { return device_; }
  virtual std::string backend() const = 0;  // "single process", "MPI", "MPI (CUDA through host memory)", "NCCL"

  // t = the sum (or average) of every rank's t.
  void all_reduce(Tensor& t, Reduce op);
  // t = rank root's t.
  void broadcast(Tensor& t, int root);
  // out = every rank's in, one after the other in rank order (out.numel() = world_size x in.numel()).
  void all_gather(const Tensor& in, Tensor& out);
  // out = this rank's part of the sum (or average) of every rank's in: elements
  // [rank x out.numel(), (rank + 1) x out.numel()) of it (in.numel() = world_size x out.numel()).
  void reduce_scatter(const Tensor& in, Tensor& out, Reduce op);
  // A number on the host (a loss, a flag): the sum or average over the ranks.
  double all_reduce(double value, Reduce op);
  // Ends every rank of the run with this exit code (after an error on one rank: the others would
  // wait for it forever). A single process just exits.
  [[noreturn]] virtual void abort(int code) = 0;

 protected:
  Communicator(int rank, int world_size, Device device) : rank_(rank), world_size_(world_size), device_(device) {}
  // The backend's collectives over raw contiguous memory on device(); count elements of dtype.
  virtual void all_reduce_raw(void* data, int64_t count, DType dtype, Reduce op) = 0;
  virtual void broadcast_raw(void* data, int64_t count, DType dtype, int root) = 0;
  virtual void all_gather_raw(const void* in, void* out, int64_t count, DType dtype) = 0;  // count: per rank
  virtual void reduce_scatter_raw(const void* in, void* out, int64_t count, DType dtype, Reduce op) = 0;  // count: per rank

 private:
  int rank_, world_size_;
  Device device_;
};

// The communicator of this process, made on the first call (later calls return the same one): NCCL
// for CUDA tensors when DYTGRAD_NCCL=1; else MPI when the program was started by mpirun
// (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK in the environment); else a single process.
// `device` is where the tensors it exchanges live. An error when the build lacks what is asked
// for, or when asked for another device than the first call's.
Communicator& world(Device device);

// Whether this build can run over several processes (MPI found at build time), and NCCL.
bool built_with_mpi();
bool built_with_nccl();

}  // namespace dytgrad::distributed
