#include "empty_folders.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "nasops/core/log.hpp"

namespace nasops::sync {

namespace {

SystemTimePoint mtime_of(const struct stat& st) {
    return SystemTimePoint(std::chrono::duration_cast<SystemTimePoint::duration>(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

class Pruner {
public:
    Pruner(const std::filesystem::path& source, const EmptyFolderRules& rules)
        : m_source(source), m_rules(rules), m_log(logger()) {}

    // Removes the empty folders below `dir` (at `rel`); true when it removed any.
    bool prune(DIR* dir, const std::string& rel, std::size_t depth) {
        const int fd = ::dirfd(dir);
        bool removed_any = false;
        for (const auto& name : child_folders(dir, rel)) {
            const std::string child_rel = rel.empty() ? name : rel + "/" + name;
            if (m_rules.filter.prunes_folder(child_rel) || depth + 1 >= k_max_scan_depth) continue;
            auto child = open_folder(fd, name.c_str());
            if (!child) {
                if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR) failed("cannot read folder", child_rel);
                continue;
            }
            const bool emptied_below = prune(child.get(), child_rel, depth + 1);
            struct stat st {};
            if (::fstat(::dirfd(child.get()), &st) != 0) continue;
            child.reset();
            if (!emptied_below && !may_remove_folder(m_rules, child_rel, mtime_of(st))) continue;
            if (::unlinkat(fd, name.c_str(), AT_REMOVEDIR) != 0) {
                // Not empty (ENOTEMPTY, EEXIST): something is in it, or arrived since. Gone already: fine.
                if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) failed("cannot remove folder", child_rel);
                continue;
            }
            removed_any = true;
            ++m_counts.removed;
            const auto path = (m_source / child_rel).string();
            m_log.info("removed empty folder {}", path);
            m_log.audit(AuditEvent::file_removed, {{"path", path}, {"folder", true}});
        }
        m_log.flush();
        return removed_any;
    }

    EmptyFolderCounts counts() const { return m_counts; }

private:
    // The names of the folders in `dir`, read before any is removed.
    std::vector<std::string> child_folders(DIR* dir, const std::string& rel) {
        std::vector<std::string> names;
        for (;;) {
            errno = 0;
            const dirent* entry = ::readdir(dir);
            if (entry == nullptr) {
                if (errno != 0) failed("cannot read folder", rel);
                break;
            }
            const std::string_view name = entry->d_name;
            if (name == "." || name == "..") continue;
            if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) continue;
            names.emplace_back(name);
        }
        return names;
    }

    void failed(std::string_view what, const std::string& rel) {
        ++m_counts.errors;
        m_log.warning("{} {}: {}", what, (m_source / rel).string(), std::strerror(errno));
    }

    const std::filesystem::path& m_source;
    const EmptyFolderRules& m_rules;
    LogBatch m_log;
    EmptyFolderCounts m_counts;
};

}  // namespace

bool may_remove_folder(const EmptyFolderRules& rules, std::string_view rel_path, SystemTimePoint mtime) {
    return mtime <= rules.changed_after || rules.emptied.contains(std::string(rel_path));
}

EmptyFolderCounts remove_empty_folders(const std::filesystem::path& source, const EmptyFolderRules& rules) {
    // The source itself may be a link: the operator named it.
    DirPtr root(::opendir(source.c_str()));
    if (!root) {
        logger().warning("cannot read source folder {}: {}", source.string(), std::strerror(errno));
        return EmptyFolderCounts{.removed = 0, .errors = 1};
    }
    Pruner pruner(source, rules);
    pruner.prune(root.get(), "", 0);
    return pruner.counts();
}

}  // namespace nasops::sync
