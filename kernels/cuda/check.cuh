// Every CUDA and cuBLAS call goes through one of these; a failure becomes a std::runtime_error
// naming the call, the file and the line. DYT_CUDA_LAUNCHED() checks the last launch.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace dytgrad::kernels::cuda {

[[noreturn]] inline void fail(const std::string& what, const char* call, const char* file, int line) {
  throw std::runtime_error("CUDA error: " + what + " in " + call + " at " + file + ":" + std::to_string(line));
}

}  // namespace dytgrad::kernels::cuda

#define DYT_CUDA_CHECK(call)                                                                   \
  do {                                                                                         \
    cudaError_t err_ = (call);                                                                 \
    if (err_ != cudaSuccess) ::dytgrad::kernels::cuda::fail(cudaGetErrorString(err_), #call, __FILE__, __LINE__); \
  } while (0)

#define DYT_CUBLAS_CHECK(call)                                                                 \
  do {                                                                                         \
    cublasStatus_t st_ = (call);                                                               \
    if (st_ != CUBLAS_STATUS_SUCCESS)                                                          \
      ::dytgrad::kernels::cuda::fail(cublasGetStatusString(st_), #call, __FILE__, __LINE__);   \
  } while (0)

#define DYT_CUDA_LAUNCHED() DYT_CUDA_CHECK(cudaGetLastError())
