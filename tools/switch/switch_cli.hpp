// netring-switch's testable core: the command line parsed into a command, and `list` formatted
// as a text table or one JSON object. Pure functions: main.cpp does the daemon calls.
//
//   auto cmd = netring::swctl::parse_args({"add", "vale0:p1"});
//   if (!cmd.error.empty()) usage error;  else netring::switches::add_port(cmd.sw, cmd.arg, cmd.socket_path);
#pragma once

#include <netring/netring.hpp>

#include <string>
#include <vector>

namespace netring::swctl {

enum class verb { help, create, destroy, add, remove, attach, detach, list };

struct command {
    verb what = verb::help;
    std::string sw;  // the switch ("vale0"); for list, empty means every switch
    std::string arg; // add/delete: the port ("p1"); attach/detach: the NIC ("netmap:eth0*")
    std::string socket_path;
    bool json = false;
    std::string error; // non-empty: bad usage, and why
};

extern const char *const usage_text;

// argv without the program name. Options may come anywhere: --socket PATH, --socket=PATH, --json
// (list only), -h/--help.
command parse_args(const std::vector<std::string> &args);

// The verb as typed on the command line ("create", "delete", ...), for messages.
const char *verb_name(verb v);

std::string list_text(const std::vector<switches::switch_entry> &sw);
std::string list_json(const std::vector<switches::switch_entry> &sw);

} // namespace netring::swctl
