# fish completion for nasops-dbmaint(1)

set -l subcommands check vacuum analyze purge backup restore daily
complete -c nasops-dbmaint -f

complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a check -d 'Check integrity and foreign keys'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a vacuum -d 'Reclaim free pages'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a analyze -d 'Refresh the query planner statistics'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a purge -d 'Delete rows older than their retention'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a backup -d 'Write and verify a copy of the database'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a restore -d 'Replace the database with a verified backup'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a daily -d 'check, analyze, purge and backup'

# Common options, before or after the subcommand.
complete -c nasops-dbmaint -s h -l help -d 'Print help and exit'
complete -c nasops-dbmaint -l version -d 'Print the version and exit'
complete -c nasops-dbmaint -l config -r -F -d 'Config file'
complete -c nasops-dbmaint -l format -x -a 'text json' -d 'Output format'
complete -c nasops-dbmaint -l json -d 'Short for --format json'
complete -c nasops-dbmaint -s q -l quiet -d 'No progress or colour; errors only'
complete -c nasops-dbmaint -s v -l verbose -d 'More detail on stderr'

complete -c nasops-dbmaint -n '__fish_seen_subcommand_from vacuum analyze purge backup restore daily' -s n -l dry-run -d 'Show what would be done, change nothing'
