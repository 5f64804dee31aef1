# fish completion for nasops-health(1)

complete -c nasops-health -f

# No subcommands: the arguments are check names.
complete -c nasops-health -a disk -d 'Free space and inodes of local file systems'
complete -c nasops-health -a nas_disk -d 'Free space on the NAS share'
complete -c nasops-health -a memory -d 'Available memory and swap'
complete -c nasops-health -a cpu -d 'CPU usage'
complete -c nasops-health -a load -d 'Load average per CPU'
complete -c nasops-health -a fds -d 'Open file descriptors'
complete -c nasops-health -a process -d 'Configured processes are running'
complete -c nasops-health -a service -d 'Configured systemd services are active'
complete -c nasops-health -a db -d 'The database opens and is consistent'
complete -c nasops-health -a logs -d 'Errors and warnings in recent logs'
complete -c nasops-health -a ssh -d 'The NAS answers over SSH'
complete -c nasops-health -a http -d 'Configured URLs answer in time'
complete -c nasops-health -a tls -d 'Days until TLS certificates expire'
complete -c nasops-health -a transfer -d 'Age and size of the transfer queue'

complete -c nasops-health -s h -l help -d 'Print help and exit'
complete -c nasops-health -s V -l version -d 'Print the version and exit'
complete -c nasops-health -l config -r -F -d 'Config file'
complete -c nasops-health -l format -x -a 'text json nagios prom' -d 'Output format'
complete -c nasops-health -l json -d 'Short for --format json'
complete -c nasops-health -s q -l quiet -d 'No colour; errors only'
complete -c nasops-health -s v -l verbose -d 'More detail on stderr'
complete -c nasops-health -s w -l warning -x -d 'Warning range of the one check named'
complete -c nasops-health -s c -l critical -x -d 'Critical range of the one check named'
complete -c nasops-health -s t -l timeout -x -d 'Time allowed to the whole run'
complete -c nasops-health -l cpu-sample -x -d 'How long the cpu check samples'
complete -c nasops-health -l used -d 'N% in -w/-c of disk checks is used space'
complete -c nasops-health -l no-cpu -d 'Skip the cpu check'
complete -c nasops-health -l textfile-dir -r -a '(__fish_complete_directories)' -d 'Also write nasops_health.prom there'
