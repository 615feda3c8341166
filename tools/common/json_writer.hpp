// A small JSON writer for the tools' one-line reports: objects, arrays, strings (escaped), integers,
// fixed-precision doubles and booleans, appended to one std::string. Commas are placed for the
// caller. Not for the data path: it allocates.
//
//   json_writer j;
//   j.begin_object();
//   j.field("mode", "rx");
//   j.field("packets", uint64_t{42});
//   j.key("rings"); j.begin_array(); ... j.end_array();
//   j.end_object();
//   puts(j.str().c_str());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netring::tools {

// `text` as the body of a JSON string (without the quotes): quotes, backslashes and control
// characters escaped; bytes >= 0x80 pass through (the input is UTF-8 or opaque).
std::string json_escape(std::string_view text);

class json_writer {
public:
    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    void key(std::string_view k); // inside an object: the next value's name

    void value(std::string_view s);
    void value(const char *s) { value(std::string_view(s)); }
    void value(uint64_t v);
    void value(int64_t v);
    void value(uint32_t v) { value(uint64_t{v}); }
    void value(int v) { value(int64_t{v}); }
    void value(bool b);
    void value(double v, int decimals); // NaN and infinities are written as 0

    template <class T>
    void field(std::string_view k, const T &v)
    {
        key(k);
        value(v);
    }
    void field(std::string_view k, double v, int decimals)
    {
        key(k);
        value(v, decimals);
    }

    const std::string &str() const { return out_; }

private:
    void separate(); // a comma unless this is the first element or follows a key

    std::string out_;
    bool first_ = true;     // nothing written yet in the current container
    bool after_key_ = false;
};

} // namespace netring::tools
