#include "daily.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "analyze.hpp"
#include "backup.hpp"
#include "check.hpp"
#include "purge.hpp"
#include "retention.hpp"
#include "vacuum.hpp"

namespace nasops::dbmaint {

namespace {

// A few words per step for the summary line.
std::string brief(const StepReport& r) {
    std::string text = r.step;
    if (r.status != ExitCode::ok) text += " " + std::string(status_name(r.status));
    if (r.step == "purge") text += fmt::format(" {} rows", r.rows.value_or(0));
    if (r.step == "retention") text += fmt::format(" {} deleted", r.rows.value_or(0));
    if (r.step == "backup" && !r.path.empty()) text += " " + std::filesystem::path(r.path).filename().string();
    if (r.step == "vacuum") text += r.message.starts_with("nothing") ? " not needed" : " done";
    return text;
}

// Collects the steps of a round and says them as records or one line.
class Round {
public:
    Round(Reporter& reporter, bool dry_run) : m_reporter(reporter), m_dry_run(dry_run) {}

    Result<ExitCode> step(std::string_view name, Result<StepReport> result, const StepTimer& timer) {
        if (!result) {
            summary(fmt::format("stopped at {}: {}", name, result.error().message));
            return m_reporter.emit(name, std::move(result), timer);
        }
        if (m_reporter.json()) TRY(m_reporter.report(*result));
        m_done.push_back(brief(*result));
        m_worst = worst_state(m_worst, result->status);
        return result->status;
    }
    // A check that is not OK ends the round with its own status.
    Result<ExitCode> check(const StepReport& report) {
        if (m_reporter.json()) TRY(m_reporter.report(report));
        if (report.status != ExitCode::ok) {
            summary(fmt::format("stopped at check: {}: {}", exit_code_name(report.status), report.message));
            return report.status;
        }
        m_done.push_back(brief(report));
        return report.status;
    }
    void finish() { summary(""); }
    ExitCode worst() const { return m_worst; }

private:
    void summary(std::string_view ending) {
        if (m_reporter.json() || (m_reporter.quiet() && ending.empty() && m_worst == ExitCode::ok)) return;
        std::string steps;
        for (const auto& d : m_done) steps += (steps.empty() ? "" : ", ") + d;
        m_reporter.print_text(fmt::format(
            "daily{}: {}{}{}{}\n", m_dry_run ? " (dry run)" : "", ending.empty() ? exit_code_name(m_worst) : "FAILED",
            steps.empty() ? "" : ": ", steps, ending.empty() ? "" : fmt::format("; {}", ending)));
    }

    Reporter& m_reporter;
    bool m_dry_run;
    std::vector<std::string> m_done;
    ExitCode m_worst = ExitCode::ok;
};

Result<StepReport> backup_step(const Settings& s, SystemTimePoint now) {
    return backup_database(s.database, s.backup_dir, now, s.compression, s.dry_run);
}

// Retention after a backup: the one just written is kept whatever the policy says.
Result<StepReport> retention_step(const Settings& s, SystemTimePoint now) {
    return apply_retention(s.backup_dir, RetentionPolicy{.keep_last = s.keep_last, .keep_days = s.keep_days}, now,
                           s.backup_dir / backup_file_name(now, s.compression), s.dry_run);
}

}  // namespace

Result<ExitCode> backup_and_prune(Reporter& reporter, const Settings& s, SystemTimePoint now) {
    StepTimer timer;
    TRY_ASSIGN(const auto status, reporter.emit("backup", backup_step(s, now), timer));
    StepTimer pruning;
    TRY_ASSIGN(const auto pruned, reporter.emit("retention", retention_step(s, now), pruning));
    return worst_state(status, pruned);
}

Result<ExitCode> run_daily(Reporter& reporter, const Settings& s, SystemTimePoint now) {
    Round round(reporter, s.dry_run);
    TRY_ASSIGN(const auto checked, round.check(check_database(s.database, CheckDepth::quick)));
    if (checked != ExitCode::ok) return checked;
    {
        StepTimer t;
        TRY(round.step(
            "purge",
            purge_database(s.database, s.retention, PurgeOptions{.batch = s.batch, .now = now, .dry_run = s.dry_run}),
            t));
    }
    {
        StepTimer t;
        TRY(round.step("vacuum",
                       vacuum_database(s.database, VacuumRequest{.threshold = s.freelist_ratio, .dry_run = s.dry_run}),
                       t));
    }
    {
        StepTimer t;
        TRY(round.step("analyze", analyze_database(s.database, s.dry_run), t));
    }
    {
        StepTimer t;
        TRY(round.step("checkpoint", checkpoint_database(s.database, s.dry_run), t));
    }
    {
        StepTimer t;
        TRY(round.step("backup", backup_step(s, now), t));
    }
    {
        StepTimer t;
        TRY(round.step("retention", retention_step(s, now), t));
    }
    round.finish();
    return round.worst();
}

}  // namespace nasops::dbmaint
