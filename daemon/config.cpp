#include "config.hpp"

#include <rings/region_format.hpp>
#include <rings/bits.hpp>

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace netring::netringd {
namespace {


// Joins message pieces into one string. Chains of `"..." + std::string(...) + ...` trip GCC 12's
// -Wrestrict false positive at -O3, which -Werror builds turn into a failure.
std::string cat(std::initializer_list<std::string_view> parts)
{
    size_t n = 0;
    for (std::string_view p : parts)
        n += p.size();
    std::string out;
    out.reserve(n);
    for (std::string_view p : parts)
        out.append(p);
    return out;
}

std::vector<std::string_view> split_words(std::string_view line)
{
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        const size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            i++;
        if (i > start)
            words.push_back(line.substr(start, i - start));
    }
    return words;
}

class line_parser {
public:
    line_parser(unsigned line, std::vector<std::string_view> words) : line_(line), words_(std::move(words)) {}

    [[noreturn]] void fail(const std::string &what) const
    {
        throw config_error("config line " + std::to_string(line_) + ": " + what);
    }

    void want_args(size_t n) const
    {
        if (words_.size() - 1 != n)
            fail(cat({"'", words_[0], "' takes ", std::to_string(n), " argument", n == 1 ? "" : "s", ", got ",
                      std::to_string(words_.size() - 1)}));
    }

    uint64_t number(size_t at, uint64_t lo, uint64_t hi) const
    {
        const std::string_view w = words_[at];
        uint64_t v = 0;
        auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
        if (ec != std::errc() || end != w.data() + w.size())
            fail(cat({"'", words_[0], "' wants a number, got '", w, "'"}));
        if (v < lo || v > hi)
            fail(cat({words_[0], " ", std::to_string(v), " outside ", std::to_string(lo), "..", std::to_string(hi)}));
        return v;
    }

    uint32_t pow2(size_t at, uint32_t lo, uint32_t hi) const
    {
        const auto v = static_cast<uint32_t>(number(at, lo, hi));
        if (!rings::is_pow2(v))
            fail(cat({words_[0], " ", std::to_string(v), " is not a power of two"}));
        return v;
    }

    bool on_off(size_t at) const
    {
        if (words_[at] == "on")
            return true;
        if (words_[at] == "off")
            return false;
        fail(cat({"'", words_[0], "' wants on or off, got '", words_[at], "'"}));
    }

    subject who(size_t at) const
    {
        const std::string_view w = words_[at];
        subject s;
        if (w == "*")
            return s;
        std::string_view digits;
        if (w.starts_with("uid=")) {
            s.what = subject::kind::uid;
            digits = w.substr(4);
        } else if (w.starts_with("gid=")) {
            s.what = subject::kind::gid;
            digits = w.substr(4);
        } else {
            fail(cat({"expected '*', uid=N, gid=N (or a user or group name), got '", w, "'"}));
        }
        if (digits.empty())
            fail(cat({"bad id in '", w, "'"}));
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), s.id);
        if (ec == std::errc() && end == digits.data() + digits.size())
            return s;
        // Not a number: a user or group name, looked up now (and again at each reload), so that a
        // typo stops the daemon with this line named.
        const std::string name(digits);
        if (s.what == subject::kind::gid) {
            if (const ::group *g = ::getgrnam(name.c_str())) {
                s.id = g->gr_gid;
                return s;
            }
            fail(cat({"no group named '", name, "' (in '", w, "')"}));
        }
        if (const ::passwd *pw = ::getpwnam(name.c_str())) {
            s.id = pw->pw_uid;
            return s;
        }
        fail(cat({"no user named '", name, "' (in '", w, "')"}));
    }

    // Permission bits in octal ("0660", "660"); setuid, setgid and sticky bits have no meaning on a
    // socket and are refused.
    mode_t octal_mode(size_t at) const
    {
        const std::string_view w = words_[at];
        unsigned v = 0;
        auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v, 8);
        if (ec != std::errc() || end != w.data() + w.size() || v > 0777)
            fail(cat({"'", words_[0], "' wants octal permission bits (0000..0777), got '", w, "'"}));
        return static_cast<mode_t>(v);
    }

    // A group name or a numeric gid, looked up now so that a typo stops the daemon at startup
    // with this line named, not at the first client that cannot connect.
    gid_t group(size_t at) const
    {
        const std::string name(words_[at]);
        gid_t gid = 0;
        auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), gid);
        if (ec == std::errc() && end == name.data() + name.size())
            return gid;
        if (const ::group *g = ::getgrnam(name.c_str()))
            return g->gr_gid;
        fail(cat({"'", words_[0], "': no group named '", name, "'"}));
    }

    // IPV4:PORT or [IPV6]:PORT, a numeric address (no name lookups at startup) and a port 1..65535.
    void listen_address(size_t at, std::string &address, uint16_t &port) const
    {
        const std::string_view w = words_[at];
        const size_t colon = w.rfind(':');
        if (colon == std::string_view::npos)
            fail(cat({"'", words_[0], "' wants ADDRESS:PORT, got '", w, "'"}));
        std::string_view host = w.substr(0, colon);
        const std::string_view digits = w.substr(colon + 1);
        int family = AF_INET;
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
            family = AF_INET6;
        }
        unsigned char scratch[sizeof(in6_addr)];
        const std::string h(host);
        if (::inet_pton(family, h.c_str(), scratch) != 1)
            fail(cat({"'", words_[0], "' wants an IPv4 address or [IPv6], got '", host, "'"}));
        unsigned v = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || v < 1 || v > 65535)
            fail(cat({"'", words_[0], "' wants a port 1..65535, got '", digits, "'"}));
        address = h;
        port = static_cast<uint16_t>(v);
    }

    std::string_view word(size_t at) const { return words_[at]; }
    unsigned line() const { return line_; }

