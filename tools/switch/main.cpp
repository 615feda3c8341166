// netring-switch: VALE-like switches of netringd, as netmap's vale-ctl manages VALE (docs/TOOLS.md).
//   netring-switch [--socket PATH] create|destroy SWITCH
//   netring-switch [--socket PATH] add|delete SWITCH:PORT
//   netring-switch [--socket PATH] attach|detach SWITCH netmap:IF[*]
//   netring-switch [--socket PATH] list [SWITCH] [--json]
// Exit status: 0 done; 1 netringd refused (its sentence and code are printed) or is unreachable; 2 usage.
#include "switch_cli.hpp"

#include "tools/common/args.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr int exit_daemon = 1;

int refused(const netring::swctl::command &c, const netring::error &e)
{
    std::string what = std::string(netring::swctl::verb_name(c.what)) + (c.sw.empty() ? "" : " " + c.sw);
    if (c.what == netring::swctl::verb::add || c.what == netring::swctl::verb::remove)
        what += ":" + c.arg;
    else if (!c.arg.empty())
        what += " " + c.arg;
    std::fprintf(stderr, "netring-switch: %s: %s\n", what.c_str(), e.describe().c_str());
    return exit_daemon;
}

} // namespace

int main(int argc, char **argv)
{
    namespace sw = netring::switches;
    using netring::swctl::verb;
    const auto c = netring::swctl::parse_args(std::vector<std::string>(argv + 1, argv + argc));
    if (!c.error.empty())
        return netring::tools::usage_error("netring-switch", c.error, netring::swctl::usage_text);
    netring::status s = netring::ok_status();
    switch (c.what) {
    case verb::help: return netring::tools::show_usage(netring::swctl::usage_text);
    case verb::create: s = sw::create(c.sw, c.socket_path); break;
    case verb::destroy: s = sw::destroy(c.sw, c.socket_path); break;
    case verb::add: s = sw::add_port(c.sw, c.arg, c.socket_path); break;
    case verb::remove: s = sw::delete_port(c.sw, c.arg, c.socket_path); break;
    case verb::attach: s = sw::attach(c.sw, c.arg, c.socket_path); break;
    case verb::detach: s = sw::detach(c.sw, c.arg, c.socket_path); break;
    case verb::list: {
        auto l = sw::list(c.sw, c.socket_path);
        if (!l)
            return refused(c, l.err());
        const std::string out =
            c.json ? netring::swctl::list_json(l.value()) + "\n" : netring::swctl::list_text(l.value());
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    }
    if (!s)
        return refused(c, s.err());
    return 0;
}
