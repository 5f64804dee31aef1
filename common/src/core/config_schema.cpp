#include "nasops/core/config_schema.hpp"

#include <algorithm>

namespace nasops {

namespace {

using enum ValueType;

// One line per key. Keep man/nasops.toml.5.scd in step.
// clang-format off

constexpr KeySpec k_paths[] = {
    {.name = "state_dir", .type = path},
    {.name = "log_dir", .type = path},
    {.name = "run_dir", .type = path},
};

constexpr KeySpec k_nas[] = {
    {.name = "host", .type = string},
    {.name = "port", .type = integer, .default_value = "22", .min = 1, .max = 65535},
    {.name = "user", .type = string},
    {.name = "identity_file", .type = path},
    {.name = "passphrase_file", .type = path},
    {.name = "known_hosts", .type = path},
    {.name = "remote_root", .type = path},
    {.name = "create_remote_root", .type = boolean, .default_value = "false"},
    {.name = "connect_timeout", .type = duration, .default_value = R"("10s")"},
    {.name = "timeout", .type = duration, .default_value = R"("60s")"},
    {.name = "accept_new_host_key", .type = boolean, .default_value = "false"},
};

constexpr KeySpec k_sync[] = {
    {.name = "sources", .type = path_list, .default_value = "[]"},
    {.name = "target", .type = string},
    {.name = "include", .type = string_list, .default_value = "[]"},
    {.name = "exclude", .type = string_list, .default_value = "[]"},
    {.name = "min_age", .type = duration, .default_value = R"("30s")"},
    {.name = "jobs", .type = integer, .default_value = "4", .min = 1, .max = 64},
    {.name = "verify", .type = string, .default_value = R"("auto")", .choices = "auto|sha256|size|none"},
    {.name = "remove_source", .type = boolean, .default_value = "false"},
    {.name = "delete_empty_src_dirs", .type = boolean, .default_value = "false"},
    {.name = "max_retries", .type = integer, .default_value = "5"},
    {.name = "bwlimit", .type = rate_timetable},
    {.name = "max_duration", .type = duration},
    {.name = "max_bytes", .type = size},
    {.name = "lock_timeout", .type = duration, .default_value = R"("0s")"},
};

constexpr KeySpec k_health_http[] = {
    {.name = "url", .type = string, .required = Required::yes},
    {.name = "status", .type = integer, .default_value = "200", .min = 100, .max = 599},
    {.name = "match", .type = string},
    {.name = "warn", .type = string},
    {.name = "crit", .type = string},
};

constexpr KeySpec k_health[] = {
    {.name = "checks", .type = string_list, .default_value = "[]"},
    {.name = "timeout", .type = duration, .default_value = R"("10s")"},
    {.name = "check_timeout", .type = duration},
    {.name = "disk_paths", .type = path_list, .default_value = R"(["/"])"},
    {.name = "textfile_dir", .type = path},
    {.name = "cpu_sample", .type = duration, .default_value = R"("1s")"},
    {.name = "warn", .type = string_map},
    {.name = "crit", .type = string_map},
    {.name = "labels", .type = string_map},
    {.name = "processes", .type = string_list, .default_value = "[]"},
    {.name = "services", .type = string_list, .default_value = "[]"},
    {.name = "db_path", .type = path},
    {.name = "log_window", .type = duration, .default_value = R"("15m")"},
    {.name = "tls_targets", .type = string_list, .default_value = "[]"},
    {.name = "http", .type = table_list, .fields = k_health_http},
    {.name = "transfer_window", .type = duration, .default_value = R"("1h")"},
    {.name = "ssh_window", .type = duration, .default_value = R"("24h")"},
};

constexpr KeySpec k_alert_channel[] = {
    {.name = "name", .type = string, .required = Required::yes},
    {.name = "type", .type = string, .required = Required::yes, .choices = "webhook|slack|dingtalk|email|alertmanager|exec"},
    {.name = "url", .type = string},
    {.name = "smtp_url", .type = string},
    {.name = "from", .type = string},
    {.name = "to", .type = string_list},
    {.name = "username", .type = string},
    {.name = "password_file", .type = path},
    {.name = "password", .type = string, .secret = Secret::yes},
    {.name = "token", .type = string, .secret = Secret::yes},
    {.name = "headers", .type = string_map},
    {.name = "command", .type = string_list},
    {.name = "timeout", .type = duration, .default_value = R"("10s")"},
    {.name = "subject", .type = string},
    {.name = "starttls", .type = boolean, .default_value = "true"},
    {.name = "ca_file", .type = path},
    {.name = "at_mobiles", .type = string_list},
};

constexpr KeySpec k_alert_inhibit[] = {
    {.name = "source_match", .type = string_map},
    {.name = "target_match", .type = string_map},
    {.name = "equal", .type = string_list},
};

constexpr KeySpec k_alert_rule[] = {
    {.name = "name", .type = string, .required = Required::yes},
    {.name = "match", .type = string_map},
    {.name = "expr", .type = string},
    {.name = "for", .type = duration, .default_value = R"("0s")"},
    {.name = "keep_firing_for", .type = duration, .default_value = R"("0s")"},
    {.name = "severity", .type = string},
    {.name = "labels", .type = string_map},
    {.name = "summary", .type = string},
    {.name = "description", .type = string},
    {.name = "channels", .type = string_list},
    {.name = "repeat_interval", .type = duration},
};

constexpr KeySpec k_alert[] = {
    {.name = "repeat_interval", .type = duration, .default_value = R"("4h")"},
    {.name = "resolve_timeout", .type = duration, .default_value = R"("5m")"},
    {.name = "default_channels", .type = string_list, .default_value = "[]"},
    {.name = "channel", .type = table_list, .fields = k_alert_channel},
    {.name = "rule", .type = table_list, .fields = k_alert_rule},
    {.name = "inhibit", .type = table_list, .fields = k_alert_inhibit},
    {.name = "group_by", .type = string_list, .default_value = R"(["alertname", "instance"])"},
    {.name = "stale_after", .type = duration, .default_value = R"("30m")"},
    {.name = "max_attempts", .type = integer, .default_value = "10", .min = 1, .max = 1000},
    {.name = "retry_backoff", .type = duration, .default_value = R"("1m")"},
    {.name = "lock_timeout", .type = duration, .default_value = R"("1m")"},
    {.name = "external_url", .type = string},
};

constexpr KeySpec k_capacity[] = {
    {.name = "targets", .type = path_list, .default_value = "[]"},
    {.name = "window", .type = duration, .default_value = R"("30d")"},
    {.name = "horizon_days", .type = integer, .default_value = "30", .min = 1, .max = 3650},
    {.name = "reset_drop_ratio", .type = ratio, .default_value = "0.1", .former_name = "reset_drop_percent"},
    {.name = "warning_ratio", .type = ratio, .default_value = "0.8", .former_name = "warning_percent"},
    {.name = "critical_ratio", .type = ratio, .default_value = "0.9", .former_name = "critical_percent"},
    {.name = "retention", .type = duration, .default_value = R"("730d")"},
};

constexpr KeySpec k_dbmaint[] = {
    {.name = "backup_dir", .type = path},
    {.name = "keep_last", .type = integer, .default_value = "7", .min = 1, .max = 10000},
    {.name = "keep_days", .type = integer, .default_value = "30", .min = 0, .max = 36500},
    {.name = "gzip", .type = boolean, .default_value = "false"},
    {.name = "vacuum_freelist_ratio", .type = ratio, .default_value = "0.2"},
    {.name = "purge_batch", .type = integer, .default_value = "5000", .min = 1, .max = 1000000},
    {.name = "lock_timeout", .type = duration, .default_value = R"("0s")"},
    {.name = "retention", .type = string_map},
};

constexpr KeySpec k_trace[] = {
    {.name = "otlp_endpoint", .type = string},
    {.name = "service_name", .type = string, .default_value = R"("nasops")"},
};

constexpr KeySpec k_metrics[] = {
    {.name = "textfile_dir", .type = path},
};

constexpr SectionSpec k_sections[] = {
    {"paths", k_paths},
    {"nas", k_nas},
    {"sync", k_sync},
    {"health", k_health},
    {"alert", k_alert},
    {"capacity", k_capacity},
    {"dbmaint", k_dbmaint},
    {"trace", k_trace},
    {"metrics", k_metrics},
};

// clang-format on

}  // namespace

std::span<const SectionSpec> config_schema() {
    return k_sections;
}

const SectionSpec* find_section_spec(std::string_view name) {
    const auto* it = std::ranges::find(k_sections, name, &SectionSpec::name);
    return it == std::end(k_sections) ? nullptr : it;
}

const KeySpec* find_key_spec(std::span<const KeySpec> keys, std::string_view name) {
    const auto it = std::ranges::find(keys, name, &KeySpec::name);
    return it == keys.end() ? nullptr : &*it;
}

std::string_view value_type_name(ValueType type) noexcept {
    switch (type) {
        case string: return "string";
        case path: return "path";
        case boolean: return "boolean";
        case integer: return "integer";
        case duration: return "duration";
        case size: return "size";
        case rate: return "rate";
        case rate_timetable: return "rate or timetable";
        case ratio: return "ratio";
        case string_list: return "array of strings";
        case path_list: return "array of paths";
        case string_map: return "table of strings";
        case table_list: return "array of tables";
    }
    return "value";
}

}  // namespace nasops
