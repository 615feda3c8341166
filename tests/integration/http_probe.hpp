// A plain HTTP/1.1 client for the daemon's metrics endpoint on loopback, and readers of the
// Prometheus text it serves.
#pragma once

#include <cstdint>
#include <string>

namespace netring::itest {

// A loopback TCP port nobody listened on a moment ago (0 if none could be had).
uint16_t free_port();

// Sends `request` to 127.0.0.1:port and returns everything the server wrote until it closed.
std::string http_exchange(uint16_t port, const std::string &request);

// GET `target` from 127.0.0.1:port, connection closed after the reply.
std::string http_get(uint16_t port, const std::string &target);

// The body of an HTTP reply (after the blank line), or "".
std::string body_of(const std::string &reply);

// The value of the first sample whose line starts with `prefix`, or -1.
double sample_value(const std::string &body, const std::string &prefix);

} // namespace netring::itest
