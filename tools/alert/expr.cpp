#include "alert/expr.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "nasops/util/units.hpp"

namespace nasops::alert {

FieldPath::FieldPath(std::string_view dotted) : m_text(dotted) {
    std::size_t pos = 0;
    while (pos <= dotted.size()) {
        const auto dot = dotted.find('.', pos);
        m_parts.emplace_back(dotted.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos));
        if (dot == std::string_view::npos) break;
        pos = dot + 1;
    }
}

const nlohmann::json* FieldPath::find(const nlohmann::json& object) const {
    const nlohmann::json* at = &object;
    for (const auto& part : m_parts) {
        if (at->is_array()) {
            // metrics.ssh_success: the element of an array of objects whose "name" is the part.
            const nlohmann::json* found = nullptr;
            for (const auto& element : *at) {
                const auto name = element.is_object() ? element.find("name") : element.end();
                if (element.is_object() && name != element.end() && name->is_string() &&
                    name->get_ref<const std::string&>() == part) {
                    found = &element;
                    break;
                }
            }
            if (found == nullptr) return nullptr;
            at = found;
            continue;
        }
        if (!at->is_object()) return nullptr;
        const auto it = at->find(part);
        if (it == at->end()) return nullptr;
        at = &*it;
    }
    return at;
}

int status_rank(std::string_view word) noexcept {
    if (word == "ok") return 0;
    if (word == "unknown") return 1;
    if (word == "warning") return 2;
    if (word == "critical") return 3;
    return -1;
}

namespace {

using Kind = Expr::Node::Kind;

enum class Tok { end, number, string, ident, lparen, rparen, op };

struct Token {
    Tok type = Tok::end;
    std::size_t offset = 0;
    std::string text;  // identifier, operator, or the string's contents
    double number = 0;
};

std::optional<double> time_unit(std::string_view unit) {
    if (unit == "ms") return 0.001;
    if (unit == "s") return 1;
    if (unit == "m") return 60;
    if (unit == "h") return 3600;
    if (unit == "d") return 86400;
    if (unit == "w") return 604800;
    return std::nullopt;
}

class Lexer {
public:
    explicit Lexer(std::string_view text) : m_text(text) {}

    std::expected<std::vector<Token>, ExprError> run() {
        std::vector<Token> tokens;
        while (true) {
            while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos]))) ++m_pos;
            if (m_pos >= m_text.size()) break;
            TRY_ASSIGN(auto token, next());
            tokens.push_back(std::move(token));
        }
        tokens.push_back(Token{Tok::end, m_text.size(), {}, 0});
        return tokens;
    }

