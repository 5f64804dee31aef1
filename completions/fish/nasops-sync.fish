# fish completion for nasops-sync(1)

set -l subcommands run status ls retry verify
complete -c nasops-sync -f

complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a run -d 'Scan the sources and upload pending files'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a status -d 'Counts by state, bytes pending, throughput'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a ls -d 'List files known to the queue'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a retry -d 'Requeue failed files'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a verify -d 'Re-check completed files on the NAS'

# Common options, before or after the subcommand.
complete -c nasops-sync -s h -l help -d 'Print help and exit'
complete -c nasops-sync -l version -d 'Print the version and exit'
complete -c nasops-sync -l config -r -F -d 'Config file'
complete -c nasops-sync -l format -x -a 'text json' -d 'Output format'
complete -c nasops-sync -l json -d 'Short for --format json'
complete -c nasops-sync -s q -l quiet -d 'No progress or colour; errors only'
complete -c nasops-sync -s v -l verbose -d 'More detail on stderr'

complete -c nasops-sync -n '__fish_seen_subcommand_from run' -s n -l dry-run -d 'Show what would be done, change nothing'
