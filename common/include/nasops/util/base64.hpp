#pragma once

// Standard base64 (RFC 4648 alphabet), once for every user: SSH keys and
// fingerprints (known_hosts), MIME bodies and headers (mail), signatures
// (DingTalk).

#include <optional>
#include <string>
#include <string_view>

namespace nasops {

enum class Base64Padding { yes, no };

// `bytes` in base64; Base64Padding::no drops the trailing '=' as OpenSSH's
// fingerprints do.
std::string base64_encode(std::string_view bytes, Base64Padding padding = Base64Padding::yes);

// Decodes standard base64 with or without padding; nullopt on any other
// character or an impossible length.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace nasops