private:
    unsigned line_;
    std::vector<std::string_view> words_;
};

void apply(config &c, const line_parser &p, std::string_view directive)
{
    if (directive == "buf_size") {
        p.want_args(1);
        c.buf_size = p.pow2(1, 512, 65536);
    } else if (directive == "region_buffers") {
        p.want_args(1);
        c.region_buffers = static_cast<uint32_t>(p.number(1, NR_RESERVED_BUFFERS + 2, 1u << 24));
    } else if (directive == "region_meta_bytes") {
        p.want_args(1);
        c.region_meta_bytes = p.number(1, 4096, 1ull << 32);
    } else if (directive == "default_slots") {
        p.want_args(1);
        c.default_slots = p.pow2(1, 2, 1u << 20);
    } else if (directive == "max_slots") {
        p.want_args(1);
        c.max_slots = p.pow2(1, 2, 1u << 20);
    } else if (directive == "max_rings") {
        p.want_args(1);
        c.max_rings = static_cast<uint32_t>(p.number(1, 1, max_rings_limit));
    } else if (directive == "max_extra_bufs") {
        p.want_args(1);
        c.max_extra_bufs = static_cast<uint32_t>(p.number(1, 0, 1u << 24));
    } else if (directive == "max_regs_per_client") {
        p.want_args(1);
        c.max_regs_per_client = static_cast<uint32_t>(p.number(1, 1, 1u << 16));
    } else if (directive == "max_regions") {
        p.want_args(1);
        c.max_regions = static_cast<uint32_t>(p.number(1, 1, 1u << 16));
    } else if (directive == "hugepages") {
        p.want_args(1);
        c.hugepages = p.on_off(1);
    } else if (directive == "nic_mode") {
        p.want_args(1);
        const std::string_view m = p.word(1);
        if (m == "auto")
            c.nic = nic_mode::auto_select;
        else if (m == "afxdp")
            c.nic = nic_mode::afxdp;
        else if (m == "afpacket")
            c.nic = nic_mode::afpacket;
        else
            p.fail(cat({"nic_mode wants auto, afxdp or afpacket, not '", m, "'"}));
    } else if (directive == "switch_stall_ms") {
        p.want_args(1);
        c.switch_stall_ms = static_cast<uint32_t>(p.number(1, 1, 60000));
    } else if (directive == "worker_spin") {
        p.want_args(1);
        c.worker_spin = static_cast<uint32_t>(p.number(1, 0, 1u << 30));
    } else if (directive == "allow" || directive == "deny") {
        p.want_args(2);
        c.rules.push_back(policy_rule{directive == "allow", p.who(1), std::string(p.word(2)), p.line()});
    } else if (directive == "uid_max_connections") {
        p.want_args(1);
        c.uid_quota.connections = static_cast<uint32_t>(p.number(1, 1, 1u << 20));
    } else if (directive == "uid_max_registrations") {
        p.want_args(1);
        c.uid_quota.registrations = static_cast<uint32_t>(p.number(1, 1, 1u << 20));
    } else if (directive == "uid_max_regions") {
        p.want_args(1);
        c.uid_quota.regions = static_cast<uint32_t>(p.number(1, 0, 1u << 16));
    } else if (directive == "uid_max_buffers") {
        p.want_args(1);
        c.uid_quota.buffers = p.number(1, 0, 1ull << 40);
    } else if (directive == "quota") {
        p.want_args(3);
        quota_rule q;
        q.who = p.who(1);
        if (q.who.what == subject::kind::any)
            p.fail("quota applies to uid=N or gid=N; uid_max_* set everyone's limits");
        const std::string_view k = p.word(2);
        if (k == "connections")
            q.key = quota_key::connections;
        else if (k == "registrations")
            q.key = quota_key::registrations;
        else if (k == "regions")
            q.key = quota_key::regions;
        else if (k == "buffers")
            q.key = quota_key::buffers;
        else
            p.fail(cat({"quota key must be connections, registrations, regions or buffers, not '", k, "'"}));
        q.value = p.number(3, 0, 1ull << 40);
        q.line = p.line();
        c.quotas.push_back(q);
    } else if (directive == "max_connections") {
        p.want_args(1);
        c.max_connections = static_cast<uint32_t>(p.number(1, 2, 1u << 20));
    } else if (directive == "admin_connections") {
        p.want_args(1);
        c.admin_connections = static_cast<uint32_t>(p.number(1, 1, 1u << 20));
    } else if (directive == "idle_timeout_s") {
        p.want_args(1);
        c.idle_timeout_s = static_cast<uint32_t>(p.number(1, 1, 86400));
    } else if (directive == "reattach_timeout_s") {
        p.want_args(1);
        c.reattach_timeout_s = static_cast<uint32_t>(p.number(1, 1, 86400));
    } else if (directive == "socket_group") {
        p.want_args(1);
        c.socket_gid = p.group(1);
        c.socket_group = std::string(p.word(1));
    } else if (directive == "socket_mode") {
        p.want_args(1);
        c.socket_mode = p.octal_mode(1);
    } else if (directive == "metrics_listen") {
        p.want_args(1);
        p.listen_address(1, c.metrics_address, c.metrics_port);
    } else if (directive == "admin") {
        p.want_args(1);
        c.admins.push_back(p.who(1));
    } else {
        p.fail(cat({"unknown directive '", directive, "'"}));
    }
}

