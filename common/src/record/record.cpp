#include "nasops/record/record.hpp"

#include <unistd.h>

#include <array>
#include <climits>

namespace nasops {

namespace {

struct KindName {
    RecordKind kind;
    std::string_view name;
};

constexpr std::array k_kind_names{
    KindName{RecordKind::check, "check"},       KindName{RecordKind::metric, "metric"},
    KindName{RecordKind::transfer, "transfer"}, KindName{RecordKind::alert, "alert"},
    KindName{RecordKind::forecast, "forecast"}, KindName{RecordKind::maint, "maint"},
    KindName{RecordKind::span, "span"},         KindName{RecordKind::event, "event"},
};

}  // namespace

std::string_view record_kind_name(RecordKind kind) noexcept {
    for (const auto& entry : k_kind_names) {
        if (entry.kind == kind) return entry.name;
    }
    return "event";
}

std::optional<RecordKind> parse_record_kind(std::string_view name) noexcept {
    for (const auto& entry : k_kind_names) {
        if (entry.name == name) return entry.kind;
    }
    return std::nullopt;
}

std::string local_hostname() {
    std::array<char, HOST_NAME_MAX + 1> buf{};
    if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "localhost";
    return std::string(buf.data());
}

}  // namespace nasops
