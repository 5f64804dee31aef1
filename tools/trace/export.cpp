#include "export.hpp"

#include <SQLiteCpp/Statement.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "nasops/core/log.hpp"
#include "nasops/util/sha256.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::trace {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr Migration k_migrations[] = {
    {"trace", 1,
     "CREATE TABLE trace_export_progress ("
     " file TEXT PRIMARY KEY,"
     " device INTEGER NOT NULL,"
     " inode INTEGER NOT NULL,"
     " offset INTEGER NOT NULL,"
     " head TEXT NOT NULL,"
     " updated_at TEXT NOT NULL)"},
};

// An open file read line by line from an offset, each line with the offset
// just after it. A last line without its newline is not read: its writer
// may not have finished it.
class LineFile {
public:
    static Result<LineFile> open(const fs::path& path, std::uint64_t offset) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            return fail(ExitCode::no_input, fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
        LineFile f;
        f.m_path = path;
        f.m_fd = std::move(fd);
        f.m_offset = offset;
        return f;
    }

    // The next complete line (without "\n"), nullopt at the end.
    Result<std::optional<std::string_view>> next() {
        for (;;) {
            const auto nl = std::find(m_buf.begin() + static_cast<std::ptrdiff_t>(m_pos), m_buf.end(), '\n');
            if (nl != m_buf.end()) {
                const auto begin = m_pos;
                const auto length = static_cast<std::size_t>(nl - m_buf.begin()) - begin;
                m_pos = begin + length + 1;
                m_offset += length + 1;
                return std::optional<std::string_view>(std::string_view(m_buf.data() + begin, length));
            }
            if (m_eof) return std::optional<std::string_view>();
            m_buf.erase(m_buf.begin(), m_buf.begin() + static_cast<std::ptrdiff_t>(m_pos));
            m_pos = 0;
            const auto old = m_buf.size();
            m_buf.resize(old + k_chunk);
            const auto n = ::pread(m_fd.get(), m_buf.data() + old, k_chunk, static_cast<off_t>(m_offset + old));
            if (n < 0) {
                m_buf.resize(old);
                if (errno == EINTR) continue;
                return fail(ExitCode::io_error,
                            fmt::format("cannot read {}: {}", m_path.string(), std::strerror(errno)));
            }
            m_buf.resize(old + static_cast<std::size_t>(n));
            if (n == 0) m_eof = true;
        }
    }

    std::uint64_t offset() const noexcept { return m_offset; }

private:
    static constexpr std::size_t k_chunk = std::size_t{1} << 20;
    fs::path m_path;
    UniqueFd m_fd;
    std::vector<char> m_buf;
    std::size_t m_pos = 0;
    std::uint64_t m_offset = 0;  // of the byte at m_buf[m_pos]
    bool m_eof = false;
};

struct FileIdentity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::string head;
};

// The identity of `path`; nullopt when it does not exist.
Result<std::optional<FileIdentity>> identify(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::optional<FileIdentity>();
        return fail(ExitCode::no_input, fmt::format("cannot stat {}: {}", path.string(), std::strerror(errno)));
    }
    FileIdentity id{static_cast<std::uint64_t>(st.st_dev),
                    static_cast<std::uint64_t>(st.st_ino),
                    static_cast<std::uint64_t>(st.st_size),
                    {}};
    TRY_ASSIGN(auto file, LineFile::open(path, 0));
    TRY_ASSIGN(auto first, file.next());
    if (first) id.head = sha256_hex(*first);
    return std::optional<FileIdentity>(std::move(id));
}

bool same_file(const FileIdentity& id, const ExportPosition& pos) {
    return id.device == pos.device && id.inode == pos.inode && id.size >= pos.offset &&
           (pos.offset == 0 || id.head == pos.head);
}

// Where to read this run: (path, offset) in order.
Result<std::vector<std::pair<fs::path, std::uint64_t>>> plan_sources(const fs::path& file,
                                                                     const std::optional<ExportPosition>& saved) {
    std::vector<std::pair<fs::path, std::uint64_t>> plan;
    TRY_ASSIGN(const auto current, identify(file));
    if (!saved) {
        if (current) plan.emplace_back(file, 0);
        return plan;
    }
    if (current && same_file(*current, *saved)) {
        plan.emplace_back(file, saved->offset);
        return plan;
    }
    // Rotated since the last run: the rest of the old file is in file.1,
    // renamed (same inode) or copied (same first line).
    fs::path rotated = file;
    rotated += ".1";
    TRY_ASSIGN(const auto old, identify(rotated));
    const bool renamed = old && old->device == saved->device && old->inode == saved->inode;
    const bool copied = old && old->head == saved->head && old->size >= saved->offset;
    if (old && (renamed || copied) && old->size >= saved->offset) {
        plan.emplace_back(rotated, saved->offset);
    } else if (saved->offset > 0) {
        logger().warning(
            "{} was rotated and its old content is not in {} (compressed, or removed): "
            "spans written after the last export and before the rotation may be missing",
            file.string(), rotated.string());
    }
    if (current) plan.emplace_back(file, 0);
    return plan;
}

