#include "sha256sum_output.hpp"

#include <map>

#include "nasops/util/sha256.hpp"

namespace nasops::sync {

Digests parse_sha256sum_output(std::string_view output, std::span<const std::string> names) {
    std::map<std::string, std::string, std::less<>> by_name;
    while (!output.empty()) {
        const auto nl = output.find('\n');
        std::string_view line = output.substr(0, nl);
        output.remove_prefix(nl == std::string_view::npos ? output.size() : nl + 1);
        const bool escaped = !line.empty() && line.front() == '\\';
        if (escaped) line.remove_prefix(1);
        if (line.size() < k_sha256_hex_length + 2 || !is_sha256_hex(line.substr(0, k_sha256_hex_length))) continue;
        const std::string digest(line.substr(0, k_sha256_hex_length));
        const char sep1 = line[k_sha256_hex_length];
        const char sep2 = line[k_sha256_hex_length + 1];
        if (sep1 != ' ' || (sep2 != ' ' && sep2 != '*')) continue;
        std::string_view raw = line.substr(k_sha256_hex_length + 2);
        std::string name;
        if (!escaped) {
            name = raw;
        } else {
            for (std::size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] != '\\' || i + 1 == raw.size()) {
                    name.push_back(raw[i]);
                    continue;
                }
                const char c = raw[++i];
                name.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c);
            }
        }
        by_name[std::move(name)] = digest;
    }
    Digests out;
    out.reserve(names.size());
    for (const auto& n : names) {
        const auto it = by_name.find(n);
        out.push_back(it == by_name.end() ? std::nullopt : std::optional<std::string>(it->second));
    }
    return out;
}

}  // namespace nasops::sync
