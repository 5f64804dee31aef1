// A day in one test (issue 21): the shipped cron table (deploy/cron.d/nasops,
// its commented trace export line enabled) played minute by minute for one
// compressed Sunday, each due line run as cron runs it (/bin/sh -c, the
// table's PATH with the built tools first), against the fixture sshd as the
// NAS on a tmpfs volume of its own, an HTTP sink as the webhook of the alerts
// and another as the OTLP collector. The day brings media in bursts (a file
// still being written, odd names, a 150 MB and a 300 MB file), a kill -9 of
// the sync run uploading the 150 MB one, the NAS gone for an hour, the
// shipped logrotate rule run in the middle of the 300 MB upload, and the NAS
// full for an hour. The tools read the real clock: the day is compressed by
// the scheduler alone (a minute lasts as long as its jobs, cron's overlaps
// included), so nothing in the tools is told what time the day thinks it is.
// Their min-age is 1 s of real time, which a file appended to every
// simulated minute never reaches.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/cron_table.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/staged_install.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"

namespace fs = std::filesystem;
using namespace nasops::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr int k_minutes_per_day = 24 * 60;

int at(int hour, int minute) {
    return hour * 60 + minute;
}

std::string clock_text(int minute) {
    return fmt::format("{:02}:{:02}", minute / 60, minute % 60);
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + part.size())) ++n;
    return n;
}

std::string read_if_exists(const fs::path& path) {
    std::error_code ec;
    return fs::exists(path, ec) ? read_file(path) : std::string();
}

std::uintmax_t size_or_zero(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    return ec ? 0 : size;
}

// One run of a cron line: started at `minute`, its output kept for the end.
struct Job {
    const CronLine* line = nullptr;
    int minute = 0;
    std::unique_ptr<ChildProcess> process;
    fs::path out, err;
    int exit_code = -1;
    std::string output;  // stdout and stderr: what cron would mail
};

