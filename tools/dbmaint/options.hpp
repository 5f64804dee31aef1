#pragma once

// The settings of one nasops-dbmaint invocation: the command line, which wins,
// over the [dbmaint] section of nasops.toml, which wins over the built-in
// defaults. main.cpp fills CliOptions; resolve_settings makes Settings.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/cli.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/error.hpp"
#include "nasops/core/output.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/util/units.hpp"

namespace nasops::dbmaint {

enum class Command { check, stats, vacuum, analyze, checkpoint, purge, backup, verify, restore, daily };
std::string_view command_name(Command command) noexcept;  // "check", ...

enum class CheckDepth : bool { quick, full };
enum class Force : bool { no, yes };
enum class Compression : bool { none, gzip };  // of a new backup

// What the command line says; nullopt means "not given": the configuration's
// value applies. Durations and ratios are kept as typed so that errors name
// the option.
struct CliOptions {
    CommonOptions common;
    bool dry_run = false;
    bool full = false;                          // check --full
    bool force = false;                         // vacuum --force
    std::optional<std::string> into;            // vacuum --into FILE
    std::optional<std::string> backup_dir;      // backup, verify, daily --backup-dir
    std::optional<std::int64_t> keep_last;      // backup, daily
    std::optional<std::int64_t> keep_days;      // backup, daily
    bool gzip = false;                          // backup, daily --gzip (else [dbmaint] gzip)
    std::optional<std::string> freelist_ratio;  // vacuum, daily --freelist-ratio
    std::optional<std::int64_t> batch;          // purge, daily --batch
    std::optional<std::string> lock_timeout;    // --lock-timeout
    std::vector<std::string> files;             // verify FILE..., restore FILE
    std::optional<std::string> textfile_dir;    // check, daily --textfile-dir
};

struct Settings {
    OutputFormat format = OutputFormat::text;
    bool quiet = false;
    int verbose = 0;
    bool dry_run = false;
    CheckDepth depth = CheckDepth::quick;
    Force force = Force::no;
    std::optional<std::filesystem::path> into;
    std::filesystem::path database;    // <state>/nasops.db
    std::filesystem::path state_dir;   // where every tool's lock lives
    std::filesystem::path backup_dir;  // [dbmaint] backup_dir, else <state>/backups
    int keep_last = 7;
    int keep_days = 30;
    Compression compression = Compression::none;
    double freelist_ratio = 0.2;
    int batch = 5000;
    Duration lock_timeout{0};
    // [dbmaint.retention]: table name -> retention, with the file position for errors.
    std::map<std::string, Duration, std::less<>> retention;
    std::vector<std::filesystem::path> files;
    std::optional<std::filesystem::path> textfile_dir;  // check, backup, daily: where nasops_dbmaint.prom goes
};

// Merges the command line over `config` and the folders. Bad option values
// are usage errors naming the option (exit 64); bad file values name
// file:line:column and the key (exit 78).
Result<Settings> resolve_settings(const CliOptions& cli, const Config& config, const Paths& paths);

}  // namespace nasops::dbmaint
