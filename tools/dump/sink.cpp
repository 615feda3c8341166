#include "sink.hpp"

#include "frame_line.hpp"

#include <pcap/pcap.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace netring::dump {

namespace {

constexpr const char *application = "netring-dump";

std::string write_error(const std::string &label, int err)
{
    return "writing " + label + ": " + std::strerror(err);
}

// Closes `f` when owned, else flushes it; false with `error` set when either fails.
bool close_or_flush(std::FILE *f, bool owned, const std::string &label, std::string &error)
{
    if ((owned ? std::fclose(f) : std::fflush(f)) != 0) {
        error = write_error(label, errno);
        return false;
    }
    return true;
}

class pcapng_sink final : public capture_sink {
public:
    pcapng_sink(std::FILE *out, bool owned, std::string label, std::span<const capture_interface> ifaces)
        : out_(out), owned_(owned), label_(std::move(label)), writer_(out)
    {
        for (const capture_interface &i : ifaces)
            dirs_.push_back(i.dir);
    }
    ~pcapng_sink() override
    {
        if (owned_ && out_)
            std::fclose(out_);
    }

    bool start(std::span<const capture_interface> ifaces, uint32_t snaplen, const std::string &filter)
    {
        writer_.write_section(application);
        for (const capture_interface &i : ifaces)
            writer_.write_interface({i.name, i.description, filter, snaplen});
        return check();
    }

    bool write(const captured_frame &f) override
    {
        writer_.write_packet(f.iface, f.ts_ns, f.kept, f.len, dirs_[f.iface]);
        return check();
    }

    bool flush() override
    {
        if (std::fflush(out_) != 0)
            error_ = write_error(label_, errno);
        return error_.empty();
    }

    bool finish(std::span<const interface_counts> counts, uint64_t start_ns, uint64_t end_ns) override
    {
        for (uint32_t i = 0; i < counts.size(); i++) {
            const interface_counts &c = counts[i];
            writer_.write_statistics(
                i, end_ns, {start_ns, end_ns, c.received + c.dropped, c.dropped, c.accepted, c.delivered});
        }
        const bool written = check();
        std::FILE *f = std::exchange(out_, nullptr);
        return close_or_flush(f, owned_, label_, error_) && written;
    }

    std::string error() const override { return error_; }

private:
    bool check()
    {
        if (!writer_.ok() && error_.empty())
            error_ = write_error(label_, errno); // fwrite failed just now: errno is its reason
        return error_.empty();
    }

    std::FILE *out_;
    bool owned_;
    std::string label_;
    pcapng_writer writer_;
    std::vector<frame_direction> dirs_;
    std::string error_;
};

class pcap_sink final : public capture_sink {
public:
    pcap_sink(pcap_t *dead, pcap_dumper_t *dumper, std::string label)
        : dead_(dead), dumper_(dumper), label_(std::move(label))
    {}
    ~pcap_sink() override
    {
        if (dumper_)
            pcap_dump_close(dumper_);
        pcap_close(dead_);
    }

    bool write(const captured_frame &f) override
    {
        pcap_pkthdr h{};
        // The handle was opened with nanosecond precision: tv_usec holds nanoseconds.
        h.ts.tv_sec = static_cast<time_t>(f.ts_ns / 1000000000u);
        h.ts.tv_usec = static_cast<suseconds_t>(f.ts_ns % 1000000000u);
        h.caplen = static_cast<bpf_u_int32>(f.kept.size());
        h.len = f.len;
        pcap_dump(reinterpret_cast<u_char *>(dumper_), &h, f.kept.data());
        if (std::ferror(pcap_dump_file(dumper_)) && error_.empty())
            error_ = write_error(label_, errno);
        return error_.empty();
    }

    bool flush() override
    {
        if (pcap_dump_flush(dumper_) != 0 && error_.empty())
            error_ = write_error(label_, errno);
        return error_.empty();
    }

