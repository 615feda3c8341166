// netmap's VALE requests on netring's switches (SWITCH_CTL through libnetring): attach, detach,
// list, and the persistent ports of NEWIF and DELIF. Administration is for the policy's admins.
#include "ctl_util.hpp"

#include <net/if.h>

#include <algorithm>

namespace netring::netmap {
namespace {

// "valeX:Y" split at the colon.
bool split_vale(const std::string &name, std::string &sw, std::string &port)
{
    const auto colon = name.find(':');
    if (!is_vale(name) || colon == std::string::npos || colon + 1 == name.size())
        return false;
    sw = name.substr(0, colon);
    port = name.substr(colon + 1);
    return true;
}

bool is_interface(const std::string &name) { return ::if_nametoindex(name.c_str()) != 0; }

// NEWIF and DELIF take a plain port name (no switch), and are for the policy's admins: the daemon
// says whether the caller is one.
int check_newif_name(const char *what, const std::string &name)
{
    if (name.empty() || is_vale(name) || name.size() >= 16)
        return fail(EINVAL, std::string(what) + ": '" + name + "' is not a valid port name");
    if (auto s = netring::switches::may_administer(); !s)
        return fail(s.err(), what);
    return 0;
}

} // namespace

// VALE_ATTACH: an interface joins the switch as netring's NIC attachment; any other name becomes
// a persistent port of the switch. The switch is made when it does not exist.
int vale_attach(const std::string &name, nmreq_vale_attach &a)
{
    std::string sw, port;
    if (!split_vale(name, sw, port))
        return fail(EINVAL, "VALE_ATTACH: '" + name + "' is not valeX:PORT");
    if (auto s = netring::switches::create(sw); !s && s.err().code != make_error_code(errc::already_exists))
        return fail(s.err(), "VALE_ATTACH " + name);
    status s = ok_status();
    if (is_interface(port))
        s = netring::switches::attach(sw, "netmap:" + port + (a.reg.nr_mode == NR_REG_NIC_SW ? "*" : ""));
    else
        s = netring::switches::add_port(sw, port);
    if (!s)
        return fail(s.err().code == make_error_code(errc::already_exists) ? EBUSY : errno_of(s.err()),
                    "VALE_ATTACH " + name + ": " + s.err().message);
    a.port_index = 0;
    if (auto l = netring::switches::list(sw); l && !l->empty())
        for (uint32_t i = 0; i < (*l)[0].ports.size(); i++)
            if ((*l)[0].ports[i].name == port || (*l)[0].ports[i].name.starts_with("netmap:" + port))
                a.port_index = i;
    return 0;
}

int vale_detach(const std::string &name, nmreq_vale_detach &d)
{
    std::string sw, port;
    if (!split_vale(name, sw, port))
        return fail(EINVAL, "VALE_DETACH: '" + name + "' is not valeX:PORT");
    status s = ok_status();
    if (is_interface(port)) {
        s = netring::switches::detach(sw, "netmap:" + port);
        if (!s && s.err().code == make_error_code(errc::not_found))
            s = netring::switches::detach(sw, "netmap:" + port + "*");
    } else {
        s = netring::switches::delete_port(sw, port);
    }
    if (!s)
        return fail(s.err(), "VALE_DETACH " + name);
    d.port_index = 0;
    return 0;
}

// VALE_LIST: a named port gives its indices; an empty name walks every port of every switch from
// the cursor (nr_bridge_idx, nr_port_idx), writing the name found, ENOENT past the last.
int vale_list(nmreq_header *h, nmreq_vale_list &l)
{
    const std::string name = name_of(h);
    if (!name.empty() && !is_vale(name))
        return fail(EINVAL, "VALE_LIST: '" + name + "' is not a switch name");
    auto all = netring::switches::list();
    if (!all)
        return fail(all.err(), "VALE_LIST");
    if (!name.empty()) {
        std::string sw = name, port;
        if (const auto colon = name.find(':'); colon != std::string::npos) {
            sw = name.substr(0, colon);
            port = name.substr(colon + 1);
        }
        for (uint32_t b = 0; b < all->size(); b++) {
            if ((*all)[b].name != sw)
                continue;
            l.nr_bridge_idx = static_cast<uint16_t>(b);
            l.nr_port_idx = 255;
            for (uint32_t i = 0; i < (*all)[b].ports.size(); i++)
                if ((*all)[b].ports[i].name == port)
                    l.nr_port_idx = i;
            return 0;
        }
        return fail(ENOENT);
    }
    for (uint32_t b = l.nr_bridge_idx; b < all->size(); b++) {
        const auto &ports = (*all)[b].ports;
        for (uint32_t i = b == l.nr_bridge_idx ? l.nr_port_idx : 0; i < ports.size(); i++) {
            std::string shown = ports[i].name;
            if (shown.starts_with("netmap:"))
                shown = shown.substr(7);
            const std::string full = (*all)[b].name + ":" + shown;
            std::memset(h->nr_name, 0, sizeof h->nr_name);
            std::memcpy(h->nr_name, full.data(), std::min(full.size(), sizeof h->nr_name - 1));
            l.nr_bridge_idx = static_cast<uint16_t>(b);
            l.nr_port_idx = i;
            return 0;
        }
    }
    return fail(ENOENT);
}

// netring's persistent ports belong to a switch: NEWIF checks the name, and the port comes into
// being when VALE_ATTACH puts it on a switch. VALE_DETACH deletes it, so DELIF removes it from
// whichever switch still holds it and otherwise has nothing left to do: netmap's sequence
// NEWIF, ATTACH, DETACH, DELIF succeeds at every step.
int vale_newif(const std::string &name)
{
    if (check_newif_name("VALE_NEWIF", name) < 0)
        return -1;
    if (is_interface(name))
        return fail(EEXIST);
    return 0;
}

int vale_delif(const std::string &name)
{
    if (check_newif_name("VALE_DELIF", name) < 0)
        return -1;
    auto all = netring::switches::list();
    if (!all)
        return fail(all.err(), "VALE_DELIF");
    for (const auto &sw : *all)
        for (const auto &p : sw.ports)
            if (p.name == name) {
                if (p.kind != "persistent")
                    return fail(EINVAL, "VALE_DELIF: " + name + " is not a persistent port");
                if (auto s = netring::switches::delete_port(sw.name, name); !s)
                    return fail(s.err(), "VALE_DELIF " + name);
                return 0;
            }
    if (is_interface(name))
        return fail(EINVAL, "VALE_DELIF: " + name + " is a system interface, not a switch port");
    return 0;
}

} // namespace netring::netmap
