#pragma once

// A zlib gzFile closed at scope exit. zlib reads plain files through it
// unchanged, so one reader serves a log and its gzipped rotations.

#include <zlib.h>

#include <filesystem>
#include <memory>

namespace nasops::trace {

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// `path` opened for reading with a 128 KiB buffer; null when it cannot be opened.
GzFile open_gz(const std::filesystem::path& path);

// True for a name that ends in ".gz".
bool is_gz(const std::filesystem::path& path);

}  // namespace nasops::trace
