#include "state_segment.hpp"

#include "sealed_memfd.hpp"
#include "state_layout.hpp"

#include <boost/crc.hpp>
#include <boost/version.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>

namespace netring::netringd {
namespace {

constexpr uint64_t page_bytes = 4096;
constexpr uint64_t min_bytes = 64u << 10;
constexpr uint64_t max_bytes = 1u << 30; // an adopted fd larger than this is not a state segment

error bad(const std::string &msg) { return error::from(errc::bad_message, "state segment: " + msg); }

std::string boost_text(uint32_t v)
{
    return std::to_string(v / 100000) + "." + std::to_string(v / 100 % 1000) + "." + std::to_string(v % 100);
}

std::string hex(uint32_t v)
{
    char s[16];
    std::snprintf(s, sizeof s, "0x%08x", v);
    return s;
}

uint32_t crc_of(const uint8_t *p, uint64_t n)
{
    boost::crc_32_type crc;
    crc.process_bytes(p, n);
    return crc.checksum();
}

// What is constant after create(); `h` is a copy, `file_bytes` the memfd's size.
status check_header(const state_header &h, uint64_t file_bytes)
{
    if (h.magic != state_magic)
        return bad("magic " + hex(h.magic) + " is not netringd's state (" + hex(state_magic) + ")");
    if (h.layout_version != state_layout_version)
        return error::from(errc::unsupported_version,
                           "state layout version " + std::to_string(h.layout_version) +
                               ", this netringd reads " + std::to_string(state_layout_version));
    if (h.boost_version != BOOST_VERSION)
        return error::from(errc::unsupported_version,
                           "state written with the managed buffers of Boost " + boost_text(h.boost_version) +
                               ", this netringd has Boost " + boost_text(BOOST_VERSION));
    if (h.half_offset != state_header_bytes || h.half_bytes < page_bytes || h.half_bytes % page_bytes ||
        h.half_bytes > (file_bytes - state_header_bytes) / 2)
        return bad("halves of " + std::to_string(h.half_bytes) + " bytes from offset " +
                   std::to_string(h.half_offset) + " do not fit a segment of " + std::to_string(file_bytes) +
                   " bytes");
    return ok_status();
}

} // namespace

result<state_segment> state_segment::create(uint64_t bytes)
{
    if (bytes < min_bytes || bytes > max_bytes)
        return error::from(errc::limit_exceeded, "state segment of " + std::to_string(bytes) +
                                                     " bytes: the size must be from 64 KiB to 1 GiB");
    auto fd = make_sealed_memfd("netringd-state", bytes, false, "the state segment");
    if (!fd)
        return fd.err();
    auto map = mapped_region::map(fd->get(), bytes);
    if (!map)
        return map.err();
    auto *h = reinterpret_cast<state_header *>(map->base());
    h->magic = state_magic;
    h->layout_version = state_layout_version;
    h->boost_version = BOOST_VERSION;
    h->half_offset = state_header_bytes;
    h->half_bytes = (bytes - state_header_bytes) / 2 / page_bytes * page_bytes;
    h->active = 1; // the first save writes half 0, as generation 1
    state_segment seg(std::move(fd.value()), std::move(map.value()), h->half_bytes);
    if (auto ok = seg.save({}); !ok)
        return ok.err();
    return seg;
}

result<state_segment> state_segment::adopt(unique_fd fd)
{
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return error::from_errno(errno, "fstat of the state segment");
    const int seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK))
        return bad("the fd is not a memfd sealed against shrinking");
    const auto bytes = static_cast<uint64_t>(st.st_size);
    if (bytes < min_bytes || bytes > max_bytes)
        return bad("the memfd is " + std::to_string(bytes) + " bytes, outside 64 KiB to 1 GiB");
    auto map = mapped_region::map(fd.get(), bytes);
    if (!map)
        return map.err();
    state_header h;
    std::memcpy(&h, map->base(), sizeof h);
    if (auto ok = check_header(h, bytes); !ok)
        return ok.err();
    return state_segment(std::move(fd), std::move(map.value()), h.half_bytes);
}

status state_segment::save(const kept_state &s)
{
    if (auto ok = stage(s); !ok)
        return ok;
    commit();
    return ok_status();
}

status state_segment::stage(const kept_state &s)
{
    staged_ = -1;
    auto *h = reinterpret_cast<state_header *>(map_.base());
    const uint32_t active = h->active;
    const int next = active == 0 ? 1 : 0;
    uint8_t *half = map_.base() + state_header_bytes + next * half_bytes_;
    auto used = write_records(half, half_bytes_, s);
    if (!used)
        return used.err();
    // Only load() of half `next` reads these, and only after commit() makes it active.
    h->half[next].generation = (active <= 1 ? h->half[active].generation : 0) + 1;
    h->half[next].used_bytes = *used;
    h->half[next].crc32 = crc_of(half, *used);
    staged_ = next;
    return ok_status();
}

void state_segment::commit()
{
    if (staged_ < 0)
        return;
    auto *h = reinterpret_cast<state_header *>(map_.base());
    // Release: the half and its description are in memory before the flip (partner of the
    // acquire in load()). A process killed before this store leaves the old half active.
    std::atomic_ref<uint32_t>(h->active).store(static_cast<uint32_t>(staged_), std::memory_order_release);
    staged_ = -1;
}

result<kept_state> state_segment::load() const
{
    auto *h = reinterpret_cast<state_header *>(map_.base());
    state_header copy;
    std::memcpy(&copy, h, sizeof copy);
    if (auto ok = check_header(copy, map_.size()); !ok)
        return ok.err();
    const uint32_t active =
        std::atomic_ref<uint32_t>(h->active).load(std::memory_order_acquire); // partner: commit
    if (active > 1)
        return bad("the active half is " + std::to_string(active) + ", neither 0 nor 1");
    const state_half d = h->half[active];
    if (d.used_bytes == 0 || d.used_bytes > copy.half_bytes)
        return bad("half " + std::to_string(active) + " claims " + std::to_string(d.used_bytes) +
                   " used bytes of " + std::to_string(copy.half_bytes));
    // A private copy: the CRC and the records are checked on bytes nobody can change meanwhile,
    // and opening the managed buffer writes nothing into the segment.
    auto own = std::make_unique<std::max_align_t[]>((d.used_bytes + sizeof(std::max_align_t) - 1) /
                                                    sizeof(std::max_align_t));
    auto *bytes = reinterpret_cast<uint8_t *>(own.get());
    std::memcpy(bytes, map_.base() + copy.half_offset + active * copy.half_bytes, d.used_bytes);
    if (const uint32_t crc = crc_of(bytes, d.used_bytes); crc != d.crc32)
        return bad("half " + std::to_string(active) + " has CRC-32 " + hex(crc) + ", the header says " +
                   hex(d.crc32));
    return read_records(bytes, d.used_bytes);
}

uint64_t state_segment::generation() const
{
    const auto *h = reinterpret_cast<const state_header *>(map_.base());
    return h->active <= 1 ? h->half[h->active].generation : 0;
}

} // namespace netring::netringd
