#include "filter.hpp"

#include <memory>
#include <utility>

namespace netring::dump {

namespace {

struct pcap_closer {
    void operator()(pcap_t *p) const { pcap_close(p); }
};

} // namespace

frame_filter::frame_filter(frame_filter &&other) noexcept
    : program_(std::exchange(other.program_, {})), compiled_(std::exchange(other.compiled_, false)),
      expression_(std::move(other.expression_))
{}

frame_filter &frame_filter::operator=(frame_filter &&other) noexcept
{
    if (this != &other) {
        release();
        program_ = std::exchange(other.program_, {});
        compiled_ = std::exchange(other.compiled_, false);
        expression_ = std::move(other.expression_);
    }
    return *this;
}

frame_filter::~frame_filter() { release(); }

void frame_filter::release()
{
    if (compiled_)
        pcap_freecode(&program_); // pairs with pcap_compile in compile()
    compiled_ = false;
}

std::optional<frame_filter> frame_filter::compile(const std::string &expression, uint32_t snaplen,
                                                  std::string &why)
{
    frame_filter f;
    f.expression_ = expression;
    if (expression.empty())
        return f;
    // A dead handle: what pcap_compile needs to know (link type, snapshot length) without a device.
    const std::unique_ptr<pcap_t, pcap_closer> dead(pcap_open_dead(DLT_EN10MB, static_cast<int>(snaplen)));
    if (!dead) {
        why = "libpcap could not make a handle to compile the filter";
        return std::nullopt;
    }
    if (pcap_compile(dead.get(), &f.program_, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        why = pcap_geterr(dead.get());
        return std::nullopt;
    }
    f.compiled_ = true;
    return f;
}

bool frame_filter::accepts(std::span<const unsigned char> kept, uint32_t len) const
{
    if (!compiled_)
        return true;
    pcap_pkthdr h{}; // BPF reads only the lengths and the bytes, not the time
    h.caplen = static_cast<bpf_u_int32>(kept.size());
    h.len = len;
    return pcap_offline_filter(&program_, &h, kept.data()) != 0;
}

} // namespace netring::dump
