#include "nasops/ssh/shell_quote.hpp"

namespace nasops {

std::string shell_quote(std::string_view arg) {
    std::string out;
    out.reserve(arg.size() + 2);
    out.push_back('\'');
    for (const char c : arg) {
        if (c == '\'')
            out.append("'\\''");
        else
            out.push_back(c);
    }
    out.push_back('\'');
    return out;
}

std::string shell_join(std::span<const std::string> argv) {
    std::string out;
    for (const std::string& arg : argv) {
        if (!out.empty()) out.push_back(' ');
        out.append(shell_quote(arg));
    }
    return out;
}

}  // namespace nasops
