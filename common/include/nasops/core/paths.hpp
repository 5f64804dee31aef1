#pragma once

// Where nasops keeps its state (the database, locks), its logs and its
// runtime files (pidfiles). The [paths] keys of nasops.toml win; otherwise
// root gets the FHS folders and other users the XDG ones.

#include <sys/types.h>

#include <filesystem>

#include "nasops/core/config.hpp"
#include "nasops/core/environment.hpp"
#include "nasops/core/error.hpp"

namespace nasops {

struct Paths {
    std::filesystem::path state_dir;
    std::filesystem::path log_dir;
    std::filesystem::path run_dir;
};

// Resolves each folder from [paths] in `config`, else from the defaults for
// the effective user `uid`:
//   root:   /var/lib/nasops, /var/log/nasops, /run/nasops
//   others: state $XDG_STATE_HOME/nasops or ~/.local/state/nasops,
//           log <state>/log, run $XDG_RUNTIME_DIR/nasops or <state>/run
// XDG variables that are empty or relative are ignored, as the XDG Base
// Directory specification says. Without $HOME the password database gives the
// home folder. Creates nothing; fails (ExitCode::config) only when a non-root
// user's state folder cannot be found at all.
Result<Paths> resolve_paths(const Config& config, uid_t uid, const EnvLookup& env);
// The same for this process: its effective uid and its environment.
Result<Paths> resolve_paths(const Config& config);

// Creates `dir` and its missing parents (mode 0750, less the umask), and
// returns it. Fails with ExitCode::cant_create, naming the folder and why.
Result<std::filesystem::path> ensure_dir(const std::filesystem::path& dir);

// The SQLite database: <state>/nasops.db.
std::filesystem::path database_path(const Paths& paths);

}  // namespace nasops
