#include "core/capture.h"

#include "core/error.h"

namespace dytgrad {

namespace {
thread_local int g_depth = 0;
}  // namespace

CaptureScope::CaptureScope() { ++g_depth; }
CaptureScope::~CaptureScope() { --g_depth; }

bool in_capture() { return g_depth > 0; }

void check_not_capturing(std::string_view what, std::string_view why) {
  DYT_CHECK(!in_capture(), "{} inside a captured step: {} (a CUDA graph records the step's device work and "
            "replays it without the host code; move this out of the step)", what, why);
}

}  // namespace dytgrad
