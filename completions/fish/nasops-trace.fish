# fish completion for nasops-trace(1)

set -l subcommands exec summary logs export
complete -c nasops-trace -f

complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a exec -d 'Run a command inside a span'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a summary -d 'Summarise recorded traces'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a logs -d 'Analyse the tools logs'
complete -c nasops-trace -n "not __fish_seen_subcommand_from $subcommands" -a export -d 'Send spans to an OpenTelemetry collector'

# Common options, before or after the subcommand.
complete -c nasops-trace -s h -l help -d 'Print help and exit'
complete -c nasops-trace -l version -d 'Print the version and exit'
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
            case --name --config --format
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
