// The monitors of a pipe (pipe_port.hpp says how they work): attaching one (its entries in the
// ring pairs' nr_mon_table), detaching it, and giving back its rings once no sender can still be
// copying into them.
#include "pipe_port.hpp"

#include <netring/port_name.hpp>
#include <rings/bits.hpp>

namespace netring::netringd {

nr_mon_table &pipe_port::table(const table_rec &t) const
{
    return *reinterpret_cast<nr_mon_table *>(mem_->base() + t.off);
}

// The count the sender's fast path looks at: non-zero sends it to the table.
void pipe_port::publish_count(int dir, uint32_t ring)
{
    rings::store_release(ref(ends_[dir].tx[ring]).sync->flags.monitors, tables_[dir][ring].active);
}

result<attach_result> pipe_port::attach_monitor(const reg_context &ctx, const port_name &name, uint32_t slots)
{
    if (!mem_) { // nothing open yet: the pipe is made as a default REGIF would make it
        if (auto s = create(ctx, 0, ring_request{}); !s) {
            release_all();
            return s.err();
        }
    }
    reclaim_retired(false);
    const int e = end_of(name);
    // /t watches this end's tx rings (direction e), /r its rx rings (the other direction).
    std::vector<nr_mon_source> src;
    std::vector<entry_ref> want;
    for (const bool tx : {true, false}) {
        if (!(tx ? name.monitor_tx : name.monitor_rx))
            continue;
        const int dir = tx ? e : 1 - e;
        for (uint32_t i = 0; i < tables_[dir].size(); i++) {
            const table_rec &t = tables_[dir][i];
            uint32_t k = 0;
            while (k < NR_MON_MAX && ((t.used >> k) & 1))
                k++;
            // An entry taken twice by this monitor (never: /t and /r use different pairs) or full.
            if (k == NR_MON_MAX)
                return error::from(errc::limit_exceeded,
                                   ends_[e].name + " ring " + std::to_string(i) + " already has " +
                                       std::to_string(NR_MON_MAX) + " monitors");
            want.push_back({dir, i, k});
            nr_mon_source s{};
            s.magic = NR_MON_SOURCE_MAGIC;
            s.flags = tx ? NR_MON_SRC_TX : 0u;
            s.ringid = i;
            src.push_back(s);
        }
    }
    monitor_rec rec;
    auto a = monitor_build(*mem_, rec.reg, {name.str(), src, slots, true});
    if (!a)
        return a.err();
    rec.reg.reg_id = ctx.reg_id;
    rec.entries = std::move(want);
    enter_monitor(rec);
    monitors_.emplace(ctx.reg_id, std::move(rec));
    return a;
}

// Lists the monitor's rings in the tables its entries name, and counts it as a user of the region.
void pipe_port::enter_monitor(monitor_rec &rec)
{
    for (size_t j = 0; j < rec.entries.size(); j++) {
        const entry_ref &w = rec.entries[j];
        table_rec &t = tables_[w.dir][w.ring];
        nr_mon_entry &en = table(t).entry[w.k];
        const served_ring &r = rec.reg.rings[j];
        en.num_slots = r.num_slots;
        en.ring_ofs = r.ring_off;
        en.sync_ofs = r.sync_off;
        en.src = rec.reg.src[j].flags;
        rings::store_release(en.state, NR_MON_ENTRY_ACTIVE); // partner: the producer's load_acquire
        t.used |= 1u << w.k;
        t.active++;
        publish_count(w.dir, w.ring);
    }
    mem_->add_user(); // partner: drop_user in detach_monitor
}

std::vector<kept_monitor> pipe_port::keep_monitors(const std::function<uint32_t(int)> &fd_id) const
{
    std::vector<kept_monitor> out;
    for (const auto &[id, rec] : monitors_) {
        kept_monitor k = monitor_keep(rec.reg, key_, fd_id);
        for (const entry_ref &w : rec.entries)
            k.entries.push_back({static_cast<uint32_t>(w.dir), w.ring, w.k});
        out.push_back(std::move(k));
    }
    return out;
}

status pipe_port::adopt_monitor(const kept_monitor &k, const std::function<unique_fd(uint32_t)> &take_fd)
{
    auto refused = [&](const std::string &why) {
        return error::from(errc::bad_message, "kept monitor " + k.name + " of " + key_ + ": " + why);
    };
    auto name = parse_port_name(k.name);
    if (!mem_ || !name || !name->is_monitor() || name->monitored().port_key() != key_ || k.reg_id == 0 ||
        monitors_.count(k.reg_id) || find_end(k.reg_id))
        return refused("it is not a monitor of this pipe, or its registration is taken");
    auto reg = monitor_adopt(*mem_, k, take_fd);
    if (!reg)
        return reg.err();
    if (k.entries.size() != reg->rings.size())
        return refused("it has " + std::to_string(k.entries.size()) + " table entries for " +
                       std::to_string(reg->rings.size()) + " rings");
    monitor_rec rec;
    rec.reg = std::move(*reg);
    for (size_t j = 0; j < k.entries.size(); j++) {
        const auto [dir, ring, entry] = k.entries[j];
        const nr_mon_source &src = rec.reg.src[j];
        // /t watches an end's tx direction, /r the other: a source's direction follows from its end.
        const uint32_t want_dir = ((src.flags & NR_MON_SRC_TX) != 0) == (end_of(*name) == 0) ? 0 : 1;
        if (dir != want_dir || ring >= tables_[dir].size() || ring != src.ringid || entry >= NR_MON_MAX ||
            ((tables_[dir][ring].used >> entry) & 1))
            return refused("table entry " + std::to_string(j) + " is not one its source can have");
        for (const entry_ref &w : rec.entries)
            if (w.dir == static_cast<int>(dir) && w.ring == ring)
                return refused("it watches ring " + std::to_string(ring) + " twice");
        rec.entries.push_back({static_cast<int>(dir), ring, entry});
    }
    enter_monitor(rec);
    monitors_.emplace(k.reg_id, std::move(rec));
    return ok_status();
}

void pipe_port::detach_monitor(std::map<uint32_t, monitor_rec>::iterator it)
{
    monitor_rec m = std::move(it->second);
    monitors_.erase(it);
    mem_->drop_user();
    for (const entry_ref &w : m.entries) {
        table_rec &t = tables_[w.dir][w.ring];
        rings::store_relaxed(table(t).entry[w.k].state, NR_MON_ENTRY_FREE);
        t.active--;
        publish_count(w.dir, w.ring);
    }
    m.seen.assign(m.entries.size(), 0);
    retired_.push_back(std::move(m));
    reclaim_retired(false);
}

// Gives back the rings of detached monitors that no producer can be writing any more: each of
// its entries' tables has been seen quiet, or the end that feeds it is closed. `all`: the pipe is
// going, nothing produces.
void pipe_port::reclaim_retired(bool all)
{
    for (auto it = retired_.begin(); it != retired_.end();) {
        bool quiet = true;
        for (size_t j = 0; j < it->entries.size(); j++) {
            const entry_ref &w = it->entries[j];
            if (!all && ends_[w.dir].open && !rings::mon_table_quiet(table(tables_[w.dir][w.ring]), it->seen[j]))
                quiet = false;
        }
        if (!quiet) {
            ++it;
            continue;
        }
        for (const entry_ref &w : it->entries)
            tables_[w.dir][w.ring].used &= ~(1u << w.k);
        monitor_release(*mem_, it->reg);
        it = retired_.erase(it);
    }
}

} // namespace netring::netringd
