#pragma once

// The top-level record fields evaluation reads, so that the record reader
// builds only those (RecordReader::keep_fields): at hundreds of thousands of
// records a second, building fields nobody reads is most of the work.

#include <string>
#include <vector>

#include "alert/rules.hpp"

namespace nasops::alert {

// The fields the evaluator reads of every record (kind, name, labels, target,
// path, host, status, message, value) and those the rules name in their
// matchers, conditions, summaries and descriptions.
std::vector<std::string> record_fields(const AlertSettings& settings);

}  // namespace nasops::alert
