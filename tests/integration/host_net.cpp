#include "host_net.hpp"

#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace netring::itest {

using namespace std::chrono_literals;

std::string test_subnet(int octet)
{
    return "10." + std::to_string(octet) + "." + std::to_string(1 + ::getpid() % 250) + ".";
}

uint16_t inet_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += static_cast<uint32_t>(p[n - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons(static_cast<uint16_t>(~sum));
}

int run_in_netns(const std::string &ns, const std::function<int()> &body, std::chrono::milliseconds timeout)
{
    const std::string path = "/run/netns/" + ns;
    const int nsfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
        return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setns(nsfd, CLONE_NEWNET) != 0)
            ::_exit(90);
        ::_exit(body());
    }
    ::close(nsfd);
    if (pid < 0)
        return -1;
    auto status = detail::wait_pid(pid, timeout);
    if (!status) {
        ::kill(pid, SIGKILL);
        status = detail::wait_pid(pid, 5s);
        return -1;
    }
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

int ping(const char *dst, int count)
{
    const int s = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (s < 0)
        return 11;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    ::inet_pton(AF_INET, dst, &to.sin_addr);
    const uint16_t id = static_cast<uint16_t>(::getpid());
    for (int seq = 0; seq < count; seq++) {
        uint8_t req[64] = {};
        req[0] = ICMP_ECHO;
        std::memcpy(req + 4, &id, 2);
        req[6] = static_cast<uint8_t>(seq >> 8);
        req[7] = static_cast<uint8_t>(seq);
        for (size_t i = 8; i < sizeof req; i++)
            req[i] = static_cast<uint8_t>(i * 7 + seq);
        const uint16_t sum = inet_checksum(req, sizeof req);
        std::memcpy(req + 2, &sum, 2);
        if (::sendto(s, req, sizeof req, 0, reinterpret_cast<sockaddr *>(&to), sizeof to) != sizeof req)
            return 12;
        bool answered = false;
        for (int tries = 0; !answered && tries < 300; tries++) {
            pollfd p{s, POLLIN, 0};
            if (::poll(&p, 1, 10) <= 0)
                continue;
            uint8_t buf[2048];
            const ssize_t n = ::recv(s, buf, sizeof buf, 0);
            if (n < 20)
                continue;
            const size_t ihl = (buf[0] & 0x0f) * 4u;
            if (static_cast<size_t>(n) != ihl + sizeof req)
                continue;
            const uint8_t *icmp = buf + ihl;
            answered = icmp[0] == ICMP_ECHOREPLY && std::memcmp(icmp + 4, req + 4, 4) == 0 &&
                       std::memcmp(icmp + 8, req + 8, sizeof req - 8) == 0;
        }
        if (!answered)
            return 20 + seq;
    }
    ::close(s);
    return 0;
}

bool write_proc(const std::string &path, const std::string &value)
{
    std::ofstream f(path);
    return static_cast<bool>(f << value << "\n");
}

} // namespace netring::itest