bool accepted(long status) {
    return status >= 200 && status < 300;
}

bool retryable(long status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
}

std::string snippet(std::string_view body) {
    std::string out(body.substr(0, 200));
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
}

enum class BatchOutcome { accepted, rejected, stopped };

struct Sender {
    HttpClient& client;
    const OtlpSettings& otlp;
    const ExportLimits& limits;
    const std::function<void(Duration)>& sleep;
    const Clock& clock;
    ExportReport& report;

    Result<BatchOutcome> send(const std::vector<TracedSpan>& spans) {
        HttpRequest request;
        request.method = "POST";
        request.url = otlp.url;
        request.timeout = otlp.timeout;
        request.headers = otlp.headers;
        request.headers.push_back({"Content-Type", "application/json"});
        request.body = otlp_request_json(spans, otlp);
        if (otlp.gzip) {
            TRY_ASSIGN(request.body, gzip_compress(request.body));
            request.headers.push_back({"Content-Encoding", "gzip"});
        }
        Duration backoff = limits.initial_backoff;
        for (int attempt = 1;; ++attempt) {
            auto response = client.send(request);
            std::string why;
            std::optional<Duration> wait;
            if (!response) {
                if (response.error().code != ExitCode::unavailable) {
                    report.stopped = response.error();
                    return BatchOutcome::stopped;
                }
                why = response.error().message;
            } else if (accepted(response->status)) {
                return BatchOutcome::accepted;
            } else if (response->status == 400) {
                logger().warning("{}: the collector refused a batch of {} spans as malformed (400: {}); skipped",
                                 redact_url(otlp.url), spans.size(), snippet(response->body));
                return BatchOutcome::rejected;
            } else if (retryable(response->status)) {
                why = fmt::format("{} answered {}", redact_url(otlp.url), response->status);
                wait = retry_after(*response, clock.now());
            } else {
                report.stopped = Error{
                    fmt::format("{} answered {}: {}", redact_url(otlp.url), response->status, snippet(response->body)),
                    ExitCode::unavailable};
                return BatchOutcome::stopped;
            }
            const Duration delay = wait.value_or(backoff);
            if (attempt >= limits.max_attempts || delay > limits.max_backoff) {
                report.stopped = Error{
                    fmt::format("{} (after {} attempt(s){}); the spans stay for the next run", why, attempt,
                                delay > limits.max_backoff ? fmt::format(", asked to wait {}", format_duration(delay))
                                                           : std::string()),
                    ExitCode::unavailable};
                return BatchOutcome::stopped;
            }
            logger().info("{}; retrying in {}", why, format_duration(delay));
            ++report.retries;
            sleep(delay);
            backoff = std::min(backoff * 2, limits.max_backoff);
        }
    }
};

}  // namespace

std::span<const Migration> migrations() {
    return k_migrations;
}

Result<std::optional<ExportPosition>> load_position(SQLite::Database& db, const fs::path& file) {
    try {
        SQLite::Statement q(db, "SELECT device, inode, offset, head FROM trace_export_progress WHERE file = ?");
        q.bind(1, file.string());
        if (!q.executeStep()) return std::optional<ExportPosition>();
        return std::optional<ExportPosition>(ExportPosition{static_cast<std::uint64_t>(q.getColumn(0).getInt64()),
                                                            static_cast<std::uint64_t>(q.getColumn(1).getInt64()),
                                                            static_cast<std::uint64_t>(q.getColumn(2).getInt64()),
                                                            q.getColumn(3).getString()});
    } catch (const std::exception& e) {
        return fail(ExitCode::io_error, fmt::format("cannot read the export position: {}", e.what()));
    }
}