    bool finish(std::span<const interface_counts>, uint64_t, uint64_t) override
    {
        flush();
        // pcap_dump_close closes the FILE and cannot report a failure: flush first, which can.
        pcap_dump_close(std::exchange(dumper_, nullptr));
        return error_.empty();
    }

    std::string error() const override { return error_; }

private:
    pcap_t *dead_;          // closed last: the dumper was made from it
    pcap_dumper_t *dumper_; // pcap_dump_close pairs with pcap_dump_open / pcap_dump_fopen
    std::string label_;
    std::string error_;
};

class line_sink final : public capture_sink {
public:
    line_sink(std::FILE *out, std::span<const capture_interface> ifaces)
        : out_(out), ifaces_(ifaces.begin(), ifaces.end())
    {}

    bool write(const captured_frame &f) override
    {
        const capture_interface &i = ifaces_[f.iface];
        line_.clear(); // keeps its capacity: no allocation per frame
        append_frame_line(line_, f.ts_ns, i.name, i.dir, f.kept, f.len);
        if (std::fwrite(line_.data(), 1, line_.size(), out_) != line_.size() && error_.empty())
            error_ = write_error("stdout", errno);
        return error_.empty();
    }

    bool flush() override
    {
        if (std::fflush(out_) != 0 && error_.empty())
            error_ = write_error("stdout", errno);
        return error_.empty();
    }

    bool finish(std::span<const interface_counts>, uint64_t, uint64_t) override { return flush(); }
    std::string error() const override { return error_; }

private:
    std::FILE *out_;
    std::vector<capture_interface> ifaces_;
    std::string line_;
    std::string error_;
};

} // namespace

opened_sink make_pcapng_sink(std::FILE *out, bool owned, std::string label,
                             std::span<const capture_interface> interfaces, uint32_t snaplen,
                             const std::string &filter)
{
    auto sink = std::make_unique<pcapng_sink>(out, owned, std::move(label), interfaces);
    if (!sink->start(interfaces, snaplen, filter))
        return {nullptr, sink->error()};
    return {std::move(sink), {}};
}

opened_sink make_pcap_sink(const std::string &path, uint32_t snaplen)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, static_cast<int>(snaplen),
                                                        PCAP_TSTAMP_PRECISION_NANO);
    if (!dead)
        return {nullptr, "libpcap could not make a handle to write " + path};
    pcap_dumper_t *dumper = nullptr;
    if (path == "-") {
        const int fd = ::dup(STDOUT_FILENO);
        std::FILE *f = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
        if (!f) {
            const std::string why = write_error("stdout", errno);
            if (fd >= 0)
                ::close(fd);
            pcap_close(dead);
            return {nullptr, why};
        }
        dumper = pcap_dump_fopen(dead, f);
        if (!dumper)
            std::fclose(f);
    } else {
        dumper = pcap_dump_open(dead, path.c_str());
    }
    if (!dumper) {
        std::string why = pcap_geterr(dead);
        pcap_close(dead);
        return {nullptr, why};
    }
    return {std::make_unique<pcap_sink>(dead, dumper, path == "-" ? "stdout" : path), {}};
}

opened_sink make_line_sink(std::FILE *out, std::span<const capture_interface> interfaces)
{
    return {std::make_unique<line_sink>(out, interfaces), {}};
}

opened_sink open_sink(const dump_options &o, std::span<const capture_interface> interfaces)
{
    if (o.output.empty())
        return o.quiet ? opened_sink{} : make_line_sink(stdout, interfaces);
    if (o.format == file_format::pcap)
        return make_pcap_sink(o.output, o.snaplen);
    if (o.output == "-")
        return make_pcapng_sink(stdout, false, "stdout", interfaces, o.snaplen, o.filter);
    std::FILE *f = std::fopen(o.output.c_str(), "wb");
    if (!f)
        return {nullptr, "cannot open " + o.output + ": " + std::strerror(errno)};
    return make_pcapng_sink(f, true, o.output, interfaces, o.snaplen, o.filter);
}

} // namespace netring::dump
