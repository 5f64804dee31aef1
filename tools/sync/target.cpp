#include "target.hpp"

#include <fmt/format.h>

namespace nasops::sync {

Result<std::optional<Digests>> PendingDigests::collect() {
    if (!m_collect) return fail(ExitCode::software, "SHA-256s collected twice");
    auto collect = std::move(m_collect);
    m_collect = nullptr;
    return collect();
}

std::vector<Result<bool>> write_each(Target& target, std::span<const WholeFile> files) {
    return one_at_a_time<bool>(files, [&](const WholeFile& f) -> Result<bool> {
        TRY_ASSIGN(auto file, target.open_write(f.rel_path, 0));
        if (!f.data.empty()) TRY(file->write(f.data));
        return file->finish(f.mtime_ns);
    });
}

std::string_view parent_of(std::string_view rel_path) noexcept {
    const auto slash = rel_path.rfind('/');
    return slash == std::string_view::npos ? std::string_view{} : rel_path.substr(0, slash);
}

std::string_view name_of(std::string_view rel_path) noexcept {
    const auto slash = rel_path.rfind('/');
    return slash == std::string_view::npos ? rel_path : rel_path.substr(slash + 1);
}

std::string join_path(std::string_view folder, std::string_view name) {
    if (folder.empty()) return std::string(name);
    return fmt::format("{}/{}", folder, name);
}

}  // namespace nasops::sync
