#pragma once

// What the security check looks for, on the local file system: files and
// folders anyone may write to, setuid and setgid files among the media,
// secret files open to others, files owned by a stranger. One pass over each
// folder with lstat, links never followed; every finding is counted, the
// first `cap` are kept with the command that fixes each.

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace nasops::health {

class SecurityFindings {
public:
    explicit SecurityFindings(std::size_t cap) : m_cap(cap) {}

    // One finding: "/srv/media/x is writable by everyone: run chmod o-w /srv/media/x".
    void add(std::string finding);

    std::size_t total() const noexcept { return m_total; }
    // The first `cap` findings, in the order they were found.
    const std::vector<std::string>& listed() const noexcept { return m_listed; }
    // Files and folders looked at.
    std::size_t examined = 0;

    // False when the folder of `st` was looked at already (a state folder
    // inside the config folder): scan_tree neither judges nor enters it again.
    bool first_visit(const struct stat& st) { return m_folders_seen.emplace(st.st_dev, st.st_ino).second; }

private:
    std::set<std::pair<dev_t, ino_t>> m_folders_seen;
    std::size_t m_cap;
    std::size_t m_total = 0;
    std::vector<std::string> m_listed;
};

enum class Setuid : bool { allowed, finding };
enum class Depth : bool { whole_tree, its_entries };

// Walks `root` and everything under it, or only its own entries (links not
// followed, folders it cannot read skipped), and notes what anyone may write to (but a link, whose
// mode means nothing), and with Setuid::finding the setuid and setgid files.
// A root that does not exist is nothing to report. A folder scanned before
// with the same `findings` is skipped: scan whole trees before their parents'
// entries.
void scan_tree(const std::filesystem::path& root, Setuid setuid, Depth depth, SecurityFindings& findings);

// A file that holds a secret (an SSH key, a password file): it must be
// private (core/private_file.hpp). A missing file is not a finding.
void check_private_file(const std::filesystem::path& path, SecurityFindings& findings);

// A file others may read but only its owner may change (known_hosts): owned
// by the user running nasops or by root. A missing file is not a finding.
void check_file_owner(const std::filesystem::path& path, SecurityFindings& findings);

}  // namespace nasops::health