class DayInOne : public ::testing::Test {
protected:
    DayInOne() {
        fs::create_directories(media);
        write_config();
        const auto table = read_file(NASOPS_SOURCE_DIR "/deploy/cron.d/nasops");
        lines = cron_lines(table, CommentedJobs::include);
        cron_env.env["PATH"] = replace_all(cron_variables(table).at("PATH"), "/usr/local/bin", NASOPS_TOOLS_DIR);
        cron_env.env["NASOPS_CONFIG"] = config.string();
        cron_env.unset_env = {"TRACEPARENT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                              "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"};
        cron_env.working_dir = dir.path();
    }

    void write_config() const {
        write_file(config, fmt::format(R"({paths}
[nas]
host = "127.0.0.1"
port = {port}
user = "{user}"
identity_file = "{identity}"
known_hosts = "{known_hosts}"
remote_root = "{nas_root}"
connect_timeout = "5s"

[sync]
sources = ["{media}"]
min_age = "1s"

[health]
checks = ["ssh", "nas_disk"]
# Only an unreachable NAS makes the ssh check critical: the success ratio of
# a day that lasts two minutes, and the latency on a loaded machine, are no news.
warn = {{ ssh_success = "", ssh_latency = "" }}
crit = {{ ssh_success = "", ssh_latency = "" }}

[alert]
default_channels = ["ops"]

[[alert.channel]]
name = "ops"
type = "webhook"
url = "{hook}"

[[alert.rule]]
name = "nas_unreachable"
match = {{ kind = "check", name = "ssh" }}
severity = "critical"
summary = "the NAS {{{{target}}}} does not answer"

[[alert.rule]]
name = "nas_full"
match = {{ kind = "check", name = "nas_disk" }}
expr = "value > 90%"
severity = "critical"
summary = "the NAS is {{{{value | percent}}}} full"

[trace]
otlp_endpoint = "{collector}"
)",
                                       fmt::arg("paths", paths_config(dir.path())), fmt::arg("port", nas.port()),
                                       fmt::arg("user", nas.user()), fmt::arg("identity", nas.identity_file().string()),
                                       fmt::arg("known_hosts", nas.known_hosts_file().string()),
                                       fmt::arg("nas_root", nas_root.string()), fmt::arg("media", media.string()),
                                       fmt::arg("hook", hooks.url()),
                                       fmt::arg("collector", fmt::format("http://127.0.0.1:{}", collector.port()))));
        fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write);
    }

    // A finished media file: written, then its mtime set back, as a file the
    // camera closed a while ago.
    void arrive(const std::string& rel, const std::string& content) const {
        write_file(media / rel, content);
        age_file(media / rel);
    }

    void start_due_jobs(int minute) {
        const CronTime when{
            .minute = minute % 60, .hour = minute / 60, .day_of_month = 6, .month = 12, .day_of_week = 0};
        for (const auto& line : lines) {
            if (!cron_due(line, when)) continue;
            auto job = std::make_unique<Job>();
            job->line = &line;
            job->minute = minute;
            const auto stem = dir / "jobs" / fmt::format("{}-{}", minute, running.size() + finished.size());
            job->out = stem.string() + ".out";
            job->err = stem.string() + ".err";
            auto options = cron_env;
            options.stdout_file = job->out;
            options.stderr_file = job->err;
            job->process =
                std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sh", "-c", line.command}, options);
            running.push_back(std::move(job));
        }
    }

    // Collects the jobs that have ended, waiting for each until `until` at most.
    void reap(std::chrono::steady_clock::time_point until = {}) {
        for (auto it = running.begin(); it != running.end();) {
            auto& job = **it;
            std::optional<int> status;
            while (!(status = job.process->wait_for(0ms)) && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(2ms);
            if (!status) {
                ++it;
                continue;
            }
            job.exit_code = *status;
            job.output = read_if_exists(job.out) + read_if_exists(job.err);
            fs::remove(job.out);
            fs::remove(job.err);
            finished.push_back(std::move(*it));
            it = running.erase(it);
        }
    }

    std::vector<const Job*> jobs_of(const std::string& command_start) const {
        std::vector<const Job*> found;
        for (const auto& job : finished)
            if (job->line->command.starts_with(command_start)) found.push_back(job.get());
        return found;
    }

    // The running job of `command_start`, started at `minute`.
    Job* running_job(const std::string& command_start, int minute) {
        for (auto& job : running)
            if (job->minute == minute && job->line->command.starts_with(command_start)) return job.get();
        return nullptr;
    }

    // The pid nasops-sync wrote to its pidfile, once that is a process of `job`.
    pid_t sync_pid_of(Job& job) {
        pid_t pid = -1;
        wait_until([&] {
            const auto text = read_if_exists(run_dir / "nasops-sync.pid");
            if (text.empty() || text.back() != '\n') return false;
            const pid_t read = std::stoi(text);
            const auto children = descendants_of(job.process->pid());
            if (read != job.process->pid() && std::ranges::find(children, read) == children.end()) return false;
            pid = read;
            return true;
        });
        return pid;
    }

    // The shipped logrotate rule, its folders those of this day.
    void rotate_logs() const {
        auto rule = read_file(NASOPS_SOURCE_DIR "/deploy/logrotate.d/nasops");
        rule = replace_all(rule, "/var/log/nasops", log_dir.string());
        rule = replace_all(rule, "/run/nasops", run_dir.string());
        write_file(dir / "logrotate.conf", rule);
        const auto r = run_command({"/usr/sbin/logrotate", "--force", "--state", (dir / "logrotate.state").string(),
                                    (dir / "logrotate.conf").string()});
        ASSERT_EQ(r.exit_code, 0) << "logrotate: " << r.err;
    }

    SshdFixture nas;
    TempDir dir{"nasops-day"};
    fs::path media = dir / "media";
    fs::path log_dir = dir / "log";
    fs::path run_dir = dir / "run";
    fs::path config = dir / "nasops.toml";
    fs::path nas_root = nas.remote_root() / "volume";
    HttpSink hooks{dir / "hooks"};
    HttpSink collector{dir / "collector"};
    std::optional<TmpfsMount> volume;  // the NAS's volume; unmounted once no job runs
    std::vector<CronLine> lines;
    SpawnOptions cron_env;
    std::vector<std::unique_ptr<Job>> running;
    std::vector<std::unique_ptr<Job>> finished;
};

