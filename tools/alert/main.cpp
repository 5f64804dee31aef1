// nasops-alert: argument parsing and dispatch only.

#include <array>

#include "alert/run.hpp"
#include "nasops/core/cli.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/net/http.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/util/command_runner.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "alert",
    .description =
        "Read check and metric records on stdin, evaluate alert rules with durations, notify. "
        "Without a subcommand, reads records from stdin.",
    .examples = R"(  nasops-health --format json | nasops-alert       # the cron job: evaluate and notify
  nasops-capacity forecast --format json | nasops-alert
  nasops-alert --input checks.jsonl --dry-run      # what would fire, changing nothing
  nasops-alert ls                                  # alerts firing or pending now
  nasops-alert ls --undelivered                    # notifications not delivered yet
  nasops-alert history --format json               # past transitions and deliveries
  nasops-alert test --channel ops-webhook          # a test notification through one channel
  nasops-alert silence add --match 'alertname=~disk.*' --for 2h --comment 'replacing disk'
  nasops-alert silence ls                          # active silences
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

constexpr std::array k_silence{
    nasops::SubcommandInfo{"add", "Mute matching alerts for a while"},
    nasops::SubcommandInfo{"ls", "List active silences"},
    nasops::SubcommandInfo{"rm", "Remove a silence before it expires"},
};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"ls", "List alerts that are firing or pending"},
    nasops::SubcommandInfo{"history", "Show past alert transitions and deliveries"},
    nasops::SubcommandInfo{"flush", "Send the notifications waiting in the queue now"},
    nasops::SubcommandInfo{"test", "Send a test notification through every configured channel"},
    nasops::SubcommandInfo{"silence", "Manage silences that mute matching alerts", k_silence},
};

}  // namespace

int main(int argc, char** argv) {
    auto app = nasops::make_app(k_tool);
    nasops::CommonOptions common;
    nasops::alert::Options opts;
    nasops::add_common_options(*app, common, k_formats);
    nasops::add_dry_run_option(*app, opts.dry_run);
    app->add_option("--input", opts.inputs, "Read records from FILE instead of stdin (repeatable)")->type_name("FILE");
    app->add_flag("--strict", opts.strict, "Exit 65 on the first malformed record, evaluating nothing");
    std::string textfile_dir;
    auto* textfile_dir_option = nasops::add_textfile_dir_option(*app, textfile_dir, "alert");
    app->require_subcommand(-1);  // at most one; none reads records on stdin
    nasops::add_subcommands(*app, k_subcommands);

    app->get_subcommand("ls")->add_flag("--undelivered", opts.undelivered,
                                        "List notifications not delivered yet (queued, failed, dead-lettered)");
    app->get_subcommand("history")->add_option("--limit", opts.limit, "Show the last N entries")->type_name("N");
    app->get_subcommand("test")->add_option("--channel", opts.channel, "Test this channel only")->type_name("NAME");
    auto* silence = app->get_subcommand("silence");
    auto* add = silence->get_subcommand("add");
    add->add_option("--match", opts.matchers, "Matcher: name=value, name!=value, name=~regex, name!~regex (repeatable)")
        ->type_name("MATCHER");
    add->add_option("--for", opts.silence_for, "How long the silence lasts")->type_name("DURATION");
    add->add_option("--comment", opts.comment, "Why, for the people who see it")->type_name("TEXT");
    add->add_option("--author", opts.author, "Who adds it (default: $USER)")->type_name("NAME");
    silence->get_subcommand("rm")->add_option("ID", opts.silence_id, "The silence's id, or its first characters");

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        TRY_ASSIGN(const auto settings, nasops::resolve_common(common, k_formats));
        if (textfile_dir_option->count() > 0) opts.textfile_dir = textfile_dir;
        using nasops::alert::Action;
        TRY_ASSIGN(opts.action, nasops::chosen_of<Action>(*app, {{"", Action::evaluate},
                                                                 {"ls", Action::ls},
                                                                 {"history", Action::history},
                                                                 {"flush", Action::flush},
                                                                 {"test", Action::test},
                                                                 {"silence add", Action::silence_add},
                                                                 {"silence ls", Action::silence_ls},
                                                                 {"silence rm", Action::silence_rm}}));
        opts.config_path = common.config_path;
        opts.format = settings.format;
        opts.quiet = settings.quiet;
        opts.verbose = settings.verbose;

        nasops::SystemClock clock;
        nasops::CurlHttpClient http;
        nasops::CurlMailSender mail(clock);
        nasops::SpawnCommandRunner commands;
        nasops::alert::Deps deps{.clock = clock, .http = http, .mail = mail, .commands = commands};
        return nasops::alert::run(opts, deps);
    });
}
