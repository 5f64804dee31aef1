#include "alert/rules.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>

#include "nasops/core/private_file.hpp"
#include "nasops/util/text.hpp"

namespace nasops::alert {

namespace {

std::string plain(double value) {
    if (std::isfinite(value) && value == std::trunc(value) && std::abs(value) < 1e15)
        return fmt::format("{:.0f}", value);
    auto text = fmt::format("{:.4f}", value);
    while (text.ends_with('0')) text.pop_back();
    if (text.ends_with('.')) text.pop_back();
    return text;
}

std::string apply_filter(std::string_view filter, std::optional<double> number, std::string text) {
    if (filter.empty() || !number) return text;
    if (filter == "percent") return fmt::format("{:.1f}%", *number * 100.0);
    if (filter == "bytes") return number >= 0 ? format_size(static_cast<std::uint64_t>(*number)) : text;
    if (filter == "duration") {
        return *number >= 0 ? format_duration(Duration(static_cast<Duration::rep>(*number * 1000.0))) : text;
    }
    return text;
}

// One {{name | filter}} of a template, found from `from` on.
struct Placeholder {
    std::size_t open = 0;   // offset of "{{"
    std::size_t close = 0;  // offset of "}}"
    std::string_view name;
    std::string_view filter;
};

std::optional<Placeholder> find_placeholder(std::string_view text, std::size_t from) {
    const auto open = text.find("{{", from);
    if (open == std::string_view::npos) return std::nullopt;
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view inner = text.substr(open + 2, close - open - 2);
    const auto bar = inner.find('|');
    return Placeholder{.open = open,
                       .close = close,
                       .name = trim(inner.substr(0, bar)),
                       .filter = bar == std::string_view::npos ? std::string_view() : trim(inner.substr(bar + 1))};
}

std::optional<double> number_of(const nlohmann::json* j) {
    if (j != nullptr && j->is_number()) return j->get<double>();
    return std::nullopt;
}

}  // namespace

std::string format_value(std::optional<double> value) {
    return value ? plain(*value) : std::string();
}

std::string Template::render(const Labels& labels, std::optional<double> value, const nlohmann::json* record) const {
    std::string out;
    std::size_t pos = 0;
    while (pos < m_text.size()) {
        const auto placeholder = find_placeholder(m_text, pos);
        if (!placeholder) break;
        out.append(m_text, pos, placeholder->open - pos);
        const auto name = placeholder->name;
        const auto filter = placeholder->filter;
        std::string text;
        std::optional<double> number;
        if (name == "value") {
            number = value;
            text = format_value(value);
        } else if (name.starts_with("labels.") && labels.contains(name.substr(7))) {
            text = labels.find(name.substr(7))->second;
        } else if (const auto it = labels.find(name); it != labels.end()) {
            text = it->second;
        } else if (record != nullptr) {
            const auto* j = FieldPath(name).find(*record);
            number = number_of(j);
            if (j != nullptr) text = j->is_string() ? j->get<std::string>() : (number ? plain(*number) : j->dump());
        }
        if (!number && !text.empty()) {
            char* end = nullptr;
            const double parsed = std::strtod(text.c_str(), &end);
            if (end != nullptr && *end == '\0') number = parsed;
        }
        out.append(apply_filter(filter, number, std::move(text)));
        pos = placeholder->close + 2;
    }
    out.append(m_text, pos);
    return out;
}

std::vector<std::string> Template::names() const {
    std::vector<std::string> out;
    for (auto p = find_placeholder(m_text, 0); p; p = find_placeholder(m_text, p->close + 2)) {
        out.emplace_back(p->name);
    }
    return out;
}

std::string_view channel_type_name(ChannelType type) noexcept {
    switch (type) {
        case ChannelType::webhook: return "webhook";
        case ChannelType::slack: return "slack";
        case ChannelType::dingtalk: return "dingtalk";
        case ChannelType::email: return "email";
        case ChannelType::alertmanager: return "alertmanager";
        case ChannelType::exec: return "exec";
    }
    return "webhook";
}

const ChannelConfig* AlertSettings::channel(std::string_view name) const {
    const auto it = std::ranges::find(channels, name, &ChannelConfig::name);
    return it == channels.end() ? nullptr : &*it;
}

const Rule* AlertSettings::rule(std::string_view name) const {
    const auto it = std::ranges::find(rules, name, &Rule::name);
    return it == rules.end() ? nullptr : &*it;
}

Result<AlertSettings> load_settings(const Config& config) {
    const ConfigTable& section = config.section("alert");
    AlertSettings settings;
    std::vector<std::string> problems;
    auto problem = [&](const ConfigTable& table, std::string_view key, std::string_view message) {
        problems.push_back(table.error_at(key, message).message);
    };

    settings.repeat_interval = section.get_duration("repeat_interval");
    settings.resolve_timeout = section.get_duration("resolve_timeout");
    settings.stale_after = section.get_duration("stale_after");
    settings.group_by = section.get_string_list("group_by");
    settings.max_attempts = static_cast<int>(section.get_int("max_attempts"));
    settings.retry_backoff = section.get_duration("retry_backoff");
    settings.lock_timeout = section.get_duration("lock_timeout");
    settings.external_url = section.get_string("external_url");

    for (const auto& entry : section.get_entries("channel")) {
        ChannelConfig channel;
        channel.name = entry.get_string("name");
        const auto& type = entry.get_string("type");
        for (auto t : {ChannelType::webhook, ChannelType::slack, ChannelType::dingtalk, ChannelType::email,
                       ChannelType::alertmanager, ChannelType::exec}) {
            if (channel_type_name(t) == type) channel.type = t;
        }
        channel.url = entry.get_string("url");
        channel.smtp_url = entry.get_string("smtp_url");
        channel.from = entry.get_string("from");
        channel.to = entry.get_string_list("to");
        channel.username = entry.get_string("username");
        channel.password_file = entry.get_path("password_file");
        channel.password = entry.get_string("password");
        channel.token = entry.get_string("token");
        channel.headers = entry.get_string_map("headers");
        channel.command = entry.get_string_list("command");
        channel.timeout = entry.get_duration("timeout");
        channel.subject = Template(entry.get_string("subject"));
        channel.starttls = entry.get_bool("starttls");
        channel.ca_file = entry.get_path("ca_file");
        channel.at_mobiles = entry.get_string_list("at_mobiles");
        if (settings.channel(channel.name) != nullptr) problem(entry, "name", "a channel of this name exists already");
        switch (channel.type) {
            case ChannelType::webhook:
            case ChannelType::slack:
            case ChannelType::dingtalk:
            case ChannelType::alertmanager:
                if (channel.url.empty())
                    problem(entry, "url", fmt::format("a {} channel needs a url", type));
                else if (!channel.url.starts_with("http://") && !channel.url.starts_with("https://")) {
                    problem(entry, "url", "must be an http:// or https:// URL");
                }
                break;
            case ChannelType::email:
                if (channel.smtp_url.empty())
                    problem(entry, "smtp_url", "an email channel needs smtp_url");
                else if (!channel.smtp_url.starts_with("smtp://") && !channel.smtp_url.starts_with("smtps://")) {
                    problem(entry, "smtp_url", "must be an smtp:// or smtps:// URL");
                }
                if (channel.from.empty()) problem(entry, "from", "an email channel needs a from address");
                if (channel.to.empty()) problem(entry, "to", "an email channel needs at least one recipient");
                break;
            case ChannelType::exec:
                if (channel.command.empty()) problem(entry, "command", "an exec channel needs a command");
                break;
        }
        if (!channel.password.empty() && !channel.password_file.empty()) {
            problem(entry, "password_file", "set password or password_file, not both");
        }
        // A password file open to others is refused before anything is sent;
        // one that is missing is reported by the delivery that needs it.
        struct stat password_stat {};
        if (!channel.password_file.empty() && ::stat(channel.password_file.c_str(), &password_stat) == 0) {
            if (auto wrong = private_file_problem(channel.password_file, password_stat)) {
                problem(entry, "password_file", fmt::format("{} {}", channel.password_file.string(), *wrong));
            }
        }
        settings.channels.push_back(std::move(channel));
    }

    const auto& default_channels = section.get_string_list("default_channels");
    for (const auto& name : default_channels) {
        if (settings.channel(name) == nullptr) {
            problem(section, "default_channels", fmt::format("no [[alert.channel]] is named '{}'", name));
        }
    }

    for (const auto& entry : section.get_entries("rule")) {
        Rule rule;
        rule.name = entry.get_string("name");
        if (settings.rule(rule.name) != nullptr) problem(entry, "name", "a rule of this name exists already");
        for (const auto& [key, value] : entry.get_string_map("match")) {
            auto matcher = Matcher::from_pair(key, value);
            if (matcher)
                rule.match.push_back(std::move(*matcher));
            else
                problem(entry, "match", fmt::format("'{}': {}", key, matcher.error().message));
        }
        // Equality first: it is cheap and usually decides.
        std::ranges::stable_partition(rule.match, [](const Matcher& m) { return m.op() == MatchOp::equal; });
        if (const auto& text = entry.get_string("expr"); !text.empty()) {
            auto expr = Expr::parse(text);
            if (expr) {
                rule.expr = std::move(*expr);
            } else {
                const auto& at = entry.position("expr");
                // Point into the string: the column of its opening quote, plus one, plus the offset.
                const auto column = at.known() ? at.column + 1 + static_cast<std::uint32_t>(expr.error().offset) : 0;
                const SourcePosition where{at.file, at.line, column};
                problems.push_back(
                    fmt::format("{}: {}: {}", where.to_string(), entry.qualified("expr"), expr.error().message));
            }
        }
        rule.for_duration = entry.get_duration("for");
        rule.keep_firing_for = entry.get_duration("keep_firing_for");
        rule.severity = entry.get_string("severity");
        for (const auto& [key, value] : entry.get_string_map("labels")) rule.labels.emplace(key, value);
        rule.summary = Template(entry.get_string("summary"));
        rule.description = Template(entry.get_string("description"));
        rule.channels = entry.get_string_list("channels");
        if (rule.channels.empty()) rule.channels = default_channels;
        for (const auto& name : entry.get_string_list("channels")) {
            if (settings.channel(name) == nullptr) {
                problem(entry, "channels", fmt::format("no [[alert.channel]] is named '{}'", name));
            }
        }
        rule.repeat_interval = entry.get_optional_duration("repeat_interval").value_or(settings.repeat_interval);
        settings.rules.push_back(std::move(rule));
    }
    if (settings.rules.empty()) {
        Rule checks;
        checks.name = "(checks)";
        checks.from_checks = true;
        checks.match.push_back(*Matcher::from_pair("kind", "check"));
        checks.channels = default_channels;
        checks.repeat_interval = settings.repeat_interval;
        settings.rules.push_back(std::move(checks));
    }

    for (const auto& entry : section.get_entries("inhibit")) {
        InhibitRule inhibit;
        for (const auto& [key, list] :
             {std::pair{"source_match", &inhibit.source}, {"target_match", &inhibit.target}}) {
            for (const auto& [name, value] : entry.get_string_map(key)) {
                auto matcher = Matcher::from_pair(name, value);
                if (matcher)
                    list->push_back(std::move(*matcher));
                else
                    problem(entry, key, fmt::format("'{}': {}", name, matcher.error().message));
            }
        }
        if (inhibit.source.empty() || inhibit.target.empty()) {
            problem(entry, inhibit.source.empty() ? "source_match" : "target_match",
                    "an inhibit rule needs both source_match and target_match");
        }
        inhibit.equal = entry.get_string_list("equal");
        settings.inhibit.push_back(std::move(inhibit));
    }
    if (section.get_entries("inhibit").empty()) {
        settings.inhibit.push_back(InhibitRule{{*Matcher::from_pair("severity", "critical")},
                                               {*Matcher::from_pair("severity", "warning")},
                                               {"alertname", "instance"}});
    }

    if (!problems.empty()) {
        std::string message;
        for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
        return fail(ExitCode::config, message);
    }
    return settings;
}

Result<std::string> channel_password(const ChannelConfig& channel) {
    if (channel.password_file.empty()) return channel.password;
    auto line = read_private_line(channel.password_file);
    if (!line) {
        return fail(ExitCode::config,
                    fmt::format("channel '{}': password_file: {}", channel.name, line.error().message));
    }
    return line;
}

}  // namespace nasops::alert
