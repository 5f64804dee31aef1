#pragma once

// One NDJSON line decoded as RecordReader decodes each line it reads, for a
// reader that finds its lines itself (nasops-trace's span reader, which reads
// from byte offsets and tries a faster path first).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/record/record.hpp"

namespace nasops {

// `line` (its "\n" removed; a trailing "\r" is dropped here) as a Record, or
// the ReadProblem that says why it is not one, numbered `line_number`;
// nullopt for a blank line. `keep`, when not null, is a sorted list of the
// top-level fields to build, envelope included (RecordReader::keep_fields).
std::optional<ReadItem> decode_record_line(std::string_view line, std::uint64_t line_number,
                                           const std::vector<std::string>* keep = nullptr);

}  // namespace nasops
