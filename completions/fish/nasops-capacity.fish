# fish completion for nasops-capacity(1)

set -l subcommands record forecast show
complete -c nasops-capacity -f

complete -c nasops-capacity -n "not __fish_seen_subcommand_from $subcommands" -a record -d 'Sample volume usage and store it'
complete -c nasops-capacity -n "not __fish_seen_subcommand_from $subcommands" -a forecast -d 'Forecast growth and days until full'
complete -c nasops-capacity -n "not __fish_seen_subcommand_from $subcommands" -a show -d 'Show recorded samples'

# Common options, before or after the subcommand.
complete -c nasops-capacity -s h -l help -d 'Print help and exit'
complete -c nasops-capacity -l version -d 'Print the version and exit'
complete -c nasops-capacity -l config -r -F -d 'Config file'
complete -c nasops-capacity -l format -x -a 'text json' -d 'Output format'
complete -c nasops-capacity -l json -d 'Short for --format json'
complete -c nasops-capacity -s q -l quiet -d 'No colour; errors only'
complete -c nasops-capacity -s v -l verbose -d 'More detail on stderr'