// The span ids the collector accepted, as the OpenTelemetry project's own
// OTLP definitions decode the requests (tests/fixtures/otlp_decode).
std::vector<std::string> spans_accepted(const fs::path& requests) {
    const auto decoded =
        run_command({"node", std::string(NASOPS_FIXTURES_DIR) + "/otlp_decode/decode.js", requests.string()});
    EXPECT_EQ(decoded.exit_code, 0) << decoded.err << " (run: make -f Makefile.ops otlp-decode)";
    std::vector<std::string> ids;
    std::istringstream lines(decoded.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        const auto request = json::parse(line);
        EXPECT_TRUE(request.at("problems").empty()) << request.at("problems").dump();
        if (request.at("status").get<int>() / 100 != 2) continue;
        for (const auto& span : request.at("spans")) ids.push_back(span.at("spanId"));
    }
    return ids;
}

// The span ids of every span written to traces.jsonl and its rotations.
std::vector<std::string> spans_written(const fs::path& log_dir) {
    std::vector<std::string> ids;
    for (const auto& entry : fs::directory_iterator(log_dir)) {
        if (!entry.path().filename().string().starts_with("traces.jsonl")) continue;
        EXPECT_NE(entry.path().extension(), ".gz") << "one rotation in the day: nothing compressed yet";
        for (const auto& record : parse_records(read_file(entry.path()))) ids.push_back(record.at("span_id"));
    }
    return ids;
}

}  // namespace

