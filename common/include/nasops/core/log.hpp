#pragma once

// Logging: text lines to stderr and to <log>/<tool>.log, JSON audit events to
// <log>/audit.log. The process-wide logger is the one piece of global mutable
// state nasops allows. SIGHUP asks it to reopen its files, so logrotate can
// move them away under a long run (its postrotate sends the HUP through the
// pidfile that long runs keep).

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };

std::string_view log_level_name(LogLevel level) noexcept;

// The events of the audit trail; their names are the handbook's.
enum class AuditEvent {
    file_discovered,
    transfer_started,
    transfer_completed,
    transfer_failed,
    file_removed,
    storage_warning,
    alert_fired,
    alert_resolved,
    notification_failed,
    maintenance,
    system_error,
};

std::string_view audit_event_name(AuditEvent event) noexcept;  // "TRANSFER_STARTED"

struct LogOptions {
    std::string tool;                           // "sync": lines say nasops-sync
    LogLevel stderr_level = LogLevel::warning;  // --quiet: error; -v: info; -vv: debug
    LogLevel file_level = LogLevel::info;
    std::filesystem::path log_dir;  // empty: stderr only, no files, no audit
    bool colour = false;            // ANSI colour for the stderr labels

    // The stderr level that --quiet and -v/-vv ask for.
    static LogLevel stderr_level_for(bool quiet, int verbose) noexcept;
};

// error(), warning(), info() and debug(), formatting with fmt, for a class
// with write(LogLevel, message) and enabled(LogLevel).
template <class Derived>
class LogLevels {
public:
    template <class... Args>
    void error(fmt::format_string<Args...> f, Args&&... args) {
        self().write(LogLevel::error, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args>
    void warning(fmt::format_string<Args...> f, Args&&... args) {
        self().write(LogLevel::warning, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args>
    void info(fmt::format_string<Args...> f, Args&&... args) {
        if (self().enabled(LogLevel::info)) self().write(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args>
    void debug(fmt::format_string<Args...> f, Args&&... args) {
        if (self().enabled(LogLevel::debug)) self().write(LogLevel::debug, fmt::format(f, std::forward<Args>(args)...));
    }

private:
    Derived& self() { return static_cast<Derived&>(*this); }
};

class Logger : public LogLevels<Logger> {
public:
    Logger() = default;
    ~Logger() = default;
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    // Opens <log_dir>/<tool>.log and <log_dir>/audit.log for appending (creating
    // the folder). On failure the logger keeps writing to stderr and the Error
    // names the file (ExitCode::cant_create).
    Result<void> configure(LogOptions options);

    void write(LogLevel level, std::string_view message);
    // Appends one record line {"v":1,"ts":…,"tool":…,"host":…,"kind":"event","event":NAME,"pid":…, fields…}
    // (nasops-records(7)). `fields` must not use the envelope's names.
    void audit(AuditEvent event, const nlohmann::json& fields = nlohmann::json::object());

    // Closes and reopens the files under their names. Safe to call at any time;
    // writes also reopen by themselves after a SIGHUP (see reopen_logs_on_sighup).
    void reopen();

    // Whether a message of `level` would go anywhere: lets callers skip costly formatting.
    bool enabled(LogLevel level) const noexcept;

    // Lines formatted for stderr, the text log and the audit log, not written yet (see LogBatch).
    struct Lines {
        std::string err, text, audit;
    };
    // Appends the lines write() or audit() would write.
    void format(Lines& lines, LogLevel level, std::string_view message) const;
    void format(Lines& lines, AuditEvent event, const nlohmann::json& fields) const;
    // Writes each log's lines in one write(2), and empties them.
    void write(Lines& lines);

private:
    Result<void> open_files();
    void reopen_if_requested();

    mutable std::mutex m_mutex;
    LogOptions m_options{.tool = "nasops"};
    std::optional<RecordFormatter> m_audit_format;  // this tool on this host
    long m_pid = 0;                                 // read once: every line carries it
    UniqueFd m_text_fd;
    UniqueFd m_audit_fd;
    std::uint64_t m_seen_reopen_generation = 0;
};

// The process-wide logger that tools and library code write to.
Logger& logger();

// Log lines and audit events kept in memory, then written by flush() (or at
// destruction), each log's lines in one write(2): for the many lines per file
// that a batch of files makes, from several threads at once. Each line keeps
// the time it was logged at. One per thread.
class LogBatch : public LogLevels<LogBatch> {
public:
    explicit LogBatch(Logger& target) : m_logger(target) {}
    ~LogBatch() { flush(); }
    LogBatch(const LogBatch&) = delete;
    LogBatch& operator=(const LogBatch&) = delete;

    void write(LogLevel level, std::string_view message) { m_logger.format(m_lines, level, message); }
    void audit(AuditEvent event, const nlohmann::json& fields = nlohmann::json::object()) {
        m_logger.format(m_lines, event, fields);
    }
    void flush() { m_logger.write(m_lines); }
    bool enabled(LogLevel level) const noexcept { return m_logger.enabled(level); }

private:
    Logger& m_logger;
    Logger::Lines m_lines;
};

// Installs a SIGHUP handler that makes every Logger reopen its files before its
// next write. Idempotent.
void reopen_logs_on_sighup();

// A pidfile for long runs (logrotate's postrotate reads it to send SIGHUP, the
// health 'process' check reads it to find the daemon). Written atomically;
// removed at scope exit if it still names this process.
class PidFile {
public:
    static Result<PidFile> create(const std::filesystem::path& path);
    PidFile(PidFile&& other) noexcept;
    PidFile& operator=(PidFile&&) = delete;
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;
    ~PidFile();

    const std::filesystem::path& path() const { return m_path; }

private:
    explicit PidFile(std::filesystem::path path) : m_path(std::move(path)) {}
    std::filesystem::path m_path;
};

}  // namespace nasops
