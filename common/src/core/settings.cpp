#include "nasops/core/settings.hpp"

#include <fmt/format.h>

#include "nasops/core/log.hpp"

namespace nasops {

namespace {

template <class T>
Result<T> named(Result<T> parsed, std::string_view option) {
    if (!parsed) return std::unexpected(option_error(option, parsed.error().message));
    return parsed;
}

}  // namespace

Error option_error(std::string_view option, std::string_view message) {
    return Error{fmt::format("{}: {}", option, message), ExitCode::usage};
}

Result<CommonSettings> resolve_common(const CommonOptions& cli, std::span<const OutputFormat> offered) {
    TRY_ASSIGN(auto format, cli.output_format(offered));
    return CommonSettings{.format = format, .quiet = cli.quiet, .verbose = cli.verbose};
}

Result<Duration> duration_setting(const std::optional<std::string>& typed, std::string_view option,
                                  const ConfigTable& section, std::string_view key) {
    if (typed) return named(parse_duration(*typed), option);
    return section.get_duration(key);
}

Result<std::optional<Duration>> optional_duration_setting(const std::optional<std::string>& typed,
                                                          std::string_view option, const ConfigTable& section,
                                                          std::string_view key) {
    if (!typed) return section.get_optional_duration(key);
    TRY_ASSIGN(auto d, named(parse_duration(*typed), option));
    return d;
}

Result<std::uint64_t> size_setting(const std::optional<std::string>& typed, std::string_view option,
                                   const ConfigTable& section, std::string_view key) {
    if (typed) return named(parse_size(*typed), option);
    return section.get_size(key);
}

Result<std::optional<std::uint64_t>> optional_size_setting(const std::optional<std::string>& typed,
                                                           std::string_view option, const ConfigTable& section,
                                                           std::string_view key) {
    if (!typed) return section.get_optional_size(key);
    TRY_ASSIGN(auto size, named(parse_size(*typed), option));
    return size;
}

Result<std::optional<RateTimetable>> optional_rate_timetable_setting(const std::optional<std::string>& typed,
                                                                     std::string_view option,
                                                                     const ConfigTable& section, std::string_view key) {
    if (typed) {
        TRY_ASSIGN(auto timetable, named(RateTimetable::parse(*typed), option));
        return timetable;
    }
    const auto text = section.get_optional_rate_timetable(key);
    if (!text) return std::nullopt;
    // The loader has checked the text; a failure here names the key all the same.
    auto timetable = RateTimetable::parse(*text);
    if (!timetable) return std::unexpected(section.error_at(key, timetable.error().message));
    return *timetable;
}

Result<double> ratio_setting(const std::optional<std::string>& typed, std::string_view option,
                             const ConfigTable& section, std::string_view key) {
    if (typed) return named(parse_ratio(*typed), option);
    return section.get_ratio(key);
}

Result<std::int64_t> int_setting(std::optional<std::int64_t> typed, std::string_view option, const ConfigTable& section,
                                 std::string_view key, std::int64_t min, std::int64_t max) {
    if (!typed) return section.get_int(key);
    if (*typed < min || *typed > max)
        return std::unexpected(option_error(option, fmt::format("{} is not within {}..{}", *typed, min, max)));
    return *typed;
}

std::vector<std::string> list_setting(const std::vector<std::string>& typed, const ConfigTable& section,
                                      std::string_view key) {
    return typed.empty() ? section.get_string_list(key) : typed;
}

std::filesystem::path absolute_from_cwd(const std::string& text) {
    std::error_code ec;
    auto p = std::filesystem::absolute(text, ec);
    return (ec ? std::filesystem::path(text) : p).lexically_normal();
}

Result<std::optional<Duration>> typed_duration(const std::optional<std::string>& typed, std::string_view option) {
    if (!typed || typed->empty()) return std::nullopt;
    TRY_ASSIGN(auto d, named(parse_duration(*typed), option));
    if (d.count() <= 0) return std::unexpected(option_error(option, "must be more than 0"));
    return d;
}

Result<ToolContext> start_tool(const ToolStart& start) {
    TRY_ASSIGN(auto config,
               load_config(ConfigSearch{
                   .explicit_path = start.cli.config_path, .env = start.env, .system_path = start.system_config}));
    TRY_ASSIGN(auto paths, resolve_paths(config, ::geteuid(), start.env));
    LogOptions log{.tool = std::string(start.tool),
                   .stderr_level = LogOptions::stderr_level_for(start.cli.quiet, start.cli.verbose),
                   .colour = colour_enabled(stderr, start.cli.quiet ? Quiet::yes : Quiet::no)};
    if (start.files == LogFiles::yes) log.log_dir = paths.log_dir;
    if (auto configured = logger().configure(log); !configured) {
        if (start.log_failure == LogFailure::fatal) return std::unexpected(configured.error());
        logger().warning("{}", configured.error().message);
    }
    return ToolContext{std::move(config), std::move(paths)};
}

}  // namespace nasops
