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
#include "span_reader.hpp"

namespace nasops::trace {

namespace {

namespace fs = std::filesystem;

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

struct FileIdentity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::string head;
};

// The identity of `path`; nullopt when it does not exist.
Result<std::optional<FileIdentity>> identify(const fs::path& path, const Sha256Api& crypto) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::optional<FileIdentity>();
        return fail(ExitCode::no_input, fmt::format("cannot stat {}: {}", path.string(), std::strerror(errno)));
    }
    FileIdentity id{static_cast<std::uint64_t>(st.st_dev),
                    static_cast<std::uint64_t>(st.st_ino),
                    static_cast<std::uint64_t>(st.st_size),
                    {}};
    TRY_ASSIGN(auto file, LineFile::open(path, 0, LastLine::wait));
    TRY_ASSIGN(auto first, file.next());
    if (first) id.head = sha256_hex(*first, crypto);
    return std::optional<FileIdentity>(std::move(id));
}

bool same_file(const FileIdentity& id, const ExportPosition& pos) {
    return id.device == pos.device && id.inode == pos.inode && id.size >= pos.offset &&
           (pos.offset == 0 || id.head == pos.head);
}

// Whether the rotated file `id` (at `path`) is the one the position is in:
// the same first line (renamed, copied or compressed since), or, at offset 0
// where no line was read yet, the same inode.
bool holds_position(const fs::path& path, const FileIdentity& id, const ExportPosition& pos) {
    if (pos.offset == 0) return id.device == pos.device && id.inode == pos.inode;
    return id.head == pos.head && (is_gz(path) || id.size >= pos.offset);
}

// Where to read this run: (path, offset) in order.
Result<std::vector<std::pair<fs::path, std::uint64_t>>> plan_sources(const fs::path& file,
                                                                     const std::optional<ExportPosition>& saved,
                                                                     const Sha256Api& crypto) {
    std::vector<std::pair<fs::path, std::uint64_t>> plan;
    TRY_ASSIGN(const auto current, identify(file, crypto));
    if (!saved) {
        if (current) plan.emplace_back(file, 0);
        return plan;
    }
    if (current && same_file(*current, *saved)) {
        plan.emplace_back(file, saved->offset);
        return plan;
    }
    // Rotated since the last run: the rest of the file the position is in
    // is among the rotations, renamed (create), copied (copytruncate) or
    // compressed since; it is read from the position, then every newer one.
    const auto rotated = rotations_of(file);
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < rotated.size() && !found; ++i) {
        TRY_ASSIGN(const auto old, identify(rotated[i], crypto));
        if (old && holds_position(rotated[i], *old, *saved)) found = i;
    }
    if (found) {
        plan.emplace_back(rotated[*found], saved->offset);
        for (auto i = *found; i-- > 0;) plan.emplace_back(rotated[i], 0);
    } else if (saved->offset > 0) {
        logger().warning(
            "{} was rotated and its old content is in none of its rotations (removed?): "
            "spans written after the last export and before the rotation may be missing",
            file.string());
    }
    if (current) plan.emplace_back(file, 0);
    return plan;
}

// How many bytes of `file` are past the stored position; nullopt when it is
// no longer the file the position is in (rotated, or truncated).
Result<std::optional<std::uint64_t>> unsent_bytes(SQLite::Database& db, const fs::path& file) {
    TRY_ASSIGN(const auto saved, load_position(db, file));
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return std::optional<std::uint64_t>(0);  // not created again yet
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (!saved) return std::optional<std::uint64_t>(size);
    if (saved->device != static_cast<std::uint64_t>(st.st_dev) ||
        saved->inode != static_cast<std::uint64_t>(st.st_ino) || size < saved->offset)
        return std::optional<std::uint64_t>();
    return std::optional<std::uint64_t>(size - saved->offset);
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
    const RetryWait& wait;
    const Clock& clock;
    ExportReport& report;

    Result<BatchOutcome> send(const OtlpRequest& batch) {
        HttpRequest request;
        request.method = "POST";
        request.url = otlp.url;
        request.timeout = otlp.timeout;
        request.headers = otlp.headers;
        request.headers.push_back({"Content-Type", "application/json"});
        request.body = batch.body();
        if (otlp.gzip) {
            TRY_ASSIGN(request.body, gzip_compress(request.body));
            request.headers.push_back({"Content-Encoding", "gzip"});
        }
        Duration backoff = limits.initial_backoff;
        for (int attempt = 1;; ++attempt) {
            auto response = client.send(request);
            std::string why;
            std::optional<Duration> asked;  // by Retry-After
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
                                 redact_url(otlp.url), batch.spans(), snippet(response->body));
                return BatchOutcome::rejected;
            } else if (retryable(response->status)) {
                why = fmt::format("{} answered {}", redact_url(otlp.url), response->status);
                asked = retry_after(*response, clock.now());
            } else {
                report.stopped = Error{
                    fmt::format("{} answered {}: {}", redact_url(otlp.url), response->status, snippet(response->body)),
                    ExitCode::unavailable};
                return BatchOutcome::stopped;
            }
            const Duration delay = asked.value_or(backoff);
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
            if (!wait(delay)) {
                report.stopped = Error{fmt::format("{}; stopped before a retry: the spans stay for the next run", why),
                                       ExitCode::unavailable};
                return BatchOutcome::stopped;
            }
            backoff = std::min(backoff * 2, limits.max_backoff);
        }
    }
};

}  // namespace

