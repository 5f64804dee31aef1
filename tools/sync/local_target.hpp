#pragma once

// A local folder as the target: a mounted NAS share, a second disk, or the
// stand-in NAS of `make -f Makefile.ops run`. It keeps every guarantee of the
// SFTP target (temporary names, verification, renames) and adds fsync of each
// file and of the folders its renames touched.

#include <filesystem>
#include <set>

#include "target.hpp"

namespace nasops::sync {

class LocalTarget final : public Target {
public:
    explicit LocalTarget(std::filesystem::path root);

    std::string describe() const override;
    std::string location(std::string_view rel_path) const override;
    std::vector<Result<TargetEntry>> stat(std::span<const std::string> rel_paths) override;
    Result<void> make_dirs(std::string_view rel_path) override;
    Result<std::unique_ptr<TargetFile>> open_write(std::string_view rel_path, std::uint64_t offset) override;
    std::vector<Result<bool>> write_files(std::span<const WholeFile> files) override;
    std::vector<Result<void>> rename(std::span<const RenamePair> renames) override;
    Result<void> remove(std::string_view rel_path) override;
    Result<void> commit() override;
    Result<std::uint64_t> available_space(std::string_view rel_folder) override;
    // Computed at the collect, a file at a time.
    Result<PendingDigests> sha256(std::span<const std::string> rel_paths) override;

private:
    std::filesystem::path path_of(std::string_view rel_path) const;
    Result<TargetEntry> stat_one(std::string_view rel_path);
    Result<void> rename_one(const RenamePair& pair);
    Result<std::optional<Digests>> hash_files(std::span<const std::string> rel_paths);

    std::filesystem::path m_root;
    std::set<std::string> m_dirty_folders;  // relative folders whose entries changed since commit()
};

}  // namespace nasops::sync
