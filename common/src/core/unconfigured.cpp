#include "nasops/core/unconfigured.hpp"

namespace nasops {

std::optional<std::string> sync_not_configured(const Config& config) {
    if (!config.get_string_list("sync", "sources").empty()) return std::nullopt;
    return std::string("nasops-sync is not configured: [sync] sources names no folder to upload (nasops.toml(5))");
}

}  // namespace nasops
