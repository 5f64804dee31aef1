#pragma once

// POSIX shell quoting for commands that a remote login shell will parse
// (`ssh host 'cmd'` runs `$SHELL -c 'cmd'` on the NAS). No data is ever
// interpolated into a command line unquoted.

#include <span>
#include <string>
#include <string_view>

namespace nasops {

// `arg` as one single-quoted POSIX shell word: every character stands for
// itself, and each ' becomes '\''. The empty string becomes ''. The result is
// safe for sh, dash, ash (BusyBox), bash, ksh and zsh; csh-family shells treat
// '!' and newlines specially and are not supported as a NAS login shell.
std::string shell_quote(std::string_view arg);

// Every element of `argv` quoted with shell_quote and joined with single spaces,
// so that the remote shell runs argv[0] with exactly the arguments given.
std::string shell_join(std::span<const std::string> argv);

}  // namespace nasops
