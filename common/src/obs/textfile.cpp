#include "nasops/obs/textfile.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "nasops/core/log.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/obs/metrics.hpp"

namespace nasops {

std::string textfile_name(std::string_view tool) {
    return fmt::format("nasops_{}.prom", tool);
}

CLI::Option* add_textfile_dir_option(CLI::App& app, std::string& dir, std::string_view tool) {
    return app
        .add_option("--textfile-dir", dir,
                    fmt::format("Also write {} there, for node_exporter's textfile collector (default: [metrics] "
                                "textfile_dir; a failed write is a warning, not an error)",
                                textfile_name(tool)))
        ->type_name("DIR");
}

std::optional<std::filesystem::path> textfile_dir_setting(const std::optional<std::string>& typed, const Config& config,
                                                          std::string_view tool) {
    if (typed && !typed->empty()) return absolute_from_cwd(*typed);
    if (auto dir = config.section("metrics").get_path("textfile_dir"); !dir.empty()) return dir;
    if (tool == "health") {
        const auto& health = config.section("health");
        if (auto dir = health.get_path("textfile_dir"); !dir.empty()) {
            logger().warning("{}: {} is deprecated: write textfile_dir in [metrics], where every tool reads it",
                             health.position("textfile_dir").to_string(), health.qualified("textfile_dir"));
            return dir;
        }
    }
    return std::nullopt;
}

bool publish_textfile(const std::filesystem::path& dir, std::string_view tool, const Result<std::string>& metrics) {
    const auto name = textfile_name(tool);
    auto written = metrics ? write_textfile(dir, name, *metrics) : Result<void>(std::unexpected(metrics.error()));
    if (written) return true;
    const auto line = fmt::format("nasops-{}: warning: metrics not written to the textfile folder {} ({}): {}\n", tool,
                                  dir.string(), name, written.error().message);
    static_cast<void>(std::fwrite(line.data(), 1, line.size(), stderr));
    return false;
}

bool publish_textfile(const std::optional<std::filesystem::path>& dir, std::string_view tool,
                      const Result<std::string>& metrics) {
    return !dir || publish_textfile(*dir, tool, metrics);
}

}  // namespace nasops
