#pragma once

// UTF-8 validation shared by the writers that must emit valid text (JSON
// strings, Prometheus label values).

#include <cstddef>

namespace nasops {

// The length of the multi-byte UTF-8 sequence at `begin`, as RFC 3629 allows
// it (no overlong forms, no surrogates, nothing above U+10FFFF); 0 when it is
// none, or when it would run past `end`.
std::size_t utf8_length(const char* begin, const char* end);

}  // namespace nasops
