#include "health/security_scan.hpp"

#include <fmt/format.h>

#include <system_error>

#include "nasops/core/private_file.hpp"

namespace nasops::health {

namespace fs = std::filesystem;

namespace {

// False for a folder judged before, which is not to be entered again.
bool judge_entry(const fs::path& path, const struct stat& st, Setuid setuid, SecurityFindings& findings) {
    if (S_ISDIR(st.st_mode) && !findings.first_visit(st)) return false;
    ++findings.examined;
    if (S_ISLNK(st.st_mode)) return true;
    if ((st.st_mode & S_IWOTH) != 0) {
        findings.add(fmt::format("{} is writable by everyone (mode {:04o}): run chmod o-w {}", path.string(),
                                 st.st_mode & 07777, path.string()));
    }
    if (setuid == Setuid::finding && S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) != 0) {
        findings.add(fmt::format("{} is set{} (mode {:04o}): run chmod u-s,g-s {}", path.string(),
                                 (st.st_mode & S_ISUID) != 0 ? "uid" : "gid", st.st_mode & 07777, path.string()));
    }
    return true;
}

}  // namespace

void SecurityFindings::add(std::string finding) {
    ++m_total;
    if (m_listed.size() < m_cap) m_listed.push_back(std::move(finding));
}

void scan_tree(const fs::path& root, Setuid setuid, Depth depth, SecurityFindings& findings) {
    struct stat st {};
    if (::lstat(root.c_str(), &st) != 0) return;
    if (!judge_entry(root, st, setuid, findings) || !S_ISDIR(st.st_mode)) return;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (::lstat(it->path().c_str(), &st) != 0) continue;  // gone since it was listed
        if (!judge_entry(it->path(), st, setuid, findings) || depth == Depth::its_entries) {
            it.disable_recursion_pending();
        }
    }
}

void check_private_file(const fs::path& path, SecurityFindings& findings) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return;
    ++findings.examined;
    if (auto problem = private_file_problem(path, st)) findings.add(fmt::format("{} {}", path.string(), *problem));
}

void check_file_owner(const fs::path& path, SecurityFindings& findings) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return;
    ++findings.examined;
    if (auto problem = owner_problem(path, st)) findings.add(fmt::format("{} {}", path.string(), *problem));
}

}  // namespace nasops::health
