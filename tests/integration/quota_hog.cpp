// A client that takes everything its uid may have, for the quota scenarios: run as some uid, it
// opens connections, registrations or regions until netringd refuses one, writes what happened on
// stderr as one line, then holds everything until it is killed.
//
//   quota_hog SOCKET connections N    N connections, each with a HELLO (no registration)
//   quota_hog SOCKET idle N           N connections that never send anything
//   quota_hog SOCKET registrations N  N pipes of one parent (one region): netmap:hogreg{i
//   quota_hog SOCKET regions N        N pipes of N parents: netmap:hogregionI{1
//
// The line: `hog KIND admitted=K refused="sentence"` (refused="" when all N were admitted); for
// `idle`, later lines `idle closed_by_daemon=C` as netringd closes the idle connections.
#include <netring/netring.hpp>
#include <netring/protocol.hpp>
#include <netring/unique_fd.hpp>
#include <rings/wire.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace netring;

namespace {

unique_fd connect_to(const std::string &path)
{
    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0)
        return {};
    return fd;
}

// HELLO on `fd`; empty when answered with a hello_reply, else the daemon's sentence.
std::string hello(int fd)
{
    proto::hello h{};
    h.min_version = proto::min_version;
    h.max_version = proto::version;
    proto::set_text(h.client_name, sizeof h.client_name, "quota_hog");
    (void)send_struct(fd, proto::msg_type::hello, 1, h);
    auto m = recv_message(fd, proto::max_reply_payload);
    if (!m)
        return "no reply: " + m.err().message;
    if (static_cast<proto::msg_type>(m->hdr.type) == proto::msg_type::hello_reply)
        return {};
    proto::reply_status st{};
    if (m->payload.size() >= sizeof st)
        std::memcpy(&st, m->payload.data(), sizeof st);
    auto text = proto::fixed_string(st.message, sizeof st.message);
    return text ? std::string(*text) : "refused";
}

void report(const char *kind, size_t admitted, const std::string &refused)
{
    std::fprintf(stderr, "hog %s admitted=%zu refused=\"%s\"\n", kind, admitted, refused.c_str());
    std::fflush(stderr);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: quota_hog SOCKET connections|idle|registrations|regions N\n");
        return 2;
    }
    const std::string sock = argv[1], kind = argv[2];
    const long n = std::strtol(argv[3], nullptr, 10);
    std::vector<unique_fd> conns;
    std::vector<port> ports;
    std::string refused;
    if (kind == "connections" || kind == "idle") {
        for (long i = 0; i < n && refused.empty(); i++) {
            unique_fd fd = connect_to(sock);
            if (!fd.valid()) {
                refused = std::string("connect: ") + std::strerror(errno);
                break;
            }
            if (kind == "connections") {
                refused = hello(fd.get());
            } else {
                // A refused connection is answered at once; an admitted one hears nothing.
                pollfd p{fd.get(), POLLIN, 0};
                if (::poll(&p, 1, 200) > 0)
                    refused = hello(fd.get()); // reads the refusal waiting for it
            }
            if (refused.empty())
                conns.push_back(std::move(fd));
        }
        report(kind.c_str(), conns.size(), refused);
    } else if (kind == "registrations" || kind == "regions") {
        open_options o;
        o.socket_path = sock;
        o.tx_slots = o.rx_slots = 64;
        for (long i = 0; i < n && refused.empty(); i++) {
            const std::string name = kind == "registrations" ? "netmap:hogreg{" + std::to_string(i + 1)
                                                             : "netmap:hogregion" + std::to_string(i) + "{1";
            auto p = port::open(name, o);
            if (p)
                ports.push_back(std::move(p).value());
            else
                refused = p.err().message;
        }
        report(kind.c_str(), ports.size(), refused);
    } else {
        std::fprintf(stderr, "quota_hog: unknown kind '%s'\n", kind.c_str());
        return 2;
    }
    // Hold everything. For idle connections, report when netringd closes them.
    size_t closed = 0;
    for (;;) {
        if (kind != "idle") {
            ::pause();
            continue;
        }
        std::vector<pollfd> ps;
        for (const unique_fd &c : conns)
            ps.push_back({c.get(), POLLIN, 0});
        if (ps.empty()) {
            ::pause();
            continue;
        }
        if (::poll(ps.data(), ps.size(), -1) <= 0)
            continue;
        for (size_t i = ps.size(); i-- > 0;) {
            if (ps[i].revents == 0)
                continue;
            char b;
            if (::recv(ps[i].fd, &b, 1, MSG_DONTWAIT) == 0) {
                conns.erase(conns.begin() + static_cast<long>(i));
                closed++;
            }
        }
        std::fprintf(stderr, "idle closed_by_daemon=%zu\n", closed);
        std::fflush(stderr);
    }
}