FAULT_TEST_F(DayInOne, TheShippedCrontabForOneDayLosesNothing) {
    FaultReport fault("a day of the shipped crontab: bursts, kill -9, NAS away an hour and full an hour, logrotate",
                      "every file on the NAS byte-exact and completed; each alert fired and resolved once; no log "
                      "line lost; the DB and its backup sound; every span exported once");
    const auto wall_start = std::chrono::steady_clock::now();
    ASSERT_GE(lines.size(), 7u) << "the shipped table with its trace export line";
    fs::create_directories(dir / "jobs");
    volume.emplace(nas_root, "1g");

    const std::string live = "cam1/live.mp4";  // still being written from 01:00 to 01:09
    std::string live_content;
    const std::string flight = "cam2/flight 1.mov";      // 150 MB: its upload is killed
    const std::string timelapse = "cam3/timelapse.raw";  // 300 MB: logrotate runs during its upload
    const std::vector<std::string> odd_names{
        "clip with spaces.mp4",      "-starts-with-dash.mp4", "quote'd \"double\".mov", "ünïcödé 📷.jpg",
        "100% $(rm -rf x) `id`.raw", "a*b?[c].mp4",           "back\\slash.mp4",        "#hash & semi;colon.mp4"};
    pid_t killed_pid = -1;
    pid_t rotated_pid = -1;
    std::string sync_log_before_rotation;
    std::size_t held_runs = 0;
    std::map<std::string, std::string> mailed;  // what cron would mail outside the expected moments

    for (int minute = 0; minute < k_minutes_per_day; ++minute) {
        SCOPED_TRACE(clock_text(minute));
        // What the day brings before the jobs of this minute start.
        if (minute == at(1, 0))
            for (int i = 0; i < 30; ++i)
                arrive(fmt::format("cam1/burst1/{:03}.jpg", i), random_bytes(1024 + i * 4096, 100 + i));
        if (minute >= at(1, 0) && minute < at(1, 10)) {
            const auto chunk = random_bytes(64 * 1024, 200 + static_cast<unsigned>(minute));
            live_content += chunk;
            write_file(media / live, live_content);
        }
        if (minute == at(6, 0)) {
            arrive(flight, random_bytes(150u << 20, 300));
            for (int i = 0; i < 10; ++i) arrive(fmt::format("cam2/{:02}.jpg", i), random_bytes(20000, 310 + i));
        }
        if (minute == at(8, 0)) nas.stop();
        if (minute == at(8, 20))
            for (int i = 0; i < 20; ++i)
                arrive(fmt::format("cam1/while-away/{:02}.mp4", i), random_bytes(50000, 400 + i));
        if (minute == at(9, 0)) nas.start();
        if (minute == at(10, 0)) arrive(timelapse, random_bytes(300u << 20, 500));
        if (minute == at(13, 0)) {
            // Full: the volume shrunk to what it holds and 2 MiB more.
            const auto used = fs::space(nas_root).capacity - fs::space(nas_root).free;
            const auto size = fmt::format("{}k", used / 1024 + 2048);
            ASSERT_EQ(run_command({"mount", "-o", "remount,size=" + size, nas_root.string()}).exit_code, 0);
        }
        if (minute == at(13, 5))
            for (int i = 0; i < 8; ++i) arrive(fmt::format("cam4/{:02}.mp4", i), random_bytes(1u << 20, 600 + i));
        if (minute == at(14, 0)) {
            ASSERT_EQ(run_command({"mount", "-o", "remount,size=1g", nas_root.string()}).exit_code, 0);
        }
        if (minute == at(18, 0))
            for (std::size_t i = 0; i < odd_names.size(); ++i)
                arrive("evening/" + odd_names[i], random_bytes(3000 + i, 700 + static_cast<unsigned>(i)));

        start_due_jobs(minute);

        // The moments that need a job in flight.
        if (minute == at(6, 0)) {
            Job* job = running_job("nasops-sync run", minute);
            ASSERT_NE(job, nullptr);
            const auto part = nas_root / "cam2" / ".nasops-flight 1.mov.part";
            ASSERT_TRUE(wait_until([&] { return size_or_zero(part) > 0; }, 60s)) << "the upload never started";
            killed_pid = sync_pid_of(*job);
            ASSERT_GT(killed_pid, 0);
            ASSERT_EQ(::kill(killed_pid, SIGKILL), 0);
            ASSERT_TRUE(job->process->wait_for(30s).has_value());
            EXPECT_FALSE(fs::exists(nas_root / flight)) << "killed after the upload ended: not a kill mid-upload";
        }
        if (minute == at(10, 0)) {
            Job* job = running_job("nasops-sync run", minute);
            ASSERT_NE(job, nullptr);
            const auto part = nas_root / "cam3" / ".nasops-timelapse.raw.part";
            ASSERT_TRUE(wait_until([&] { return size_or_zero(part) > (20u << 20); }, 60s));
            rotated_pid = sync_pid_of(*job);
            sync_log_before_rotation = read_file(log_dir / "sync.log");
            rotate_logs();
            EXPECT_TRUE(job->process->running()) << "the upload ended before the rotation";
            EXPECT_FALSE(fs::exists(nas_root / timelapse)) << "rotated after the upload ended";
        }

        // A minute lasts until its jobs end, at most 400 ms; a longer job
        // goes on, as under cron, and the next minute's run meets its lock.
        reap(std::chrono::steady_clock::now() + 400ms);
        if (minute > at(1, 0) && minute <= at(1, 10)) {
            ASSERT_FALSE(fs::exists(nas_root / live)) << "a file still being written was uploaded";
        }
    }
    reap(std::chrono::steady_clock::now() + 240s);
    ASSERT_TRUE(running.empty()) << running.size() << " jobs still running at the end of the day";
    const auto day_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

    // Each job ran when its line says, with the exit codes of the day.
    const auto syncs = jobs_of("nasops-sync run");
    EXPECT_EQ(syncs.size(), static_cast<std::size_t>(k_minutes_per_day));
    EXPECT_EQ(jobs_of("nasops-health").size(), static_cast<std::size_t>(k_minutes_per_day / 5));
    EXPECT_EQ(jobs_of("nasops-capacity record").size(), 24u);
    EXPECT_EQ(jobs_of("nasops-capacity forecast").size(), static_cast<std::size_t>(k_minutes_per_day / 15));
    EXPECT_EQ(jobs_of("nasops-trace export").size(), static_cast<std::size_t>(k_minutes_per_day));
    ASSERT_EQ(jobs_of("nasops-trace exec").size(), 1u);
    EXPECT_EQ(jobs_of("nasops-trace exec").front()->exit_code, 0) << jobs_of("nasops-trace exec").front()->output;
    ASSERT_EQ(jobs_of("nasops-dbmaint verify").size(), 1u);
    EXPECT_EQ(jobs_of("nasops-dbmaint verify").front()->exit_code, 0)
        << jobs_of("nasops-dbmaint verify").front()->output;

    std::size_t overlaps = 0;
    std::size_t took_lock = 0;
    for (const auto* job : syncs) {
        const bool away = job->minute >= at(8, 0) && job->minute < at(9, 0);
        const bool full = job->minute >= at(13, 0) && job->minute < at(14, 0);
        if (job->exit_code == 75) {
            ++overlaps;
            EXPECT_EQ(job->output, "") << clock_text(job->minute) << ": an overlap with --quiet is no mail";
            continue;
        }
        ++took_lock;
        if (job->minute == at(6, 0)) {
            EXPECT_EQ(job->exit_code, 128 + SIGKILL);
        } else if (away && job->exit_code == 69) {
            EXPECT_NE(job->output.find("nasops-sync: error: "), std::string::npos) << job->output;
        } else if (full && job->exit_code == 73) {
            ++held_runs;  // said in the log and the audit log (STORAGE_WARNING), not mailed
        } else {
            EXPECT_EQ(job->exit_code, 0) << clock_text(job->minute) << ": " << job->output;
            if (job->minute > 0 && !job->output.empty()) mailed[clock_text(job->minute) + " sync"] = job->output;
        }
    }
    EXPECT_GT(overlaps, 0u) << "the 300 MB upload lasts longer than a minute of this day";
    EXPECT_GT(held_runs, 0u) << "the NAS was full while files were waiting";
    for (const auto& job : finished) {
        const bool sync = job->line->command.starts_with("nasops-sync run");
        const bool away = job->minute >= at(8, 0) && job->minute <= at(9, 0);
        if (!sync && !away && !job->output.empty())
            mailed[clock_text(job->minute) + " " + job->line->command] = job->output;
    }
    EXPECT_TRUE(mailed.empty()) << "cron would mail on an ordinary minute: " << mailed.begin()->first << ": "
                                << mailed.begin()->second;

    // Every file on the NAS, byte for byte, and completed in the database.
    const auto sources = snapshot_files(media);
    EXPECT_EQ(snapshot_files(nas_root), sources) << "the NAS holds other files or other bytes than the sources";
    EXPECT_EQ(read_file(nas_root / live), live_content);
    SQLite::Database db((dir / "state/nasops.db").string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM media_files WHERE state = 'completed'").getInt64(),
              static_cast<std::int64_t>(sources.size()));
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM media_files WHERE state != 'completed'").getInt64(), 0);
    EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
    // Every hourly record sampled the queue; the NAS's usage each time it answered.
    const auto recorded =
        std::ranges::count_if(jobs_of("nasops-capacity record"), [](const Job* job) { return job->exit_code == 0; });
    EXPECT_GE(recorded, 23) << "only the record of 08:00, with the NAS away, may fail";
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM capacity_media").getInt64(), 24);
    SQLite::Statement nas_samples(db, "SELECT COUNT(*) FROM capacity_samples WHERE target LIKE ?");
    nas_samples.bind(1, "%" + nas_root.string());
    ASSERT_TRUE(nas_samples.executeStep());
    EXPECT_EQ(nas_samples.getColumn(0).getInt64(), recorded);
    fault.files_lost(count_files_lost(sources, nas_root));

    // Each alert fired once and resolved once at the webhook.
    std::map<std::string, int> notified;
    for (const auto& request : hooks.requests()) {
        ASSERT_EQ(request.at("status"), 200);
        const auto body = json::parse(request.at("body").get<std::string>());
        for (const auto& alert : body.at("alerts"))
            ++notified[alert.at("labels").at("alertname").get<std::string>() + " " +
                       alert.at("status").get<std::string>()];
    }
    const std::map<std::string, int> expected{{"nas_full firing", 1},
                                              {"nas_full resolved", 1},
                                              {"nas_unreachable firing", 1},
                                              {"nas_unreachable resolved", 1}};
    EXPECT_EQ(notified, expected)
        << run_command({std::string(NASOPS_TOOLS_DIR) + "/nasops-alert", "--config", config.string(), "history"}).out;
    std::size_t lost = 0;
    std::size_t twice = 0;
    for (const auto& [key, n] : expected) {
        const auto it = notified.find(key);
        const int got = it == notified.end() ? 0 : it->second;
        lost += got < n ? 1 : 0;
        twice += got > n ? 1 : 0;
    }
    fault.notifications(lost, twice);

    // No log line lost across the rotation: the lines before it are the
    // start of sync.log.1, the run it cut through wrote to both files, and
    // every sync run that took the lock said so once, every overlap once.
    const auto rotated = read_file(log_dir / "sync.log.1");
    EXPECT_TRUE(rotated.starts_with(sync_log_before_rotation)) << "lines lost at the rotation";
    const auto current = read_file(log_dir / "sync.log");
    const auto pid_tag = fmt::format("nasops-sync[{}]", rotated_pid);
    EXPECT_NE(rotated.find(pid_tag + " info: run: "), std::string::npos);
    EXPECT_NE(current.find(pid_tag + " info: uploaded " + (media / timelapse).string()), std::string::npos)
        << "the run cut by the rotation did not reopen its log";
    EXPECT_NE(rotated.find("info: resuming " + (media / flight).string() + " at byte "), std::string::npos)
        << "the upload killed at 06:00 was not resumed";
    EXPECT_EQ(count_of(rotated + current, "] info: run: "), took_lock);
    EXPECT_EQ(count_of(rotated + current, "this run ends with exit 75"), overlaps);
    const auto audit = read_file(log_dir / "audit.log.1") + read_file(log_dir / "audit.log");
    EXPECT_EQ(count_of(audit, "\"event\":\"ALERT_FIRED\""), 2u);
    EXPECT_EQ(count_of(audit, "\"event\":\"ALERT_RESOLVED\""), 2u);
    EXPECT_GT(count_of(audit, "\"event\":\"STORAGE_WARNING\""), 0u) << "the files held for room were not said";
    EXPECT_NE(read_file(log_dir / "audit.log").find(fmt::format("\"pid\":{}", rotated_pid)), std::string::npos);

    // The database's backup of 03:15 verifies, as the 04:45 line found.
    const auto verify =
        run_command({std::string(NASOPS_TOOLS_DIR) + "/nasops-dbmaint", "verify", "--config", config.string()});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    EXPECT_NE(verify.out.find("SHA-256 and integrity_check ok"), std::string::npos) << verify.out;

    // Every span written was exported once.
    const auto written = spans_written(log_dir);
    EXPECT_GE(written.size(), 3u) << "the nightly maintenance writes its spans";
    auto accepted = spans_accepted(dir / "collector" / "requests.jsonl");
    const std::multiset<std::string> accepted_set(accepted.begin(), accepted.end());
    const std::multiset<std::string> written_set(written.begin(), written.end());
    EXPECT_EQ(accepted_set, written_set);

    std::cout << fmt::format(
        "[ day ] {} jobs in {:.1f} s of wall time: {} sync runs ({} took the lock, {} overlaps, "
        "{} held for room), {} files on the NAS\n",
        finished.size(), day_seconds, syncs.size(), took_lock, overlaps, held_runs, sources.size());
    fault.observed(fmt::format("{} jobs in {:.0f} s; {} files byte-exact; alerts {}; {} spans exported",
                               finished.size(), day_seconds, sources.size() - count_files_lost(sources, nas_root),
                               notified.size(), accepted.size()));
}
