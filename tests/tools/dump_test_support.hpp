// What the netring-dump tests share: hand-built Ethernet frames (IPv4 with a UDP or TCP header,
// the fields a BPF filter looks at filled in; checksums left 0, filters do not check them), a
// temporary file removed at the end of the test, and a command's output (for tshark).
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace netring::dump::testing {

inline constexpr uint8_t ip_proto_tcp = 6;
inline constexpr uint8_t ip_proto_udp = 17;

inline void put_be16(std::vector<unsigned char> &f, size_t at, uint16_t v)
{
    f[at] = static_cast<unsigned char>(v >> 8);
    f[at + 1] = static_cast<unsigned char>(v);
}

// 02:00:00:00:00:01 -> 02:00:00:00:00:02, 10.0.0.1 -> 10.0.0.2, ports 40000 -> dst_port, padded
// with zeros to `len` bytes (at least the headers).
inline std::vector<unsigned char> ipv4_frame(uint8_t proto, uint16_t dst_port, size_t len = 60)
{
    constexpr size_t eth = 14, ip = 20;
    const size_t l4 = proto == ip_proto_tcp ? 20 : 8;
    std::vector<unsigned char> f(len < eth + ip + l4 ? eth + ip + l4 : len, 0);
    const unsigned char dst_mac[6] = {0x02, 0, 0, 0, 0, 0x02}, src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::copy(dst_mac, dst_mac + 6, f.begin());
    std::copy(src_mac, src_mac + 6, f.begin() + 6);
    put_be16(f, 12, 0x0800);
    f[eth] = 0x45; // version 4, 5 words of header
    put_be16(f, eth + 2, static_cast<uint16_t>(f.size() - eth));
    f[eth + 8] = 64; // ttl
    f[eth + 9] = proto;
    const unsigned char src_ip[4] = {10, 0, 0, 1}, dst_ip[4] = {10, 0, 0, 2};
    std::copy(src_ip, src_ip + 4, f.begin() + eth + 12);
    std::copy(dst_ip, dst_ip + 4, f.begin() + eth + 16);
    put_be16(f, eth + ip, 40000);
    put_be16(f, eth + ip + 2, dst_port);
    if (proto == ip_proto_udp)
        put_be16(f, eth + ip + 4, static_cast<uint16_t>(f.size() - eth - ip));
    else
        f[eth + ip + 12] = 0x50; // data offset: 5 words
    return f;
}

// A path under the test's temporary directory, unique to this process; removed on destruction.
class temp_file {
public:
    explicit temp_file(const std::string &name)
        : path_(::testing::TempDir() + "netring_dump_" + std::to_string(::getpid()) + "_" + name)
    {}
    ~temp_file() { std::remove(path_.c_str()); }
    temp_file(const temp_file &) = delete;
    temp_file &operator=(const temp_file &) = delete;
    const std::string &path() const { return path_; }

private:
    std::string path_;
};

// True when `program` is on PATH.
inline bool on_path(const std::string &program)
{
    return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// The command's stdout (stderr discarded); `status` its exit status as system() gives it.
inline std::string command_output(const std::string &command, int &status)
{
    std::string out;
    std::FILE *p = ::popen((command + " 2>/dev/null").c_str(), "r");
    if (!p) {
        status = -1;
        return out;
    }
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
        out.append(buf, n);
    status = ::pclose(p);
    return out;
}

} // namespace netring::dump::testing
