// netns and veth setup with `ip`, and a small synchronous command runner.
#include "netns.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

extern char **environ;

namespace netring::itest {
namespace {

// Where `ip` lives when PATH lacks the sbin directories (a plain user's PATH under sudo).
std::string ip_path()
{
    for (const char *p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
        if (::access(p, X_OK) == 0)
            return p;
    return "ip";
}

std::string read_text(const std::string &path)
{
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    return s;
}

} // namespace

int run_command(const std::vector<std::string> &argv, std::string *out)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    std::vector<std::string> args = argv;
    if (!args.empty() && args[0] == "ip")
        args[0] = ip_path();
    std::vector<char *> cargv;
    for (auto &a : args)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    std::string text;
    if (rc == 0) {
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n > 0)
                text.append(buf, static_cast<size_t>(n));
            else if (n == 0 || errno != EINTR)
                break;
        }
    } else {
        text = "spawn " + args[0] + ": " + std::strerror(rc);
    }
    ::close(fds[0]);
    if (out)
        *out = text;
    if (rc != 0)
        return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool have_ip_tool() { return ip_path() != "ip"; }

result<netns> netns::create(const std::string &tag, unsigned queues)
{
    netns n;
    n.name_ = "nrt" + std::to_string(::getpid()) + tag;
    n.bound_ = n.name_ + "0";
    n.peer_ = n.name_ + "1";
    if (n.bound_.size() > 15)
        return error::from(errc::internal, "interface name " + n.bound_ + " is longer than IFNAMSIZ allows");

    std::string out;
    auto step = [&](const std::vector<std::string> &argv) {
        if (run_command(argv, &out) == 0)
            return true;
        out = "`" + argv[0] + " " + (argv.size() > 1 ? argv[1] + " " + (argv.size() > 2 ? argv[2] : "") : "") +
              "...` failed: " + out;
        return false;
    };
    // From here on the destructor removes what exists (deleting absent names is harmless).
    n.owned_ = true;
    if (!step({"ip", "netns", "add", n.name_}))
        return error::from(errc::internal, out);
    std::vector<std::string> add = {"ip", "link", "add", n.bound_};
    const std::vector<std::string> q = {"numrxqueues", std::to_string(queues), "numtxqueues", std::to_string(queues)};
    if (queues > 1)
        add.insert(add.end(), q.begin(), q.end());
    add.insert(add.end(), {"type", "veth", "peer", "name", n.peer_});
    if (queues > 1)
        add.insert(add.end(), q.begin(), q.end());
    if (!step(add))
        return error::from(errc::internal, out);
    // IPv6 off before the links come up: nothing but the test's frames crosses the pair.
    const std::string sysctl_bound = "/proc/sys/net/ipv6/conf/" + n.bound_ + "/disable_ipv6";
    if (std::ofstream f(sysctl_bound); f)
        f << "1\n";
    if (!step({"ip", "link", "set", n.peer_, "netns", n.name_}))
        return error::from(errc::internal, out);
    n.run({"sysctl", "-q", "-w", "net.ipv6.conf." + n.peer_ + ".disable_ipv6=1"});
    if (!step({"ip", "link", "set", n.bound_, "up"}) ||
        !step({"ip", "netns", "exec", n.name_, ip_path(), "link", "set", n.peer_, "up"}) ||
        !step({"ip", "netns", "exec", n.name_, ip_path(), "link", "set", "lo", "up"}))
        return error::from(errc::internal, out);
    n.bound_mac_ = read_text("/sys/class/net/" + n.bound_ + "/address");
    n.run({"cat", "/sys/class/net/" + n.peer_ + "/address"}, &n.peer_mac_);
    while (!n.peer_mac_.empty() && (n.peer_mac_.back() == '\n' || n.peer_mac_.back() == ' '))
        n.peer_mac_.pop_back();
    if (n.bound_mac_.empty())
        return error::from(errc::internal, "cannot read the MAC address of " + n.bound_);
    return n;
}

netns::netns(netns &&o) noexcept
    : name_(std::move(o.name_)), bound_(std::move(o.bound_)), peer_(std::move(o.peer_)),
      bound_mac_(std::move(o.bound_mac_)), peer_mac_(std::move(o.peer_mac_)), owned_(o.owned_)
{
    o.owned_ = false;
}

netns::~netns() { destroy(); }

void netns::destroy()
{
    if (!owned_)
        return;
    owned_ = false;
    // Deleting one end of a veth deletes both; the namespace goes by its name.
    run_command({"ip", "link", "del", bound_});
    run_command({"ip", "netns", "del", name_});
}

std::vector<std::string> netns::exec(const std::vector<std::string> &argv) const
{
    std::vector<std::string> all = {ip_path(), "netns", "exec", name_};
    all.insert(all.end(), argv.begin(), argv.end());
    return all;
}

int netns::run(const std::vector<std::string> &argv, std::string *out) const { return run_command(exec(argv), out); }

std::string netns::bound_link_details() const
{
    std::string out;
    run_command({"ip", "-d", "link", "show", "dev", bound_}, &out);
    return out;
}

} // namespace netring::itest
