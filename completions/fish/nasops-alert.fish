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
complete -c nasops-alert -s V -l version -d 'Print the version and exit'
complete -c nasops-alert -l config -r -F -d 'Config file'
complete -c nasops-alert -l format -x -a 'text json' -d 'Output format'
complete -c nasops-alert -l json -d 'Short for --format json'
complete -c nasops-alert -s q -l quiet -d 'No colour; errors only'
complete -c nasops-alert -s v -l verbose -d 'More detail on stderr'
complete -c nasops-alert -s n -l dry-run -d 'Evaluate and print, store and send nothing'
complete -c nasops-alert -l input -r -F -d 'Read records from a file instead of stdin'
complete -c nasops-alert -l strict -d 'Exit 65 on the first malformed record'
complete -c nasops-alert -l textfile-dir -r -a '(__fish_complete_directories)' -d 'Write nasops_alert.prom there'

# Options of the subcommands.
complete -c nasops-alert -n "__fish_seen_subcommand_from ls" -l undelivered -d 'List notifications not delivered yet'
complete -c nasops-alert -n "__fish_seen_subcommand_from history" -l limit -x -d 'Show the last N entries'
complete -c nasops-alert -n "__fish_seen_subcommand_from test" -l channel -x -d 'Test this channel only'
complete -c nasops-alert -n "__fish_seen_subcommand_from add" -l match -x -d 'Matcher: name=value, name!=value, name=~regex, name!~regex'
complete -c nasops-alert -n "__fish_seen_subcommand_from add" -l for -x -a '30m 1h 2h 4h 1d' -d 'How long the silence lasts'
complete -c nasops-alert -n "__fish_seen_subcommand_from add" -l comment -x -d 'Why'
complete -c nasops-alert -n "__fish_seen_subcommand_from add" -l author -x -d 'Who adds it'