// Checks between directives: each value was fine alone, the combination must be too.
void check_whole(const config &c, std::string_view origin)
{
    const std::string where = "config " + std::string(origin) + ": ";
    if (c.default_slots > c.max_slots)
        throw config_error(where + "default_slots " + std::to_string(c.default_slots) + " exceeds max_slots " +
                           std::to_string(c.max_slots));
    if (c.admin_connections >= c.max_connections)
        throw config_error(where + "admin_connections " + std::to_string(c.admin_connections) +
                           " leaves no connection for anyone else (max_connections " +
                           std::to_string(c.max_connections) + ")");
    if (!rings::plan_region(c.buf_size, c.region_buffers, c.region_meta_bytes))
        throw config_error(where + "region geometry does not fit (buf_size " + std::to_string(c.buf_size) +
                           ", region_buffers " + std::to_string(c.region_buffers) + ")");
}

} // namespace

const char *to_string(nic_mode m)
{
    switch (m) {
    case nic_mode::auto_select: return "auto";
    case nic_mode::afxdp: return "afxdp";
    case nic_mode::afpacket: return "afpacket";
    }
    return "?";
}

const char *to_string(quota_key k)
{
    switch (k) {
    case quota_key::connections: return "connections";
    case quota_key::registrations: return "registrations";
    case quota_key::regions: return "regions";
    case quota_key::buffers: return "buffers";
    }
    return "?";
}

std::string subject::str() const
{
    switch (what) {
    case kind::any: return "*";
    case kind::uid: return "uid=" + std::to_string(id);
    case kind::gid: return "gid=" + std::to_string(id);
    }
    return "?";
}

config parse_config(std::string_view text, std::string_view origin)
{
    config c;
    c.origin = std::string(origin);
    unsigned line_no = 0;
    while (!text.empty()) {
        line_no++;
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (const size_t hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        auto words = split_words(line);
        if (words.empty())
            continue;
        const std::string_view directive = words[0];
        apply(c, line_parser(line_no, std::move(words)), directive);
    }
    check_whole(c, origin);
    return c;
}

config load_config(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        throw config_error("cannot read config file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

reload_outcome apply_reload(config &running, const config &fresh)
{
    reload_outcome out;
    const auto keep = [&](const char *name, auto config::*field) {
        if (!(running.*field == fresh.*field))
            out.kept.push_back(name);
    };
    keep("buf_size", &config::buf_size);
    keep("region_buffers", &config::region_buffers);
    keep("region_meta_bytes", &config::region_meta_bytes);
    keep("default_slots", &config::default_slots);
    keep("max_slots", &config::max_slots);
    keep("max_rings", &config::max_rings);
    keep("max_extra_bufs", &config::max_extra_bufs);
    keep("max_regs_per_client", &config::max_regs_per_client);
    keep("max_regions", &config::max_regions);
    keep("hugepages", &config::hugepages);
    keep("nic_mode", &config::nic);
    keep("worker_spin", &config::worker_spin);
    keep("switch_stall_ms", &config::switch_stall_ms);
    keep("max_connections", &config::max_connections);
    keep("admin_connections", &config::admin_connections);
    keep("socket_group", &config::socket_gid);
    keep("socket_mode", &config::socket_mode);
    keep("metrics_listen", &config::metrics_address);
    if (running.metrics_address == fresh.metrics_address)
        keep("metrics_listen", &config::metrics_port);
    running.rules = fresh.rules;
    running.admins = fresh.admins;
    running.uid_quota = fresh.uid_quota;
    running.quotas = fresh.quotas;
    running.idle_timeout_s = fresh.idle_timeout_s;
    running.reattach_timeout_s = fresh.reattach_timeout_s;
    running.origin = fresh.origin;
    return out;
}

} // namespace netring::netringd
