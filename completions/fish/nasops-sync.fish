# fish completion for nasops-sync(1)

set -l subcommands run status ls retry verify hostkey doctor why
complete -c nasops-sync -f

complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a run -d 'Scan the sources and upload pending files'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a status -d 'Counts by state, bytes pending, throughput'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a ls -d 'List files known to the queue'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a retry -d 'Requeue failed files'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a verify -d 'Re-check completed files on the NAS'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a hostkey -d 'List the NAS host keys seen; acknowledge a change'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a doctor -d 'Check everything a run needs, with fixes'
complete -c nasops-sync -n "not __fish_seen_subcommand_from $subcommands" -a why -d 'The story of each file named'

# Common options, before or after the subcommand.
complete -c nasops-sync -s h -l help -d 'Print help and exit'
complete -c nasops-sync -s V -l version -d 'Print the version and exit'
complete -c nasops-sync -l config -r -F -d 'Config file'
complete -c nasops-sync -l format -x -a 'text json' -d 'Output format'
complete -c nasops-sync -l json -d 'Short for --format json'
complete -c nasops-sync -s q -l quiet -d 'No progress or colour; errors only'
complete -c nasops-sync -s v -l verbose -d 'More detail on stderr'

complete -c nasops-sync -n '__fish_seen_subcommand_from run retry verify' -s n -l dry-run -d 'Show what would be done, change nothing'
complete -c nasops-sync -n '__fish_seen_subcommand_from run verify doctor' -l target -r -a '(__fish_complete_directories)' -d 'Local folder or sftp:// URL'
complete -c nasops-sync -n '__fish_seen_subcommand_from run verify' -l verify -x -a 'auto sha256 size none' -d 'How each copy is checked'
complete -c nasops-sync -n '__fish_seen_subcommand_from run verify' -l lock-timeout -x -d 'Wait this long for the lock'
complete -c nasops-sync -n '__fish_seen_subcommand_from run verify' -l accept-new-host-key -d 'Record the host key of a NAS not yet known'
complete -c nasops-sync -n '__fish_seen_subcommand_from run why' -l source -r -a '(__fish_complete_directories)' -d 'A folder to scan'
complete -c nasops-sync -n '__fish_seen_subcommand_from run why' -l include -x -d 'Upload only files matching GLOB'
complete -c nasops-sync -n '__fish_seen_subcommand_from run why' -l exclude -x -d 'Skip files and folders matching GLOB'
complete -c nasops-sync -n '__fish_seen_subcommand_from run why' -l min-age -x -d 'Upload once unchanged this long'
complete -c nasops-sync -n '__fish_seen_subcommand_from run' -s j -l jobs -x -d 'Parallel uploads'
complete -c nasops-sync -n '__fish_seen_subcommand_from run' -l remove-source -d 'Delete each local file once its copy is verified'
complete -c nasops-sync -n '__fish_seen_subcommand_from run' -l delete-empty-src-dirs -d 'With --remove-source, remove the source folders left empty'
complete -c nasops-sync -n '__fish_seen_subcommand_from run' -l max-retries -x -d 'Retries before a file is marked failed'
complete -c nasops-sync -n '__fish_seen_subcommand_from run' -l bwlimit -x -d 'Bandwidth limit, bytes per second'
complete -c nasops-sync -n '__fish_seen_subcommand_from run' -l max-duration -x -d 'Stop the run after this long'
complete -c nasops-sync -n '__fish_seen_subcommand_from run' -l max-bytes -x -d 'Start no new file after sending this much'
complete -c nasops-sync -n '__fish_seen_subcommand_from ls' -l state -x -a 'pending transferring completed failed' -d 'Only files in this state'
complete -c nasops-sync -n '__fish_seen_subcommand_from retry' -l all-failed -d 'Requeue every failed file'
complete -c nasops-sync -n '__fish_seen_subcommand_from retry' -F -d 'Failed file'
complete -c nasops-sync -n '__fish_seen_subcommand_from hostkey' -l accept -d 'Acknowledge each NAS host key that changed'
complete -c nasops-sync -n '__fish_seen_subcommand_from why' -F -d 'File to explain'
