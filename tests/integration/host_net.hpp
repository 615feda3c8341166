// Helpers for tests that reach the kernel stack through a network namespace: a per-run subnet,
// running code inside a namespace, ICMP echo, and /proc/sys writes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace netring::itest {

// "10.OCTET.N." with N (1..250) from this process's pid: the TAP and its route live in the root
// namespace, where a concurrent run of another test (or another NIC mode) must not share them.
std::string test_subnet(int octet);

// The Internet checksum (RFC 1071) of n bytes, in network order.
uint16_t inet_checksum(const uint8_t *p, size_t n);

// Runs `body` in a forked child that has joined network namespace `ns`; returns its exit code (-1:
// killed, or it did not finish within `timeout`). The child makes system calls only (no allocation:
// the parent may have other threads), and leaves with _exit.
int run_in_netns(const std::string &ns, const std::function<int()> &body, std::chrono::milliseconds timeout);

// For run_in_netns: `count` ICMP echo requests to `dst`, each answered (matching id, sequence and
// payload) within 3 s. 0 when all were; else the number of the first unanswered one + 20.
int ping(const char *dst, int count);

// Writes "value\n" to a /proc (or /sys) file; false when it could not.
bool write_proc(const std::string &path, const std::string &value);

} // namespace netring::itest
