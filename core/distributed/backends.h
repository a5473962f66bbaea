// The backends world() picks from (communicator.cpp); each is compiled only when its library was
// found at build time (DYTGRAD_MPI, DYTGRAD_NCCL).
#pragma once
#include <memory>

#include "communicator.h"

namespace dytgrad::distributed {

// Initialises MPI (once per process) and makes the communicator of MPI_COMM_WORLD; on CUDA it
// copies each tensor to host memory and back around the MPI call.
std::unique_ptr<Communicator> make_mpi_communicator(Device device);
// An NCCL communicator for CUDA tensors: under mpirun over MPI's ranks (rank 0 makes the NCCL id and
// broadcasts it over MPI; each rank uses the GPU of its local rank), else a world of one.
std::unique_ptr<Communicator> make_nccl_communicator(Device device, bool under_mpirun);

}  // namespace dytgrad::distributed
