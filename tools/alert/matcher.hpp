#pragma once

// Matchers as Alertmanager writes them: name=value, name!=value, name=~regex,
// name!~regex, the value bare or in double quotes with \" \\ and \n escapes.
// Regexes are RE2's syntax, as Alertmanager's (Go's regexp) are, matched in
// linear time and anchored at both ends. A missing field or label matches as
// the empty string, as in Prometheus: env!="prod" matches an alert without an
// env label.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "alert/expr.hpp"
#include "nasops/core/error.hpp"

namespace re2 {
class RE2;
}

namespace nasops::alert {

using Labels = std::map<std::string, std::string, std::less<>>;

// Labels as a JSON object of strings (in payloads, records and the database).
nlohmann::json labels_json(const Labels& labels);
// The string members of a JSON object as labels; anything else gives none.
Labels labels_from_json(const nlohmann::json& object);
// "name=value name=value" in name order, without the names in `skip` (what
// logs, mails and `history` show after an alert's name and severity).
std::string labels_inline(const Labels& labels,
                          std::initializer_list<std::string_view> skip = {"alertname", "severity"});

enum class MatchOp { equal, not_equal, regex, not_regex };

std::string_view match_op_text(MatchOp op) noexcept;

class Matcher {
public:
    // "alertname=~disk.*" (a silence's --match, an inhibit rule), read as
    // Alertmanager's ParseMatcher reads it: the operator first (=~ before =),
    // then the value, whose quotes and escapes are removed and never read as
    // an operator (severity="~x" is equality with "~x"); blanks around the
    // name and the value are dropped. Errors quote the text (ExitCode::usage).
    static Result<Matcher> parse(std::string_view text);
    // A key and a value of a rule's match table: a value starting with "!=",
    // "=~", "!~" or "=" takes that operator, any other is matched for equality.
    static Result<Matcher> from_pair(std::string_view name, std::string_view value);

    bool matches(std::string_view value) const;
    // Against the field named name() in a record (dotted paths reach into
    // objects such as labels); numbers and booleans match as JSON writes them.
    bool matches_record(const nlohmann::json& record) const;
    bool matches_labels(const Labels& labels) const;

    const std::string& name() const noexcept { return m_name; }
    MatchOp op() const noexcept { return m_op; }
    const std::string& value() const noexcept { return m_value; }
    // "alertname=~disk.*"; the value in quotes, escaped, when it would not
    // read back bare, so that parse(to_string()) gives this matcher again.
    std::string to_string() const;

private:
    static Result<Matcher> make(std::string_view name, MatchOp op, std::string value);

    std::string m_name;
    FieldPath m_path;
    MatchOp m_op = MatchOp::equal;
    std::string m_value;
    std::shared_ptr<const re2::RE2> m_regex;
};

bool matches_all(const std::vector<Matcher>& matchers, const Labels& labels);

}  // namespace nasops::alert
