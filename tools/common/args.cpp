#include "args.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace netring::tools {

namespace {

// Beyond this a time no longer converts to nanoseconds in 64 bits, and no run lasts 31 years.
constexpr double max_seconds = 1e9;

} // namespace

arg_scanner::arg_scanner(std::span<const std::string> args, std::span<const option_spec> specs,
                         operands words)
    : args_(args), specs_(specs), words_(words)
{}

bool arg_scanner::next()
{
    if (help_ || !error_.empty() || next_ == args_.size())
        return false;
    const std::string &arg = args_[next_++];
    spec_ = nullptr;
    value_.clear();
    if (arg.size() < 2 || arg[0] != '-') { // "-" alone is an operand, as getopt has it
        if (words_ == operands::refused)
            return fail("unexpected argument '" + arg + "'");
        value_ = arg;
        return true;
    }
    std::string_view name = arg;
    bool joined = false; // the value came in the same word
    if (name.starts_with("--")) {
        if (const auto eq = name.find('='); eq != std::string_view::npos) {
            value_ = arg.substr(eq + 1);
            name = name.substr(0, eq);
            joined = true;
        }
    } else if (name.size() > 2) {
        value_ = arg.substr(2);
        name = name.substr(0, 2);
        joined = true;
    }
    if (name == "-h" || name == "--help") {
        help_ = true;
        return false;
    }
    for (const option_spec &s : specs_)
        if (s.name == name)
            spec_ = &s;
    if (!spec_)
        return fail("unknown option '" + arg + "'");
    if (spec_->value.empty()) {
        if (joined)
            return fail(std::string(name) + " takes no value");
        return true;
    }
    if (!joined) {
        if (next_ == args_.size())
            return fail(std::string(name) + " needs " + std::string(spec_->value));
        value_ = args_[next_++];
    }
    return true;
}

bool arg_scanner::take_text(std::string &out)
{
    if (value_.empty())
        return fail(std::string(spec_->name) + " needs " + std::string(spec_->value));
    out = value_;
    return true;
}

bool arg_scanner::take_seconds(double &out, bool zero_allowed)
{
    if (value_.empty())
        return refuse();
    char *end = nullptr;
    const double v = std::strtod(value_.c_str(), &end);
    if (end != value_.c_str() + value_.size() || !std::isfinite(v) || v < 0 || (v == 0 && !zero_allowed) ||
        v > max_seconds)
        return refuse();
    out = v;
    return true;
}

bool arg_scanner::take_u64(uint64_t &out, uint64_t min, uint64_t max)
{
    uint64_t n = 0;
    const char *end = value_.data() + value_.size();
    const auto r = std::from_chars(value_.data(), end, n);
    if (value_.empty() || r.ec != std::errc() || r.ptr != end || n < min || n > max)
        return refuse();
    out = n;
    return true;
}

bool arg_scanner::refuse()
{
    return fail(std::string(spec_->name) + ": expected " + std::string(spec_->value) + ", not '" + value_ +
                "'");
}

bool arg_scanner::fail(std::string why)
{
    error_ = std::move(why);
    return false;
}

int show_usage(std::string_view usage)
{
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    return 0;
}

int usage_error(std::string_view tool, std::string_view why, std::string_view usage)
{
    std::fprintf(stderr, "%.*s: %.*s\n%.*s", static_cast<int>(tool.size()), tool.data(),
                 static_cast<int>(why.size()), why.data(), static_cast<int>(usage.size()), usage.data());
    return 2;
}

} // namespace netring::tools
