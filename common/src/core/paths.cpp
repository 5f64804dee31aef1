#include "nasops/core/paths.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace nasops {

namespace {

namespace fs = std::filesystem;

// An XDG variable is used only when set to an absolute path.
std::optional<fs::path> xdg_dir(const EnvLookup& env, std::string_view name) {
    auto value = non_empty_env(env, name);
    if (!value || value->front() != '/') return std::nullopt;
    return fs::path(*value);
}

std::optional<fs::path> home_dir(uid_t uid, const EnvLookup& env) {
    if (auto home = non_empty_env(env, "HOME"); home && home->front() == '/') return fs::path(*home);
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
    passwd entry{};
    passwd* found = nullptr;
    while (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == ERANGE) {
        buffer.resize(buffer.size() * 2);
    }
    if (found == nullptr || found->pw_dir == nullptr || found->pw_dir[0] != '/') return std::nullopt;
    return fs::path(found->pw_dir);
}

}  // namespace

Result<Paths> resolve_paths(const Config& config, uid_t uid, const EnvLookup& env) {
    const auto& section = config.section("paths");
    Paths paths{section.get_path("state_dir"), section.get_path("log_dir"), section.get_path("run_dir")};
    if (uid == 0) {
        if (paths.state_dir.empty()) paths.state_dir = "/var/lib/nasops";
        if (paths.log_dir.empty()) paths.log_dir = "/var/log/nasops";
        if (paths.run_dir.empty()) paths.run_dir = "/run/nasops";
        return paths;
    }
    if (paths.state_dir.empty()) {
        if (auto xdg = xdg_dir(env, "XDG_STATE_HOME")) {
            paths.state_dir = *xdg / "nasops";
        } else if (auto home = home_dir(uid, env)) {
            paths.state_dir = *home / ".local/state/nasops";
        } else {
            return fail(ExitCode::config,
                        fmt::format("cannot find a state folder for uid {}: $XDG_STATE_HOME and $HOME are unset and "
                                    "the user has no home folder; set state_dir in [paths]",
                                    uid));
        }
    }
    if (paths.log_dir.empty()) paths.log_dir = paths.state_dir / "log";
    if (paths.run_dir.empty()) {
        auto runtime = xdg_dir(env, "XDG_RUNTIME_DIR");
        paths.run_dir = runtime ? *runtime / "nasops" : paths.state_dir / "run";
    }
    return paths;
}

Result<Paths> resolve_paths(const Config& config) {
    return resolve_paths(config, ::geteuid(), process_environment());
}

Result<fs::path> ensure_dir(const fs::path& dir) {
    auto failure = [&](const std::string& why) {
        return fail(ExitCode::cant_create, fmt::format("cannot create folder {}: {}", dir.string(), why));
    };
    auto not_a_folder = [&](const fs::path& part) {
        return failure(part == dir ? std::string("a file of that name exists")
                                   : fmt::format("{} is not a folder", part.string()));
    };
    if (dir.empty()) return fail(ExitCode::cant_create, "cannot create a folder with an empty name");
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return dir;
        return not_a_folder(dir);
    }
    fs::path prefix;
    for (const auto& part : dir) {
        prefix /= part;
        if (part.empty() || part == prefix.root_path()) continue;
        if (::mkdir(prefix.c_str(), 0750) == 0) continue;
        if (errno != EEXIST) return failure(std::strerror(errno));
        if (::stat(prefix.c_str(), &st) != 0) return failure(std::strerror(errno));
        if (!S_ISDIR(st.st_mode)) return not_a_folder(prefix);
    }
    return dir;
}

fs::path database_path(const Paths& paths) {
    return paths.state_dir / "nasops.db";
}

}  // namespace nasops
