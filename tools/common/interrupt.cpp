#include "tools/common/interrupt.h"

#include <csignal>
#include <unistd.h>

namespace dytgrad::tools {

namespace {
volatile std::sig_atomic_t stop_signals = 0;

void on_signal(int signal) {
  if (++stop_signals > 1) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  const char message[] = "\nstopping after this step (again to stop at once)\n";
  ssize_t ignored = ::write(STDERR_FILENO, message, sizeof(message) - 1);
  (void)ignored;
}
}  // namespace

void install_stop_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool stop_requested() { return stop_signals > 0; }

}  // namespace dytgrad::tools
