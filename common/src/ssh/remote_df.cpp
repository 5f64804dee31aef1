#include "nasops/ssh/remote_df.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace nasops {

Result<FsStat> remote_df(SshSession& session, std::string_view path) {
    const std::vector<std::string> argv{"df", "-P", "-k", "--", std::string(path)};
    TRY_ASSIGN(auto run, session.exec(argv));
    if (run.exit_status == 0) {
        if (auto st = parse_df_output(run.out)) return *st;
    }
    return fail(ExitCode::io_error, fmt::format("df -P -k -- {} on the server exited with {}: {}", path,
                                                run.exit_status, run.err.substr(0, 200)));
}

}  // namespace nasops
