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
#include <string>
#include <string_view>

#include "nasops/error.hpp"
#include "nasops/unique_fd.hpp"

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

class Logger {
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

    template <class... Args>
    void error(fmt::format_string<Args...> f, Args&&... args) {
        write(LogLevel::error, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args>
    void warning(fmt::format_string<Args...> f, Args&&... args) {
        write(LogLevel::warning, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args>
    void info(fmt::format_string<Args...> f, Args&&... args) {
        if (enabled(LogLevel::info)) write(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args>
    void debug(fmt::format_string<Args...> f, Args&&... args) {
        if (enabled(LogLevel::debug)) write(LogLevel::debug, fmt::format(f, std::forward<Args>(args)...));
    }

    // Whether a message of `level` would go anywhere: lets callers skip costly formatting.
    bool enabled(LogLevel level) const noexcept;

private:
    Result<void> open_files();
    void reopen_if_requested();

    mutable std::mutex m_mutex;
    LogOptions m_options{.tool = "nasops"};
    std::string m_host;
    UniqueFd m_text_fd;
    UniqueFd m_audit_fd;
    std::uint64_t m_seen_reopen_generation = 0;
};

// The process-wide logger that tools and library code write to.
Logger& logger();

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