private:
    std::expected<Token, ExprError> next() {
        const std::size_t start = m_pos;
        const char c = m_text[m_pos];
        if (std::isdigit(static_cast<unsigned char>(c)) ||
            (c == '.' && m_pos + 1 < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos + 1])))) {
            return number(start);
        }
        if (c == '"' || c == '\'') return string(start, c);
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            while (m_pos < m_text.size() && (std::isalnum(static_cast<unsigned char>(m_text[m_pos])) ||
                                             m_text[m_pos] == '_' || m_text[m_pos] == '.')) {
                ++m_pos;
            }
            std::string word(m_text.substr(start, m_pos - start));
            if (word.ends_with('.') || word.find("..") != std::string::npos) {
                return std::unexpected(ExprError{start, fmt::format("malformed field name '{}'", word)});
            }
            return Token{Tok::ident, start, std::move(word), 0};
        }
        if (c == '(') return ++m_pos, Token{Tok::lparen, start, "(", 0};
        if (c == ')') return ++m_pos, Token{Tok::rparen, start, ")", 0};
        for (std::string_view op : {"<=", ">=", "==", "!=", "&&", "||"}) {
            if (m_text.substr(m_pos, 2) == op) {
                m_pos += 2;
                return Token{Tok::op, start, std::string(op), 0};
            }
        }
        if (std::string_view("<>=!+-*/").find(c) != std::string_view::npos) {
            ++m_pos;
            return Token{Tok::op, start, std::string(1, c), 0};
        }
        return std::unexpected(ExprError{start, fmt::format("unexpected character '{}'", c)});
    }

    std::expected<Token, ExprError> number(std::size_t start) {
        while (m_pos < m_text.size() &&
               (std::isdigit(static_cast<unsigned char>(m_text[m_pos])) || m_text[m_pos] == '.')) {
            ++m_pos;
        }
        const auto digits = m_text.substr(start, m_pos - start);
        double value = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc() || end != digits.data() + digits.size()) {
            return std::unexpected(ExprError{start, fmt::format("malformed number '{}'", digits)});
        }
        const std::size_t unit_start = m_pos;
        while (m_pos < m_text.size() &&
               (std::isalpha(static_cast<unsigned char>(m_text[m_pos])) || m_text[m_pos] == '%')) {
            ++m_pos;
        }
        const auto unit = m_text.substr(unit_start, m_pos - unit_start);
        if (unit.empty()) return Token{Tok::number, start, std::string(digits), value};
        if (unit == "%") return Token{Tok::number, start, std::string(digits), value / 100.0};
        if (auto seconds = time_unit(unit)) return Token{Tok::number, start, std::string(digits), value * *seconds};
        if (auto bytes = parse_size(m_text.substr(start, m_pos - start))) {
            return Token{Tok::number, start, std::string(digits), static_cast<double>(*bytes)};
        }
        return std::unexpected(ExprError{
            unit_start,
            fmt::format("unknown unit '{}' (expected %, a size such as 10G or 10GB, or ms, s, m, h, d, w)", unit)});
    }

    std::expected<Token, ExprError> string(std::size_t start, char quote) {
        ++m_pos;
        std::string text;
        while (m_pos < m_text.size() && m_text[m_pos] != quote) {
            if (m_text[m_pos] == '\\' && m_pos + 1 < m_text.size()) ++m_pos;
            text.push_back(m_text[m_pos++]);
        }
        if (m_pos >= m_text.size()) return std::unexpected(ExprError{start, "unterminated string"});
        ++m_pos;
        return Token{Tok::string, start, std::move(text), 0};
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
};

class Parser {
public:
    Parser(std::vector<Token> tokens, std::vector<Expr::Node>& nodes) : m_tokens(std::move(tokens)), m_nodes(nodes) {}

    std::expected<std::uint32_t, ExprError> parse_all() {
        auto root = parse_or();
        if (!root) return root;
        if (peek().type != Tok::end) return error(peek(), "expected an operator or the end of the expression");
        if (m_deepest > k_max_depth) {
            return std::unexpected(
                ExprError{0, fmt::format("the condition is more than {} operators deep: split it", k_max_depth)});
        }
        return root;
    }

    std::optional<std::uint32_t> first_comparison_left;

private:
    const Token& peek() const { return m_tokens[m_pos]; }
    bool is_word(const Token& t, std::string_view word) const { return t.type == Tok::ident && t.text == word; }
    bool is_op(const Token& t, std::string_view op) const { return t.type == Tok::op && t.text == op; }

    std::unexpected<ExprError> error(const Token& at, std::string_view message) const {
        const auto found = at.type == Tok::end ? std::string("the end") : fmt::format("'{}'", at.text);
        return std::unexpected(ExprError{at.offset, fmt::format("{}, found {}", message, found)});
    }

    // Brackets, "not" and unary minus are parsed by recursion, and a condition
    // is evaluated by recursion over its tree: both limits keep a hostile
    // condition (the fuzz target's 3,000 brackets) from overflowing the stack.
    static constexpr int k_max_nesting = 64;
    static constexpr std::uint32_t k_max_depth = 256;

