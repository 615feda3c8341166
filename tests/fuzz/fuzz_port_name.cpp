// Port names from anywhere: a name either fails with bad_port_name and a positioned message, or
// parses, prints back canonically, and the canonical form parses to the same port.
#include <netring/port_name.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    auto p = netring::parse_port_name(text);
    if (!p) {
        if (p.err().code != netring::make_error_code(netring::errc::bad_port_name) ||
            p.err().message.find(" at position ") == std::string::npos)
            std::abort();
        return 0;
    }
    if (text.size() > netring::max_name_len)
        std::abort();
    const std::string canon = p->str();
    auto again = netring::parse_port_name(canon);
    if (!again || again->str() != canon || again->port_key() != p->port_key() || again->role != p->role)
        std::abort();
    return 0;
}
