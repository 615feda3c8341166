#include "sealed_memfd.hpp"

#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace netring::netringd {

result<unique_fd> make_sealed_memfd(const std::string &memfd_name, uint64_t size, bool hugepages,
                                    const std::string &what)
{
    const unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | (hugepages ? MFD_HUGETLB : 0u);
    unique_fd fd(::memfd_create(memfd_name.c_str(), flags));
    if (!fd.valid())
        return error::from_errno(errno, "memfd_create for " + what);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
        return error::from_errno(errno, "sizing " + what);
    // F_SEAL_SEAL last: after it nobody, the daemon included, can change the seals.
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        return error::from_errno(errno, "sealing " + what);
    return fd;
}

} // namespace netring::netringd
