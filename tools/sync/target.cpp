#include "target.hpp"

namespace nasops::sync {

namespace {

// Runs `one` for each item until one fails with ExitCode::unavailable; the
// items after it get that same Error without being tried.
template <class T, class Item, class F>
std::vector<Result<T>> each_until_unavailable(std::span<const Item> items, F&& one) {
    std::vector<Result<T>> out;
    out.reserve(items.size());
    std::optional<Error> gone;
    for (const auto& item : items) {
        if (gone) {
            out.emplace_back(std::unexpected(*gone));
            continue;
        }
        out.push_back(one(item));
        if (!out.back() && out.back().error().code == ExitCode::unavailable) gone = out.back().error();
    }
    return out;
}

}  // namespace

std::vector<Result<bool>> Target::write_files(std::span<const WholeFile> files) {
    return each_until_unavailable<bool>(files, [&](const WholeFile& f) -> Result<bool> {
        TRY_ASSIGN(auto file, open_write(f.rel_path, 0));
        if (!f.data.empty()) TRY((file)->write(f.data));
        TRY((file)->finish());
        return set_mtime(f.rel_path, f.mtime_ns);
    });
}

std::vector<Result<void>> Target::rename_all(std::span<const RenamePair> renames) {
    return each_until_unavailable<void>(renames, [&](const RenamePair& r) { return rename(r.from, r.to); });
}

std::vector<Result<TargetEntry>> Target::stat_all(std::span<const std::string> rel_paths) {
    return each_until_unavailable<TargetEntry>(rel_paths, [&](const std::string& p) { return stat(p); });
}

Result<void> Target::sha256_request(std::span<const std::string> rel_paths) {
    m_hash_requests.emplace_back(rel_paths.begin(), rel_paths.end());
    return {};
}

Result<std::optional<Digests>> Target::sha256_collect() {
    if (m_hash_requests.empty()) return fail(ExitCode::software, "sha256_collect without a sha256_request");
    const auto paths = std::move(m_hash_requests.front());
    m_hash_requests.pop_front();
    return sha256(paths);
}

}  // namespace nasops::sync
