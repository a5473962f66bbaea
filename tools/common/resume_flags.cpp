#include "tools/common/resume_flags.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <vector>

namespace dytgrad::tools {

void mark_settings(CLI::App& app, std::initializer_list<const char*> names) {
  for (const char* name : names) app.get_option(name)->group(kSettingsGroup);
}

bool resume_flags_allowed(const CLI::App& app, const std::string& program) {
  std::vector<std::string> refused;
  for (const CLI::Option* option : app.get_options())
    if (option->count() > 0 && option->get_group() == kSettingsGroup) refused.push_back(option->get_name());
  if (refused.empty()) return true;
  fmt::print(stderr, "{}: --resume continues with the checkpoint's model and training settings; {} cannot change them "
             "(start a new run, or leave the flag out)\n", program, fmt::join(refused, ", "));
  return false;
}

}  // namespace dytgrad::tools
