// netring-ctl: what netringd is doing (docs/TOOLS.md).
//   netring-ctl [--socket PATH] status [--json]
//   netring-ctl [--socket PATH] info PORT [--json]
// Exit status: 0 ok; 1 the daemon answered with an error or could not be reached; 2 usage.
#include "ctl_format.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr int exit_usage = 2;

const char *const usage =
    "usage: netring-ctl [--socket PATH] status [--json]\n"
    "       netring-ctl [--socket PATH] info PORT [--json]\n";

int usage_error(const std::string &why)
{
    std::fprintf(stderr, "netring-ctl: %s\n%s", why.c_str(), usage);
    return exit_usage;
}

} // namespace

int main(int argc, char **argv)
{
    std::string socket_path;
    bool json = false;
    std::vector<std::string> words; // the command and its arguments, options removed
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(usage, stdout);
            return 0;
        } else if (a == "--json") {
            json = true;
        } else if (a == "--socket") {
            if (i + 1 >= argc)
                return usage_error("--socket needs a path");
            socket_path = argv[++i];
        } else if (a.rfind("--socket=", 0) == 0) {
            socket_path = a.substr(9);
        } else if (a.size() > 1 && a[0] == '-') {
            return usage_error("unknown option '" + a + "'");
        } else {
            words.push_back(a);
        }
    }
    if (words.empty())
        return usage_error("a command is required");

    if (words[0] == "status") {
        if (words.size() != 1)
            return usage_error("status takes no arguments");
        auto stats = netring::query_stats(socket_path);
        if (!stats) {
            std::fprintf(stderr, "netring-ctl: %s\n", stats.err().describe().c_str());
            return 1;
        }
        const std::string out = json ? netring::ctl::stats_json(stats.value()) + "\n"
                                     : netring::ctl::stats_text(stats.value());
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    if (words[0] == "info") {
        if (words.size() != 2)
            return usage_error("info takes one port name");
        auto info = netring::query_port_info(words[1], socket_path);
        if (!info) {
            std::fprintf(stderr, "netring-ctl: %s\n", info.err().describe().c_str());
            return 1;
        }
        const std::string out = json ? netring::ctl::port_info_json(words[1], info.value()) + "\n"
                                     : netring::ctl::port_info_text(words[1], info.value());
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    return usage_error("unknown command '" + words[0] + "'");
}