Result<void> save_position(SQLite::Database& db, const fs::path& file, const ExportPosition& position) {
    try {
        return in_transaction(db, [&]() -> Result<void> {
            SQLite::Statement q(db,
                                "INSERT INTO trace_export_progress (file, device, inode, offset, head, updated_at) "
                                "VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
                                "ON CONFLICT(file) DO UPDATE SET device = excluded.device, inode = excluded.inode, "
                                "offset = excluded.offset, head = excluded.head, updated_at = excluded.updated_at");
            q.bind(1, file.string());
            q.bind(2, static_cast<std::int64_t>(position.device));
            q.bind(3, static_cast<std::int64_t>(position.inode));
            q.bind(4, static_cast<std::int64_t>(position.offset));
            q.bind(5, position.head);
            q.exec();
            return {};
        });
    } catch (const std::exception& e) {
        return fail(ExitCode::io_error, fmt::format("cannot store the export position: {}", e.what()));
    }
}

std::optional<Duration> retry_after(const HttpResponse& response, SystemTimePoint now) {
    for (const auto& h : response.headers) {
        if (h.name.size() != 11 || strncasecmp(h.name.c_str(), "retry-after", 11) != 0) continue;
        long seconds = 0;
        const auto& v = h.value;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
        if (ec == std::errc{} && end == v.data() + v.size() && seconds >= 0) return Duration(seconds * 1000);
        std::tm tm{};
        if (const char* rest = ::strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm); rest && *rest == '\0') {
            const auto at = std::chrono::system_clock::from_time_t(::timegm(&tm));
            return std::max(Duration(0), std::chrono::duration_cast<Duration>(at - now));
        }
    }
    return std::nullopt;
}

Result<ExportReport> export_spans(const fs::path& file, Store& store, HttpClient& client, const OtlpSettings& otlp,
                                  const ExportLimits& limits, const std::function<void(Duration)>& sleep,
                                  const Clock& clock) {
    ExportReport report;
    TRY_ASSIGN(const auto saved, load_position(store.db(), file));
    TRY_ASSIGN(const auto plan, plan_sources(file, saved));
    Sender sender{client, otlp, limits, sleep, clock, report};

    for (const auto& [path, start] : plan) {
        TRY_ASSIGN(const auto identity, identify(path));
        if (!identity) continue;
        ExportPosition position{identity->device, identity->inode, start, identity->head};
        if (path == file && (!saved || saved->inode != position.inode || saved->device != position.device)) {
            // Past the rotated file: from now on the new file is the one to follow.
            TRY(save_position(store.db(), file, position));
        }
        TRY_ASSIGN(auto lines, LineFile::open(path, start));
        std::vector<TracedSpan> batch;
        std::size_t batch_bytes = 0;

        const auto flush = [&]() -> Result<bool> {
            if (batch.empty()) {
                if (lines.offset() != position.offset) {  // only skipped lines: move past them
                    position.offset = lines.offset();
                    TRY(save_position(store.db(), file, position));
                }
                return true;
            }
            TRY_ASSIGN(const auto outcome, sender.send(batch));
            if (outcome == BatchOutcome::stopped) return false;
            if (outcome == BatchOutcome::accepted) {
                report.spans_sent += batch.size();
                ++report.batches_sent;
            } else {
                report.spans_rejected += batch.size();
                ++report.batches_rejected;
            }
            position.offset = lines.offset();
            if (position.head.empty()) {  // the file was empty when the run began
                TRY_ASSIGN(const auto now, identify(path));
                if (now) position.head = now->head;
            }
            TRY(save_position(store.db(), file, position));
            batch.clear();
            batch_bytes = 0;
            return true;
        };

        for (;;) {
            TRY_ASSIGN(const auto line, lines.next());
            if (!line) break;
            const auto object = json::parse(*line, nullptr, false);
            const bool is_span = object.is_object() && object.value("kind", "") == "span";
            auto span = is_span ? parse_span_fields(object) : Result<SpanData>(std::unexpected(Error{}));
            if (!span) {
                if (line->find_first_not_of(" \t\r") != std::string_view::npos) ++report.lines_skipped;
                continue;
            }
            batch.push_back(TracedSpan{std::move(*span), object.value("tool", ""), object.value("host", "")});
            batch_bytes += line->size();
            if (batch.size() >= limits.batch_spans || batch_bytes >= limits.batch_bytes) {
                TRY_ASSIGN(const bool go_on, flush());
                if (!go_on) return report;
            }
        }
        TRY_ASSIGN(const bool go_on, flush());
        if (!go_on) return report;
    }
    return report;
}

}  // namespace nasops::trace
