// Eight processes append spans to one traces.jsonl at once: every line must
// come out whole, and none may be lost.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "fixtures/temp_dir.hpp"
#include "nasops/obs/trace.hpp"

using namespace nasops;

TEST(TraceConcurrentWriters, EightProcessesNeverInterleave) {
    nasops::testing::TempDir dir;
    const auto file = dir / k_traces_file;
    constexpr int k_writers = 8;
    constexpr int k_spans = 1500;
    // A large attribute makes each record span several pages, where a
    // non-atomic append would show torn lines.
    const std::string filler(12'000, 'x');

    std::vector<pid_t> pids;
    for (int w = 0; w < k_writers; ++w) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            SystemClock clock;
            const Tracer tracer(SpanSink(file, "writer" + std::to_string(w), "host", clock), std::nullopt);
            int failures = 0;
            for (int i = 0; i < k_spans; ++i) {
                Span span(tracer, "span");
                span.set_attribute("writer", w);
                span.set_attribute("seq", i);
                span.set_attribute("filler", filler);
                if (!span.end()) ++failures;
            }
            ::_exit(failures == 0 ? 0 : 1);
        }
        pids.push_back(pid);
    }
    for (const pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    std::istringstream in(nasops::testing::read_file(file));
    RecordReader reader(in);
    std::map<int, std::vector<int>> seen;  // writer -> sequence numbers, in file order
    int problems = 0;
    while (auto item = reader.next()) {
        const auto* record = std::get_if<Record>(&*item);
        if (!record) {
            ++problems;
            continue;
        }
        const auto span = parse_span(*record);
        ASSERT_TRUE(span) << span.error().message;
        ASSERT_EQ(span->attributes.at("filler"), filler);
        seen[span->attributes.at("writer").get<int>()].push_back(span->attributes.at("seq").get<int>());
    }
    EXPECT_EQ(problems, 0);
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(k_writers));
    for (const auto& [writer, seqs] : seen) {
        ASSERT_EQ(seqs.size(), static_cast<std::size_t>(k_spans)) << "writer " << writer;
        for (int i = 0; i < k_spans; ++i) EXPECT_EQ(seqs[static_cast<std::size_t>(i)], i) << "writer " << writer;
    }
}
