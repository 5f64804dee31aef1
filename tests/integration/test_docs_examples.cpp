// Runs the example commands of README.md and the man pages as they are
// written there, so that an example that no longer works fails a test. An
// example block is run when the line before its opening ``` marks it:
//   ; example-test: exit=0|1 stdout=1          (scdoc: a comment line)
//   <!-- example-test: exit=0 stdout=1 -->     (Markdown)
// Each block runs on a host of its own: a temp dir holding the config
// (NASOPS_CONFIG), the state and the logs, and one source folder whose file is
// already uploaded to a local folder standing in for the NAS. The commands of
// the block (a line each; a trailing backslash continues it) run there in
// order, each in bash -o pipefail with the built tools first in PATH. exit= lists
// the exit codes the command may end with; records=<kind>, that every line it
// prints is a record of that kind (nasops-records(7)); stdout=, when given, is
// its whole output (without the final newline), and must come last. Blocks without a marker show commands
// that need a real host (system paths, a NAS, a crontab) and are not run.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"

namespace fs = std::filesystem;
using nasops::testing::read_file;
using nasops::testing::run_command;
using nasops::testing::SpawnOptions;
using nasops::testing::write_file;

namespace {

struct Command {
    std::string where;  // "README.md:52"
    std::string text;
};

struct Example {
    std::string where;  // the marker's line
    std::vector<Command> commands;
    std::set<int> exits;
    std::optional<std::string> records_of;  // the kind every line printed must be
    std::optional<std::string> stdout_text;
};

// "exit=0|1 stdout=1" after the marker; the stdout text runs to the end of the line.
void parse_expectation(std::string_view spec, Example& e) {
    std::istringstream in{std::string(spec)};
    for (std::string word; in >> word;) {
        if (word.starts_with("exit=")) {
            std::istringstream codes(word.substr(5));
            for (std::string code; std::getline(codes, code, '|');) e.exits.insert(std::stoi(code));
        } else if (word.starts_with("records=")) {
            e.records_of = word.substr(8);
        } else if (word.starts_with("stdout=")) {
            const auto at = spec.find("stdout=");
            auto text = spec.substr(at + 7);
            text = text.substr(0, text.find_last_not_of(' ') + 1);
            e.stdout_text = std::string(text);
            break;
        } else {
            ADD_FAILURE() << e.where << ": unknown example-test expectation '" << word << "'";
        }
    }
    if (e.exits.empty()) ADD_FAILURE() << e.where << ": example-test without exit=";
}

std::vector<Example> marked_examples(const fs::path& file) {
    std::vector<Example> out;
    std::istringstream in(read_file(file));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        std::string_view marker = lines[i];
        if (marker.starts_with("; example-test:")) {
            marker.remove_prefix(15);
        } else if (marker.starts_with("<!-- example-test:") && marker.ends_with("-->")) {
            marker = marker.substr(18, marker.size() - 18 - 3);
        } else {
            continue;
        }
        const auto where = fmt::format("{}:{}", file.filename().string(), i + 1);
        if (!lines[i + 1].starts_with("```")) {
            ADD_FAILURE() << where << ": an example-test marker must be right before a ``` block";
            continue;
        }
        Example e{.where = where};
        parse_expectation(marker, e);
        std::string command;
        for (std::size_t j = i + 2; j < lines.size() && !lines[j].starts_with("```"); ++j) {
            std::string line = lines[j];
            // scdoc escapes a backslash as "\\"; the command has one.
            if (file.extension() == ".scd") {
                for (auto at = line.find("\\\\"); at != std::string::npos; at = line.find("\\\\", at + 1))
                    line.erase(at, 1);
            }
            if (line.ends_with("\\")) {
                command += line.substr(0, line.size() - 1) + " ";
                continue;
            }
            command += line;
            if (command.find_first_not_of(" \t") != std::string::npos && !command.starts_with("#"))
                e.commands.push_back({fmt::format("{}:{}", file.filename().string(), j + 1), command});
            command.clear();
        }
        if (e.commands.empty()) ADD_FAILURE() << where << ": an example-test block without a command";
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<fs::path> documents() {
    std::vector<fs::path> files{fs::path(NASOPS_SOURCE_DIR) / "README.md"};
    for (const auto& entry : fs::directory_iterator(fs::path(NASOPS_SOURCE_DIR) / "man")) {
        if (entry.path().extension() == ".scd") files.push_back(entry.path());
    }
    std::ranges::sort(files);
    return files;
}

// A host of its own for one example block.
class ExampleHost {
public:
    ExampleHost() {
        fs::create_directories(m_dir / "media");
        fs::create_directories(m_dir / "nas");
        write_file(config(), fmt::format("{}\n[sync]\nsources = [\"{}\"]\ntarget = \"{}\"\n",
                                         nasops::testing::paths_config(m_dir.path()), (m_dir / "media").string(),
                                         (m_dir / "nas").string()));
        ::chmod(config().c_str(), 0600);
        write_file(m_dir / "media/clip.mp4", "clip");
        nasops::testing::age_file(m_dir / "media/clip.mp4");
        const auto first = run("nasops-sync run --quiet");
        EXPECT_EQ(first.exit_code, 0) << "the examples start from one uploaded file\n" << first.err;
    }

    nasops::testing::CommandResult run(const std::string& command) const {
        SpawnOptions options;
        options.working_dir = m_dir.path();
        options.env = {{"NASOPS_CONFIG", config().string()},
                       {"HOME", m_dir.path().string()},
                       {"PATH", std::string(NASOPS_TOOLS_DIR) + ":" + std::getenv("PATH")}};
        options.unset_env = {"TRACEPARENT", "NO_COLOR"};
        return run_command({"bash", "-o", "pipefail", "-c", command}, {}, std::chrono::seconds(60), options);
    }

private:
    fs::path config() const { return m_dir / "nasops.toml"; }

    nasops::testing::TempDir m_dir{"nasops-docs-examples"};
};

}  // namespace

TEST(DocsExamples, EveryMarkedExampleRunsAsWritten) {
    std::vector<Example> examples;
    for (const auto& file : documents()) {
        auto found = marked_examples(file);
        examples.insert(examples.end(), found.begin(), found.end());
    }
    ASSERT_FALSE(examples.empty()) << "no example-test marker in README.md or man/*.scd";
    for (const auto& e : examples) {
        const ExampleHost host;
        for (const auto& c : e.commands) {
            SCOPED_TRACE(c.where + ": " + c.text);
            const auto r = host.run(c.text);
            EXPECT_TRUE(e.exits.contains(r.exit_code)) << "exit " << r.exit_code << "\n" << r.err;
            if (e.stdout_text) {
                EXPECT_EQ(r.out, *e.stdout_text + "\n");
            }
            if (e.records_of) {
                for (const auto& record : nasops::testing::parse_records(r.out))
                    EXPECT_EQ(record.at("kind"), *e.records_of) << record;
            }
        }
    }
}