Result<ExportBacklog> export_backlog(SQLite::Database& db, const fs::path& file) {
    TRY_ASSIGN(const auto unsent, unsent_bytes(db, file));
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return ExportBacklog{};
    const auto size = static_cast<std::uint64_t>(st.st_size);
    ExportBacklog backlog{.spans = 0, .bytes = unsent.value_or(size)};
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(ExitCode::io_error, fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
    auto offset = static_cast<off_t>(size - backlog.bytes);
    char buffer[1 << 16];
    for (;;) {
        const auto n = ::pread(fd.get(), buffer, sizeof buffer, offset);
        if (n < 0)
            return fail(ExitCode::io_error, fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
        if (n == 0) break;
        backlog.spans += static_cast<std::uint64_t>(std::count(buffer, buffer + n, '\n'));
        offset += n;
    }
    return backlog;
}

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

Result<ExportReport> export_spans(const fs::path& file, Store& store, HttpClient& client, const Sha256Api& crypto,
                                  const OtlpSettings& otlp, const ExportLimits& limits, const RetryWait& wait,
                                  const Clock& clock) {
    ExportReport report;
    TRY_ASSIGN(const auto saved, load_position(store.db(), file));
    TRY_ASSIGN(const auto plan, plan_sources(file, saved, crypto));
    Sender sender{client, otlp, limits, wait, clock, report};

    for (const auto& [path, start] : plan) {
        TRY_ASSIGN(const auto identity, identify(path, crypto));
        if (!identity) continue;
        ExportPosition position{identity->device, identity->inode, start, identity->head};
        if (path == file && (!saved || saved->inode != position.inode || saved->device != position.device)) {
            // Past the rotated file: from now on the new file is the one to follow.
            TRY(save_position(store.db(), file, position));
        }
        TRY_ASSIGN(auto reader, SpanReader::open(path, start, LastLine::wait, SpanDetail::full));
        OtlpRequest batch(otlp);

        const auto flush = [&]() -> Result<bool> {
            if (batch.spans() == 0) {
                if (reader.offset() != position.offset) {  // only skipped lines: move past them
                    position.offset = reader.offset();
                    TRY(save_position(store.db(), file, position));
                }
                return true;
            }
            TRY_ASSIGN(const auto outcome, sender.send(batch));
            if (outcome == BatchOutcome::stopped) return false;
            if (outcome == BatchOutcome::accepted) {
                report.spans_sent += batch.spans();
                ++report.batches_sent;
            } else {
                report.spans_rejected += batch.spans();
                ++report.batches_rejected;
            }
            position.offset = reader.offset();
            if (position.head.empty()) {  // the file was empty when the run began
                TRY_ASSIGN(const auto now, identify(path, crypto));
                if (now) position.head = now->head;
            }
            TRY(save_position(store.db(), file, position));
            batch.clear();
            return true;
        };

        for (;;) {
            TRY_ASSIGN(const auto verdict, reader.next());
            if (!verdict) break;
            if (*verdict != LineVerdict::span) {
                ++report.lines_skipped;
                continue;
            }
            batch.add(reader.span());
            if (batch.spans() >= limits.batch_spans || batch.bytes() >= limits.batch_bytes) {
                TRY_ASSIGN(const bool go_on, flush());
                if (!go_on) return report;
            }
        }
        TRY_ASSIGN(const bool go_on, flush());
        if (!go_on) return report;
    }
    return report;
}

Result<ExportReport> follow_spans(const fs::path& file, Store& store, HttpClient& client, const Sha256Api& crypto,
                                  const OtlpSettings& otlp, const ExportLimits& limits, const FollowSettings& follow,
                                  StopSignals& stop, const Clock& clock) {
    ExportReport total;
    const RetryWait wait = [&](Duration d) { return !stop.wait(d); };
    for (;;) {
        TRY_ASSIGN(const auto pass, export_spans(file, store, client, crypto, otlp, limits, wait, clock));
        total.spans_sent += pass.spans_sent;
        total.batches_sent += pass.batches_sent;
        total.spans_rejected += pass.spans_rejected;
        total.batches_rejected += pass.batches_rejected;
        total.lines_skipped += pass.lines_skipped;
        total.retries += pass.retries;
        total.stopped = pass.stopped;
        if (follow.after_pass) follow.after_pass();
        if (stop.requested()) return total;
        if (pass.stopped) {
            logger().warning("{}; trying again in {}", pass.stopped->message, format_duration(limits.max_backoff));
            stop.wait(limits.max_backoff);
            continue;
        }
        // Until there is a reason for another pass.
        constexpr auto k_nothing_waits = std::chrono::steady_clock::time_point::max();
        auto waiting_since = k_nothing_waits;  // when unsent lines were first seen
        while (!stop.wait(follow.poll_interval)) {
            TRY_ASSIGN(const auto unsent, unsent_bytes(store.db(), file));
            if (!unsent) break;  // rotated
            if (*unsent == 0) {
                waiting_since = k_nothing_waits;
                continue;
            }
            const auto now = std::chrono::steady_clock::now();
            waiting_since = std::min(waiting_since, now);
            if (*unsent >= limits.batch_bytes || now - waiting_since >= follow.flush_interval) break;
        }
    }
}

}  // namespace nasops::trace
