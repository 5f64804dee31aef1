#include "nasops/core/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "nasops/record/record.hpp"
#include "nasops/util/atomic_file.hpp"
#include "nasops/util/clock.hpp"

namespace nasops {

namespace {

// Bumped by the SIGHUP handler; every Logger compares it with the generation it
// last reopened at. A lock-free atomic is async-signal-safe.
std::atomic<std::uint64_t> g_reopen_generation{0};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

void on_sighup(int /*signal*/) {
    g_reopen_generation.fetch_add(1, std::memory_order_relaxed);
}

UniqueFd open_append(const std::filesystem::path& path) {
    return UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
}

// One write(2) per call, of whole lines: with O_APPEND, lines from several
// processes sharing audit.log never interleave.
void write_line(int fd, std::string_view line) {
    while (!line.empty()) {
        const auto n = ::write(fd, line.data(), line.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // a full log disk must not stop the job being logged
        }
        line.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string_view colour_of(LogLevel level) {
    switch (level) {
        case LogLevel::error: return "\033[1;31m";
        case LogLevel::warning: return "\033[1;33m";
        default: return "";
    }
}

}  // namespace

std::string_view log_level_name(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::error: return "error";
        case LogLevel::warning: return "warning";
        case LogLevel::info: return "info";
        case LogLevel::debug: return "debug";
    }
    return "info";
}

std::string_view audit_event_name(AuditEvent event) noexcept {
    switch (event) {
        case AuditEvent::file_discovered: return "FILE_DISCOVERED";
        case AuditEvent::transfer_started: return "TRANSFER_STARTED";
        case AuditEvent::transfer_completed: return "TRANSFER_COMPLETED";
        case AuditEvent::transfer_failed: return "TRANSFER_FAILED";
        case AuditEvent::file_removed: return "FILE_REMOVED";
        case AuditEvent::storage_warning: return "STORAGE_WARNING";
        case AuditEvent::alert_fired: return "ALERT_FIRED";
        case AuditEvent::alert_resolved: return "ALERT_RESOLVED";
        case AuditEvent::notification_failed: return "NOTIFICATION_FAILED";
        case AuditEvent::maintenance: return "MAINTENANCE";
        case AuditEvent::system_error: return "SYSTEM_ERROR";
    }
    return "EVENT";
}

LogLevel LogOptions::stderr_level_for(bool quiet, int verbose) noexcept {
    if (quiet) return LogLevel::error;
    if (verbose >= 2) return LogLevel::debug;
    if (verbose == 1) return LogLevel::info;
    return LogLevel::warning;
}

Result<void> Logger::open_files() {
    m_text_fd.reset();
    m_audit_fd.reset();
    m_seen_reopen_generation = g_reopen_generation.load(std::memory_order_relaxed);
    if (m_options.log_dir.empty()) return {};
    std::error_code ec;
    std::filesystem::create_directories(m_options.log_dir, ec);
    if (ec) {
        return fail(ExitCode::cant_create,
                    fmt::format("cannot create log folder {}: {}", m_options.log_dir.string(), ec.message()));
    }
    const auto text_path = m_options.log_dir / fmt::format("{}.log", m_options.tool);
    const auto audit_path = m_options.log_dir / "audit.log";
    m_text_fd = open_append(text_path);
    if (!m_text_fd) {
        return fail(ExitCode::cant_create,
                    fmt::format("cannot open log {}: {}", text_path.string(), std::strerror(errno)));
    }
    m_audit_fd = open_append(audit_path);
    if (!m_audit_fd) {
        return fail(ExitCode::cant_create,
                    fmt::format("cannot open audit log {}: {}", audit_path.string(), std::strerror(errno)));
    }
    return {};
}

Result<void> Logger::configure(LogOptions options) {
    std::lock_guard lock(m_mutex);
    m_options = std::move(options);
    m_audit_format.emplace(m_options.tool, local_hostname());
    m_pid = ::getpid();
    return open_files();
}

bool Logger::enabled(LogLevel level) const noexcept {
    std::lock_guard lock(m_mutex);
    return level <= m_options.stderr_level || (m_text_fd && level <= m_options.file_level);
}

void Logger::reopen_if_requested() {
    if (g_reopen_generation.load(std::memory_order_relaxed) != m_seen_reopen_generation) {
        (void)open_files();  // failures leave stderr logging in place; the next HUP tries again
    }
}

void Logger::reopen() {
    std::lock_guard lock(m_mutex);
    (void)open_files();
}

void Logger::format(Lines& lines, LogLevel level, std::string_view message) const {
    std::lock_guard lock(m_mutex);
    if (level <= m_options.stderr_level) {
        if (level == LogLevel::info) {
            fmt::format_to(std::back_inserter(lines.err), "nasops-{}: {}\n", m_options.tool, message);
        } else if (m_options.colour && !colour_of(level).empty()) {
            fmt::format_to(std::back_inserter(lines.err), "nasops-{}: {}{}:\033[0m {}\n", m_options.tool,
                           colour_of(level), log_level_name(level), message);
        } else {
            fmt::format_to(std::back_inserter(lines.err), "nasops-{}: {}: {}\n", m_options.tool, log_level_name(level),
                           message);
        }
    }
    if (m_text_fd && level <= m_options.file_level) {
        fmt::format_to(std::back_inserter(lines.text), "{} nasops-{}[{}] {}: {}\n",
                       rfc3339_millis(std::chrono::system_clock::now()), m_options.tool, m_pid, log_level_name(level),
                       message);
    }
}

void Logger::format(Lines& lines, AuditEvent event, const nlohmann::json& fields) const {
    std::lock_guard lock(m_mutex);
    if (!m_audit_fd || !m_audit_format) return;
    const auto event_text = fmt::format("\"{}\"", audit_event_name(event));
    const auto pid_text = std::to_string(m_pid);
    const RawMember first[] = {{"event", event_text}, {"pid", pid_text}};  // sorted by key
    auto ok = m_audit_format->append(lines.audit, RecordKind::event, fields, std::chrono::system_clock::now(), first);
    if (!ok) {
        // A field that would overwrite the envelope is a bug in the caller: say so, lose nothing else.
        fmt::format_to(std::back_inserter(lines.err), "nasops-{}: error: audit {}: {}\n", m_options.tool,
                       audit_event_name(event), ok.error().message);
    }
}

void Logger::write(Lines& lines) {
    if (lines.err.empty() && lines.text.empty() && lines.audit.empty()) return;
    std::lock_guard lock(m_mutex);
    reopen_if_requested();
    if (!lines.err.empty()) write_line(STDERR_FILENO, lines.err);
    if (!lines.text.empty() && m_text_fd) write_line(m_text_fd.get(), lines.text);
    if (!lines.audit.empty() && m_audit_fd) write_line(m_audit_fd.get(), lines.audit);
    lines.err.clear();
    lines.text.clear();
    lines.audit.clear();
}

void Logger::write(LogLevel level, std::string_view message) {
    Lines lines;
    format(lines, level, message);
    write(lines);
}

void Logger::audit(AuditEvent event, const nlohmann::json& fields) {
    Lines lines;
    format(lines, event, fields);
    write(lines);
}

Logger& logger() {
    static Logger instance;
    return instance;
}

void reopen_logs_on_sighup() {
    struct sigaction action {};
    action.sa_handler = on_sighup;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGHUP, &action, nullptr);
}

Result<PidFile> PidFile::create(const std::filesystem::path& path) {
    TRY(write_file_atomically(path, fmt::format("{}\n", ::getpid()), 0644));
    return PidFile(path);
}

PidFile::PidFile(PidFile&& other) noexcept : m_path(std::exchange(other.m_path, {})) {}

PidFile::~PidFile() {
    if (m_path.empty()) return;
    // Another run may have replaced it since: remove only our own.
    std::FILE* f = std::fopen(m_path.c_str(), "r");
    if (f == nullptr) return;
    long pid = 0;
    const bool ours = std::fscanf(f, "%ld", &pid) == 1 && pid == ::getpid();
    std::fclose(f);
    if (ours) ::unlink(m_path.c_str());
}

}  // namespace nasops
