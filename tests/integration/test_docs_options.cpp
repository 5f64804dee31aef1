// Keeps --help, the man pages and the shell completions in step: every long
// option and every subcommand that a tool's --help lists (recursively, down to
// "nasops-alert silence add") must appear in man/nasops-<tool>.1.scd and in its
// bash, zsh and fish completions, and those files must not offer options that
// no longer exist. Also checks what every tool's command line promises:
// --version, --help with examples, usage errors, and the honest exit 70 of the
// subcommands that are not implemented yet.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/core/exit_code.hpp"
#include "nasops/version.hpp"

namespace fs = std::filesystem;
using nasops::testing::CommandResult;
using nasops::testing::read_file;
using nasops::testing::run_command;

namespace {

struct ToolSpec {
    std::string name;
    int usage_exit = 64;
    std::size_t commands = 0;  // the tool and its (nested) subcommands, each with its own --help
};

const std::vector<ToolSpec> k_tools{
    {"sync", 64, 9}, {"health", 3, 1}, {"alert", 64, 9}, {"capacity", 64, 6}, {"dbmaint", 64, 11}, {"trace", 64, 11},
};

const ToolSpec& spec(std::string_view name) {
    for (const auto& tool : k_tools) {
        if (tool.name == name) return tool;
    }
    throw std::invalid_argument("no tool " + std::string(name));
}

// Names the tool in gtest's messages instead of dumping the struct's bytes.
void PrintTo(const ToolSpec& tool, std::ostream* os) {
    *os << "nasops-" << tool.name;
}

fs::path tool_path(const ToolSpec& tool) {
    return fs::path(NASOPS_TOOLS_DIR) / ("nasops-" + tool.name);
}

std::string join(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    return text;
}

// Runs nasops-<tool> with `args`, no stdin, and captures its output.
CommandResult run_nasops(const ToolSpec& tool, const std::vector<std::string>& args) {
    std::vector<std::string> argv{tool_path(tool).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_command(argv, {}, std::chrono::seconds(30));
    EXPECT_FALSE(result.timed_out) << join(argv) << " did not finish";
    return result;
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t pos = 0;
    for (auto next = text.find(separator); next != std::string::npos; next = text.find(separator, pos)) {
        parts.push_back(text.substr(pos, next - pos));
        pos = next + 1;
    }
    parts.push_back(text.substr(pos));
    return parts;
}

std::string command_name(const ToolSpec& tool, const std::vector<std::string>& path) {
    return path.empty() ? "nasops-" + tool.name : "nasops-" + tool.name + " " + join(path);
}

// The lines of a CLI11 help section ("Options:", "Subcommands:") up to the next blank line.
std::vector<std::string> section(const std::string& help, std::string_view header) {
    std::vector<std::string> lines;
    const auto start = help.find("\n" + std::string(header) + "\n");
    if (start == std::string::npos) return lines;
    std::size_t pos = start + header.size() + 2;
    while (pos < help.size()) {
        const auto end = help.find('\n', pos);
        std::string line = help.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        if (line.find_first_not_of(' ') == std::string::npos) break;
        lines.push_back(line);
        if (end == std::string::npos) break;
        pos = end + 1;
    }
    return lines;
}

std::string first_word(const std::string& line) {
    const auto begin = line.find_first_not_of(' ');
    if (begin == std::string::npos) return {};
    const auto end = line.find(' ', begin);
    return line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// What one --help shows: the long options of its Options section and the
// names of its Subcommands section.
struct Help {
    std::vector<std::string> path;  // {"silence", "add"}
    std::string text;
    std::vector<std::string> long_options;  // "--dry-run"
    std::vector<std::string> subcommands;
};

Help parse_help(std::vector<std::string> path, std::string text) {
    Help help{std::move(path), std::move(text), {}, {}};
    for (const auto& line : section(help.text, "Options:")) {
        auto names = first_word(line);  // "-n,--dry-run"; a wrapped description starts with no dash
        if (names.rfind('-', 0) != 0) continue;
        for (const auto& name : split(names, ',')) {
            if (name.rfind("--", 0) == 0) help.long_options.push_back(name);
        }
    }
    for (const auto& line : section(help.text, "Subcommands:")) {
        help.subcommands.push_back(first_word(line));
    }
    return help;
}

// Runs "--help" on the tool and on every subcommand it lists, recursively.
// Failures are reported and the walk goes on with what it has.
std::vector<Help> collect_help(const ToolSpec& tool) {
    std::vector<Help> all;
    std::vector<std::vector<std::string>> todo{{}};
    while (!todo.empty()) {
        auto path = todo.back();
        todo.pop_back();
        auto args = path;
        args.push_back("--help");
        auto outcome = run_nasops(tool, args);
        EXPECT_EQ(outcome.exit_code, 0) << command_name(tool, path) << " --help: " << outcome.err;
        EXPECT_NE(outcome.out.find("EXAMPLES"), std::string::npos)
            << command_name(tool, path) << " --help has no EXAMPLES:\n"
            << outcome.out;
        auto help = parse_help(path, outcome.out);
        EXPECT_FALSE(help.long_options.empty()) << command_name(tool, path) << " --help lists no long option:\n"
                                                << outcome.out;
        for (const auto& sub : help.subcommands) {
            auto child = path;
            child.push_back(sub);
            todo.push_back(child);
        }
        all.push_back(std::move(help));
    }
    return all;
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

// Whether `word` occurs in `text` with no letter, digit, '-' or '_' on either side.
bool contains_word(std::string_view text, std::string_view word) {
    for (auto pos = text.find(word); pos != std::string_view::npos; pos = text.find(word, pos + 1)) {
        const bool left = pos == 0 || !is_word_char(text[pos - 1]);
        const auto after = pos + word.size();
        const bool right = after == text.size() || !is_word_char(text[after]);
        if (left && right) return true;
    }
    return false;
}

enum class DocKind { man, bash, zsh, fish };

struct DocFile {
    std::string relative;  // as the failure message names it
    std::string text;
    DocKind kind;
};

std::vector<DocFile> doc_files(const ToolSpec& tool) {
    const fs::path source(NASOPS_SOURCE_DIR);
    std::vector<DocFile> files;
    for (const auto& [relative, kind] : std::vector<std::pair<std::string, DocKind>>{
             {"man/nasops-" + tool.name + ".1.scd", DocKind::man},
             {"completions/bash/nasops-" + tool.name, DocKind::bash},
             {"completions/zsh/_nasops-" + tool.name, DocKind::zsh},
             {"completions/fish/nasops-" + tool.name + ".fish", DocKind::fish},
         }) {
        EXPECT_TRUE(fs::is_regular_file(source / relative)) << "nasops-" << tool.name << ": missing " << relative;
        files.push_back({relative, read_file(source / relative), kind});
    }
    return files;
}

// The long options a completion file offers, or a man page defines in its
// OPTIONS lists (lines starting with "*-"). In fish only `complete` lines
// count ("set -l name" is not an option), as "-l name" or "--long name".
std::set<std::string> options_offered(const DocFile& file) {
    std::set<std::string> found;
    const bool fish = file.kind == DocKind::fish;
    const std::regex pattern = fish ? std::regex(R"(\s(?:-l|--long)\s+([a-z][a-z0-9-]*))")
                                    : std::regex(R"((?:^|[^A-Za-z0-9_-])(--[a-z][a-z0-9-]*))");
    for (const auto& line : split(file.text, '\n')) {
        if (file.kind == DocKind::man && line.rfind("*-", 0) != 0) continue;
        if (fish && line.rfind("complete ", 0) != 0) continue;
        for (std::sregex_iterator it(line.begin(), line.end(), pattern), last; it != last; ++it) {
            found.insert(fish ? "--" + (*it)[1].str() : (*it)[1].str());
        }
    }
    return found;
}

bool mentions_option(const DocFile& file, const std::string& option) {
    if (file.kind == DocKind::fish) return options_offered(file).contains(option);
    return contains_word(file.text, option);
}

// Where each kind of file offers a subcommand (or a check name): a man page
// as a definition term ("*silence add*"), bash in a `subs=` or `checks=` word
// list, zsh as a _describe entry ('run:...'), fish as `-a run`.
std::string where_offered(DocKind kind) {
    switch (kind) {
        case DocKind::man: return "a '*name*' line";
        case DocKind::bash: return "a subs=\"...\" or checks=\"...\" list";
        case DocKind::zsh: return "a 'name:description' entry";
        case DocKind::fish: return "a '-a name' completion";
    }
    return {};
}

bool offers_word(const DocFile& file, const std::vector<std::string>& path) {
    const auto& name = path.back();
    for (const auto& line : split(file.text, '\n')) {
        switch (file.kind) {
            case DocKind::man:
                if (line == "*" + join(path) + "*") return true;
                break;
            case DocKind::bash:
                if ((line.find("subs=\"") != std::string::npos || line.find("checks=\"") != std::string::npos) &&
                    contains_word(line, name)) {
                    return true;
                }
                break;
            case DocKind::zsh:
                if (line.find("'" + name + ":") != std::string::npos) return true;
                break;
            case DocKind::fish:
                if (line.rfind("complete ", 0) == 0 && contains_word(line, "-a " + name)) return true;
                break;
        }
    }
    return false;
}

class DocsOptions : public ::testing::TestWithParam<ToolSpec> {
protected:
    void SetUp() override {
        ASSERT_TRUE(fs::is_regular_file(tool_path(GetParam())))
            << tool_path(GetParam()) << " is not built (NASOPS_TOOLS_DIR)";
    }
};

TEST_P(DocsOptions, EveryHelpOptionIsInTheManPageAndEachCompletion) {
    const auto& tool = GetParam();
    const auto helps = collect_help(tool);
    const auto files = doc_files(tool);
    for (const auto& help : helps) {
        for (const auto& option : help.long_options) {
            for (const auto& file : files) {
                EXPECT_TRUE(mentions_option(file, option))
                    << "nasops-" << tool.name << ": option " << option << " (from '" << command_name(tool, help.path)
                    << " --help') is missing from " << file.relative;
            }
        }
    }
}

TEST_P(DocsOptions, EverySubcommandIsInTheManPageAndEachCompletion) {
    const auto& tool = GetParam();
    const auto helps = collect_help(tool);
    EXPECT_EQ(helps.size(), tool.commands) << "nasops-" << tool.name << ": commands found by walking --help";
    const auto files = doc_files(tool);
    for (const auto& help : helps) {
        if (help.path.empty()) continue;
        for (const auto& file : files) {
            EXPECT_TRUE(offers_word(file, help.path))
                << "nasops-" << tool.name << ": subcommand '" << join(help.path) << "' is missing from "
                << file.relative << " (expected " << where_offered(file.kind) << ")";
        }
    }
}

TEST_P(DocsOptions, ManPageAndCompletionsOfferNoOptionThatHelpLacks) {
    const auto& tool = GetParam();
    std::set<std::string> known;
    for (const auto& help : collect_help(tool)) known.insert(help.long_options.begin(), help.long_options.end());
    for (const auto& file : doc_files(tool)) {
        const auto offered = options_offered(file);
        EXPECT_FALSE(offered.empty()) << "nasops-" << tool.name << ": no option found in " << file.relative;
        for (const auto& option : offered) {
            EXPECT_TRUE(known.contains(option)) << "nasops-" << tool.name << ": " << file.relative << " offers "
                                                << option << ", which no --help of the tool lists";
        }
    }
}

TEST_P(DocsOptions, FormatValuesAndCheckNamesAreCompleted) {
    const auto& tool = GetParam();
    const auto top = collect_help(tool).front();  // the walk visits the tool itself first
    ASSERT_TRUE(top.path.empty());
    std::smatch match;
    // "--format FORMAT=text        Output format: text|json"
    ASSERT_TRUE(std::regex_search(top.text, match, std::regex(R"(Output format: ([a-z|]+))")))
        << "nasops-" << tool.name << " --help does not list its formats";
    const auto formats = split(match[1].str(), '|');
    // health adds nagios and prom; capacity adds prom (forecast's exposition).
    EXPECT_EQ(formats.size(), tool.name == "health"     ? 4u
                              : tool.name == "capacity" ? 3u
                                                        : 2u)
        << "nasops-" << tool.name << " formats";
    std::vector<std::string> checks;
    if (tool.name == "health") {
        // "CHECK NAME:{disk,nas_disk,...}"
        ASSERT_TRUE(std::regex_search(top.text, match, std::regex(R"(CHECK [A-Z]*:\{([a-z_,-]+)\})")))
            << "nasops-health --help does not list the check names";
        checks = split(match[1].str(), ',');
        EXPECT_EQ(checks.size(), 15u);
    }
    for (const auto& file : doc_files(tool)) {
        for (const auto& format : formats) {
            EXPECT_TRUE(contains_word(file.text, format))
                << "nasops-" << tool.name << ": format '" << format << "' is missing from " << file.relative;
        }
        for (const auto& check : checks) {
            EXPECT_TRUE(offers_word(file, {check}))
                << "nasops-" << tool.name << ": check '" << check << "' is missing from " << file.relative
                << " (expected " << where_offered(file.kind) << ")";
        }
    }
}

TEST_P(DocsOptions, ManPageHasEverySectionAndIsBuilt) {
    const auto& tool = GetParam();
    const auto page = "nasops-" + tool.name + ".1";
    const auto text = read_file(fs::path(NASOPS_SOURCE_DIR) / "man" / (page + ".scd"));
    EXPECT_EQ(text.rfind("nasops-" + tool.name + "(1)", 0), 0u) << page << ".scd lacks its scdoc preamble";
    for (const char* heading : {"NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS", "OPTIONS", "EXIT STATUS",
                                "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"}) {
        EXPECT_NE(text.find(std::string("\n# ") + heading + "\n"), std::string::npos)
            << page << ".scd has no " << heading << " section";
    }
    for (const char* see_also : {"*nasops.toml*(5)", "*nasops-records*(7)", "NASOPS_CONFIG", "NO_COLOR"}) {
        EXPECT_NE(text.find(see_also), std::string::npos) << page << ".scd does not mention " << see_also;
    }
    for (const auto& other : k_tools) {
        if (other.name == tool.name) continue;
        EXPECT_NE(text.find("*nasops-" + other.name + "*(1)"), std::string::npos)
            << page << ".scd does not refer to nasops-" << other.name << "(1)";
    }
    // The build renders it with scdoc; an empty page means scdoc rejected it.
    const auto built = fs::path(NASOPS_BINARY_DIR) / "man" / page;
    ASSERT_TRUE(fs::is_regular_file(built)) << built << " was not built";
    EXPECT_NE(read_file(built).find(".TH"), std::string::npos) << built << " is not a roff page";
}

// -V as well as --version, as monitoring-plugins' plugins answer; and the
// short form is in the man page and the zsh and fish completions.
TEST_P(DocsOptions, VersionPrintsNameAndVersion) {
    const auto& tool = GetParam();
    for (const auto* flag : {"--version", "-V"}) {
        auto outcome = run_nasops(tool, {flag});
        EXPECT_EQ(outcome.exit_code, 0) << flag << ": " << outcome.err;
        EXPECT_EQ(outcome.out, "nasops-" + tool.name + " " + nasops::k_version + "\n") << flag;
    }
    const fs::path root = NASOPS_SOURCE_DIR;
    EXPECT_NE(read_file(root / "man" / ("nasops-" + tool.name + ".1.scd")).find("*-V*, *--version*"),
              std::string::npos);
    EXPECT_NE(read_file(root / "completions/zsh" / ("_nasops-" + tool.name)).find("{-V,--version}"), std::string::npos);
    EXPECT_NE(read_file(root / "completions/fish" / ("nasops-" + tool.name + ".fish")).find("-s V -l version"),
              std::string::npos);
}

TEST_P(DocsOptions, UnknownOptionIsAUsageError) {
    const auto& tool = GetParam();
    std::vector<std::vector<std::string>> calls{{"--no-such-option"}};
    for (const auto& help : collect_help(tool)) {
        if (help.path.empty() || !help.subcommands.empty()) continue;
        auto args = help.path;
        args.push_back("--no-such-option");
        calls.push_back(args);
    }
    for (const auto& args : calls) {
        auto outcome = run_nasops(tool, args);
        EXPECT_EQ(outcome.exit_code, tool.usage_exit) << "nasops-" << tool.name << " " << join(args);
        EXPECT_NE(outcome.err.find("nasops-" + tool.name + ": error:"), std::string::npos)
            << "nasops-" << tool.name << " " << join(args) << " stderr: " << outcome.err;
        EXPECT_EQ(outcome.out, "") << "nasops-" << tool.name << " " << join(args);
    }
}

TEST_P(DocsOptions, FormatNotOfferedIsAUsageError) {
    const auto& tool = GetParam();
    // Any invocation that parses; the format is checked before anything runs.
    // A tool that needs a subcommand is given a harmless one.
    auto args = tool.name == "sync"       ? std::vector<std::string>{"status"}
                : tool.name == "capacity" ? std::vector<std::string>{"show"}
                : tool.name == "dbmaint"  ? std::vector<std::string>{"check"}
                : tool.name == "trace"    ? std::vector<std::string>{"ls"}
                                          : std::vector<std::string>{};
    const std::string format = tool.name == "health" ? "xml" : tool.name == "capacity" ? "nagios" : "prom";
    args.insert(args.begin(), {"--format", format});
    auto outcome = run_nasops(tool, args);
    EXPECT_EQ(outcome.exit_code, tool.usage_exit) << outcome.err;
    EXPECT_NE(outcome.err.find("nasops-" + tool.name + ": error: --format " + format + ": "), std::string::npos)
        << outcome.err;
    EXPECT_EQ(outcome.out, "");
}

// The codes a man page's EXIT STATUS section defines ("*65*", "*1*, *2*").
std::vector<int> documented_exit_codes(const ToolSpec& tool) {
    const auto text = read_file(fs::path(NASOPS_SOURCE_DIR) / "man" / ("nasops-" + tool.name + ".1.scd"));
    const auto start = text.find("\n# EXIT STATUS\n");
    EXPECT_NE(start, std::string::npos) << "nasops-" << tool.name << ".1.scd has no EXIT STATUS";
    if (start == std::string::npos) return {};
    const auto end = text.find("\n# ", start + 1);
    std::vector<int> codes;
    const std::regex item(R"(\*(\d+)\*)");
    for (const auto& line : split(text.substr(start, end - start), '\n')) {
        if (line.rfind('*', 0) != 0 || line.size() < 2 || std::isdigit(static_cast<unsigned char>(line[1])) == 0)
            continue;
        for (std::sregex_iterator it(line.begin(), line.end(), item), last; it != last; ++it)
            codes.push_back(std::stoi((*it)[1].str()));
    }
    return codes;
}

// EXIT STATUS draws from the one table of nasops/core/exit_code.hpp (or is a
// shell's 128+N for a signal), in order, each code once.
TEST_P(DocsOptions, ExitStatusListsCodesOfTheContractInOrder) {
    const auto& tool = GetParam();
    const auto codes = documented_exit_codes(tool);
    ASSERT_FALSE(codes.empty());
    std::set<int> contract;
    for (const auto& info : nasops::exit_codes()) contract.insert(nasops::to_int(info.code));
    for (const auto code : codes) {
        const bool signal = code > 128 && code < 128 + 65;
        EXPECT_TRUE(contract.contains(code) || signal) << "nasops-" << tool.name << "(1) documents exit " << code
                                                       << ", which nasops/core/exit_code.hpp does not define";
    }
    EXPECT_TRUE(std::ranges::is_sorted(codes)) << "nasops-" << tool.name << "(1): EXIT STATUS out of order";
    EXPECT_EQ(std::set<int>(codes.begin(), codes.end()).size(), codes.size())
        << "nasops-" << tool.name << "(1) documents a code twice";
    // What every tool can answer: success, and an internal error.
    for (const int code : {0, 70}) {
        if (tool.name == "health") continue;  // a plugin: 0-3 only, its internal error is UNKNOWN
        EXPECT_NE(std::ranges::find(codes, code), codes.end()) << "nasops-" << tool.name << "(1) lacks exit " << code;
    }
}

// Per subcommand: a bad command line and a broken nasops.toml give the codes
// the man page documents (exec runs its command anyway: nasops-trace(1)).
FAULT_TEST_P(DocsOptions, EverySubcommandGivesDocumentedCodesForBadUsageAndBadConfig) {
    const auto& tool = GetParam();
    nasops::testing::FaultReport fault(
        "malformed config and bad usage, nasops-" + tool.name,
        fmt::format("every subcommand exits {} naming the file, and {} for an unknown option",
                    tool.name == "health" ? 3 : 78, tool.usage_exit));
    std::size_t subcommands = 0, as_documented = 0;
    const auto codes = documented_exit_codes(tool);
    nasops::testing::TempDir dir;
    const auto config = dir / "broken.toml";
    nasops::testing::write_file(config, "[paths\nstate_dir = 1\n");
    const auto carrier = (dir / "carrier").string();
    const std::map<std::string, std::vector<std::string>> needed{
        {"sync retry", {"--all-failed"}},
        {"sync why", {"clip.mp4"}},
        {"dbmaint restore", {(dir / "x.db").string()}},
        {"trace show", {"0af7651916cd43dd8448eb211c80319c"}},
        {"trace span", {"--name", "x", "--start", "2026-01-01T00:00:00Z", "--end", "2026-01-01T00:00:01Z"}},
        {"trace start", {"--name", "x", "--carrier", carrier}},
        {"trace end", {"--carrier", carrier}},
        {"trace event", {"--name", "x", "--carrier", carrier}},
        {"trace exec", {"--", "true"}},
    };
    const int config_code = tool.name == "health" ? 3 : 78;
    for (const auto& help : collect_help(tool)) {
        if (!help.subcommands.empty()) continue;  // a group: its members are run
        const auto name = command_name(tool, help.path);
        auto bad_usage = help.path;
        bad_usage.push_back("--no-such-option");
        const auto usage = run_nasops(tool, bad_usage);
        EXPECT_EQ(usage.exit_code, tool.usage_exit) << name;

        auto args = help.path;
        const auto extra = needed.find(join(help.path).empty() ? std::string() : tool.name + " " + join(help.path));
        if (extra != needed.end()) args.insert(args.end(), extra->second.begin(), extra->second.end());
        args.insert(args.begin(), {"--config", config.string()});
        const auto broken = run_nasops(tool, args);
        const int expected = name == "nasops-trace exec" ? 0 : config_code;
        EXPECT_EQ(broken.exit_code, expected) << name << " with a broken config: " << broken.err;
        EXPECT_NE(broken.err.find(config.string()), std::string::npos) << name << " does not name the file";
        for (const int code : {usage.exit_code, broken.exit_code})
            EXPECT_NE(std::ranges::find(codes, code), codes.end())
                << name << " exits " << code << ", which nasops-" << tool.name << "(1) does not document";
        ++subcommands;
        if (usage.exit_code == tool.usage_exit && broken.exit_code == expected &&
            broken.err.find(config.string()) != std::string::npos)
            ++as_documented;
    }
    fault.observed(fmt::format("{} of {} subcommands as documented", as_documented, subcommands));
}

INSTANTIATE_TEST_SUITE_P(AllTools, DocsOptions, ::testing::ValuesIn(k_tools),
                         [](const ::testing::TestParamInfo<ToolSpec>& param_info) { return param_info.param.name; });

// Checks that hold for one tool only.

TEST(DocsOptionsSpecific, NestedSubcommandRunsItsOwnAction) {
    auto outcome = run_nasops(spec("alert"), {"silence", "add", "--config", "/dev/null"});
    EXPECT_EQ(outcome.exit_code, 64) << outcome.err;
    EXPECT_NE(outcome.err.find("nasops-alert: error: silence add needs at least one --match"), std::string::npos)
        << outcome.err;
}

TEST(DocsOptionsSpecific, MissingSubcommandIsAUsageError) {
    for (const auto& [tool, args] : std::vector<std::pair<ToolSpec, std::vector<std::string>>>{
             {spec("sync"), {}}, {spec("alert"), {"silence"}}, {spec("capacity"), {}}, {spec("trace"), {"exec"}}}) {
        auto outcome = run_nasops(tool, args);
        EXPECT_EQ(outcome.exit_code, 64) << "nasops-" << tool.name << " " << join(args) << ": " << outcome.err;
        EXPECT_NE(outcome.err.find("nasops-" + tool.name + ": error:"), std::string::npos) << outcome.err;
    }
}

TEST(DocsOptionsSpecific, UnknownOptionIsNamed) {
    // CLI11 reports a missing subcommand or COMMAND before an unexpected option,
    // so name it where nothing else is missing.
    for (const auto& [tool, args] : std::vector<std::pair<ToolSpec, std::vector<std::string>>>{
             {spec("sync"), {"run", "--no-such-option"}},
             {spec("health"), {"--no-such-option"}},
             {spec("alert"), {"silence", "rm", "--no-such-option"}},
             {spec("trace"), {"--no-such-option", "exec", "--", "true"}}}) {
        auto outcome = run_nasops(tool, args);
        EXPECT_EQ(outcome.exit_code, tool.usage_exit) << join(args);
        EXPECT_NE(outcome.err.find("nasops-" + tool.name +
                                   ": error: The following argument was not expected: "
                                   "--no-such-option"),
                  std::string::npos)
            << outcome.err;
    }
}

TEST(DocsOptionsSpecific, HealthRejectsUnknownCheckAsUnknown) {
    auto outcome = run_nasops(spec("health"), {"disk", "no-such-check"});
    EXPECT_EQ(outcome.exit_code, 3);
    EXPECT_NE(outcome.err.find("nasops-health: error:"), std::string::npos) << outcome.err;
    EXPECT_NE(outcome.err.find("no-such-check"), std::string::npos) << outcome.err;
}

TEST(DocsOptionsSpecific, DryRunOnlyWhereSomethingChanges) {
    const ToolSpec& dbmaint = spec("dbmaint");
    auto check = run_nasops(dbmaint, {"check", "--dry-run"});
    EXPECT_EQ(check.exit_code, 64) << "check changes nothing and takes no --dry-run: " << check.err;
    auto sync_status = run_nasops(spec("sync"), {"status", "--dry-run"});
    EXPECT_EQ(sync_status.exit_code, 64) << sync_status.err;
}

TEST(DocsOptionsSpecific, CommonOptionsFollowTheSubcommand) {
    auto outcome = run_nasops(spec("alert"), {"silence", "--quiet", "ls", "--json", "--config", "/nonexistent.toml"});
    EXPECT_EQ(outcome.exit_code, 78) << outcome.err;
    EXPECT_NE(outcome.err.find("nasops-alert: error: cannot open /nonexistent.toml"), std::string::npos) << outcome.err;
}

TEST(DocsOptionsSpecific, TraceExecTakesTheCommandWordsAsTheyAre) {
    // The words after COMMAND are COMMAND's own, even when they look like
    // options: ls gets --no-such-option and says so itself (exit 2).
    nasops::testing::TempDir dir;
    const auto config = dir / "nasops.toml";
    nasops::testing::write_file(config, "[paths]\nstate_dir = \"" + (dir / "state").string() + "\"\nlog_dir = \"" +
                                            (dir / "log").string() + "\"\n");
    auto outcome = run_nasops(spec("trace"), {"--config", config.string(), "exec", "ls", "-la", "--no-such-option"});
    EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
    EXPECT_NE(outcome.err.find("ls: unrecognized option '--no-such-option'"), std::string::npos) << outcome.err;
    auto with_separator = run_nasops(
        spec("trace"), {"--config", config.string(), "exec", "--name", "x", "--", "/bin/sh", "-c", "exit 3"});
    EXPECT_EQ(with_separator.exit_code, 3) << with_separator.err;
}

}  // namespace
