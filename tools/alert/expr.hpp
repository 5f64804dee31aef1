#pragma once

// The condition language of [[alert.rule]] expr, evaluated against one record:
//
//   value > 90%                                  numbers may carry a unit: 90% is 0.9,
//   success_ratio < 0.9 and queue_length > 100   10G is 10 GiB, 10GB 10^9 bytes, 5m 300 seconds
//   status >= "warning"                          status words compare by rank: ok < unknown < warning < critical
//   not (labels.job == "nightly") or bytes / seconds < 1M
//
// Operators, loosest first: or (||), and (&&), not (!), comparisons (< <= > >=
// == != and = for ==), + -, * /, unary -. Operands: numbers, "strings" or
// 'strings', true, false, and field paths into the record (value,
// labels.mount, details.rows). A field a condition needs that the record lacks
// makes the condition unknown (three-valued logic: false and unknown is
// false, true or unknown is true), and an unknown condition does not match.

#include <cstdint>
#include <expected>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nasops::alert {

// A dotted path into a JSON object: "labels.mount" is {"labels", "mount"}. In
// an array of objects, a part picks the element whose "name" it is, so
// "metrics.ssh_success.value" reads a check record's metric of that name.
class FieldPath {
public:
    FieldPath() = default;
    explicit FieldPath(std::string_view dotted);
    // The value at the path, or nullptr when some part is missing or not an object.
    const nlohmann::json* find(const nlohmann::json& object) const;
    const std::string& text() const noexcept { return m_text; }
    // The top-level field the path starts from: "labels" for "labels.mount".
    const std::string& root() const noexcept { return m_parts.front(); }

private:
    std::string m_text;
    std::vector<std::string> m_parts;  // never empty
};

// The rank of a check status word for comparisons, or -1 for another word.
int status_rank(std::string_view word) noexcept;

struct ExprError {
    std::size_t offset = 0;  // 0-based byte offset in the expression text
    std::string message;
};

class Expr {
public:
    static std::expected<Expr, ExprError> parse(std::string_view text);

    // True or false, or nullopt when a field the condition needs is missing.
    std::optional<bool> evaluate(const nlohmann::json& record) const;
    // The number an alert reports as its value: the left side of the first
    // comparison when it is numeric; nullopt otherwise.
    std::optional<double> primary_value(const nlohmann::json& record) const;
    // The top-level record fields the condition reads.
    std::vector<std::string> field_roots() const;

    const std::string& text() const noexcept { return m_text; }

    struct Node;

private:
    std::string m_text;
    std::vector<Node> m_nodes;  // m_nodes[m_root] is the root; children by index
    std::uint32_t m_root = 0;
    std::optional<std::uint32_t> m_primary;  // the node primary_value reads
};

struct Expr::Node {
    enum class Kind : std::uint8_t {
        number,
        string,
        boolean,
        field,
        neg,
        not_,
        and_,
        or_,
        add,
        sub,
        mul,
        div,
        lt,
        le,
        gt,
        ge,
        eq,
        ne
    };
    Kind kind;
    std::uint32_t left = 0;
    std::uint32_t right = 0;
    double number = 0;
    std::string text;  // string literal
    FieldPath field;
};

}  // namespace nasops::alert
