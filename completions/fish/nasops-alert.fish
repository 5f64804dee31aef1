# fish completion for nasops-alert(1)

# Without a subcommand nasops-alert reads records on stdin.
set -l subcommands ls history flush test silence
set -l silence_subcommands add ls rm
complete -c nasops-alert -f

complete -c nasops-alert -n "not __fish_seen_subcommand_from $subcommands" -a ls -d 'List alerts that are firing or pending'
complete -c nasops-alert -n "not __fish_seen_subcommand_from $subcommands" -a history -d 'Show past alert transitions'
complete -c nasops-alert -n "not __fish_seen_subcommand_from $subcommands" -a flush -d 'Send the queued notifications now'
complete -c nasops-alert -n "not __fish_seen_subcommand_from $subcommands" -a test -d 'Send a test notification to every notifier'
complete -c nasops-alert -n "not __fish_seen_subcommand_from $subcommands" -a silence -d 'Manage silences'

set -l in_silence "__fish_seen_subcommand_from silence; and not __fish_seen_subcommand_from $silence_subcommands"
complete -c nasops-alert -n $in_silence -a add -d 'Mute matching alerts for a while'
complete -c nasops-alert -n $in_silence -a ls -d 'List active silences'
complete -c nasops-alert -n $in_silence -a rm -d 'Remove a silence before it expires'

# Common options, before or after the subcommand.
complete -c nasops-alert -s h -l help -d 'Print help and exit'
complete -c nasops-alert -l version -d 'Print the version and exit'
complete -c nasops-alert -l config -r -F -d 'Config file'
complete -c nasops-alert -l format -x -a 'text json' -d 'Output format'
complete -c nasops-alert -l json -d 'Short for --format json'
complete -c nasops-alert -s q -l quiet -d 'No colour; errors only'
complete -c nasops-alert -s v -l verbose -d 'More detail on stderr'
