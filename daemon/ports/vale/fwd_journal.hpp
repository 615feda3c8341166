// A switch forwarding thread's ring cursors, kept where a crash of netringd cannot lose them.
//
// The thread serves its client ports' rings as their kernel side, and the indices it publishes
// (hwcur, hwtail) are its own copies (served_ring.hpp): shared memory the clients write cannot be
// trusted to hold them. A successor that adopts a switch after a crash needs them exact: one slot
// too early and a frame is forwarded twice, one too late and it is lost. So once per pass, after
// copying frames and before publishing any index, the thread commits every port's cursors to the
// journal: a memfd only netringd maps, kept across restarts like the regions. A daemon killed
// before a commit leaves the previous one (the successor copies that pass's frames again, into
// slots no client was shown); one killed after it leaves cursors the successor publishes itself.
//
// The memfd (journal_file.hpp) holds a header with one tag per slot (which port the slot is, 0:
// none), then the commit sequence and two copies of the slot array. A commit
// writes the copy the sequence does not point at, then advances the sequence with one aligned
// store: the copy seq & 1 is always a whole pass.
//
//   auto j = fwd_journal::create("vale0");          // or adopt(fd) after a restart
//   uint64_t tag = j->claim(slot);                  // control thread, forwarding thread stopped
//   j->reset(slot, cursors);                        // likewise: both copies
//   j->stage(slot, cursors); j->commit();           // the forwarding thread, once per pass
//   journal_cursors c = j->read(slot);              // any thread: the last whole commit
#pragma once

#include "journal_file.hpp"

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <cstdint>
#include <string>

namespace netring::netringd {

struct journal_cursors {
    uint32_t tx_hwcur = 0, tx_hwtail = 0; // the port's tx ring: frames the switch took
    uint32_t rx_hwcur = 0, rx_hwtail = 0; // its rx ring: frames the switch delivered
    bool operator==(const journal_cursors &) const = default;
};

class fwd_journal {
public:
    static constexpr uint32_t slots = journal_file::max_slots; // client ports a switch holds

    fwd_journal() = default;
    // A new sealed memfd, every slot free.
    static result<fwd_journal> create(const std::string &switch_name);
    // A journal a predecessor kept: the size, seals, magic, version and slot count are checked
    // (errc::bad_message, why); slot contents are checked by whoever uses them.
    static result<fwd_journal> adopt(unique_fd fd);

    bool valid() const { return file_.valid(); }
    int fd() const { return file_.fd(); }

    // Control thread, forwarding thread stopped. A new tag for `slot` (never 0, never given
    // before by this journal), and the slot's tag now.
    uint64_t claim(uint32_t slot) { return file_.claim(slot); }
    uint64_t tag(uint32_t slot) const { return file_.tag(slot); }
    void free_slot(uint32_t slot) { file_.free_slot(slot); } // its tag becomes 0
    // Both copies of `slot`: the cursors the thread starts from.
    void reset(uint32_t slot, const journal_cursors &c);

    // Forwarding thread: `c` into the copy the next commit makes current (a slot past the journal:
    // nowhere), then the commit.
    void stage(uint32_t slot, const journal_cursors &c);
    void commit();

    // Any thread: the cursors of `slot` in the last commit (retried while a commit overlaps); all
    // zero for a slot past the journal.
    journal_cursors read(uint32_t slot) const;

private:
    explicit fwd_journal(journal_file f);
    uint64_t &seq() const;
    journal_cursors *copy(uint64_t seq) const;

    journal_file file_;
    uint64_t seq_ = 0; // the forwarding thread's copy of the sequence it last committed
};

} // namespace netring::netringd
