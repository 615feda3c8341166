// Move-only owners of OS resources used by both the daemon and libnetring: a file descriptor and
// a shared mapping. Named factories return result<>; destructors undo, in reverse setup order when
// they are members declared in setup order. (Boost.Interprocess's mapped_region wants its own
// mappable types; a memfd received over SCM_RIGHTS is a raw fd, so a 40-line owner is simpler.)
#pragma once

#include <netring/error.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace netring {

class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) : fd_(fd) {}
    unique_fd(unique_fd &&o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd &operator=(unique_fd &&o) noexcept
    {
        if (this != &o)
            reset(std::exchange(o.fd_, -1));
        return *this;
    }
    unique_fd(const unique_fd &) = delete;
    unique_fd &operator=(const unique_fd &) = delete;
    ~unique_fd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

class mapped_region {
public:
    mapped_region() = default;
    // MAP_SHARED read/write mapping of `size` bytes of `fd` from offset 0.
    static result<mapped_region> map(int fd, size_t size)
    {
        void *p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            return error::from_errno(errno, "mmap of the region");
        return mapped_region(static_cast<uint8_t *>(p), size);
    }
    mapped_region(mapped_region &&o) noexcept
        : base_(std::exchange(o.base_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    mapped_region &operator=(mapped_region &&o) noexcept
    {
        if (this != &o) {
            unmap();
            base_ = std::exchange(o.base_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    mapped_region(const mapped_region &) = delete;
    mapped_region &operator=(const mapped_region &) = delete;
    ~mapped_region() { unmap(); }

    uint8_t *base() const { return base_; }
    size_t size() const { return size_; }

private:
    mapped_region(uint8_t *b, size_t s) : base_(b), size_(s) {}
    void unmap()
    {
        if (base_)
            ::munmap(base_, size_);
        base_ = nullptr;
    }
    uint8_t *base_ = nullptr;
    size_t size_ = 0;
};

} // namespace netring
