// nas_disk and ssh: the NAS over SSH/SFTP.

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include <array>
#include <charconv>

#include "health/checks.hpp"
#include "nasops/db/store.hpp"
#include "nasops/ssh/remote_df.hpp"

namespace nasops::health {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Network waits get most of the check's time, so that they fail with their
// own reason before the runner gives up on the check.
Duration network_budget(Duration timeout) {
    return std::max(Duration(1), timeout * 9 / 10);
}

SshOptions bounded(SshOptions options, Duration timeout) {
    const auto budget = network_budget(timeout);
    options.connect_timeout = std::min(options.connect_timeout, budget);
    options.timeout = std::min(options.timeout, budget);
    return options;
}

std::string remote_or_home(const std::string& path) {
    return path.empty() ? std::string(".") : path;
}

}  // namespace

namespace {

class NasDiskCheck final : public Check {
public:
    NasDiskCheck(SshOptions ssh, const std::string& remote_path, ThresholdsPtr thresholds)
        : Check("nas_disk", fmt::format("{}:{}", ssh.host, remote_or_home(remote_path))),
          m_ssh(std::move(ssh)),
          m_path(remote_or_home(remote_path)),
          m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& context) override {
        const auto start = SteadyClock::now();
        const auto failed = [&](std::string message) {
            auto result = unknown(std::move(message));
            result.status =
                failure_status(context, SteadyClock::now() - start, network_budget(context.timeout), Status::unknown);
            return result;
        };
        auto session = SshSession::connect(bounded(m_ssh, context.timeout));
        if (!session) return failed(session.error().message);
        std::string how = "SFTP statvfs";
        std::optional<FsStat> fs;
        std::string sftp_problem;
        {
            auto sftp = session->sftp();
            auto st = sftp ? sftp->statvfs(m_path) : Result<FsStat>(std::unexpected(sftp.error()));
            if (st) fs = *st;
            if (!st) sftp_problem = st.error().message;
        }
        if (!fs) {
            // Some NAS lack the statvfs@openssh.com extension: ask df instead.
            auto df = remote_df(*session, m_path);
            if (!df) return failed(fmt::format("{}; {}", sftp_problem, df.error().message));
            fs = *df;
            how = "df -P";
        }
        auto result = blank();
        result.message = fmt::format("{} (by {})", judge_filesystem(result, *m_thresholds, "nas_disk", *fs), how);
        return result;
    }

private:
    SshOptions m_ssh;
    std::string m_path;
    ThresholdsPtr m_thresholds;
};

constexpr Migration k_health_migrations[] = {
    {"health", 1,
     "CREATE TABLE health_ssh_probes ("
     " id INTEGER PRIMARY KEY,"
     " ts TEXT NOT NULL,"
     " target TEXT NOT NULL,"
     " ok INTEGER NOT NULL,"
     " seconds REAL);"
     "CREATE INDEX health_ssh_probes_target_ts ON health_ssh_probes(target, ts);"},
};

class SshCheck final : public Check {
public:
    SshCheck(SshOptions ssh, const std::string& remote_path, std::filesystem::path db_path, Duration window,
             ThresholdsPtr thresholds)
        : Check("ssh", fmt::format("{}@{}:{}", ssh.user, ssh.host, ssh.port)),
          m_ssh(std::move(ssh)),
          m_root(remote_or_home(remote_path)),
          m_db(std::move(db_path)),
          m_window(window),
          m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& context) override {
        const auto start = SteadyClock::now();
        // Destroyed in reverse order, so the SFTP channel goes before its session.
        const auto probe = [&]() -> Result<void> {
            TRY_ASSIGN(auto session, SshSession::connect(bounded(m_ssh, context.timeout)));
            TRY_ASSIGN(auto sftp, session.sftp());
            TRY(sftp.stat(m_root));
            return {};
        }();
        const std::string failure = probe ? std::string() : probe.error().message;
        const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
        auto result = blank();
        if (failure.empty()) {
            auto m = m_thresholds->metric("ssh_latency", seconds);
            m.min = 0;
            result.metrics.push_back(m);
            result.message =
                fmt::format("connected, authenticated and answered in {}", format_quantity(seconds, Quantity::seconds));
        } else {
            // Down, refusing our key, or showing another host key: sync cannot work either way.
            result.status =
                failure_status(context, SteadyClock::now() - start, network_budget(context.timeout), Status::critical);
            result.message = failure;
        }
        record(result, context, failure.empty(), seconds);
        return result;
    }

private:
    // Appends this probe to the history and adds the success ratio of the window.
    void record(CheckResult& result, const CheckContext& context, bool ok, double seconds) {
        if (m_db.empty()) return;
        auto store = Store::open(m_db, k_health_migrations);
        if (!store) {
            result.message += fmt::format(" (probe history not kept: {})", store.error().message);
            return;
        }
        const auto now = context.clock->now();
        try {
            auto& db = store->db();
            SQLite::Statement insert(db, "INSERT INTO health_ssh_probes(ts, target, ok, seconds) VALUES(?, ?, ?, ?)");
            insert.bind(1, rfc3339_millis(now));
            insert.bind(2, target());
            insert.bind(3, ok ? 1 : 0);
            insert.bind(4, seconds);
            insert.exec();
            // Keep a week, or two windows when the window is longer.
            const auto keep = std::max<Duration>(m_window * 2, std::chrono::hours(24 * 7));
            SQLite::Statement purge(db, "DELETE FROM health_ssh_probes WHERE ts < ?");
            purge.bind(1, rfc3339_millis(now - keep));
            purge.exec();
            SQLite::Statement ratio(db,
                                    "SELECT COUNT(*), COALESCE(SUM(ok), 0) FROM health_ssh_probes"
                                    " WHERE target = ? AND ts >= ?");
            ratio.bind(1, target());
            ratio.bind(2, rfc3339_millis(now - m_window));
            ratio.executeStep();
            const auto probes = ratio.getColumn(0).getInt64();
            const auto succeeded = ratio.getColumn(1).getInt64();
            if (probes > 0) {
                const double r = static_cast<double>(succeeded) / static_cast<double>(probes);
                auto m = m_thresholds->metric("ssh_success", r);
                m.min = 0;
                m.max = 1;
                result.metrics.push_back(m);
                result.message += fmt::format("; {} of {} probes in the last {} succeeded", succeeded, probes,
                                              format_duration(m_window));
            }
        } catch (const SQLite::Exception& e) {
            result.message += fmt::format(" (probe history not kept: {}: {})", m_db.string(), e.what());
        }
    }

    SshOptions m_ssh;
    std::string m_root;
    std::filesystem::path m_db;
    Duration m_window;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_nas_disk_check(SshOptions ssh, const std::string& remote_path, ThresholdsPtr thresholds) {
    return std::make_shared<NasDiskCheck>(std::move(ssh), remote_path, std::move(thresholds));
}

std::shared_ptr<Check> make_ssh_check(SshOptions ssh, const std::string& remote_path, std::filesystem::path db_path,
                                      Duration window, ThresholdsPtr thresholds) {
    return std::make_shared<SshCheck>(std::move(ssh), remote_path, std::move(db_path), window, std::move(thresholds));
}

}  // namespace nasops::health
