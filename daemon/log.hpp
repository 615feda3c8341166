// netringd's log: one line per event on stderr. Errors and warnings always; the per-connection
// lines (connect, regif, close) only with --verbose.
//
// On a terminal or a file a line reads "netringd: ...". When stderr is the journal (systemd sets
// JOURNAL_STREAM to the device and inode of the stream it connected, sd-daemon(3)), a line starts
// with its syslog priority instead ("<3>" error, "<4>" warning, "<6>" info) so that journald files
// it at that priority; the journal names the daemon itself, so the "netringd: " goes.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace netring::netringd {

// True when stderr is the stream JOURNAL_STREAM ("DEV:INODE") names, not merely inherited from a
// process that had it: a child whose stderr was redirected keeps the variable but not the stream.
inline bool stderr_is_journal()
{
    const char *env = std::getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    if (!env || std::sscanf(env, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st;
    return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

struct logger {
    bool verbose = false;
    bool quiet = false;   // tests silence everything
    bool journal = false; // stderr_is_journal(): lines carry sd-daemon priority prefixes

    void info(const std::string &line) const
    {
        if (verbose)
            write("<6>", line);
    }
    // Always shown, like error(): what the operator should know but the daemon works around.
    void warning(const std::string &line) const { write("<4>", line); }
    void error(const std::string &line) const { write("<3>", line); }
    // Always shown, at info priority: startup and shutdown.
    void notice(const std::string &line) const { write("<6>", line); }

private:
    void write(const char *priority, const std::string &line) const
    {
        if (quiet)
            return;
        std::fprintf(stderr, "%s%s\n", journal ? priority : "netringd: ", line.c_str());
        std::fflush(stderr);
    }
};

} // namespace netring::netringd
