// A memfd of a fixed size: made, sized, then sealed so that no holder of the fd (a client, a
// successor daemon, the daemon itself) can shrink or grow it under a mapping, which would turn the
// next access past the new end into SIGBUS. Regions and the state segment are made this way.
//
//   auto fd = make_sealed_memfd("netring:pipe:pipeA", size, false, "region pipe:pipeA");
#pragma once

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <cstdint>
#include <string>

namespace netring::netringd {

// `memfd_name` is what /proc/PID/fd shows; `what` names the memory in error messages.
result<unique_fd> make_sealed_memfd(const std::string &memfd_name, uint64_t size, bool hugepages,
                                    const std::string &what);

} // namespace netring::netringd
