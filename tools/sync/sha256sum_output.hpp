#pragma once

// The text the NAS's `sha256sum` prints, read back into digests. Apart from
// the SFTP target that runs it, so that the parser of what a hostile NAS may
// send is tested and fuzzed alone.

#include <span>
#include <string>
#include <string_view>

#include "target.hpp"

namespace nasops::sync {

// Parses the output of `sha256sum -- FILE...` (GNU coreutils and BusyBox):
// "<64 hex>  <name>" per line, where a line that starts with '\' has its name
// escaped (\\ for '\', \n for a newline, \r for a carriage return). Returns
// the digests of `names`, in their order; nullopt for a name the output lacks.
Digests parse_sha256sum_output(std::string_view output, std::span<const std::string> names);

}  // namespace nasops::sync
