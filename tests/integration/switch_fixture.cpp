// The switch scenarios' helpers: switch_peer processes and their state lines, readers of
// `netring-switch list --json`.
#include "switch_fixture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace netring::itest {

using namespace std::chrono_literals;

namespace {

uint64_t number_or_zero(const std::string &json, const std::string &key)
{
    return static_cast<uint64_t>(json_number(json, key).value_or(0));
}

// The text between `open_at` (an opening brace) and its matching closing brace, both included.
std::string object_at(const std::string &json, size_t open_at)
{
    int depth = 0;
    for (size_t i = open_at; i < json.size(); i++) {
        if (json[i] == '{')
            depth++;
        else if (json[i] == '}' && --depth == 0)
            return json.substr(open_at, i - open_at + 1);
    }
    return {};
}

} // namespace

std::optional<peer_state::counts> peer_state::from(const std::string &mac) const
{
    const size_t at = json.find("\"" + mac + "\":{");
    if (at == std::string::npos)
        return std::nullopt;
    const std::string o = object_at(json, json.find('{', at));
    counts c;
    c.received = number_or_zero(o, "received");
    c.corrupt = number_or_zero(o, "corrupt");
    c.lost = number_or_zero(o, "lost");
    c.duplicate = number_or_zero(o, "duplicate");
    c.next = number_or_zero(o, "next");
    return c;
}

bool peer_state::nothing_received() const
{
    return valid && other == 0 && json.find("\"from\":{}") != std::string::npos;
}

switch_peer_proc::switch_peer_proc(std::unique_ptr<child> proc, std::string fifo, std::string port)
    : proc_(std::move(proc)), fifo_(std::move(fifo)), port_(std::move(port))
{}

bool switch_peer_proc::command(const std::string &line)
{
    const int fd = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        ADD_FAILURE() << "open " << fifo_ << ": " << std::strerror(errno);
        return false;
    }
    const std::string text = line + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok)
        ADD_FAILURE() << "write to " << fifo_ << " failed";
    return ok;
}

peer_state switch_peer_proc::state() const
{
    peer_state s;
    const std::string err = proc_->read_err();
    // The last complete line that starts with "state ".
    const size_t end = err.rfind('\n');
    if (end == std::string::npos)
        return s;
    size_t at = err.rfind("state {", end);
    while (at != std::string::npos && at > 0 && err[at - 1] != '\n')
        at = err.rfind("state {", at - 1);
    if (at == std::string::npos)
        return s;
    const size_t line_end = err.find('\n', at);
    s.json = err.substr(at + 6, line_end - at - 6);
    s.epoch = number_or_zero(s.json, "epoch");
    s.done = number_or_zero(s.json, "done");
    s.mark = number_or_zero(s.json, "mark");
    s.other = number_or_zero(s.json, "other");
    s.valid = true;
    return s;
}

bool switch_peer_proc::wait(const std::function<bool(const peer_state &)> &pred,
                            std::chrono::milliseconds timeout)
{
    return eventually(
               [&] {
                   const peer_state s = state();
                   return (s.valid && pred(s)) || !proc_->running();
               },
               timeout) &&
           proc_->running();
}

bool switch_peer_proc::quit()
{
    if (!command("quit"))
        return false;
    const child_result r = proc_->wait(20s);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << "switch_peer on " << port_ << ": " << r.describe();
    return r.exited && r.exit_code == 0;
}

std::string list_switch(const std::string &json, const std::string &sw)
{
    const size_t at = json.find("{\"name\":\"" + sw + "\",\"persistent\"");
    if (at == std::string::npos)
        return {};
    const size_t ports = json.find("\"ports\":[", at);
    return json.substr(at, ports == std::string::npos ? std::string::npos : ports - at);
}

std::string list_port(const std::string &json, const std::string &sw, const std::string &port)
{
    const size_t at = json.find("{\"name\":\"" + sw + "\",\"persistent\"");
    if (at == std::string::npos)
        return {};
    const size_t ports = json.find("\"ports\":[", at);
    if (ports == std::string::npos)
        return {};
    const size_t end = json.find(']', ports); // port objects hold no arrays
    const size_t p = json.find("{\"name\":\"" + port + "\"", ports);
    if (p == std::string::npos || p > end)
        return {};
    return object_at(json, p);
}

std::string json_string(const std::string &json, const std::string &key)
{
    const std::string k = "\"" + key + "\":\"";
    const size_t at = json.find(k);
    if (at == std::string::npos)
        return {};
    const size_t end = json.find('"', at + k.size());
    return end == std::string::npos ? std::string() : json.substr(at + k.size(), end - at - k.size());
}

} // namespace netring::itest
