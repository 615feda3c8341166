#include "switch_cli.hpp"

#include "tools/common/args.hpp"
#include "tools/common/json_writer.hpp"
#include "tools/common/text_format.hpp"

#include <cinttypes>
#include <cstdio>

namespace netring::swctl {

const char *const usage_text =
    "usage: netring-switch [--socket PATH] COMMAND\n"
    "  create SWITCH              make a persistent switch (names start with \"vale\")\n"
    "  destroy SWITCH             remove a switch that has no port left\n"
    "  add SWITCH:PORT            make a persistent port (also: add SWITCH PORT)\n"
    "  delete SWITCH:PORT         remove a persistent port nobody has open\n"
    "  attach SWITCH netmap:IF    the NIC's rings become a port of SWITCH\n"
    "  attach SWITCH netmap:IF*   ... and its host-stack rings a second port\n"
    "  detach SWITCH netmap:IF[*] undo an attach (name it as attached)\n"
    "  list [SWITCH] [--json]     switches, ports, clients and counters\n"
    "Every command but list needs an admin of netringd (the policy's admin directive).\n"
    "Exit status: 0 done, 1 netringd refused or could not be reached, 2 bad usage.\n";

namespace {

constexpr tools::option_spec specs[] = {{"--json", ""}, {"--socket", "a path"}};

command fail(std::string why)
{
    command c;
    c.error = std::move(why);
    return c;
}

bool parse_verb(const std::string &w, verb &v)
{
    static const struct {
        const char *word;
        verb v;
    } verbs[] = {{"create", verb::create}, {"destroy", verb::destroy}, {"add", verb::add},
                 {"delete", verb::remove}, {"attach", verb::attach},   {"detach", verb::detach},
                 {"list", verb::list}};
    for (const auto &e : verbs)
        if (w == e.word) {
            v = e.v;
            return true;
        }
    return false;
}

// "vale0:p1" (one word) or "vale0" "p1" (two) into switch and port.
bool split_port(const std::vector<std::string> &words, command &c)
{
    if (words.size() == 2) {
        const auto colon = words[1].find(':');
        if (colon == std::string::npos)
            return false;
        c.sw = words[1].substr(0, colon);
        c.arg = words[1].substr(colon + 1);
    } else if (words.size() == 3) {
        c.sw = words[1];
        c.arg = words[2];
    } else {
        return false;
    }
    return !c.sw.empty() && !c.arg.empty() && c.sw.find(':') == std::string::npos &&
           c.arg.find(':') == std::string::npos;
}

} // namespace

const char *verb_name(verb v)
{
    switch (v) {
    case verb::help: return "help";
    case verb::create: return "create";
    case verb::destroy: return "destroy";
    case verb::add: return "add";
    case verb::remove: return "delete";
    case verb::attach: return "attach";
    case verb::detach: return "detach";
    case verb::list: return "list";
    }
    return "?";
}

command parse_args(const std::vector<std::string> &args)
{
    command c;
    std::vector<std::string> words; // the command and its operands, options removed
    tools::arg_scanner a(args, specs, tools::operands::allowed);
    while (a.next()) {
        if (a.at_operand())
            words.push_back(a.value());
        else if (a.is("--json"))
            c.json = true;
        else if (a.is("--socket"))
            a.take_text(c.socket_path);
    }
    if (a.help())
        return command{}; // verb::help, no error
    if (!a.error().empty())
        return fail(a.error());
    if (words.empty())
        return fail("a command is required");
    if (!parse_verb(words[0], c.what))
        return fail("unknown command '" + words[0] + "'");
    if (c.json && c.what != verb::list)
        return fail("--json goes with list only");

    switch (c.what) {
    case verb::create:
    case verb::destroy:
        if (words.size() != 2 || words[1].find(':') != std::string::npos)
            return fail(std::string(verb_name(c.what)) + " takes one switch name (e.g. vale0)");
        c.sw = words[1];
        break;
    case verb::add:
    case verb::remove:
        if (!split_port(words, c))
            return fail(std::string(verb_name(c.what)) + " takes SWITCH:PORT (e.g. vale0:p1)");
        break;
    case verb::attach:
    case verb::detach:
        if (words.size() != 3 || words[1].find(':') != std::string::npos)
            return fail(std::string(verb_name(c.what)) +
                        " takes a switch and a NIC (e.g. vale0 netmap:eth0)");
        c.sw = words[1];
        c.arg = words[2];
        break;
    case verb::list:
        if (words.size() > 2)
            return fail("list takes at most one switch name");
        if (words.size() == 2)
            c.sw = words[1];
        break;
    case verb::help: break;
    }
    return c;
}

std::string list_text(const std::vector<switches::switch_entry> &sw)
{
    if (sw.empty())
        return "no switches\n";
    std::string out;
    for (const switches::switch_entry &s : sw) {
        tools::append_format(out, "%s: %s, %zu port%s, %u learned address%s\n", s.name.c_str(),
                             s.persistent ? "persistent" : "made on the fly", s.ports.size(),
                             s.ports.size() == 1 ? "" : "s", s.mac_entries, s.mac_entries == 1 ? "" : "es");
        if (s.ports.empty())
            continue;
        tools::append_format(out, "  %-24s %-10s %7s %12s %16s %12s %16s %10s\n", "port", "kind", "clients",
                             "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops");
        for (const switches::port_entry &p : s.ports)
            tools::append_format(out,
                                 "  %-24s %-10s %7u %12" PRIu64 " %16" PRIu64 " %12" PRIu64 " %16" PRIu64
                                 " %10" PRIu64 "\n",
                                 p.name.c_str(), p.kind.c_str(), p.clients, p.rx_packets, p.rx_bytes,
                                 p.tx_packets, p.tx_bytes, p.drops);
    }
    return out;
}

std::string list_json(const std::vector<switches::switch_entry> &sw)
{
    tools::json_writer j;
    j.begin_object();
    j.key("switches");
    j.begin_array();
    for (const switches::switch_entry &s : sw) {
        j.begin_object();
        j.field("name", s.name);
        j.field("persistent", s.persistent);
        j.field("mac_entries", s.mac_entries);
        j.key("ports");
        j.begin_array();
        for (const switches::port_entry &p : s.ports) {
            j.begin_object();
            j.field("name", p.name);
            j.field("kind", p.kind);
            j.field("clients", p.clients);
            j.field("rx_packets", p.rx_packets);
            j.field("rx_bytes", p.rx_bytes);
            j.field("tx_packets", p.tx_packets);
            j.field("tx_bytes", p.tx_bytes);
            j.field("drops", p.drops);
            j.end_object();
        }
        j.end_array();
        j.end_object();
    }
    j.end_array();
    j.end_object();
    return j.str();
}

} // namespace netring::swctl
