#include "http_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace netring::itest {

uint16_t free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        ::close(fd);
    return port;
}

std::string http_exchange(uint16_t port, const std::string &request)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return {};
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        char buf[65536];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
            reply.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return reply;
}

std::string http_get(uint16_t port, const std::string &target)
{
    return http_exchange(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

std::string body_of(const std::string &reply)
{
    const size_t at = reply.find("\r\n\r\n");
    return at == std::string::npos ? std::string{} : reply.substr(at + 4);
}

double sample_value(const std::string &body, const std::string &prefix)
{
    for (size_t at = 0; at < body.size();) {
        const size_t end = body.find('\n', at);
        const std::string line = body.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (line.starts_with(prefix))
            return std::stod(line.substr(line.rfind(' ') + 1));
        if (end == std::string::npos)
            break;
        at = end + 1;
    }
    return -1;
}

} // namespace netring::itest
