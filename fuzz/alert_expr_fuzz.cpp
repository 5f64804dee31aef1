// The condition language of [[alert.rule]] expr. A refusal points inside the
// text; an accepted condition evaluates against any record without failing,
// and reads only the fields it names.

#include <nlohmann/json.hpp>

#include "alert/expr.hpp"
#include "fuzz_check.hpp"

namespace {

const nlohmann::json& sample_records() {
    static const auto records = nlohmann::json::parse(R"([
        {"v":1,"ts":"2026-11-22T04:16:40.123Z","tool":"health","host":"cam-01","kind":"check","name":"disk",
         "status":"warning","value":0.93,"labels":{"mount":"/srv/media"},
         "metrics":[{"name":"disk_used_ratio","value":0.93},{"name":"transfer_success","value":0.5}]},
        {"v":1,"ts":"2026-11-22T04:16:40.123Z","tool":"sync","host":"cam-01","kind":"transfer","state":"completed",
         "bytes":12000000000,"seconds":1900.5,"ok":true},
        {"v":1,"ts":"2026-11-22T04:16:40.123Z","tool":"capacity","host":"cam-01","kind":"forecast",
         "days_until_full":-3,"value":null,"labels":[],"details":{"rows":"many"}}
    ])");
    return records;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = nasops::fuzz::as_text(data, size);
    const auto expr = nasops::alert::Expr::parse(text);
    if (!expr) {
        FUZZ_CHECK(expr.error().offset <= text.size());
        FUZZ_CHECK(!expr.error().message.empty());
        return 0;
    }
    FUZZ_CHECK(expr->text() == text);
    const auto roots = expr->field_roots();
    for (const auto& record : sample_records()) {
        const auto verdict = expr->evaluate(record);
        static_cast<void>(expr->primary_value(record));
        // Without the fields it reads, a condition is judged on the rest alone.
        auto only_read = nlohmann::json::object();
        for (const auto& root : roots) {
            if (record.contains(root)) only_read[root] = record[root];
        }
        FUZZ_CHECK(expr->evaluate(only_read) == verdict);
    }
    return 0;
}
