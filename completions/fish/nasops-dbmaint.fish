# fish completion for nasops-dbmaint(1)

set -l subcommands check stats vacuum analyze checkpoint purge backup verify restore daily
complete -c nasops-dbmaint -f

complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a check -d 'Check integrity (quick_check, or --full)'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a stats -d 'Size, pages, free pages, WAL, rows per table'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a vacuum -d 'Rebuild the file when its free pages pass the threshold'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a analyze -d 'Refresh the query planner statistics'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a checkpoint -d 'Fold the WAL into the database file'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a purge -d 'Delete rows older than their retention'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a backup -d 'Write, checksum and verify a copy of the database'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a verify -d 'Check backups against their SHA-256 sidecars'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a restore -d 'Replace the database with a verified backup'
complete -c nasops-dbmaint -n "not __fish_seen_subcommand_from $subcommands" -a daily -d 'The nightly round'

# Common options, before or after the subcommand.
complete -c nasops-dbmaint -s h -l help -d 'Print help and exit'
complete -c nasops-dbmaint -s V -l version -d 'Print the version and exit'
complete -c nasops-dbmaint -l config -r -F -d 'Config file'
complete -c nasops-dbmaint -l format -x -a 'text json' -d 'Output format'
complete -c nasops-dbmaint -l json -d 'Short for --format json'
complete -c nasops-dbmaint -s q -l quiet -d 'No progress or colour; errors only'
complete -c nasops-dbmaint -s v -l verbose -d 'More detail on stderr'

complete -c nasops-dbmaint -n '__fish_seen_subcommand_from vacuum analyze checkpoint purge backup restore daily' -s n -l dry-run -d 'Show what would be done, change nothing'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from vacuum analyze checkpoint purge backup restore daily' -l lock-timeout -x -d 'Wait this long for the lock'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from check' -l full -d 'integrity_check and foreign_key_check'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from check backup daily' -l textfile-dir -r -a '(__fish_complete_directories)' -d 'Write nasops_dbmaint.prom there'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from vacuum' -l force -d 'Rebuild even under the threshold'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from vacuum' -l into -r -F -d 'Write a compact copy to FILE'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from vacuum daily' -l freelist-ratio -x -d 'Vacuum past this share of free pages'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from purge daily' -l batch -x -d 'Rows deleted per transaction'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from backup verify daily' -l backup-dir -x -a '(__fish_complete_directories)' -d 'Folder of the backups'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from backup daily' -l keep-last -x -d 'Keep the newest N backups'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from backup daily' -l keep-days -x -d 'Keep backups younger than N days'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from backup daily' -l gzip -d 'Compress the backup with gzip (.db.gz)'
complete -c nasops-dbmaint -n '__fish_seen_subcommand_from verify restore' -F