    template <class Parse>
    std::expected<std::uint32_t, ExprError> nested(Parse parse) {
        if (m_nesting >= k_max_nesting)
            return error(peek(), fmt::format("brackets, 'not' and '-' nest more than {} deep", k_max_nesting));
        ++m_nesting;
        auto result = parse();
        --m_nesting;
        return result;
    }

    std::uint32_t add(Expr::Node node) {
        std::uint32_t depth = 1;
        if (node.kind == Kind::neg || node.kind == Kind::not_) {
            depth += m_depths[node.left];
        } else if (node.kind >= Kind::and_) {
            depth += std::max(m_depths[node.left], m_depths[node.right]);
        }
        m_depths.push_back(depth);
        m_deepest = std::max(m_deepest, depth);
        m_nodes.push_back(std::move(node));
        return static_cast<std::uint32_t>(m_nodes.size() - 1);
    }
    std::uint32_t binary(Kind kind, std::uint32_t left, std::uint32_t right) {
        return add(Expr::Node{.kind = kind, .left = left, .right = right});
    }

    std::expected<std::uint32_t, ExprError> parse_or() {
        auto left = parse_and();
        if (!left) return left;
        while (is_word(peek(), "or") || is_op(peek(), "||")) {
            ++m_pos;
            auto right = parse_and();
            if (!right) return right;
            left = binary(Kind::or_, *left, *right);
        }
        return left;
    }

    std::expected<std::uint32_t, ExprError> parse_and() {
        auto left = parse_not();
        if (!left) return left;
        while (is_word(peek(), "and") || is_op(peek(), "&&")) {
            ++m_pos;
            auto right = parse_not();
            if (!right) return right;
            left = binary(Kind::and_, *left, *right);
        }
        return left;
    }

    std::expected<std::uint32_t, ExprError> parse_not() {
        if (is_word(peek(), "not") || is_op(peek(), "!")) {
            ++m_pos;
            auto operand = nested([&] { return parse_not(); });
            if (!operand) return operand;
            return add(Expr::Node{.kind = Kind::not_, .left = *operand});
        }
        return parse_comparison();
    }

    std::expected<std::uint32_t, ExprError> parse_comparison() {
        auto left = parse_sum();
        if (!left) return left;
        static constexpr std::pair<std::string_view, Kind> k_ops[] = {
            {"<", Kind::lt},  {"<=", Kind::le}, {">", Kind::gt},  {">=", Kind::ge},
            {"==", Kind::eq}, {"=", Kind::eq},  {"!=", Kind::ne},
        };
        for (const auto& [op, kind] : k_ops) {
            if (!is_op(peek(), op)) continue;
            ++m_pos;
            auto right = parse_sum();
            if (!right) return right;
            if (!first_comparison_left) first_comparison_left = *left;
            for (const auto& [op2, kind2] : k_ops) {
                if (is_op(peek(), op2)) return error(peek(), "comparisons do not chain: use 'and'");
            }
            return binary(kind, *left, *right);
        }
        return left;
    }

    std::expected<std::uint32_t, ExprError> parse_sum() {
        auto left = parse_product();
        if (!left) return left;
        while (is_op(peek(), "+") || is_op(peek(), "-")) {
            const Kind kind = peek().text == "+" ? Kind::add : Kind::sub;
            ++m_pos;
            auto right = parse_product();
            if (!right) return right;
            left = binary(kind, *left, *right);
        }
        return left;
    }

    std::expected<std::uint32_t, ExprError> parse_product() {
        auto left = parse_unary();
        if (!left) return left;
        while (is_op(peek(), "*") || is_op(peek(), "/")) {
            const Kind kind = peek().text == "*" ? Kind::mul : Kind::div;
            ++m_pos;
            auto right = parse_unary();
            if (!right) return right;
            left = binary(kind, *left, *right);
        }
        return left;
    }

