// Alertmanager-style matchers (silences' --match, inhibit rules) and the
// match tables of rules. A matcher prints as a text that parses back to the
// same matcher, whatever its value holds (quotes, backslashes, newlines, a
// leading '~'); matching a record or labels never fails, whatever the regex.

#include <nlohmann/json.hpp>

#include "alert/matcher.hpp"
#include "fuzz_check.hpp"

namespace {

const nlohmann::json& sample_record() {
    static const auto record = nlohmann::json::parse(R"({"v":1,"ts":"2026-11-22T04:16:40.123Z","tool":"health",
        "host":"cam-01","kind":"check","name":"disk","status":"warning","value":0.93,"ok":false,
        "labels":{"mount":"/srv/media","job":"nightly"},"metrics":[{"name":"disk_used_ratio","value":0.93}]})");
    return record;
}

// Matches without failing, and prints as a text that parses back to the same
// matcher (name, operator, value) and prints the same again.
void exercise(const nasops::alert::Matcher& m) {
    static_cast<void>(m.matches(""));
    static_cast<void>(m.matches("disk"));
    static_cast<void>(m.matches_record(sample_record()));
    static_cast<void>(m.matches_labels({{"alertname", "DiskFull"}, {"mount", "/srv/media"}}));

    const auto text = m.to_string();
    const auto again = nasops::alert::Matcher::parse(text);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->name() == m.name() && again->op() == m.op() && again->value() == m.value());
    FUZZ_CHECK(again->to_string() == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using nasops::alert::Matcher;
    const auto text = nasops::fuzz::as_text(data, size);

    if (const auto m = Matcher::parse(text)) {
        exercise(*m);
    } else {
        FUZZ_CHECK(!m.error().message.empty());
    }

    // A rule's match table: the key before the first '\n', the value after it.
    if (const auto nl = text.find('\n'); nl != std::string_view::npos) {
        if (const auto m = Matcher::from_pair(text.substr(0, nl), text.substr(nl + 1))) exercise(*m);
    }
    return 0;
}
