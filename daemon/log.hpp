// netringd's log: one line per event on stderr, "netringd: ...". Errors always; the per-connection
// lines (connect, regif, close) only with --verbose.
#pragma once

#include <cstdio>
#include <string>

namespace netring::netringd {

struct logger {
    bool verbose = false;
    bool quiet = false; // tests silence everything

    void info(const std::string &line) const
    {
        if (verbose && !quiet)
            std::fprintf(stderr, "netringd: %s\n", line.c_str());
    }
    // Always written, like errors: events an operator asked for (a SIGHUP's outcome).
    void notice(const std::string &line) const
    {
        if (!quiet)
            std::fprintf(stderr, "netringd: %s\n", line.c_str());
    }
    void error(const std::string &line) const
    {
        if (!quiet)
            std::fprintf(stderr, "netringd: %s\n", line.c_str());
    }
};

} // namespace netring::netringd
