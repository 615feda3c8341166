#include "text_format.hpp"

#include <cstdarg>
#include <cstdio>

namespace netring::tools {

void append_format(std::string &out, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    va_list again;
    va_copy(again, args);
    const int n = std::vsnprintf(nullptr, 0, fmt, args);
    va_end(args);
    if (n > 0) {
        const size_t start = out.size();
        out.resize(start + static_cast<size_t>(n) + 1); // vsnprintf writes the terminating NUL too
        std::vsnprintf(out.data() + start, static_cast<size_t>(n) + 1, fmt, again);
        out.resize(start + static_cast<size_t>(n));
    }
    va_end(again);
}

} // namespace netring::tools
