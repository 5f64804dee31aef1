#include "nasops/core/private_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "nasops/util/text.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops {

namespace {

// The name of user `uid`, or its number when it has none.
std::string user_name(uid_t uid) {
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 1024> buffer{};
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
        return found->pw_name;
    }
    return std::to_string(uid);
}

constexpr std::string_view k_credential_parameters[] = {"access_token", "token",    "key", "api_key",  "apikey",
                                                        "secret",       "password", "sig", "signature"};

}  // namespace

std::optional<std::string> private_file_problem(const std::filesystem::path& path, const struct stat& st) {
    const auto mode = st.st_mode & 07777;
    if ((mode & 077) != 0) {
        const auto what = (mode & 044) != 0 ? "readable" : "writable";
        return fmt::format("is {} by others (mode {:04o}), which ssh refuses for a key: run chmod 600 {}", what, mode,
                           path.string());
    }
    return owner_problem(path, st);
}

std::optional<std::string> owner_problem(const std::filesystem::path& path, const struct stat& st) {
    const auto me = ::geteuid();
    if (st.st_uid != me && st.st_uid != 0) {
        const auto allowed = me == 0 ? std::string("root") : fmt::format("{} (who runs nasops) or root", user_name(me));
        return fmt::format("is owned by {}, not by {}: run chown {} {}", user_name(st.st_uid), allowed, user_name(me),
                           path.string());
    }
    return std::nullopt;
}

Result<std::string> read_private_line(const std::filesystem::path& path) {
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(ExitCode::config, fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return fail(ExitCode::config, fmt::format("cannot stat {}: {}", path.string(), std::strerror(errno)));
    }
    if (auto problem = private_file_problem(path, st)) {
        return fail(ExitCode::config, fmt::format("{} {}", path.string(), *problem));
    }
    std::string text;
    std::array<char, 4096> buffer{};
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return fail(ExitCode::config, fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
        if (n == 0) break;
        text.append(buffer.data(), static_cast<std::size_t>(n));
        if (text.find('\n') != std::string::npos) break;
    }
    if (const auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return text;
}

bool url_holds_secret(std::string_view value) {
    const auto scheme_end = value.find("://");
    if (scheme_end == std::string_view::npos) return false;
    const auto rest = value.substr(scheme_end + 3);
    const auto authority = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        if (authority.substr(0, at).find(':') != std::string_view::npos) return true;  // user:password@
    }
    const auto host = lower(authority.substr(authority.rfind('@') + 1));
    if (host == "hooks.slack.com" || host.starts_with("hooks.slack.com:")) return true;
    const auto query_start = rest.find('?');
    if (query_start == std::string_view::npos) return false;
    auto query = rest.substr(query_start + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        const auto name = lower(pair.substr(0, pair.find('=')));
        for (const auto credential : k_credential_parameters) {
            if (name == credential) return true;
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return false;
}

}  // namespace nasops
