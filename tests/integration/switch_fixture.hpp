// The switch scenarios' fixture: netringd with a policy that lets uid 65534 open vale* ports and
// makes gid 0 the switch admin, switch_peer processes (one per port, driven through a FIFO), and
// netring-switch runs with readers for `list --json`.
//
//   class my_test : public switch_fixture<daemon_test> {};       // or switch_fixture<nic_test>
//   TEST_F(my_test, x) {
//       auto a = start_peer("vale0:a"), b = start_peer("vale0:b");
//       a->command("send 10 02:00:00:00:00:0a ff:ff:ff:ff:ff:ff 60");
//       EXPECT_TRUE(a->wait([](const peer_state &s) { return s.done == 1; }));
//       auto r = switch_cmd({"list", "--json"});
//   }
#pragma once

#include "harness.hpp"

#include <sys/stat.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netring::itest {

// What a switch_peer said in its last "state" line.
struct peer_state {
    std::string json; // the whole object
    uint64_t epoch = 0, done = 0, mark = 0, other = 0;
    bool valid = false;

    struct counts {
        uint64_t received = 0, corrupt = 0, lost = 0, duplicate = 0, next = 0;
    };
    // Frames from source `mac` since the last reset; nullopt when none came.
    std::optional<counts> from(const std::string &mac) const;
    // True when no test frame at all came since the last reset.
    bool nothing_received() const;
};

// A running switch_peer and its FIFO.
class switch_peer_proc {
public:
    switch_peer_proc(std::unique_ptr<child> proc, std::string fifo, std::string port);

    const std::string &port() const { return port_; }
    child &proc() { return *proc_; }
    // Writes one command line into the FIFO; false (and a test failure) when that fails.
    bool command(const std::string &line);
    peer_state state() const;
    // Polls the state until `pred` holds (true) or `timeout` passes or the process ends (false).
    bool wait(const std::function<bool(const peer_state &)> &pred,
              std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // "quit", then its exit status; true when it exited 0.
    bool quit();

private:
    std::unique_ptr<child> proc_;
    std::string fifo_;
    std::string port_;
};

// The object of port `port` of switch `sw` in `netring-switch list --json` output ("" if absent).
std::string list_port(const std::string &json, const std::string &sw, const std::string &port);
// The switch's object without its ports ("" if absent).
std::string list_switch(const std::string &json, const std::string &sw);
// A string field of a flat object ("kind" -> "ephemeral"); "" when absent.
std::string json_string(const std::string &json, const std::string &key);

template <class Base>
class switch_fixture : public Base {
protected:
    std::string config_text() const override
    {
        return Base::config_text() + "allow uid=65534 vale*\nadmin gid=0\n";
    }

    // switch_peer as uid 65534 on `port`; waits until it has the port open ("ready").
    std::unique_ptr<switch_peer_proc> start_peer(const std::string &port, uint32_t slots = 0)
    {
        const std::string fifo = this->dir() + "/peer" + std::to_string(++peers_) + ".ctl";
        if (::mkfifo(fifo.c_str(), 0600) != 0 || ::chmod(fifo.c_str(), 0666) != 0) {
            ADD_FAILURE() << "mkfifo " << fifo;
            return nullptr;
        }
        std::vector<std::string> args = {binary_path("/tests/integration/switch_peer"),
                                         "--port",
                                         port,
                                         "--control",
                                         fifo,
                                         "--socket",
                                         this->socket_path()};
        if (slots)
            args.insert(args.end(), {"--slots", std::to_string(slots)});
        auto c = this->spawn(args, true);
        if (!c || !ready(*c, port))
            return nullptr;
        return std::make_unique<switch_peer_proc>(std::move(c), fifo, port);
    }

    // A receiver that opens `port` and never reads it.
    std::unique_ptr<child> start_idle_peer(const std::string &port, uint32_t slots = 0)
    {
        std::vector<std::string> args = {binary_path("/tests/integration/switch_peer"),
                                         "--port",
                                         port,
                                         "--idle",
                                         "--socket",
                                         this->socket_path()};
        if (slots)
            args.insert(args.end(), {"--slots", std::to_string(slots)});
        auto c = this->spawn(args, true);
        if (!c || !ready(*c, port))
            return nullptr;
        return c;
    }

    // netring-switch against this fixture's daemon: as root, or as uid 65534.
    child_result switch_cmd(std::vector<std::string> args, bool as_nobody = false)
    {
        args.insert(args.begin(), {binary_path("/tools/netring-switch"), "--socket", this->socket_path()});
        auto c = this->spawn(args, as_nobody);
        if (!c)
            return {};
        return c->wait(std::chrono::seconds(30));
    }

    // `list --json`, which must succeed.
    std::string list_json()
    {
        const child_result r = switch_cmd({"list", "--json"});
        EXPECT_TRUE(r.exited && r.exit_code == 0) << "netring-switch list --json: " << r.describe();
        return r.out;
    }

private:
    static bool ready(child &c, const std::string &port)
    {
        const bool ok =
            eventually([&] { return c.read_err().find("ready") != std::string::npos || !c.running(); },
                       std::chrono::seconds(20)) &&
            c.running();
        if (!ok)
            ADD_FAILURE() << "switch_peer on " << port << " did not open its port: " << c.read_err();
        return ok;
    }

    unsigned peers_ = 0;
};

} // namespace netring::itest
