#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "nasops/core/error.hpp"

namespace nasops {

// Writes `content` to `path` so that a reader sees either the old file or the
// whole new one, never a part: it writes <path>.tmp in the same folder, fsyncs
// it, renames it over `path` and fsyncs the folder. On failure `path` is left as
// it was, the .tmp is removed, and the Error names the file (cant_create when
// the file cannot be made, io_error when a write or sync fails).
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode = 0644);

}  // namespace nasops
