#pragma once

// A traces file read line by line from a byte offset, with the offset after
// each line: what export remembers, and what every reader of spans reads
// through. A name ending in ".gz" (a rotation logrotate compressed) is read
// decompressed, its offsets counted in decompressed bytes.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "gz_file.hpp"
#include "nasops/core/error.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::trace {

// What to do with a last line that has no "\n" yet.
enum class LastLine {
    wait,  // leave it: its writer may not have finished it (export)
    read,  // read it as a line (the reports)
};

// The rotations of `file` that exist, newest first: file.1 (or file.1.gz),
// file.2 (or file.2.gz), ... up to the first number that has neither.
std::vector<std::filesystem::path> rotations_of(const std::filesystem::path& file);

class LineFile {
public:
    // Opens `path` to read from byte `offset`. Errors: ExitCode::no_input naming it.
    static Result<LineFile> open(const std::filesystem::path& path, std::uint64_t offset, LastLine last);

    // The next line (without its "\n"), valid until the next call; nullopt at
    // the end of what the file holds now. A later call reads what was
    // appended since. Errors: ExitCode::io_error naming the file.
    Result<std::optional<std::string_view>> next();

    // The byte offset just after the last line returned.
    std::uint64_t offset() const noexcept { return m_offset; }
    // The number of lines returned so far: read from the start, the number of the last one.
    std::uint64_t line_number() const noexcept { return m_line; }
    const std::filesystem::path& path() const noexcept { return m_path; }

private:
    LineFile(std::filesystem::path path, UniqueFd fd, GzFile gz, std::uint64_t offset, LastLine last);
    // Reads up to `size` bytes at the file offset `at`; 0 at the end.
    Result<std::size_t> read_at(char* buf, std::size_t size, std::uint64_t at);

    std::filesystem::path m_path;
    UniqueFd m_fd;
    GzFile m_gz;  // instead of m_fd for a compressed file, read in order
    LastLine m_last;
    std::vector<char> m_buf;
    std::size_t m_pos = 0;       // start of the bytes not returned yet
    std::size_t m_len = 0;       // end of the bytes read
    std::size_t m_scanned = 0;   // bytes after m_pos already searched for "\n"
    std::uint64_t m_offset = 0;  // of the byte at m_buf[m_pos]
    std::uint64_t m_line = 0;
};

}  // namespace nasops::trace
