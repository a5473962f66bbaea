// The flags a resumed run refuses. A run resumed from a checkpoint takes its model and training
// settings from it; a flag that would change one of them is refused (naming it) rather than ignored.
#pragma once
#include <CLI/CLI.hpp>
#include <initializer_list>
#include <string>

namespace dytgrad::tools {

// The --help group of the flags that decide a run's numbers.
constexpr const char* kSettingsGroup = "Model and training (a resumed run takes these from its checkpoint)";

// Puts the named flags in kSettingsGroup.
void mark_settings(CLI::App& app, std::initializer_list<const char*> names);

// After parsing, with --resume given: false (and a message on stderr naming `program` and the
// flags) when any flag of kSettingsGroup was given.
bool resume_flags_allowed(const CLI::App& app, const std::string& program);

}  // namespace dytgrad::tools
