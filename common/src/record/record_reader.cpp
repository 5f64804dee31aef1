#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <expected>
#include <istream>
#include <iterator>
#include <utility>

#include "nasops/record/json_fast.hpp"
#include "nasops/record/record.hpp"
#include "nasops/record/record_line.hpp"

namespace nasops {

class RecordReader::Source {
public:
    virtual ~Source() = default;
    // Reads what is available, up to `size` bytes, waiting for at least one;
    // 0 at the end of the input; an error message when the read fails.
    virtual std::expected<std::size_t, std::string> read(char* buf, std::size_t size) = 0;
};

namespace {

using nlohmann::json;

constexpr std::size_t k_min_read = std::size_t{64} << 10;
constexpr std::size_t k_initial_capacity = std::size_t{256} << 10;
// A whole line of the maximum length, its '\r', and room for one more read.
constexpr std::size_t k_max_capacity = k_max_record_line + 1 + k_min_read;
constexpr std::size_t k_max_message_excerpt = 300;

class FdSource final : public RecordReader::Source {
public:
    explicit FdSource(int fd) : m_fd(fd) {}

    std::expected<std::size_t, std::string> read(char* buf, std::size_t size) override {
        while (true) {
            const auto n = ::read(m_fd, buf, size);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                pollfd p{m_fd, POLLIN, 0};
                ::poll(&p, 1, -1);
                continue;
            }
            return std::unexpected(fmt::format("read failed: {}", std::strerror(errno)));
        }
    }

private:
    int m_fd;
};

class StreamSource final : public RecordReader::Source {
public:
    explicit StreamSource(std::istream& in) : m_in(in) {}

    std::expected<std::size_t, std::string> read(char* buf, std::size_t size) override {
        using Traits = std::istream::traits_type;
        auto* sb = m_in.rdbuf();
        if (sb == nullptr) return 0;
        std::streamsize avail = sb->in_avail();
        if (avail <= 0) {
            if (avail < 0 || Traits::eq_int_type(sb->sgetc(), Traits::eof())) return 0;
            avail = std::max<std::streamsize>(sb->in_avail(), 1);
        }
        const auto wanted = std::min<std::streamsize>(avail, static_cast<std::streamsize>(size));
        return static_cast<std::size_t>(sb->sgetn(buf, wanted));
    }

private:
    std::istream& m_in;
};

// Data quoted in a message: control and non-ASCII bytes as \xNN, cut to a sane length.
std::string printable(std::string_view text) {
    std::string out;
    out.reserve(std::min(text.size(), k_max_message_excerpt) + 8);
    for (const char c : text) {
        if (out.size() >= k_max_message_excerpt) {
            out += "...";
            break;
        }
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f) {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out += c;
        }
    }
    return out;
}

// nlohmann's reason without its "[json.exception.parse_error.101] parse error at
// line 1, " preamble: each record is one line, so only the column says anything.
std::string json_reason(const json::exception& e) {
    std::string_view what = e.what();
    if (const auto close = what.find("] "); what.starts_with("[json.exception.") && close != std::string_view::npos) {
        what.remove_prefix(close + 2);
    }
    constexpr std::string_view k_preamble = "parse error at line 1, ";
    if (what.starts_with(k_preamble)) what.remove_prefix(k_preamble.size());
    return printable(what);
}

bool is_blank(const char* begin, const char* end) {
    return std::all_of(begin, end, [](char c) { return c == ' ' || c == '\t'; });
}

}  // namespace

RecordReader::RecordReader(std::unique_ptr<Source> source) : m_source(std::move(source)), m_buf(k_initial_capacity) {}

RecordReader::RecordReader(int fd) : RecordReader(std::make_unique<FdSource>(fd)) {}

RecordReader::RecordReader(std::FILE* in) : RecordReader(std::make_unique<FdSource>(::fileno(in))) {}

RecordReader::RecordReader(std::istream& in) : RecordReader(std::make_unique<StreamSource>(in)) {}

void RecordReader::keep_fields(std::vector<std::string> names) {
    m_keep = std::move(names);
    if (m_keep.empty()) return;
    for (std::string_view envelope : {"v", "ts", "tool", "host", "kind"}) m_keep.emplace_back(envelope);
    std::ranges::sort(m_keep);
    const auto [first, last] = std::ranges::unique(m_keep);
    m_keep.erase(first, last);
}

RecordReader::RecordReader(RecordReader&&) noexcept = default;
RecordReader& RecordReader::operator=(RecordReader&&) noexcept = default;
RecordReader::~RecordReader() = default;

std::optional<ReadItem> RecordReader::next() {
    while (true) {
        if (m_skipping) {
            const char* base = m_buf.data();
            const void* newline = m_len > m_pos ? std::memchr(base + m_pos, '\n', m_len - m_pos) : nullptr;
            if (newline != nullptr) {
                m_pos = static_cast<std::size_t>(static_cast<const char*>(newline) - base) + 1;
                m_skipping = false;
                continue;
            }
            m_pos = m_len = 0;  // the over-long line's bytes are dropped as they come
            if (m_eof) {
                m_skipping = false;
            } else {
                fill();
            }
            continue;
        }

        const std::size_t pending = m_len - m_pos;
        if (m_scanned < pending) {
            const char* begin = m_buf.data() + m_pos;
            const void* newline = std::memchr(begin + m_scanned, '\n', pending - m_scanned);
            if (newline != nullptr) {
                const char* end = static_cast<const char*>(newline);
                m_pos += static_cast<std::size_t>(end - begin) + 1;
                m_scanned = 0;
                ++m_line;
                if (auto item = decode(begin, end)) return item;
                continue;
            }
            m_scanned = pending;
        }
        if (pending > k_max_record_line + 1) {
            ++m_line;
            m_pos = m_len = m_scanned = 0;
            m_skipping = true;
            return ReadProblem{ReadProblemKind::too_long, m_line,
                               fmt::format("line {}: longer than 1 MiB, skipped", m_line)};
        }
        if (m_eof) {
            if (pending == 0) {
                if (m_read_error) {
                    auto message = fmt::format("line {}: {}", m_line + 1, *m_read_error);
                    m_read_error.reset();
                    return ReadProblem{ReadProblemKind::read_error, m_line + 1, std::move(message)};
                }
                return std::nullopt;
            }
            const char* begin = m_buf.data() + m_pos;
            m_pos = m_len;
            m_scanned = 0;
            ++m_line;
            if (auto item = decode(begin, begin + pending)) return item;
            continue;
        }
        make_room();
        fill();
    }
}

