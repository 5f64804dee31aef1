#include "sidecar.hpp"

#include <fmt/format.h>

#include "backup.hpp"
#include "check.hpp"
#include "database.hpp"
#include "nasops/util/atomic_file.hpp"
#include "nasops/util/sha256.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

fs::path sidecar_path(const fs::path& backup) {
    return fs::path(backup.string() + ".sha256");
}

std::string sidecar_line(std::string_view hex, const fs::path& backup) {
    return fmt::format("{}  {}\n", hex, backup.filename().string());
}

Result<void> write_sidecar(const fs::path& backup, std::string_view hex) {
    return write_file_atomically(sidecar_path(backup), sidecar_line(hex, backup), 0600);
}

Result<std::string> read_sidecar(const fs::path& backup) {
    const auto path = sidecar_path(backup);
    std::error_code ec;
    if (!fs::exists(path, ec))
        return fail(ExitCode::no_input,
                    fmt::format("{}: no checksum beside it ({} is missing)", backup.string(), path.string()));
    std::string text;
    {
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (f == nullptr) return fail(ExitCode::no_input, fmt::format("cannot open {}", path.string()));
        char buf[512];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < 4096) text.append(buf, n);
        std::fclose(f);
    }
    const auto bad = [&](std::string_view why) {
        return fail(ExitCode::data_error, fmt::format("{}: {}", path.string(), why));
    };
    if (const auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
    if (text.size() < k_sha256_hex_length + 2 || !is_sha256_hex(text.substr(0, k_sha256_hex_length)))
        return bad("not a sha256sum line (<64 hex digits>  <file name>)");
    auto name = std::string_view(text).substr(k_sha256_hex_length);
    if (!name.starts_with("  ") && !name.starts_with(" *"))
        return bad("not a sha256sum line (<64 hex digits>  <file name>)");
    name.remove_prefix(2);
    if (name != backup.filename().string())
        return bad(fmt::format("names '{}', not {}", name, backup.filename().string()));
    std::string hex = text.substr(0, k_sha256_hex_length);
    for (auto& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return hex;
}

namespace {

Result<void> same_digest(const fs::path& backup, std::string_view actual, std::string_view expected) {
    if (actual == expected) return {};
    return fail(ExitCode::data_error,
                fmt::format("{}: SHA-256 {} does not match its sidecar's {}: the file was changed or truncated",
                            backup.string(), actual, expected));
}

}  // namespace

Result<void> check_pages(const fs::path& file, std::string_view label, CheckDepth depth, Reading reading) {
    auto db = open_database(file, Access::read_only);
    if (!db) return fail(ExitCode::data_error, db.error().message);
    try {
        if (reading == Reading::mapped) (*db)->exec(fmt::format("PRAGMA mmap_size = {}", k_mmap_bytes));
    } catch (const std::exception& e) {
        return std::unexpected(db_error(file, "mmap_size", e));
    }
    TRY_ASSIGN(const auto lines, integrity_lines(**db, file, depth));
    if (lines.size() != 1 || lines.front() != "ok")
        return fail(ExitCode::data_error,
                    fmt::format("{}: {}: {}", label, depth == CheckDepth::full ? "integrity_check" : "quick_check",
                                lines.empty() ? "no answer" : lines.front()));
    return {};
}

Result<void> unpack_backup(const fs::path& backup, const fs::path& dest, std::string_view expected, CheckDepth depth,
                           Durability durability) {
    RemovedAtExit unpacked(dest);
    const auto transform = is_gzip_backup(backup) ? Transform::gunzip : Transform::copy;
    TRY_ASSIGN(const auto streamed, stream_copy(backup, dest, transform, Hash::input, durability));
    TRY(same_digest(backup, streamed.sha256, expected));
    if (streamed.damage) return fail(ExitCode::data_error, fmt::format("{}: {}", backup.string(), *streamed.damage));
    TRY(check_pages(dest, fmt::format("{} (unpacked to {})", backup.string(), dest.string()), depth, Reading::mapped));
    unpacked.keep();
    return {};
}

Result<std::string> verify_backup_file(const fs::path& backup, CheckDepth depth) {
    std::error_code ec;
    if (!fs::is_regular_file(backup, ec))
        return fail(ExitCode::no_input, fmt::format("no backup at {}", backup.string()));
    TRY_ASSIGN(auto expected, read_sidecar(backup));
    if (is_gzip_backup(backup)) {
        // Its pages can be checked only decompressed: beside it, gone after.
        RemovedAtExit scratch(scratch_path(backup));
        TRY(unpack_backup(backup, scratch.path(), expected, depth, Durability::none));
        return expected;
    }
    TRY_ASSIGN(const auto actual, sha256_file(backup));
    TRY(same_digest(backup, actual, expected));
    TRY(check_pages(backup, backup.string(), depth));
    return actual;
}

}  // namespace nasops::dbmaint
