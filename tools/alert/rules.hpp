#pragma once

// The [alert] section as nasops-alert uses it: rules, inhibit rules, channels
// and settings, checked once when the config is loaded. Every problem is
// reported at once, each at its file:line:column (ExitCode::config).

#include <optional>
#include <string>
#include <vector>

#include "alert/expr.hpp"
#include "alert/matcher.hpp"
#include "nasops/core/config.hpp"
#include "nasops/util/units.hpp"

namespace nasops::alert {

// A summary or description with {{name}} placeholders: {{value}}, {{target}},
// {{labels.x}}, any label ({{instance}}, {{severity}}) or record field
// ({{message}}), and {{value | percent}}, {{value | bytes}}, {{value | duration}}.
// An unknown name renders as "".
class Template {
public:
    Template() = default;
    explicit Template(std::string text) : m_text(std::move(text)) {}
    bool empty() const noexcept { return m_text.empty(); }
    const std::string& text() const noexcept { return m_text; }
    // `record` may be null (the alert is rendered without its record).
    std::string render(const Labels& labels, std::optional<double> value, const nlohmann::json* record) const;
    // The names of its placeholders, filters left out: "value", "labels.x", "message".
    std::vector<std::string> names() const;

private:
    std::string m_text;
};

// A value for people: "0.93", "1200", "93.1%" (with the percent filter).
std::string format_value(std::optional<double> value);

struct Rule {
    std::string name;
    std::vector<Matcher> match;
    std::optional<Expr> expr;  // none: the record's status is warning or critical
    Duration for_duration{0};
    Duration keep_firing_for{0};
    std::string severity;  // empty: the record's status (warning or critical)
    Labels labels;
    Template summary;
    Template description;
    std::vector<std::string> channels;  // resolved: the rule's, else default_channels
    Duration repeat_interval{0};
    // The rule used when no [[alert.rule]] is configured: every check record
    // whose status is warning or critical is an alert named after the check.
    bool from_checks = false;
};

struct InhibitRule {
    std::vector<Matcher> source;
    std::vector<Matcher> target;
    std::vector<std::string> equal;
};

enum class ChannelType { webhook, slack, dingtalk, email, alertmanager, exec };

std::string_view channel_type_name(ChannelType type) noexcept;

struct ChannelConfig {
    std::string name;
    ChannelType type = ChannelType::webhook;
    std::string url;
    std::string smtp_url;
    std::string from;
    std::vector<std::string> to;
    std::string username;
    std::filesystem::path password_file;
    std::string password;
    std::string token;
    StringMap headers;
    std::vector<std::string> command;
    Duration timeout{10'000};
    Template subject;
    bool starttls = true;
    std::filesystem::path ca_file;
    std::vector<std::string> at_mobiles;
};

struct AlertSettings {
    Duration repeat_interval{4 * 3'600'000};
    Duration resolve_timeout{300'000};
    Duration stale_after{1'800'000};
    std::vector<std::string> group_by{"alertname", "instance"};
    int max_attempts = 10;
    Duration retry_backoff{60'000};
    Duration lock_timeout{60'000};
    std::string external_url;
    std::vector<Rule> rules;
    std::vector<InhibitRule> inhibit;
    std::vector<ChannelConfig> channels;

    const ChannelConfig* channel(std::string_view name) const;
    const Rule* rule(std::string_view name) const;
};

// Builds the settings from the [alert] section. With no [[alert.rule]], the
// one rule is the check rule (from_checks); with no [[alert.inhibit]], a
// critical alert inhibits warnings with the same alertname and instance.
Result<AlertSettings> load_settings(const Config& config);

// The password of a channel: `password`, else the first line of `password_file`.
Result<std::string> channel_password(const ChannelConfig& channel);

}  // namespace nasops::alert