    std::expected<std::uint32_t, ExprError> parse_unary() {
        if (is_op(peek(), "-")) {
            ++m_pos;
            auto operand = nested([&] { return parse_unary(); });
            if (!operand) return operand;
            return add(Expr::Node{.kind = Kind::neg, .left = *operand});
        }
        return parse_primary();
    }

    std::expected<std::uint32_t, ExprError> parse_primary() {
        const Token& t = peek();
        switch (t.type) {
            case Tok::number: ++m_pos; return add(Expr::Node{.kind = Kind::number, .number = t.number});
            case Tok::string: ++m_pos; return add(Expr::Node{.kind = Kind::string, .text = t.text});
            case Tok::lparen: {
                ++m_pos;
                auto inner = nested([&] { return parse_or(); });
                if (!inner) return inner;
                if (peek().type != Tok::rparen) return error(peek(), "expected ')'");
                ++m_pos;
                return inner;
            }
            case Tok::ident:
                if (t.text == "true" || t.text == "false") {
                    ++m_pos;
                    return add(Expr::Node{.kind = Kind::boolean, .number = t.text == "true" ? 1.0 : 0.0});
                }
                if (t.text == "and" || t.text == "or" || t.text == "not") break;
                ++m_pos;
                return add(Expr::Node{.kind = Kind::field, .field = FieldPath(t.text)});
            default: break;
        }
        return error(t, "expected a number, a string, a field name or '('");
    }

    std::vector<Token> m_tokens;
    std::size_t m_pos = 0;
    std::vector<Expr::Node>& m_nodes;
    std::vector<std::uint32_t> m_depths;  // of each node of m_nodes, a leaf being 1
    std::uint32_t m_deepest = 0;
    int m_nesting = 0;
};

struct Val {
    enum class Type : std::uint8_t { missing, number, string, boolean } type = Type::missing;
    double number = 0;
    std::string_view text;
};

Val from_json(const nlohmann::json* j) {
    if (j == nullptr || j->is_null()) return {};
    if (j->is_number()) return {Val::Type::number, j->get<double>(), {}};
    if (j->is_boolean()) return {Val::Type::boolean, j->get<bool>() ? 1.0 : 0.0, {}};
    if (j->is_string()) return {Val::Type::string, 0, j->get_ref<const std::string&>()};
    return {};
}

std::optional<double> as_number(const Val& v) {
    if (v.type == Val::Type::number) return v.number;
    if (v.type == Val::Type::string) {
        double out = 0;
        const auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), out);
        if (ec == std::errc() && end == v.text.data() + v.text.size()) return out;
    }
    return std::nullopt;
}

// -1, 0, 1, or nullopt when the two cannot be ordered.
std::optional<int> compare(const Val& a, const Val& b) {
    auto order = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
    if (a.type == Val::Type::string && b.type == Val::Type::string) {
        const int ra = status_rank(a.text);
        const int rb = status_rank(b.text);
        if (ra >= 0 && rb >= 0) return order(ra, rb);
        return order(a.text.compare(b.text), 0);
    }
    if (a.type == Val::Type::boolean || b.type == Val::Type::boolean) {
        if (a.type != b.type) return std::nullopt;
        return order(a.number, b.number);
    }
    const auto x = as_number(a);
    const auto y = as_number(b);
    if (!x || !y) return std::nullopt;
    return order(*x, *y);
}

// Tri-state truth: 1 true, 0 false, -1 unknown.
int truth(const Val& v) {
    switch (v.type) {
        case Val::Type::missing: return -1;
        case Val::Type::boolean:
        case Val::Type::number: return v.number != 0 ? 1 : 0;
        case Val::Type::string: return v.text.empty() ? 0 : 1;
    }
    return -1;
}

Val boolean(int t) {
    if (t < 0) return {};
    return {Val::Type::boolean, t > 0 ? 1.0 : 0.0, {}};
}

