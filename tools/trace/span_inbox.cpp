#include "span_inbox.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "nasops/core/log.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::trace {

std::filesystem::path inbox_path(const std::filesystem::path& run_dir, std::string_view span_id) {
    return run_dir / fmt::format("trace-{}.events", span_id);
}

Result<SpanInbox> SpanInbox::create(std::filesystem::path file) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd)
        return fail(ExitCode::cant_create, fmt::format("cannot create {}: {}", file.string(), std::strerror(errno)));
    return SpanInbox(std::move(file));
}

SpanInbox::~SpanInbox() {
    if (!m_file.empty()) ::unlink(m_file.c_str());
}

std::vector<SpanEvent> SpanInbox::events() const {
    std::vector<SpanEvent> out;
    std::ifstream in(m_file);
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        const auto json = nlohmann::json::parse(line, nullptr, false);
        Result<SystemTimePoint> time = fail(ExitCode::data_error, "no time");
        if (json.is_object() && json.contains("time") && json["time"].is_string())
            time = parse_rfc3339(json["time"].get<std::string>());
        if (!time || !json.contains("name") || !json["name"].is_string()) {
            logger().warning("{}:{}: not an event; skipped", m_file.string(), number);
            continue;
        }
        SpanEvent event{json["name"].get<std::string>(), *time};
        if (const auto a = json.find("attributes"); a != json.end() && a->is_object()) event.attributes = *a;
        out.push_back(std::move(event));
    }
    return out;
}

Result<void> post_event(const std::filesystem::path& run_dir, std::string_view span_id, const SpanEvent& event) {
    const auto line =
        nlohmann::json{{"name", event.name}, {"time", rfc3339_nanos(event.time)}, {"attributes", event.attributes}}
            .dump() +
        "\n";
    auto posted = append_line(inbox_path(run_dir, span_id), line, IfMissing::fail);
    if (!posted && posted.error().code == ExitCode::no_input)
        return fail(ExitCode::no_input,
                    fmt::format("event: no span to add it to: TRACEPARENT names span {}, which no nasops-trace exec "
                                "on this host holds open (with the run folder {}); use --carrier for a span opened "
                                "by start",
                                span_id, run_dir.string()));
    return posted;
}

}  // namespace nasops::trace
