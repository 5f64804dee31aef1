#include "alert/matcher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace nasops::alert {

nlohmann::json labels_json(const Labels& labels) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : labels) j[k] = v;
    return j;
}

Labels labels_from_json(const nlohmann::json& object) {
    Labels labels;
    if (!object.is_object()) return labels;
    for (const auto& [k, v] : object.items()) {
        if (v.is_string()) labels.emplace(k, v.get<std::string>());
    }
    return labels;
}

std::string labels_inline(const Labels& labels, std::initializer_list<std::string_view> skip) {
    std::string out;
    for (const auto& [k, v] : labels) {
        if (std::ranges::find(skip, std::string_view(k)) != skip.end()) continue;
        out += fmt::format("{}{}={}", out.empty() ? "" : " ", k, v);
    }
    return out;
}

namespace {

constexpr std::size_t k_cache_limit = 4096;

bool valid_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
    }
    return true;
}

std::string json_text(const nlohmann::json& j) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_null()) return {};
    return j.dump();
}

}  // namespace

std::string_view match_op_text(MatchOp op) noexcept {
    switch (op) {
        case MatchOp::equal: return "=";
        case MatchOp::not_equal: return "!=";
        case MatchOp::regex: return "=~";
        case MatchOp::not_regex: return "!~";
    }
    return "=";
}

Result<Matcher> Matcher::from_pair(std::string_view name, std::string_view value) {
    Matcher m;
    if (!valid_name(name)) {
        return fail(ExitCode::usage, fmt::format("invalid matcher name '{}' (letters, digits, '_', '.', '-')", name));
    }
    m.m_name = std::string(name);
    m.m_path = FieldPath(name);
    if (value.starts_with("!=")) {
        m.m_op = MatchOp::not_equal;
        value.remove_prefix(2);
    } else if (value.starts_with("=~")) {
        m.m_op = MatchOp::regex;
        value.remove_prefix(2);
    } else if (value.starts_with("!~")) {
        m.m_op = MatchOp::not_regex;
        value.remove_prefix(2);
    } else if (value.starts_with("=")) {
        value.remove_prefix(1);
    }
    m.m_value = std::string(value);
    if (m.m_op == MatchOp::regex || m.m_op == MatchOp::not_regex) {
        try {
            m.m_regex = std::make_shared<const std::regex>(m.m_value, std::regex::ECMAScript | std::regex::optimize);
        } catch (const std::regex_error& e) {
            return fail(ExitCode::usage, fmt::format("invalid regular expression '{}': {}", m.m_value, e.what()));
        }
        m.m_cache = std::make_shared<std::unordered_map<std::string, bool>>();
    }
    return m;
}

Result<Matcher> Matcher::parse(std::string_view text) {
    const auto op = text.find_first_of("=!");
    if (op == std::string_view::npos || op == 0) {
        return fail(
            ExitCode::usage,
            fmt::format("invalid matcher '{}': expected name=value, name!=value, name=~regex or name!~regex", text));
    }
    auto name = text.substr(0, op);
    auto rest = text.substr(op);
    if (!(rest.starts_with("=") || rest.starts_with("!=") || rest.starts_with("!~"))) {
        return fail(
            ExitCode::usage,
            fmt::format("invalid matcher '{}': expected name=value, name!=value, name=~regex or name!~regex", text));
    }
    // "a=b" is from_pair's "=b"; "a==b" would read as equality with "=b", so say it.
    auto value = rest;
    if (rest.starts_with("=") && !rest.starts_with("=~")) value = rest.substr(1);
    if (value.size() >= 2 && (value.front() == '"' && value.back() == '"')) value = value.substr(1, value.size() - 2);
    std::string pair_value;
    if (rest.starts_with("!="))
        pair_value = "!=" + std::string(rest.substr(2));
    else if (rest.starts_with("=~"))
        pair_value = "=~" + std::string(rest.substr(2));
    else if (rest.starts_with("!~"))
        pair_value = "!~" + std::string(rest.substr(2));
    else
        pair_value = "=" + std::string(value);
    auto m = from_pair(name, pair_value);
    if (!m) return fail(ExitCode::usage, fmt::format("invalid matcher '{}': {}", text, m.error().message));
    return m;
}

bool Matcher::matches(std::string_view value) const {
    switch (m_op) {
        case MatchOp::equal: return value == m_value;
        case MatchOp::not_equal: return value != m_value;
        case MatchOp::regex:
        case MatchOp::not_regex: {
            bool hit = false;
            const auto it = m_cache->find(std::string(value));
            if (it != m_cache->end()) {
                hit = it->second;
            } else {
                hit = std::regex_match(value.begin(), value.end(), *m_regex);
                if (m_cache->size() >= k_cache_limit) m_cache->clear();
                m_cache->emplace(std::string(value), hit);
            }
            return m_op == MatchOp::regex ? hit : !hit;
        }
    }
    return false;
}

bool Matcher::matches_record(const nlohmann::json& record) const {
    const auto* j = m_path.find(record);
    if (j == nullptr) return matches("");
    if (j->is_string()) return matches(j->get_ref<const std::string&>());
    return matches(json_text(*j));
}

bool Matcher::matches_labels(const Labels& labels) const {
    const auto it = labels.find(m_name);
    return matches(it == labels.end() ? std::string_view() : std::string_view(it->second));
}

std::string Matcher::to_string() const {
    return m_name + std::string(match_op_text(m_op)) + m_value;
}

bool matches_all(const std::vector<Matcher>& matchers, const Labels& labels) {
    for (const auto& m : matchers) {
        if (!m.matches_labels(labels)) return false;
    }
    return true;
}

}  // namespace nasops::alert
