// A NIC worker's cursors, kept where a crash of netringd cannot lose them.
//
// The worker serves each queue's tx and rx rings as their kernel side and owns four indices of
// the queue's AF_XDP socket (fill producer, RX consumer, TX producer, completion consumer). Its
// own copies of them are the truth: shared memory the clients write cannot be, and the socket's
// published indices lag behind what the worker did. A successor that adopts the port after a
// crash needs them exact: one frame too early and it is sent or delivered twice, one too late and
// it is lost or a buffer is used twice. So in every pass that moved something, the worker first
// stages the queue's work where nobody sees it (fill entries and TX descriptors past the
// published producers, RX descriptors and completions peeked, not released), then commits the
// queue's cursors here, and only then publishes: the rx slots, the socket's indices, the rings'
// hwcur and hwtail. A daemon killed before a commit leaves the previous one, and nothing of the
// staged work was seen; one killed after it leaves cursors the successor publishes itself,
// writing again the rx slots of the batch it was delivering (from the RX descriptors, which stay
// in the socket's ring until their release).
//
// Each queue (its index is the slot) has a tag (journal_file.hpp), a commit sequence and two
// copies of its cursors: a commit writes the copy the sequence does not point at, then advances
// the sequence with one release store, so the copy seq & 1 is always a whole commit.
//
//   auto j = nic_journal::create("eth0");       // or adopt(fd) after a restart
//   uint64_t tag = j->claim(q);                 // control thread, worker stopped
//   j->reset(q, cursors);                       // likewise: both copies
//   j->commit(q, cursors);                      // the worker, before it publishes
//   queue_cursors c = j->read(q);               // any thread: the last whole commit
#pragma once

#include "journal_file.hpp"

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <cstdint>
#include <string>

namespace netring::netringd {

struct queue_cursors {
    uint32_t tx_hwcur = 0, tx_reclaim = 0; // the tx ring: frames taken, and buffers given back
    uint32_t rx_hwcur = 0, rx_hwtail = 0;  // the rx ring: slots released, frames delivered
    // The socket's rings, as far as the worker moved them (published or about to be).
    uint32_t fill_prod = 0, rx_cons = 0, tx_prod = 0, comp_cons = 0;
    uint32_t in_kernel = 0; // frames on the TX ring or in the kernel, completion not consumed
    uint32_t credits = 0;   // frames refused, not counted back yet
    // The RX batch of the commit: descriptors [rx_from, rx_cons) go to slots [rx_tail_from,
    // rx_hwtail). Equal to rx_cons and rx_hwtail when the commit delivered nothing.
    uint32_t rx_from = 0, rx_tail_from = 0;

    bool operator==(const queue_cursors &) const = default;
};

class nic_journal {
public:
    static constexpr uint32_t slots = journal_file::max_slots; // queues of one port

    nic_journal() = default;
    // A new sealed memfd, every slot free.
    static result<nic_journal> create(const std::string &ifname);
    // A journal a predecessor kept: the memfd and header are checked (errc::bad_message, why);
    // slot contents are checked by whoever uses them.
    static result<nic_journal> adopt(unique_fd fd);

    bool valid() const { return file_.valid(); }
    int fd() const { return file_.fd(); }

    // Control thread, worker stopped.
    uint64_t claim(uint32_t slot) { return file_.claim(slot); }
    uint64_t tag(uint32_t slot) const { return file_.tag(slot); }
    void free_slot(uint32_t slot) { file_.free_slot(slot); }
    void reset(uint32_t slot, const queue_cursors &c); // both copies; a slot past the journal: nowhere

    // The worker: `c` becomes the slot's last whole commit (a slot past the journal: nowhere).
    void commit(uint32_t slot, const queue_cursors &c);
    // Any thread: the slot's last whole commit (retried while a commit overlaps); all zero for a
    // slot past the journal.
    queue_cursors read(uint32_t slot) const;

private:
    struct slot_block;
    explicit nic_journal(journal_file f) : file_(std::move(f)) {}
    slot_block *block(uint32_t slot) const;

    journal_file file_;
};

} // namespace netring::netringd
