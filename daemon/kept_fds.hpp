// The fds a successor needs, each under a name that stays the same while the same open file is
// kept, and (when netringd runs under systemd, or a test plays systemd's part) the same fds in
// systemd's file-descriptor store, so that even a crash loses none of them (docs/RESTART.md).
//
//   kept_fds kept(kept_fds::store_in_environment());
//   kept.adopted(3, fd);                                      // a predecessor's "fd.3", taken
//   kept.begin_round();
//   auto k = reg.export_state([&](int fd) { return kept.id_of(fd); });
//   kept.push_new();     // FDSTORE=1 FDNAME=fd.N for each fd named for the first time
//   segment.save(k);     // the state names only fds the store already holds
//   kept.drop_unnamed(); // FDSTOREREMOVE=1 for each kept fd the export did not name
//
// That order means a daemon killed at any point leaves a store holding every fd the saved state
// names: at worst a few more, which the successor closes. Two fds name the same open file when
// kcmp(2) says so, not when their numbers match: a number is reused as soon as it is closed. Each
// kept fd is held as a duplicate until the export stops naming it. Control thread only.
#pragma once

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace netring::netringd {

class kept_fds {
public:
    // Whether NOTIFY_SOCKET names a socket to send FDSTORE messages to.
    static bool store_in_environment();

    explicit kept_fds(bool use_store);
    kept_fds(const kept_fds &) = delete;
    kept_fds &operator=(const kept_fds &) = delete;

    // Whether fds go to the store: asked for, and kcmp(2) works (without it, ids could not stay
    // stable and the store could hold two files under one name).
    bool store_active() const { return store_; }

    // A predecessor's "fd.<id>", now open as `fd` and owned by the registry: already in the store.
    void adopted(uint32_t id, int fd);
    // Ids given from now on are at least `next` (the adopted state's next id).
    void reserve_ids(uint32_t next);
    uint32_t next_id() const { return next_id_; }

    // An export round: begin_round, id_of for every fd the records name, push_new, the save,
    // drop_unnamed. id_of gives `fd` the id it had in the last round if it is still the same
    // open file, else a new one.
    void begin_round();
    uint32_t id_of(int fd);
    status push_new();
    void drop_unnamed();

    // The fds of the last round, (id, fd), for the planned handoff.
    std::vector<std::pair<uint32_t, int>> current() const;

    // Names outside the id scheme ("listen", "state"): pushed and removed as they are; held()
    // names one the store already has (a predecessor pushed it), for remove_all.
    status push(const std::string &name, int fd);
    void held(const std::string &name);
    void remove(const std::string &name);
    // Everything this process pushed or adopted, removed: a clean stop leaves nothing to adopt.
    void remove_all();

private:
    status send(const std::string &name, int fd); // FDSTORE=1 under `name`

    struct entry {
        int fd = -1;      // the number the registry holds it under
        unique_fd dup;    // the same open file, held so kcmp can compare
        bool named = false; // in this round
        bool pushed = false;
    };

    bool store_ = false;
    uint32_t next_id_ = 0;
    std::map<uint32_t, entry> entries_;
    std::map<int, uint32_t> by_number_; // where to look first
    std::vector<std::string> named_pushed_; // push()ed names, for remove_all
};

} // namespace netring::netringd
