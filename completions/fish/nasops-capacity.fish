# fish completion for nasops-capacity(1)

set -l subcommands record forecast show report transfers
complete -c nasops-capacity -f

complete -c nasops-capacity -n "not __fish_seen_subcommand_from $subcommands" -a record -d 'Sample volume usage and store it'
complete -c nasops-capacity -n "not __fish_seen_subcommand_from $subcommands" -a forecast -d 'Forecast growth and days until full'
complete -c nasops-capacity -n "not __fish_seen_subcommand_from $subcommands" -a show -d 'Show recorded samples'
complete -c nasops-capacity -n "not __fish_seen_subcommand_from $subcommands" -a report -d 'Table with sparklines; SVG and HTML charts'
complete -c nasops-capacity -n "not __fish_seen_subcommand_from $subcommands" -a transfers -d 'Forecast the upload load and the jobs it needs'

complete -c nasops-capacity -n '__fish_seen_subcommand_from record' -s n -l dry-run -d 'Measure and print, store nothing'
complete -c nasops-capacity -n '__fish_seen_subcommand_from record' -l from-stdin -d 'Samples from nasops-health check records on stdin'
complete -c nasops-capacity -n '__fish_seen_subcommand_from record' -l target -r -F -d 'Also sample the file system of PATH'
complete -c nasops-capacity -n '__fish_seen_subcommand_from record' -l no-nas -d 'Do not sample the NAS share'
complete -c nasops-capacity -n '__fish_seen_subcommand_from forecast report transfers' -l window -x -d 'Fit the samples of this long'
complete -c nasops-capacity -n '__fish_seen_subcommand_from forecast report transfers' -l days -x -d 'Predict this many days ahead'
complete -c nasops-capacity -n '__fish_seen_subcommand_from forecast show report' -l target -x -d 'Only this target'
complete -c nasops-capacity -n '__fish_seen_subcommand_from forecast' -l textfile-dir -r -a '(__fish_complete_directories)' -d 'Write nasops_capacity.prom there'
complete -c nasops-capacity -n '__fish_seen_subcommand_from show' -l since -x -d 'Only samples this recent'
complete -c nasops-capacity -n '__fish_seen_subcommand_from report' -l svg -r -F -d 'Write the chart to FILE'
complete -c nasops-capacity -n '__fish_seen_subcommand_from report' -l html -r -F -d 'Write the page to FILE'

# Common options, before or after the subcommand.
complete -c nasops-capacity -s h -l help -d 'Print help and exit'
complete -c nasops-capacity -s V -l version -d 'Print the version and exit'
complete -c nasops-capacity -l config -r -F -d 'Config file'
complete -c nasops-capacity -l format -x -a 'text json prom' -d 'Output format'
complete -c nasops-capacity -l json -d 'Short for --format json'
complete -c nasops-capacity -s q -l quiet -d 'No colour; errors only'
complete -c nasops-capacity -s v -l verbose -d 'More detail on stderr'
