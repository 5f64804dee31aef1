#pragma once

// The one way every tool publishes its numbers for node_exporter's textfile
// collector: the --textfile-dir option, the folder it resolves to, and the
// write of nasops_<tool>.prom. A tool's real job never fails because of its
// metrics: a textfile that cannot be written is a warning naming the folder,
// and the exit status stays the job's (the fleet notices a stale textfile
// through node_textfile_mtime_seconds, deploy/prometheus/nasops.rules.yml).

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "nasops/core/config.hpp"
#include "nasops/core/error.hpp"

namespace nasops {

// "nasops_sync.prom": the one file `tool` writes in the textfile folder.
std::string textfile_name(std::string_view tool);

// Adds --textfile-dir DIR to `app` (a tool, or the subcommand that writes the
// metrics), with the same help everywhere; `dir` is filled when it is given.
CLI::Option* add_textfile_dir_option(CLI::App& app, std::string& dir, std::string_view tool);

// The folder `tool` writes its textfile into: --textfile-dir when typed (made
// absolute from the current folder), else [metrics] textfile_dir, else, for
// health only, the former [health] textfile_dir (with a warning that names
// its replacement); nullopt when none is set: no textfile is written.
std::optional<std::filesystem::path> textfile_dir_setting(const std::optional<std::string>& typed, const Config& config,
                                                          std::string_view tool);

// Writes the exposition text `metrics` (Exposition::text) atomically to
// `dir`/nasops_<tool>.prom (write_textfile).
// When the exposition could not be built or the file written, says so on
// stderr as "nasops-<tool>: warning: ...", naming the folder, even under
// --quiet (the operator asked for the file, and cron mails what a job says),
// and returns false; the caller's exit status is not changed by it.
bool publish_textfile(const std::filesystem::path& dir, std::string_view tool, const Result<std::string>& metrics);

// The same, when `dir` is set; true when there is nothing to write.
bool publish_textfile(const std::optional<std::filesystem::path>& dir, std::string_view tool,
                      const Result<std::string>& metrics);

}  // namespace nasops
