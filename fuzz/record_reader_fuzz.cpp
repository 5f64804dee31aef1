// NDJSON records as nasops-alert and nasops-trace read them from a pipe. The
// streaming reader must yield, line by line, what decode_record_line makes of
// each line on its own; and a reader told to keep a few fields must find the
// same records and problems, with the other fields left out.

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "nasops/record/record.hpp"
#include "nasops/record/record_line.hpp"

namespace {

using nasops::ReadItem;
using nasops::ReadProblem;
using nasops::Record;

std::vector<ReadItem> read_all(std::string_view text, const std::vector<std::string>& keep) {
    std::istringstream in{std::string(text)};
    nasops::RecordReader reader(in);
    if (!keep.empty()) reader.keep_fields(keep);
    std::vector<ReadItem> items;
    while (auto item = reader.next()) items.push_back(std::move(*item));
    return items;
}

std::vector<ReadItem> decode_each_line(std::string_view text) {
    std::vector<ReadItem> items;
    std::uint64_t number = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        ++number;
        if (auto item = nasops::decode_record_line(text.substr(0, nl), number)) items.push_back(std::move(*item));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    return items;
}

bool same_envelope(const Record& a, const Record& b) {
    return a.v == b.v && a.ts == b.ts && a.time == b.time && a.tool == b.tool && a.host == b.host && a.kind == b.kind;
}

bool same_problem(const ReadProblem& a, const ReadProblem& b) {
    return a.kind == b.kind && a.line == b.line && a.message == b.message;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = nasops::fuzz::as_text(data, size);
    const auto streamed = read_all(text, {});
    const auto lines = decode_each_line(text);
    FUZZ_CHECK(streamed.size() == lines.size());
    for (std::size_t i = 0; i < streamed.size(); ++i) {
        FUZZ_CHECK(streamed[i].index() == lines[i].index());
        if (const auto* record = std::get_if<Record>(&streamed[i])) {
            const auto& other = std::get<Record>(lines[i]);
            FUZZ_CHECK(same_envelope(*record, other) && record->object == other.object);
            FUZZ_CHECK(record->object.is_object() && record->object.contains("kind"));
            FUZZ_CHECK(nasops::parse_record_kind(nasops::record_kind_name(record->kind)) == record->kind);
        } else {
            const auto& problem = std::get<ReadProblem>(streamed[i]);
            FUZZ_CHECK(same_problem(problem, std::get<ReadProblem>(lines[i])));
            FUZZ_CHECK(!problem.message.empty());
        }
    }

    const std::vector<std::string> keep{"name", "value"};
    const auto kept = read_all(text, keep);
    FUZZ_CHECK(kept.size() == streamed.size());
    for (std::size_t i = 0; i < kept.size(); ++i) {
        FUZZ_CHECK(kept[i].index() == streamed[i].index());
        if (const auto* record = std::get_if<Record>(&kept[i])) {
            const auto& full = std::get<Record>(streamed[i]);
            FUZZ_CHECK(same_envelope(*record, full));
            auto expected = full.object;
            for (auto it = expected.begin(); it != expected.end();) {
                const bool wanted =
                    std::ranges::count(keep, it.key()) > 0 ||
                    std::ranges::count(std::vector<std::string>{"v", "ts", "tool", "host", "kind"}, it.key()) > 0;
                it = wanted ? std::next(it) : expected.erase(it);
            }
            FUZZ_CHECK(record->object == expected);
        } else {
            FUZZ_CHECK(same_problem(std::get<ReadProblem>(kept[i]), std::get<ReadProblem>(streamed[i])));
        }
    }
    return 0;
}
