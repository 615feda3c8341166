#include "json_writer.hpp"

#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace netring::tools {

std::string json_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += ch;
            }
        }
    }
    return out;
}

void json_writer::separate()
{
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_)
        out_ += ',';
    first_ = false;
}

void json_writer::begin_object()
{
    separate();
    out_ += '{';
    first_ = true;
}

void json_writer::end_object()
{
    out_ += '}';
    first_ = false;
}

void json_writer::begin_array()
{
    separate();
    out_ += '[';
    first_ = true;
}

void json_writer::end_array()
{
    out_ += ']';
    first_ = false;
}

void json_writer::key(std::string_view k)
{
    separate();
    out_ += '"';
    out_ += json_escape(k);
    out_ += "\":";
    after_key_ = true;
}

void json_writer::value(std::string_view s)
{
    separate();
    out_ += '"';
    out_ += json_escape(s);
    out_ += '"';
}

void json_writer::value(uint64_t v)
{
    separate();
    out_ += std::to_string(v);
}

void json_writer::value(int64_t v)
{
    separate();
    out_ += std::to_string(v);
}

void json_writer::value(bool b)
{
    separate();
    out_ += b ? "true" : "false";
}

void json_writer::value(double v, int decimals)
{
    separate();
    if (!std::isfinite(v))
        v = 0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    out_ += buf;
}

} // namespace netring::tools
