#include "health_import.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace nasops::capacity {

namespace {

// The value of the metric `name` in the record's "metrics" array.
std::optional<double> metric_value(const nlohmann::json& object, std::string_view name) {
    const auto metrics = object.find("metrics");
    if (metrics == object.end() || !metrics->is_array()) return std::nullopt;
    for (const auto& m : *metrics) {
        if (!m.is_object()) continue;
        const auto n = m.find("name");
        const auto v = m.find("value");
        if (n != m.end() && n->is_string() && n->get_ref<const std::string&>() == name && v != m.end() &&
            v->is_number())
            return v->get<double>();
    }
    return std::nullopt;
}

}  // namespace

Result<std::optional<TargetSample>> sample_from_check(const Record& record) {
    if (record.kind != RecordKind::check) return std::optional<TargetSample>{};
    const auto& o = record.object;
    const auto name_it = o.find("name");
    if (name_it == o.end() || !name_it->is_string()) return std::optional<TargetSample>{};
    const auto& name = name_it->get_ref<const std::string&>();
    std::string prefix;
    if (name == "disk") {
        prefix = "disk";
    } else if (name == "nas_disk" || name == "nas-disk") {
        prefix = "nas_disk";
    } else {
        return std::optional<TargetSample>{};
    }
    const auto status = o.find("status");
    if (status != o.end() && status->is_string() && status->get_ref<const std::string&>() == "unknown")
        return std::optional<TargetSample>{};
    const auto bad = [&](std::string_view why) {
        return fail(ExitCode::data_error, fmt::format("{} check record of {}: {}", name, record.ts, why));
    };
    const auto target = o.find("target");
    if (target == o.end() || !target->is_string() || target->get_ref<const std::string&>().empty())
        return bad("no target");
    const auto ratio = metric_value(o, prefix + "_used");
    const auto available = metric_value(o, prefix + "_free");
    if (!ratio || !available) return bad(fmt::format("no {}_used and {}_free metrics", prefix, prefix));
    if (!(*ratio >= 0 && *ratio <= 1) || !(*available >= 0) || !std::isfinite(*available))
        return bad(fmt::format("{}_used {} or {}_free {} out of range", prefix, *ratio, prefix, *available));
    if (*ratio >= 1) return bad("the volume is full: its size cannot be told from the used ratio and the free bytes");
    // ratio = used / (used + available)
    const double total = *available / (1.0 - *ratio);
    const auto usable = static_cast<std::uint64_t>(std::llround(total));
    const auto avail = static_cast<std::uint64_t>(std::llround(*available));
    const auto ts = std::chrono::duration_cast<std::chrono::seconds>(record.time.time_since_epoch()).count();
    return std::optional<TargetSample>(TargetSample{
        .target = target->get<std::string>(),
        .sample = Sample{.ts = ts, .used = usable - std::min(avail, usable), .total = usable},
    });
}

}  // namespace nasops::capacity
