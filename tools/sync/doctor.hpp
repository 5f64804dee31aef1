#pragma once

// nasops-sync doctor: the troubleshooting guide for "files are not arriving"
// as one command. It checks, in order, what a run needs of the NAS (name,
// connection, host key, login, SFTP, the remote root, writing and renaming
// there, hashing there, free space) and of this host (the state database,
// the lock, the errors logged), and says for each finding what to try.

#include <string>
#include <vector>

#include "nasops/core/exit_code.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/util/clock.hpp"
#include "options.hpp"
#include "target.hpp"

namespace nasops::sync {

struct Finding {
    std::string name;                // "dns", "host_key", "remote_write": the check record's name
    ExitCode status = ExitCode::ok;  // ok, warning, critical or unknown
    std::string message;             // one line: what was found
    std::string fix;                 // what to try; empty when there is nothing to do
    Duration took{};
};

// Runs every check against `spec` (connecting through `factory`) and the
// state in `paths`, in the guide's order. Checks that need an earlier one
// that failed are UNKNOWN ("not checked").
std::vector<Finding> run_doctor(const TargetSpec& spec, const TargetFactory& factory, const Paths& paths,
                                const Clock& clock);

// The worst status of `findings`, as monitoring-plugins rank them.
ExitCode doctor_exit_code(const std::vector<Finding>& findings);

}  // namespace nasops::sync
