#include "gz_file.hpp"

namespace nasops::trace {

GzFile open_gz(const std::filesystem::path& path) {
    GzFile file(gzopen(path.c_str(), "rb"));
    if (file) gzbuffer(file.get(), 1 << 17);
    return file;
}

bool is_gz(const std::filesystem::path& path) {
    return path.extension() == ".gz";
}

}  // namespace nasops::trace
