// printf into a std::string, for the tools' text tables and summaries. The compiler checks the
// format against the arguments as it does for printf.
//
//   std::string out;
//   append_format(out, "%-24s %12" PRIu64 "\n", name.c_str(), packets);
#pragma once

#include <string>

namespace netring::tools {

[[gnu::format(printf, 2, 3)]] void append_format(std::string &out, const char *fmt, ...);

} // namespace netring::tools
