#include "line_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace nasops::trace {

namespace {

constexpr std::size_t k_chunk = std::size_t{1} << 20;

}  // namespace

std::vector<std::filesystem::path> rotations_of(const std::filesystem::path& file) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    for (int n = 1;; ++n) {
        auto plain = file;
        plain += "." + std::to_string(n);
        auto compressed = plain;
        compressed += ".gz";
        if (std::filesystem::exists(plain, ec)) {
            out.push_back(std::move(plain));
        } else if (std::filesystem::exists(compressed, ec)) {
            out.push_back(std::move(compressed));
        } else {
            return out;
        }
    }
}

LineFile::LineFile(std::filesystem::path path, UniqueFd fd, GzFile gz, std::uint64_t offset, LastLine last)
    : m_path(std::move(path)),
      m_fd(std::move(fd)),
      m_gz(std::move(gz)),
      m_last(last),
      m_buf(k_chunk),
      m_offset(offset) {}

Result<LineFile> LineFile::open(const std::filesystem::path& path, std::uint64_t offset, LastLine last) {
    if (is_gz(path)) {
        auto gz = open_gz(path);
        if (!gz) return fail(ExitCode::no_input, fmt::format("cannot open {}", path.string()));
        // Forward from the start: zlib decompresses up to the offset.
        if (offset > 0 && gzseek(gz.get(), static_cast<z_off_t>(offset), SEEK_SET) < 0)
            return fail(ExitCode::io_error, fmt::format("cannot read {}: corrupt or truncated", path.string()));
        return LineFile(path, UniqueFd(), std::move(gz), offset, last);
    }
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(ExitCode::no_input, fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    return LineFile(path, std::move(fd), GzFile(), offset, last);
}

Result<std::size_t> LineFile::read_at(char* buf, std::size_t size, std::uint64_t at) {
    if (m_gz) {
        const int n = gzread(m_gz.get(), buf, static_cast<unsigned>(size));
        if (n < 0)
            return fail(ExitCode::io_error, fmt::format("cannot read {}: corrupt or truncated", m_path.string()));
        return static_cast<std::size_t>(n);
    }
    for (;;) {
        const auto n = ::pread(m_fd.get(), buf, size, static_cast<off_t>(at));
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR)
            return fail(ExitCode::io_error, fmt::format("cannot read {}: {}", m_path.string(), std::strerror(errno)));
    }
}

Result<std::optional<std::string_view>> LineFile::next() {
    for (bool read_more = true;;) {
        const char* begin = m_buf.data() + m_pos;
        const std::size_t pending = m_len - m_pos;
        if (const void* nl = std::memchr(begin + m_scanned, '\n', pending - m_scanned)) {
            const auto length = static_cast<std::size_t>(static_cast<const char*>(nl) - begin);
            m_pos += length + 1;
            m_offset += length + 1;
            m_scanned = 0;
            ++m_line;
            return std::optional<std::string_view>(std::string_view(begin, length));
        }
        m_scanned = pending;
        if (!read_more) {
            if (m_last == LastLine::read && pending > 0) {
                m_pos = m_len;
                m_offset += pending;
                m_scanned = 0;
                ++m_line;
                return std::optional<std::string_view>(std::string_view(begin, pending));
            }
            return std::optional<std::string_view>();
        }
        // Room for a chunk after what is pending: move it to the front, or grow.
        if (m_pos > 0) {
            std::memmove(m_buf.data(), m_buf.data() + m_pos, pending);
            m_pos = 0;
            m_len = pending;
        }
        if (m_buf.size() - m_len < k_chunk) m_buf.resize(m_len + k_chunk);
        TRY_ASSIGN(const auto n, read_at(m_buf.data() + m_len, k_chunk, m_offset + m_len));
        m_len += n;
        read_more = n > 0;
    }
}

}  // namespace nasops::trace
