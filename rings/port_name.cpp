// Port-name parser: netmap's syntax, checked strictly so a typo is reported where it is.
//
//   name   := ( "netmap:" nic | "vale" [A-Za-z0-9_]* ":" PORT ) [ "/" flag+ ]
//   nic    := IFNAME [ "-" RING | "^" | "*" | "{" ID | "}" ID ]
//   IFNAME, PORT := 1..15 of [A-Za-z0-9_.]     ID := 1..15 of [A-Za-z0-9_]
//   RING   := decimal 0..1023                   flag := x | T | R | r | t (each once; not T and R;
//                                                  the monitor flags r, t alone)
// Positions in error messages count bytes from 0.
#include <netring/port_name.hpp>

#include <cctype>
#include <string>

namespace netring {
namespace {

constexpr uint32_t max_ring = 1023;
constexpr std::string_view netmap_prefix = "netmap:";
constexpr std::string_view vale_prefix = "vale";

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ifname(char c) { return is_word(c) || c == '.'; }

// The name as it may appear in a message: printable, bounded.
std::string printable(std::string_view text)
{
    std::string out;
    for (char c : text.substr(0, 80))
        out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    if (text.size() > 80)
        out += "...";
    return out;
}

class parser {
public:
    explicit parser(std::string_view text) : text_(text) {}

    result<port_name> run();

private:
    error fail(const std::string &what) const
    {
        return error::from(errc::bad_port_name, "bad port name '" + printable(text_) + "': " + what +
                                                    " at position " + std::to_string(pos_));
    }
    error expected(const char *what) const { return fail(std::string(what) + " expected"); }
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }

    // Consumes 1..max characters accepted by `ok`; empty view when there are none.
    template <class Pred>
    std::string_view take(Pred ok)
    {
        const size_t start = pos_;
        while (!at_end() && ok(text_[pos_]))
            pos_++;
        return text_.substr(start, pos_ - start);
    }
    status token(std::string &out, bool (*ok)(char), const char *what);
    status ring_number(port_name &p);
    status flags(port_name &p);

    std::string_view text_;
    size_t pos_ = 0;
};

status parser::token(std::string &out, bool (*ok)(char), const char *what)
{
    const size_t start = pos_;
    const std::string_view t = take(ok);
    if (t.empty())
        return expected(what);
    if (t.size() > max_ifname) {
        pos_ = start + max_ifname;
        return fail(std::string(what) + " longer than " + std::to_string(max_ifname) + " characters");
    }
    out = std::string(t);
    return ok_status();
}

status parser::ring_number(port_name &p)
{
    const size_t start = pos_;
    const std::string_view digits = take([](char c) { return c >= '0' && c <= '9'; });
    if (digits.empty())
        return expected("ring number");
    uint32_t v = 0;
    for (char c : digits) {
        v = v * 10 + static_cast<uint32_t>(c - '0');
        if (v > max_ring) {
            pos_ = start;
            return fail("ring number " + std::string(digits.substr(0, 12)) + " above " + std::to_string(max_ring));
        }
    }
    p.ring = v;
    return ok_status();
}

status parser::flags(port_name &p)
{
    if (at_end())
        return expected("flag (x, T, R, r or t)");
    for (; !at_end(); pos_++) {
        bool *flag = nullptr;
        switch (peek()) {
        case 'x': flag = &p.exclusive; break;
        case 'T': flag = &p.tx_only; break;
        case 'R': flag = &p.rx_only; break;
        case 'r': flag = &p.monitor_rx; break;
        case 't': flag = &p.monitor_tx; break;
        case 'z': return fail("zero-copy monitors (flag 'z') are not supported: use copy monitors, /r /t /rt");
        default: return expected("flag (x, T, R, r or t)");
        }
        if (*flag)
            return fail(std::string("flag '") + peek() + "' repeated");
        *flag = true;
        if (p.tx_only && p.rx_only)
            return fail("flags T and R exclude each other");
        if (p.is_monitor() && (p.exclusive || p.tx_only || p.rx_only))
            return fail("monitor flags r and t do not combine with x, T or R");
    }
    return ok_status();
}

result<port_name> parser::run()
{
    port_name p;
    if (text_.size() > max_name_len) {
        pos_ = max_name_len;
        return fail("name longer than " + std::to_string(max_name_len) + " characters");
    }
    if (text_.starts_with(netmap_prefix)) {
        pos_ = netmap_prefix.size();
        if (auto s = token(p.base, is_ifname, "interface name"); !s)
            return s.err();
        const char c = peek();
        if (c == '-' || c == '^' || c == '*' || c == '{' || c == '}')
            pos_++;
        switch (c) {
        case '-':
            p.role = port_role::nic_ring;
            if (auto s = ring_number(p); !s)
                return s.err();
            break;
        case '^': p.role = port_role::host; break;
        case '*': p.role = port_role::nic_host; break;
        case '{':
        case '}':
            p.role = c == '{' ? port_role::pipe_master : port_role::pipe_slave;
            if (auto s = token(p.port, is_word, "pipe id"); !s)
                return s.err();
            break;
        default: p.role = port_role::nic_all; break;
        }
    } else if (text_.starts_with(vale_prefix)) {
        pos_ = vale_prefix.size();
        take(is_word);
        if (peek() != ':')
            return expected("':' after the switch name");
        p.role = port_role::switch_port;
        p.base = std::string(text_.substr(0, pos_));
        pos_++;
        if (auto s = token(p.port, is_ifname, "switch port name"); !s)
            return s.err();
    } else {
        return expected("'netmap:' or 'vale...:'");
    }

    if (peek() == '/') {
        pos_++;
        if (auto s = flags(p); !s)
            return s.err();
    }
    if (!at_end())
        return expected(p.role == port_role::nic_all ? "'-', '^', '*', '{', '}', '/' or end of name"
                                                     : "'/' or end of name");
    return p;
}

} // namespace

result<port_name> parse_port_name(std::string_view text)
{
    return parser(text).run();
}

std::string port_name::str() const
{
    std::string s;
    switch (role) {
    case port_role::nic_all: s = "netmap:" + base; break;
    case port_role::nic_ring: s = "netmap:" + base + "-" + std::to_string(ring); break;
    case port_role::host: s = "netmap:" + base + "^"; break;
    case port_role::nic_host: s = "netmap:" + base + "*"; break;
    case port_role::pipe_master: s = "netmap:" + base + "{" + port; break;
    case port_role::pipe_slave: s = "netmap:" + base + "}" + port; break;
    case port_role::switch_port: s = base + ":" + port; break;
    }
    if (exclusive || tx_only || rx_only || is_monitor()) {
        s += '/';
        if (exclusive)
            s += 'x';
        if (tx_only)
            s += 'T';
        if (rx_only)
            s += 'R';
        if (monitor_rx)
            s += 'r';
        if (monitor_tx)
            s += 't';
    }
    return s;
}

port_name port_name::monitored() const
{
    port_name p = *this;
    p.monitor_rx = p.monitor_tx = false;
    return p;
}

// What registrations share (a monitor shares the key of the port it watches): both ends of one pipe; every ring selection of one NIC (a `*`
// registration is the NIC port, which also brings the host rings); the host rings alone.
std::string port_name::port_key() const
{
    switch (role) {
    case port_role::nic_all:
    case port_role::nic_ring:
    case port_role::nic_host:
    case port_role::host: return "nic:" + base; // one port object: the NIC and its host rings share a region
    case port_role::pipe_master:
    case port_role::pipe_slave: return "pipe:" + base + "{" + port + "}";
    case port_role::switch_port: return base + ":" + port;
    }
    return base;
}

} // namespace netring
