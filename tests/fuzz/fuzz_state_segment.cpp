// A state segment as a successor may find it after a crash or a disk error: adopt() and load()
// either refuse the bytes with a sentence or give a state, and never crash. The first byte picks
// how the input is used:
//   0: the input is the segment, from its first byte (the rest zero);
//   1: the same under a sound header (magic, versions, geometry), so the active index, the used
//      bytes and the CRC are what load() judges;
//   2: records built from the input (regions, pipes, registrations, switches, NICs) are saved, then
//      loaded: the same records come back, or the save refuses them with limit_exceeded and the
//      previous state stays.
// Bytes that pass the CRC are not fuzzed: Boost's structures are trusted from there on
// (state_records.hpp), as they are in netringd.
#include "daemon/state_layout.hpp"
#include "daemon/state_segment.hpp"

#include <boost/version.hpp>

#include <unistd.h>

#include <cstdlib>
#include <cstring>

using namespace netring;
using namespace netring::netringd;

namespace {

constexpr uint64_t segment_bytes = 64u << 10;

// Hands out the input's bytes, then zeros.
struct input {
    const uint8_t *data;
    size_t size;
    uint32_t take(uint32_t max)
    {
        uint32_t v = 0;
        for (int i = 0; i < 4 && size; i++, data++, size--)
            v = v << 8 | *data;
        return max ? v % (max + 1) : v;
    }
    std::string text()
    {
        std::string s;
        for (uint32_t n = take(70); n--;)
            s.push_back(static_cast<char>(take(0) & 0x7f));
        return s;
    }
};

kept_state records_of(input in)
{
    kept_state s;
    s.last_reg_id = in.take(0);
    s.next_fd_id = in.take(64);
    for (uint32_t n = in.take(3); n--;)
        s.regions.push_back({in.text(), in.take(70), in.take(0), in.take(0), in.take(0), in.take(0), 1, false,
                             true, in.take(0), {{in.take(0), in.take(0)}}, {{in.take(0), in.take(0)}}});
    for (uint32_t n = in.take(2); n--;) {
        kept_pipe p;
        p.key = in.text();
        p.parent = s.regions.empty() || in.take(1) ? in.text() : s.regions[0].name;
        p.dir_rings = {in.take(70), in.take(2)};
        for (auto &e : p.ends) {
            e.name = in.text();
            e.open = in.take(1);
            e.reg_id = in.take(3);
            for (uint32_t r = in.take(3); r--;)
                e.tx.push_back({in.take(0), in.take(0), in.take(0), in.take(0), in.take(70)});
        }
        p.bufs.assign(in.take(100), in.take(0));
        for (uint32_t t = in.take(3); t--;)
            p.tables[t & 1].emplace_back(in.take(0), in.take(0));
        s.pipes.push_back(p);
    }
    for (uint32_t n = in.take(3); n--;) {
        kept_registration r;
        r.reg_id = in.take(3);
        r.key = in.text();
        r.name = in.text();
        r.region = s.regions.empty() || in.take(1) ? in.text() : s.regions[0].name;
        r.fd_ids.assign(in.take(260), in.take(70));
        s.registrations.push_back(r);
    }
    for (uint32_t n = in.take(2); n--;) {
        kept_switch sw;
        sw.name = in.text();
        sw.persistent = in.take(1);
        sw.journal_fd_id = in.take(70);
        for (uint32_t p = in.take(3); p--;) {
            kept_switch_port port;
            port.name = in.text();
            port.kind = in.take(1) ? "persistent" : in.text();
            for (kept_served_ring *r : {&port.tx, &port.rx})
                *r = {in.take(0), in.take(0), in.take(0), in.take(0), in.take(70), in.take(70), in.take(0), in.take(0)};
            port.bufs.assign(in.take(100), in.take(0));
            for (uint32_t g = in.take(3); g--;)
                port.regs.push_back({in.take(3), static_cast<int32_t>(in.take(0)), in.take(0), in.take(0), in.take(0),
                                     in.take(1) != 0});
            for (uint64_t &c : port.counters)
                c = in.take(0);
            port.journal_slot = in.take(300);
            port.journal_tag = in.take(0);
            sw.ports.push_back(port);
        }
        for (uint32_t m = in.take(3); m--;)
            sw.macs.push_back({uint64_t{in.take(0)} << 16 | in.take(0xffff), in.take(4), in.take(0)});
        for (uint32_t m = in.take(1); m--;) {
            kept_attachment at;
            at.nic = in.text();
            at.reg_id = in.take(3);
            at.heads.assign(in.take(4), in.take(0));
            sw.attachments.push_back(at);
        }
        s.switches.push_back(sw);
    }
    for (uint32_t n = in.take(2); n--;) {
        kept_nic nic;
        nic.key = in.text();
        nic.ifname = in.text();
        nic.region = s.regions.empty() || in.take(1) ? in.text() : s.regions[0].name;
        nic.afpacket = in.take(1);
        nic.hw_queues = in.take(300);
        nic.xdp_map_fd_id = in.take(70), nic.xdp_prog_fd_id = in.take(70), nic.xdp_link_fd_id = in.take(70);
        nic.journal_fd_id = in.take(70), nic.running = in.take(1);
        for (uint32_t q = in.take(3); q--;) {
            kept_nic_queue queue;
            queue.index = in.take(300);
            queue.users = in.take(3);
            for (kept_served_ring *r : {&queue.tx, &queue.rx})
                *r = {in.take(0), in.take(0), in.take(0), in.take(0), in.take(70), in.take(70),
                      in.take(0), in.take(0), in.take(0)};
            queue.xsk_fd_id = in.take(70);
            queue.xsk_ring_size = in.take(0), queue.fill_ring_size = in.take(0);
            queue.tx_in_kernel = in.take(0), queue.tx_credits = in.take(0);
            queue.held.assign(in.take(100), in.take(0));
            queue.packet_blocks = in.take(0), queue.packet_block = in.take(0);
            queue.packet_left = in.take(0), queue.packet_frame_off = in.take(0);
            queue.journal_tag = in.take(0);
            nic.queues.push_back(queue);
        }
        for (uint32_t r = in.take(3); r--;)
            nic.registrations.push_back({in.take(3), static_cast<int32_t>(in.take(0)), {in.take(300)}, in.take(0),
                                         in.take(0), in.take(0)});
        nic.owned.assign(in.take(100), in.take(0));
        s.nics.push_back(nic);
    }
    for (uint32_t n = in.take(2); n--;) {
        kept_monitor m;
        m.port = s.registrations.empty() || in.take(1) ? in.text() : s.registrations[0].key;
        m.name = in.text();
        m.reg_id = in.take(3);
        m.if_off = in.take(0), m.if_bytes = in.take(0);
        for (uint32_t r = in.take(3); r--;) {
            m.rings.push_back({in.take(0), in.take(0), in.take(0), in.take(0), in.take(70), in.take(70)});
            m.src.emplace_back(in.take(3), in.take(3));
            m.entries.push_back({in.take(2), in.take(3), in.take(9)});
        }
        m.bufs.assign(in.take(100), in.take(0));
        s.monitors.push_back(m);
    }
    return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // One segment whose bytes the input replaces (modes 0 and 1), one the records go through.
    static auto raw = state_segment::create(segment_bytes);
    static auto view = mapped_region::map(raw->fd(), segment_bytes);
    static auto kept = state_segment::create(segment_bytes);
    if (!raw || !view || !kept)
        std::abort();
    if (size == 0)
        return 0;
    const int mode = data[0] % 3;
    data++, size--;
    if (mode == 2) {
        if (!kept->save({}))
            std::abort();
        const kept_state s = records_of({data, size});
        auto saved = kept->save(s);
        auto back = kept->load();
        if (!back || !(saved ? *back == s : *back == kept_state{}))
            std::abort();
        if (!saved && saved.err().code != make_error_code(errc::limit_exceeded))
            std::abort();
        return 0;
    }
    std::memset(view->base(), 0, segment_bytes);
    std::memcpy(view->base(), data, std::min<size_t>(size, segment_bytes));
    if (mode == 1) {
        auto *h = reinterpret_cast<state_header *>(view->base());
        h->magic = state_magic;
        h->layout_version = state_layout_version;
        h->boost_version = BOOST_VERSION;
        h->half_offset = state_header_bytes;
        h->half_bytes = (segment_bytes - state_header_bytes) / 2 / 4096 * 4096;
    }
    auto adopted = state_segment::adopt(unique_fd(::dup(raw->fd())));
    if (!adopted) {
        if (adopted.err().message.empty())
            std::abort();
        return 0;
    }
    auto s = adopted->load();
    if (!s && s.err().message.empty())
        std::abort();
    return 0;
}
