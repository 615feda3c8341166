#include "journal_file.hpp"

#include "sealed_memfd.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

namespace netring::netringd {

struct journal_file::header {
    uint64_t magic;
    uint32_t version;
    uint32_t slots;
    uint64_t body_bytes;
    uint64_t next_tag;
    uint64_t tag[journal_file::max_slots];
};

namespace {

constexpr uint64_t body_offset = 4096; // the header fits a page

} // namespace

journal_file::journal_file(unique_fd fd, mapped_region map) : fd_(std::move(fd)), map_(std::move(map))
{
    static_assert(sizeof(header) <= body_offset);
}

journal_file::header &journal_file::head() const { return *reinterpret_cast<header *>(map_.base()); }

uint8_t *journal_file::body() const { return map_.base() + body_offset; }

result<journal_file> journal_file::create(const std::string &memfd_name, uint64_t magic, uint32_t version,
                                          uint32_t slots, uint64_t body_bytes, const std::string &what)
{
    if (slots > max_slots)
        return error::from(errc::internal, what + ": " + std::to_string(slots) + " slots");
    auto fd = make_sealed_memfd(memfd_name, body_offset + body_bytes, false, what);
    if (!fd)
        return fd.err();
    auto map = mapped_region::map(fd->get(), body_offset + body_bytes);
    if (!map)
        return map.err();
    auto *h = reinterpret_cast<header *>(map->base()); // a new memfd reads as zeros
    h->magic = magic;
    h->version = version;
    h->slots = slots;
    h->body_bytes = body_bytes;
    h->next_tag = 1;
    return journal_file(std::move(fd.value()), std::move(map.value()));
}

result<journal_file> journal_file::adopt(unique_fd fd, uint64_t magic, uint32_t version, uint32_t slots,
                                         uint64_t body_bytes, const std::string &what)
{
    auto bad = [&](const std::string &why) { return error::from(errc::bad_message, "kept " + what + ": " + why); };
    if (!fd.valid())
        return bad("its memfd was not kept");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return error::from_errno(errno, "fstat of kept " + what);
    const int seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK) || !(seals & F_SEAL_GROW))
        return bad("the fd is not a memfd sealed against resizing");
    const uint64_t bytes = body_offset + body_bytes;
    if (static_cast<uint64_t>(st.st_size) != bytes)
        return bad("the memfd is " + std::to_string(st.st_size) + " bytes, not " + std::to_string(bytes));
    auto map = mapped_region::map(fd.get(), bytes);
    if (!map)
        return map.err();
    const auto *h = reinterpret_cast<const header *>(map->base());
    if (h->magic != magic || h->version != version || h->slots != slots || h->body_bytes != body_bytes)
        return bad("its header is not a version " + std::to_string(version) + " journal of " +
                   std::to_string(slots) + " slots");
    journal_file f(std::move(fd), std::move(map.value()));
    uint64_t top = 0; // tags only grow: a damaged next_tag must not give one out again
    for (uint32_t s = 0; s < slots; s++)
        top = std::max(top, f.head().tag[s]);
    if (f.head().next_tag <= top || top == UINT64_MAX)
        f.head().next_tag = top == UINT64_MAX ? 1 : top + 1;
    return f;
}

uint64_t journal_file::claim(uint32_t slot)
{
    header &h = head();
    if (slot >= h.slots)
        return 0;
    const uint64_t t = h.next_tag++;
    h.tag[slot] = t;
    return t;
}

uint64_t journal_file::tag(uint32_t slot) const { return slot < head().slots ? head().tag[slot] : 0; }

void journal_file::free_slot(uint32_t slot)
{
    if (slot < head().slots)
        head().tag[slot] = 0;
}

} // namespace netring::netringd