Val eval(const std::vector<Expr::Node>& nodes, std::uint32_t index, const nlohmann::json& record) {
    const auto& n = nodes[index];
    switch (n.kind) {
        case Kind::number: return {Val::Type::number, n.number, {}};
        case Kind::string: return {Val::Type::string, 0, n.text};
        case Kind::boolean: return {Val::Type::boolean, n.number, {}};
        case Kind::field: return from_json(n.field.find(record));
        case Kind::neg: {
            const auto x = as_number(eval(nodes, n.left, record));
            if (!x) return {};
            return {Val::Type::number, -*x, {}};
        }
        case Kind::not_: {
            const int t = truth(eval(nodes, n.left, record));
            return boolean(t < 0 ? -1 : 1 - t);
        }
        case Kind::and_: {
            const int a = truth(eval(nodes, n.left, record));
            if (a == 0) return boolean(0);
            const int b = truth(eval(nodes, n.right, record));
            if (b == 0) return boolean(0);
            return boolean(a < 0 || b < 0 ? -1 : 1);
        }
        case Kind::or_: {
            const int a = truth(eval(nodes, n.left, record));
            if (a == 1) return boolean(1);
            const int b = truth(eval(nodes, n.right, record));
            if (b == 1) return boolean(1);
            return boolean(a < 0 || b < 0 ? -1 : 0);
        }
        case Kind::add:
        case Kind::sub:
        case Kind::mul:
        case Kind::div: {
            const auto x = as_number(eval(nodes, n.left, record));
            const auto y = as_number(eval(nodes, n.right, record));
            if (!x || !y) return {};
            double r = 0;
            if (n.kind == Kind::add) r = *x + *y;
            if (n.kind == Kind::sub) r = *x - *y;
            if (n.kind == Kind::mul) r = *x * *y;
            if (n.kind == Kind::div) {
                if (*y == 0) return {};
                r = *x / *y;
            }
            return {Val::Type::number, r, {}};
        }
        case Kind::lt:
        case Kind::le:
        case Kind::gt:
        case Kind::ge:
        case Kind::eq:
        case Kind::ne: {
            const Val a = eval(nodes, n.left, record);
            if (a.type == Val::Type::missing) return {};
            const Val b = eval(nodes, n.right, record);
            if (b.type == Val::Type::missing) return {};
            const auto c = compare(a, b);
            if (!c) return boolean(n.kind == Kind::ne ? 1 : 0);
            switch (n.kind) {
                case Kind::lt: return boolean(*c < 0);
                case Kind::le: return boolean(*c <= 0);
                case Kind::gt: return boolean(*c > 0);
                case Kind::ge: return boolean(*c >= 0);
                case Kind::eq: return boolean(*c == 0);
                default: return boolean(*c != 0);
            }
        }
    }
    return {};
}

}  // namespace

std::expected<Expr, ExprError> Expr::parse(std::string_view text) {
    TRY_ASSIGN(auto tokens, Lexer(text).run());
    if (tokens.size() == 1) return std::unexpected(ExprError{0, "empty expression"});
    Expr expr;
    expr.m_text = std::string(text);
    Parser parser(std::move(tokens), expr.m_nodes);
    TRY_ASSIGN(auto root, parser.parse_all());
    expr.m_root = root;
    expr.m_primary = parser.first_comparison_left;
    return expr;
}

std::optional<bool> Expr::evaluate(const nlohmann::json& record) const {
    const int t = truth(eval(m_nodes, m_root, record));
    if (t < 0) return std::nullopt;
    return t > 0;
}

std::optional<double> Expr::primary_value(const nlohmann::json& record) const {
    if (!m_primary) return std::nullopt;
    const Val v = eval(m_nodes, *m_primary, record);
    if (v.type == Val::Type::boolean) return std::nullopt;
    return as_number(v);
}

std::vector<std::string> Expr::field_roots() const {
    std::vector<std::string> out;
    for (const auto& node : m_nodes) {
        if (node.kind == Node::Kind::field) out.push_back(node.field.root());
    }
    return out;
}

}  // namespace nasops::alert
