// dytgrad's version: the one place it is written (CMakeLists.txt reads it from here for the
// package's version file). Semantic versioning; before 1.0 a minor release may change the API.
#pragma once

#define DYTGRAD_VERSION_MAJOR 0
#define DYTGRAD_VERSION_MINOR 1
#define DYTGRAD_VERSION_PATCH 0

#define DYTGRAD_STRINGIFY_(x) #x
#define DYTGRAD_STRINGIFY(x) DYTGRAD_STRINGIFY_(x)
// "0.1.0"
#define DYTGRAD_VERSION_STRING                                                           \
  DYTGRAD_STRINGIFY(DYTGRAD_VERSION_MAJOR) "." DYTGRAD_STRINGIFY(DYTGRAD_VERSION_MINOR) "." \
  DYTGRAD_STRINGIFY(DYTGRAD_VERSION_PATCH)
