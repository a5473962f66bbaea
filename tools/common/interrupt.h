// Ctrl-C (SIGINT) and SIGTERM during training: the first one asks the loop to stop after the
// current step, save a checkpoint and say how to resume; a second one ends the program at once.
#pragma once

namespace dytgrad::tools {

void install_stop_handler();
bool stop_requested();

}  // namespace dytgrad::tools
