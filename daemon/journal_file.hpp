// The memfd under a data-path thread's cursor journal (ports/vale/fwd_journal.hpp for a switch,
// ports/nic/nic_journal.hpp for a NIC port): a sealed memfd only netringd maps, kept across
// restarts like the regions, holding a header and a body the journal lays out itself.
//
// The header names the journal (magic, version, slot count, body size) and hands out tags: each
// slot (a switch port, a NIC queue) gets a tag when it is claimed, never 0 and never one the
// journal gave before, not even to a successor that adopted it. A record that names a slot and
// its tag can then tell whether the slot still holds what it saw.
//
//   auto f = journal_file::create("netringd-journal:vale0", magic, 1, 256, body_bytes, "the journal of vale0");
//   uint64_t t = f->claim(slot);  // control thread, the data-path thread stopped
//   uint8_t *b = f->body();       // the journal's own layout, at a page boundary
#pragma once

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <cstdint>
#include <string>

namespace netring::netringd {

class journal_file {
public:
    static constexpr uint32_t max_slots = 256;

    journal_file() = default;
    // A new sealed memfd named `memfd_name`, every slot free, the body zeros.
    static result<journal_file> create(const std::string &memfd_name, uint64_t magic, uint32_t version,
                                       uint32_t slots, uint64_t body_bytes, const std::string &what);
    // One a predecessor kept: its size, seals, magic, version, slot count and body size are checked
    // (errc::bad_message, naming `what`); the body is the journal's to check.
    static result<journal_file> adopt(unique_fd fd, uint64_t magic, uint32_t version, uint32_t slots,
                                      uint64_t body_bytes, const std::string &what);

    bool valid() const { return fd_.valid(); }
    int fd() const { return fd_.get(); }
    uint8_t *body() const;

    // Control thread. A new tag for `slot` (0 for a slot past the journal: it gets none), and the
    // slot's tag now (0: free, or a slot past the journal).
    uint64_t claim(uint32_t slot);
    uint64_t tag(uint32_t slot) const;
    void free_slot(uint32_t slot);

private:
    struct header;
    journal_file(unique_fd fd, mapped_region map);
    header &head() const;

    unique_fd fd_; // declared before the mapping: unmapped first, closed last
    mapped_region map_;
};

} // namespace netring::netringd
