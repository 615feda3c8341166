// What the control requests (ctl.cpp, ctl_vale.cpp) share: failing with netmap's errno and a
// logged reason, reading a request's name and body, and the kinds of names netmap uses.
#pragma once

#include "nm_file.hpp"

#include <net/netmap.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#pragma GCC visibility push(hidden)

namespace netring::netmap {

// -1 with errno `err`, and `why` (when given) on stderr.
inline int fail(int err, const std::string &why = {})
{
    if (!why.empty())
        log(why);
    errno = err;
    return -1;
}

inline int fail(const error &e, const std::string &what)
{
    return fail(errno_of(e), what + ": " + e.message);
}

template <class T>
inline T *body_of(const nmreq_header *h)
{
    return reinterpret_cast<T *>(static_cast<uintptr_t>(h->nr_body));
}

inline std::string name_of(const nmreq_header *h)
{
    return std::string(h->nr_name, strnlen(h->nr_name, sizeof h->nr_name));
}

inline bool is_vale(std::string_view name) { return name.starts_with(NM_BDG_NAME); }
inline bool is_pipe(std::string_view name) { return name.find_first_of("{}") != std::string_view::npos; }

// The switch requests (ctl_vale.cpp). 0, or -1 with errno.
int vale_attach(const std::string &name, nmreq_vale_attach &a);
int vale_detach(const std::string &name, nmreq_vale_detach &d);
int vale_list(nmreq_header *h, nmreq_vale_list &l);
int vale_newif(const std::string &name);
int vale_delif(const std::string &name);

} // namespace netring::netmap

#pragma GCC visibility pop
