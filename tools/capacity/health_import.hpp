#pragma once

// Samples from the check records nasops-health already writes
// (`nasops-health --format json | nasops-capacity record --from-stdin`): the
// disk and nas_disk checks carry the used ratio and the bytes available, from
// which used and total follow; the record's ts is the sample's time.

#include <optional>

#include "nasops/core/error.hpp"
#include "nasops/record/record.hpp"
#include "samples.hpp"

namespace nasops::capacity {

// The sample a record holds: nullopt for a record that is not a disk or
// nas_disk check (or nas-disk, as the check is named on the command line), or
// one that measured nothing (status unknown). A disk check whose figures are
// missing or malformed is ExitCode::data_error saying which.
Result<std::optional<TargetSample>> sample_from_check(const Record& record);

}  // namespace nasops::capacity
