// The pipe port: netmap:NAME{ID (end A) and netmap:NAME}ID (end B), zero-copy by buffer swaps.
//
// One pipe_port per pipe (port_key "pipe:NAME{ID}"). The first attach of either end allocates, in
// the region "pipe:NAME" shared by every pipe of that parent, four groups of rings (A.tx, A.rx,
// B.tx, B.rx) with their sync blocks and buffers, one if block per end and one notify eventfd per
// ring. A.tx[i] pairs with B.rx[i] and B.tx[i] with A.rx[i]; a ring's kick eventfd is its
// partner's notify eventfd, so the two clients wake each other without the daemon.
//
// Each end admits one registration at a time. Closing one end breaks the pipe: the peer's rings
// get NR_SYNC_PEER_GONE and a notify. The pipe is destroyed when both ends are closed; only then
// do its metadata and every buffer it took (recorded here, never read back from slots) return to
// the region. Socket-path syncs run rings::pipe_txsync/pipe_rxsync on the daemon's own mapping.
//
// Monitors ("netmap:NAME{ID/rt"): the clients move the frames, so the sending process copies them
// for the monitors, in pipe_txsync. Each ring pair (A.tx i / B.rx i, and B.tx i / A.rx i) has an
// nr_mon_table in the region listing the monitor rings that want its frames; A.tx i's sync block
// names the table and counts its entries. A monitor opened before either end creates the pipe
// with the default geometry. Removing a monitor clears its entries; its rings go back to the
// region once the producer is seen outside the table (rings::mon_table_quiet) or has closed its
// end, and at the latest with the pipe.
#pragma once

#include "monitor_rings.hpp"
#include "state_records.hpp"
#include "port.hpp"

#include <netring/unique_fd.hpp>
#include <rings/pipe_sync.hpp>

#include <array>
#include <functional>
#include <map>

namespace netring::netringd {

class pipe_port final : public port {
public:
    pipe_port(const port_name &name, const config &cfg);
    ~pipe_port() override;
    pipe_port(const pipe_port &) = delete;
    pipe_port &operator=(const pipe_port &) = delete;

    result<attach_result> attach(const reg_context &ctx, const port_name &name,
                                 const ring_request &req) override;
    result<attach_result> attach_monitor(const reg_context &ctx, const port_name &name, uint32_t slots) override;
    bool detach(uint32_t reg_id) override;
    sync_result sync(uint32_t reg_id, ring_dir dir, uint32_t ring) override;
    port_details info(const port_name &name) const override;
    void collect_stats(uint32_t reg_id, std::vector<ring_counters> &out) const override;

    // Restarts (pipe_keep.cpp). The region this pipe lives in ("pipe:NAME" or "nic:IF").
    const std::string &region_name() const { return parent_; }
    // The pipe's records for a successor process; `fd_id` names each eventfd it keeps. Its
    // monitors are kept apart (keep_monitors); the rings of monitors already detached but not yet
    // given back stay taken in the region until it goes.
    kept_pipe keep(const std::function<uint32_t(int)> &fd_id) const;
    // The pipe's monitors, each with its entries in the monitor tables.
    std::vector<kept_monitor> keep_monitors(const std::function<uint32_t(int)> &fd_id) const;
    // A pipe a previous process kept, on region `mem` (adopted, its pool and arena restored);
    // `take_fd` gives the eventfd kept under an id (invalid when there is none). Every offset,
    // count and buffer is checked against the region; anything out of place refuses the pipe.
    static result<std::shared_ptr<pipe_port>> adopt(const kept_pipe &k, const config &cfg,
                                                    std::shared_ptr<region> mem,
                                                    const std::function<unique_fd(uint32_t)> &take_fd);
    // A monitor of this (adopted) pipe a previous process kept: its rings checked (monitor_adopt),
    // its table entries checked against the pipe's tables and written again from the records.
    status adopt_monitor(const kept_monitor &k, const std::function<unique_fd(uint32_t)> &take_fd);
    // What attach or attach_monitor answered for registration `reg_id` (adopted registrations).
    result<attach_result> answer_of(uint32_t reg_id) const;

private:
    // One ring, as the daemon recorded it: offsets and size come from here, never from the region.
    struct ring_rec {
        uint64_t ring_off = 0;
        uint64_t sync_off = 0;
        uint64_t meta_bytes = 0; // the arena range at ring_off: ring block and sync block
        uint32_t num_slots = 0;
        unique_fd notify; // written to wake the client that owns this ring
    };

    struct end_rec {
        std::string name; // "netmap:pipeA{1", for messages
        std::vector<ring_rec> tx;
        std::vector<ring_rec> rx;
        uint64_t if_off = 0;
        uint64_t if_bytes = 0;
        bool open = false;
        bool exclusive = false;
        uint32_t reg_id = 0;
        pid_t pid = 0;
        uint32_t extra_bufs = 0;
    };

    // A ring pair's monitor table: where it is, and which entries the daemon gave out (including
    // entries of monitors that are gone but whose rings the producer may still be writing).
    struct table_rec {
        uint64_t off = 0;
        uint64_t bytes = 0;
        uint32_t used = 0; // bit k: entry k taken
        uint32_t active = 0;
    };
    // An entry a monitor holds: direction (0: A->B), ring pair, entry index.
    struct entry_ref {
        int dir = 0;
        uint32_t ring = 0;
        uint32_t k = 0;
    };
    struct monitor_rec {
        monitor_reg reg;
        std::vector<entry_ref> entries;
        std::vector<uint32_t> seen; // per entry, the producer's seq at the last look (retiring)
    };

    // Geometry of one direction: A->B is A.tx/B.rx, B->A is B.tx/A.rx.
    struct direction {
        uint32_t rings = 0;
        uint32_t slots = 0;
    };

    static int end_of(const port_name &name) { return name.role == port_role::pipe_master ? 0 : 1; }
    end_rec *find_end(uint32_t reg_id);
    const end_rec *find_end(uint32_t reg_id) const;

    status check_request(const port_name &name, const ring_request &req) const;
    status create(const reg_context &ctx, int creator, const ring_request &req);
    status reserve_ring(ring_rec &r, uint32_t slots);
    void release_all();
    rings::ring_ref ref(const ring_rec &r) const;
    sync_result sync_one(end_rec &e, bool tx, uint32_t ring);
    nr_mon_table &table(const table_rec &t) const;
    void publish_count(int dir, uint32_t ring);
    void detach_monitor(std::map<uint32_t, monitor_rec>::iterator it);
    void enter_monitor(monitor_rec &rec);
    void reclaim_retired(bool all);

    const config &cfg_;
    std::string parent_;              // region name, "pipe:NAME"
    std::string key_;                 // "pipe:NAME{ID}"
    std::shared_ptr<region> mem_;     // set once created; held until the pipe is destroyed
    std::array<direction, 2> dirs_{}; // [0] A->B, [1] B->A
    std::array<end_rec, 2> ends_;     // [0] A ('{'), [1] B ('}')
    std::vector<uint32_t> bufs_;      // every buffer this pipe took: rings and extras of both ends
    std::array<std::vector<table_rec>, 2> tables_; // [dir][ring]: the ring pairs' monitor tables
    std::map<uint32_t, monitor_rec> monitors_;     // by reg_id
    std::vector<monitor_rec> retired_;             // detached, rings not yet given back
    bool broken_ = false;             // one end closed while the other was open
};

} // namespace netring::netringd