void RecordReader::make_room() {
    if (m_buf.size() - m_len >= k_min_read) return;
    const std::size_t pending = m_len - m_pos;
    if (m_pos > 0) {
        std::memmove(m_buf.data(), m_buf.data() + m_pos, pending);
        m_pos = 0;
        m_len = pending;
    }
    if (m_buf.size() - m_len < k_min_read) {
        m_buf.resize(std::min(k_max_capacity, std::max(m_buf.size() * 2, m_len + k_min_read)));
    }
}

bool RecordReader::fill() {
    auto n = m_source->read(m_buf.data() + m_len, m_buf.size() - m_len);
    if (!n) {
        // A partial line before a failed read is not worth decoding.
        m_read_error = std::move(n.error());
        m_eof = true;
        m_pos = m_len;
        m_scanned = 0;
        return false;
    }
    if (*n == 0) {
        m_eof = true;
        return false;
    }
    m_len += *n;
    return true;
}

std::optional<ReadItem> RecordReader::decode(const char* begin, const char* end) {
    return decode_record_line(std::string_view(begin, static_cast<std::size_t>(end - begin)), m_line,
                              m_keep.empty() ? nullptr : &m_keep);
}

std::optional<ReadItem> decode_record_line(std::string_view line, std::uint64_t line_number,
                                           const std::vector<std::string>* keep) {
    const char* begin = line.data();
    const char* end = begin + line.size();
    if (end > begin && end[-1] == '\r') --end;
    auto problem = [&](ReadProblemKind kind, std::string_view text) -> ReadItem {
        return ReadProblem{kind, line_number, fmt::format("line {}: {}", line_number, text)};
    };
    if (static_cast<std::size_t>(end - begin) > k_max_record_line) {
        return problem(ReadProblemKind::too_long, "longer than 1 MiB, skipped");
    }
    if (is_blank(begin, end)) return std::nullopt;

    json object;
    if (!parse_json_fast(begin, end, object, keep)) {
        // nlohmann has the last word, and the words of the error message.
        try {
            object = json::parse(begin, end);
        } catch (const json::exception& e) {
            return problem(ReadProblemKind::malformed_json, fmt::format("malformed JSON: {}", json_reason(e)));
        }
        if (keep != nullptr && object.is_object()) {
            for (auto it = object.begin(); it != object.end();) {
                it = std::ranges::binary_search(*keep, it.key()) ? std::next(it) : object.erase(it);
            }
        }
    }
    if (!object.is_object()) {
        return problem(ReadProblemKind::not_object, fmt::format("not a JSON object but {}", object.type_name()));
    }

    const auto v = object.find("v");
    if (v == object.end()) {
        return problem(ReadProblemKind::unsupported_version,
                       fmt::format("unsupported schema version: no \"v\" field (this version reads v {})",
                                   k_record_schema_version));
    }
    // A non-negative integer is number_unsigned in nlohmann; 1.0 and "1" are not versions.
    if (!v->is_number_unsigned() || v->get<std::uint64_t>() != static_cast<std::uint64_t>(k_record_schema_version)) {
        return problem(
            ReadProblemKind::unsupported_version,
            fmt::format("unsupported schema version: v is {} (this version reads v {})",
                        printable(v->dump(-1, ' ', false, json::error_handler_t::replace)), k_record_schema_version));
    }

    // The envelope's string fields: present, strings, not empty.
    auto string_field = [&](std::string_view key, std::string_view& value) -> std::optional<std::string> {
        const auto it = object.find(key);
        if (it == object.end()) return fmt::format("invalid envelope: no \"{}\" field", key);
        if (!it->is_string()) return fmt::format("invalid envelope: \"{}\" is {}, not a string", key, it->type_name());
        value = it->get_ref<const std::string&>();
        if (value.empty()) return fmt::format("invalid envelope: \"{}\" is empty", key);
        return std::nullopt;
    };
    std::string_view kind_name, ts, tool, host;
    if (auto why = string_field("kind", kind_name)) return problem(ReadProblemKind::bad_envelope, *why);
    const auto kind = parse_record_kind(kind_name);
    if (!kind) return problem(ReadProblemKind::unknown_kind, fmt::format("unknown kind \"{}\"", printable(kind_name)));
    if (auto why = string_field("ts", ts)) return problem(ReadProblemKind::bad_envelope, *why);
    auto time = parse_rfc3339(ts);
    if (!time) {
        return problem(ReadProblemKind::bad_envelope,
                       fmt::format("invalid envelope: \"ts\": {}", printable(time.error().message)));
    }
    if (auto why = string_field("tool", tool)) return problem(ReadProblemKind::bad_envelope, *why);
    if (auto why = string_field("host", host)) return problem(ReadProblemKind::bad_envelope, *why);

    Record record;
    record.v = k_record_schema_version;
    record.ts = ts;
    record.time = *time;
    record.tool = tool;
    record.host = host;
    record.kind = *kind;
    record.object = std::move(object);
    return record;
}

}  // namespace nasops
