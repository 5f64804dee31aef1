#pragma once

// The text `df -P -k` prints, read into an FsStat: remote_df's parser, apart
// from the session that runs df, so that what a hostile NAS may print is
// tested and fuzzed alone.

#include <optional>
#include <string_view>

#include "nasops/util/fs_stat.hpp"

namespace nasops {

// Reads the one file-system line of `df -P -k` output (inodes stay 0). The
// device and the mount point may both hold spaces: the numbers are found by
// the capacity column ("67%") that follows them.
std::optional<FsStat> parse_df_output(std::string_view text);

}  // namespace nasops
