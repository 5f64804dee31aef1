#include "stream_copy.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "nasops/util/sha256.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_chunk = std::size_t{1} << 20;
// zlib's level 1: a database compresses to about what level 6 gives it (its
// pages repeat little across the 32 KiB window) at two to three times the speed.
constexpr int k_gzip_level = Z_BEST_SPEED;
constexpr int k_gzip_window = 15 + 16;  // a gzip (RFC 1952) header and trailer, not zlib's

// A z_stream set up for one direction, ended on scope exit.
class ZStream {
public:
    explicit ZStream(Transform transform) : m_inflate(transform == Transform::gunzip) {
        if (transform == Transform::copy) return;
        m_ok = m_inflate ? inflateInit2(&m_z, k_gzip_window) == Z_OK
                         : deflateInit2(&m_z, k_gzip_level, Z_DEFLATED, k_gzip_window, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~ZStream() {
        if (!m_ok) return;
        if (m_inflate)
            inflateEnd(&m_z);
        else
            deflateEnd(&m_z);
    }
    ZStream(const ZStream&) = delete;
    ZStream& operator=(const ZStream&) = delete;
    bool ok() const { return m_ok; }
    z_stream& z() { return m_z; }

private:
    z_stream m_z{};
    bool m_inflate;
    bool m_ok = false;
};

class Pass {
public:
    Pass(const fs::path& from, const fs::path& to, int out, Hash hash)
        : m_from(from), m_to(to), m_out(out), m_hash(hash) {}

    // The next chunk of the input into `buffer`; 0 at its end.
    Result<std::size_t> read(int in, char* buffer) {
        for (;;) {
            const ssize_t n = ::read(in, buffer, k_chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return io_error("cannot read", m_from);
            const auto got = static_cast<std::size_t>(n);
            if (m_hash == Hash::input) m_sha.update(std::string_view(buffer, got));
            m_result.bytes_in += got;
            return got;
        }
    }

    Result<void> write(const char* data, std::size_t size) {
        if (m_hash == Hash::output) m_sha.update(std::string_view(data, size));
        m_result.bytes_out += size;
        for (std::size_t done = 0; done < size;) {
            const ssize_t n = ::write(m_out, data + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return io_error("cannot write", m_to);
            done += static_cast<std::size_t>(n);
        }
        return {};
    }

    Streamed& result() { return m_result; }
    Streamed finish() {
        if (m_hash != Hash::none) m_result.sha256 = m_sha.hex_digest();
        return std::move(m_result);
    }

    static std::unexpected<Error> io_error(std::string_view what, const fs::path& path) {
        return fail(ExitCode::io_error, fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
    }

private:
    const fs::path& m_from;
    const fs::path& m_to;
    int m_out;
    Hash m_hash;
    Sha256 m_sha;
    Streamed m_result;
};

// Runs (de)compression over the input it was given, writing what comes out,
// until it wants more input (or, with Z_FINISH, until the stream ends).
// Returns zlib's last code.
Result<int> drain(ZStream& zs, Pass& pass, char* out, int flush, bool inflating) {
    auto& z = zs.z();
    for (;;) {
        z.next_out = reinterpret_cast<Bytef*>(out);
        z.avail_out = static_cast<uInt>(k_chunk);
        const int rc = inflating ? inflate(&z, flush) : deflate(&z, flush);
        const auto produced = k_chunk - z.avail_out;
        if (produced > 0) TRY(pass.write(out, produced));
        if (rc == Z_STREAM_END || rc == Z_DATA_ERROR || rc == Z_NEED_DICT) return rc;
        if (rc == Z_STREAM_ERROR || rc == Z_MEM_ERROR)
            return fail(ExitCode::software, fmt::format("zlib: {}", zError(rc)));
        // Z_OK or Z_BUF_ERROR: done with this input once zlib has room left.
        if (z.avail_out != 0 && (flush != Z_FINISH || inflating)) return rc;
    }
}

}  // namespace

RemovedAtExit::~RemovedAtExit() {
    std::error_code ec;
    if (!m_kept) fs::remove(m_path, ec);
}

Result<Streamed> stream_copy(const fs::path& from, const fs::path& to, Transform transform, Hash hash,
                             Durability durability) {
    UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) return fail(ExitCode::no_input, fmt::format("cannot open {}: {}", from.string(), std::strerror(errno)));
    ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!out)
        return fail(ExitCode::cant_create, fmt::format("cannot create {}: {}", to.string(), std::strerror(errno)));
    RemovedAtExit remove_to(to);
    ZStream zs(transform);
    if (transform != Transform::copy && !zs.ok()) return fail(ExitCode::software, "zlib: cannot set up a stream");
    const auto input = std::make_unique_for_overwrite<char[]>(k_chunk);
    const auto output = std::make_unique_for_overwrite<char[]>(k_chunk);
    Pass pass(from, to, out.get(), hash);
    auto& damage = pass.result().damage;
    bool ended = false;  // gunzip: the gzip stream's trailer was read
    for (;;) {
        TRY_ASSIGN(const auto n, pass.read(in.get(), input.get()));
        if (n == 0) break;
        if (transform == Transform::copy) {
            TRY(pass.write(input.get(), n));
            continue;
        }
        if (damage) continue;  // only hashing, to the end
        if (ended) {
            damage = "bytes follow the end of the gzip stream";
            continue;
        }
        auto& z = zs.z();
        z.next_in = reinterpret_cast<Bytef*>(input.get());
        z.avail_in = static_cast<uInt>(n);
        TRY_ASSIGN(const int rc, drain(zs, pass, output.get(), Z_NO_FLUSH, transform == Transform::gunzip));
        if (transform != Transform::gunzip) continue;
        if (rc == Z_STREAM_END) {
            ended = true;
            if (z.avail_in != 0) damage = "bytes follow the end of the gzip stream";
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            damage = fmt::format("not a whole gzip stream ({})", z.msg != nullptr ? z.msg : zError(rc));
        }
    }
    if (transform == Transform::gzip) {
        zs.z().avail_in = 0;
        TRY_ASSIGN(const int rc, drain(zs, pass, output.get(), Z_FINISH, false));
        if (rc != Z_STREAM_END) return fail(ExitCode::software, fmt::format("zlib: {}", zError(rc)));
    }
    if (transform == Transform::gunzip && !ended && !damage)
        damage = pass.result().bytes_in == 0 ? "empty, not a gzip file" : "truncated: the gzip stream ends early";
    if (damage) return pass.finish();
    if (durability == Durability::fsync && ::fsync(out.get()) != 0) return Pass::io_error("cannot sync", to);
    if (out.close() != 0) return Pass::io_error("cannot close", to);
    remove_to.keep();
    return pass.finish();
}

}  // namespace nasops::dbmaint
