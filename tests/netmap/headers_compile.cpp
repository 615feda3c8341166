// headers_compile.c, compiled as C++ (see there).
#define NETMAP_HEADERS_USE netmap_headers_cxx_use
#include "headers_compile.c"
