// A tiny pcapng reader for the netring-dump tests: splits a little-endian file into blocks and
// their options, and pulls out what the tests check (interface names, packet flags, drops). It
// trusts nothing: a block whose lengths disagree, or that is not padded to 32 bits, ends the read
// with `error` set.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace netring::dump::testing {

struct pcapng_option_value {
    uint16_t code = 0;
    std::string bytes;

    uint32_t u32() const
    {
        uint32_t v = 0;
        std::memcpy(&v, bytes.data(), std::min(bytes.size(), sizeof v));
        return v;
    }
    uint64_t u64() const
    {
        uint64_t v = 0;
        std::memcpy(&v, bytes.data(), std::min(bytes.size(), sizeof v));
        return v;
    }
    // Two 32-bit halves, upper first: the layout of timestamps in pcapng.
    uint64_t time() const
    {
        uint32_t h[2] = {};
        std::memcpy(h, bytes.data(), std::min(bytes.size(), sizeof h));
        return uint64_t{h[0]} << 32 | h[1];
    }
};

struct pcapng_block {
    uint32_t type = 0;
    std::string body; // between the leading length and the trailing one
    std::vector<pcapng_option_value> options;

    uint32_t u32_at(size_t at) const
    {
        uint32_t v = 0;
        std::memcpy(&v, body.data() + at, sizeof v);
        return v;
    }
    const pcapng_option_value *option(uint16_t code) const
    {
        for (const auto &o : options)
            if (o.code == code)
                return &o;
        return nullptr;
    }
};

struct pcapng_file {
    std::vector<pcapng_block> blocks;
    std::string error;

    std::vector<const pcapng_block *> of_type(uint32_t type) const
    {
        std::vector<const pcapng_block *> out;
        for (const auto &b : blocks)
            if (b.type == type)
                out.push_back(&b);
        return out;
    }
};

inline constexpr uint32_t shb_type = 0x0a0d0d0a, idb_type = 1, isb_type = 5, epb_type = 6;

// Options start `fixed` bytes into the body and run to its end; true when they end with
// opt_endofopt exactly there.
inline bool read_options(pcapng_block &b, size_t fixed)
{
    size_t at = fixed;
    while (at + 4 <= b.body.size()) {
        uint16_t code = 0, len = 0;
        std::memcpy(&code, b.body.data() + at, 2);
        std::memcpy(&len, b.body.data() + at + 2, 2);
        at += 4;
        if (code == 0)
            return len == 0 && at == b.body.size();
        if (at + len > b.body.size())
            return false;
        b.options.push_back({code, b.body.substr(at, len)});
        at += (len + 3u) & ~3u;
    }
    return false;
}

inline pcapng_file read_pcapng(const std::string &path)
{
    pcapng_file f;
    std::ifstream in(path, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = 0;
    while (at < data.size()) {
        uint32_t type = 0, len = 0, trailing = 0;
        if (data.size() - at < 12) {
            f.error = "a block cut short at " + std::to_string(at);
            return f;
        }
        std::memcpy(&type, data.data() + at, 4);
        std::memcpy(&len, data.data() + at + 4, 4);
        if (len < 12 || len % 4 != 0 || len > data.size() - at) {
            f.error = "bad block length " + std::to_string(len) + " at " + std::to_string(at);
            return f;
        }
        std::memcpy(&trailing, data.data() + at + len - 4, 4);
        if (trailing != len) {
            f.error = "trailing length " + std::to_string(trailing) + " != " + std::to_string(len);
            return f;
        }
        pcapng_block b;
        b.type = type;
        b.body = data.substr(at + 8, len - 12);
        size_t fixed = 0;
        if (type == shb_type)
            fixed = 16; // magic, versions, section length
        else if (type == idb_type)
            fixed = 8; // link type, reserved, snaplen
        else if (type == isb_type)
            fixed = 12; // interface, timestamp
        else if (type == epb_type)
            fixed = 20 + ((b.u32_at(12) + 3u) & ~3u); // interface, timestamp, lengths, padded data
        if (!read_options(b, fixed)) {
            f.error = "options of the block at " + std::to_string(at) + " do not end with opt_endofopt";
            return f;
        }
        f.blocks.push_back(std::move(b));
        at += len;
    }
    return f;
}

} // namespace netring::dump::testing
