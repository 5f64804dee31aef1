#include "alert/record_fields.hpp"

#include <algorithm>
#include <iterator>

namespace nasops::alert {

namespace {

// The top-level field a dotted name starts from.
std::string root_of(std::string_view dotted) {
    return std::string(dotted.substr(0, dotted.find('.')));
}

}  // namespace

std::vector<std::string> record_fields(const AlertSettings& settings) {
    std::vector<std::string> fields{"kind", "name", "labels", "target", "path", "host", "status", "message", "value"};
    for (const auto& rule : settings.rules) {
        for (const auto& m : rule.match) fields.push_back(root_of(m.name()));
        if (rule.expr) std::ranges::move(rule.expr->field_roots(), std::back_inserter(fields));
        for (const auto* text : {&rule.summary, &rule.description}) {
            for (const auto& name : text->names()) fields.push_back(root_of(name));
        }
    }
    std::ranges::sort(fields);
    const auto [first, last] = std::ranges::unique(fields);
    fields.erase(first, last);
    return fields;
}

}  // namespace nasops::alert
