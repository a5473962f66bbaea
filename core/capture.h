// Capturing a training step as a CUDA graph (nn/captured_step.h) records its device work instead of
// running it, so inside the captured code nothing may read device values on the host, copy between
// host and device, or draw random numbers whose state lives on the host (a replay would repeat the
// draw). CaptureScope marks that stretch of code on every backend: on CUDA around the capture, on
// the CPU (where nothing is recorded) around the same code, so that a step which would break a
// capture fails on the CPU as well, with the same message. The places that would do such a thing
// call check_not_capturing first.
#pragma once
#include <string_view>

namespace dytgrad {

class CaptureScope {
 public:
  CaptureScope();
  ~CaptureScope();
  CaptureScope(const CaptureScope&) = delete;
  CaptureScope& operator=(const CaptureScope&) = delete;
};

bool in_capture();
// Raises "<what> inside a captured step: <why>" when in_capture().
void check_not_capturing(std::string_view what, std::string_view why);

}  // namespace dytgrad
