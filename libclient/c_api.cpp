// The C API of netring.h over netring::port. Errors become negative netring codes; codes from
// other categories (an OS errno) become -errc::internal with the text kept in nr_last_error().
#include <netring/netring.h>
#include <netring/netring.hpp>
#include <netring/protocol.hpp>

#include <cstring>
#include <new>
#include <string>

static_assert(NR_OPEN_EXCLUSIVE == netring::proto::regif_exclusive);
static_assert(NR_OPEN_TX_ONLY == netring::proto::regif_tx_only);
static_assert(NR_OPEN_RX_ONLY == netring::proto::regif_rx_only);
static_assert(NR_ALL_RINGS == netring::port::all_rings);
static_assert(NR_WAIT_RX == netring::wait_rx && NR_WAIT_TX == netring::wait_tx);
static_assert(NR_CONTROL_LOST == netring::control_lost && NR_CONTROL_BACK == netring::control_back &&
              NR_REGISTRATION_LOST == netring::registration_lost);

struct nr_port {
    netring::port port;
    std::string error; // for codes whose sentence is not in port::last_error()
};

namespace {

int to_c(nr_port *p, std::error_code ec)
{
    if (!ec)
        return 0;
    if (ec.category() == netring::error_category()) {
        p->error = p->port.last_error().empty() ? ec.message() : p->port.last_error();
        return -ec.value();
    }
    p->error = ec.message();
    return -static_cast<int>(netring::errc::internal);
}

void copy_error(char *err, size_t errlen, const std::string &text)
{
    if (!err || errlen == 0)
        return;
    const size_t n = text.size() < errlen - 1 ? text.size() : errlen - 1;
    std::memcpy(err, text.data(), n);
    err[n] = '\0';
}

} // namespace

extern "C" {

nr_port *nr_open(const char *name, const struct nr_open_opts *opts, char *err, size_t errlen)
{
    if (!name) {
        copy_error(err, errlen, "no port name");
        return nullptr;
    }
    netring::open_options o;
    if (opts) {
        o.tx_rings = opts->tx_rings;
        o.rx_rings = opts->rx_rings;
        o.tx_slots = opts->tx_slots;
        o.rx_slots = opts->rx_slots;
        o.extra_bufs = opts->extra_bufs;
        o.flags = opts->flags;
        o.sync = opts->sync_socket ? netring::sync_mode::socket : netring::sync_mode::shm;
        if (opts->socket_path)
            o.socket_path = opts->socket_path;
        o.survive_restart = opts->daemon_loss_fatal == 0;
    }
    auto p = netring::port::open(name, o);
    if (!p) {
        copy_error(err, errlen, p.err().describe());
        return nullptr;
    }
    auto *out = new (std::nothrow) nr_port{std::move(p.value()), {}};
    if (!out)
        copy_error(err, errlen, "out of memory");
    return out;
}

void nr_close(nr_port *p) { delete p; }
struct nr_if *nr_get_if(nr_port *p) { return p->port.nifp(); }
int nr_txsync(nr_port *p, uint32_t ring) { return to_c(p, p->port.txsync(ring)); }
int nr_rxsync(nr_port *p, uint32_t ring) { return to_c(p, p->port.rxsync(ring)); }

int nr_wait(nr_port *p, unsigned events, int timeout_ms)
{
    std::error_code ec;
    const int n = p->port.wait(events, timeout_ms, ec);
    return n >= 0 ? n : to_c(p, ec);
}

const char *nr_last_error(nr_port *p) { return p->error.c_str(); }
int nr_control_fd(nr_port *p) { return p->port.control_fd(); }
unsigned nr_control_events(nr_port *p) { return p->port.control_events(); }
int nr_daemon_present(nr_port *p) { return p->port.daemon_present() ? 1 : 0; }

} // extern "C"
