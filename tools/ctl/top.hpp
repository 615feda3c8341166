// `netring-ctl top`: the live view on a terminal, or one screen for scripts (--once).
#pragma once

#include <string>

namespace netring::ctl {

// Samples STATS every `interval_s` and redraws until `q`, SIGINT or SIGTERM; the terminal's mode
// is restored on every way out. `once`: two samples `interval_s` apart, one plain screen on
// stdout. Returns the exit status (1 when the daemon cannot be reached).
int run_top(const std::string &socket_path, double interval_s, bool once);

} // namespace netring::ctl
