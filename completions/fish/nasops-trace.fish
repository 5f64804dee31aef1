# fish completion for nasops-trace(1)

set -l subcommands exec span start event end ls show summary logs export
complete -c nasops-trace -f

complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a exec -d 'Run a command inside a span'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a span -d 'Record a span measured elsewhere'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a start -d 'Open a span in a carrier file'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a event -d 'Add an event to the span in a carrier file or of exec'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a end -d 'End the span in a carrier file'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a ls -d 'List recent traces'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a show -d 'Show one trace as a waterfall'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a summary -d 'Per operation: count, errors, percentiles'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a logs -d 'Analyse the tools logs'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a export -d 'Send spans to an OpenTelemetry collector'

# Common options, before or after the subcommand.
complete -c nasops-trace -s h -l help -d 'Print help and exit'
complete -c nasops-trace -s V -l version -d 'Print the version and exit'
complete -c nasops-trace -l config -r -F -d 'Config file'
complete -c nasops-trace -l format -x -a 'text json' -d 'Output format'
complete -c nasops-trace -l json -d 'Short for --format json'
complete -c nasops-trace -s q -l quiet -d 'No colour; errors only'
complete -c nasops-trace -s v -l verbose -d 'More detail on stderr'

# exec [--name NAME] [--] COMMAND [ARG...]: COMMAND's own completions.
function __nasops_trace_exec_command --description 'Complete COMMAND [ARG...] of nasops-trace exec'
    set -l tokens (commandline -opc) (commandline -ct)
    set -l at (contains -i -- exec $tokens) || return
    set tokens $tokens[(math $at + 1)..-1]
    # Drop exec's own options, keeping the token being completed.
    while set -q tokens[2]
        switch $tokens[1]
            case --
                set -e tokens[1]
                break
            case --name --config --format --attr --kind --timeout --kill-after
                set -e tokens[1..2]
            case '-*'
                set -e tokens[1]
            case '*'
                break
        end
    end
    if not set -q tokens[1]; or string match -q -- '-*' $tokens[1]
        return
    end
    complete -C (string join ' ' -- (string escape -- $tokens))
end

complete -c nasops-trace -n '__fish_seen_subcommand_from exec' -l name -x -d 'Span name (default: the command file name)'
complete -c nasops-trace -n '__fish_seen_subcommand_from exec' -a '(__nasops_trace_exec_command)'
complete -c nasops-trace -n '__fish_seen_subcommand_from exec span start event end' -l attr -x -d 'Attribute key=value'
complete -c nasops-trace -n '__fish_seen_subcommand_from exec span start' -l kind -x -a 'internal client server producer consumer' -d 'Span kind'
complete -c nasops-trace -n '__fish_seen_subcommand_from exec' -l timeout -x -d 'Send SIGTERM after this long'
complete -c nasops-trace -n '__fish_seen_subcommand_from exec' -l kill-after -x -d 'SIGKILL this long after the timeout'
complete -c nasops-trace -n '__fish_seen_subcommand_from exec' -l record-argv -d 'Record the command arguments (may hold secrets)'
complete -c nasops-trace -n '__fish_seen_subcommand_from span start event ls' -l name -x -d 'Span, event or root span name'
complete -c nasops-trace -n '__fish_seen_subcommand_from span' -l start -x -d 'Start time (RFC 3339)'
complete -c nasops-trace -n '__fish_seen_subcommand_from span' -l end -x -d 'End time (RFC 3339)'
complete -c nasops-trace -n '__fish_seen_subcommand_from span end' -l status -x -a 'unset ok error' -d 'Span status'
complete -c nasops-trace -n '__fish_seen_subcommand_from span end' -l status-message -x -d 'Why the status is error'
complete -c nasops-trace -n '__fish_seen_subcommand_from start event end' -l carrier -r -F -d 'Carrier file of the open span'
complete -c nasops-trace -n '__fish_seen_subcommand_from ls summary logs' -l since -x -d 'Within this long (default 24h)'
complete -c nasops-trace -n '__fish_seen_subcommand_from ls' -l errors -d 'Only traces with errors'
complete -c nasops-trace -n '__fish_seen_subcommand_from summary' -l by -x -a 'name tool' -d 'Group by'
complete -c nasops-trace -n '__fish_seen_subcommand_from export' -l batch-size -x -d 'Spans per request'
complete -c nasops-trace -n '__fish_seen_subcommand_from export' -l max-attempts -x -d 'Tries per batch in this run'
complete -c nasops-trace -n '__fish_seen_subcommand_from export' -l follow -d 'Keep shipping as the file grows, until SIGTERM'
complete -c nasops-trace -n '__fish_seen_subcommand_from export' -l flush-interval -x -d 'Longest wait for a batch to fill'
complete -c nasops-trace -n '__fish_seen_subcommand_from export' -l textfile-dir -r -a '(__fish_complete_directories)' -d 'Write nasops_trace.prom there'
complete -c nasops-trace -n '__fish_seen_subcommand_from logs' -l tool -x -a 'sync health alert capacity dbmaint trace' -d 'Only this tool'
complete -c nasops-trace -n '__fish_seen_subcommand_from logs' -l level -x -a 'error warning info debug' -d 'This level or worse'
complete -c nasops-trace -n '__fish_seen_subcommand_from logs' -l top -x -d 'Kinds of message to list'
