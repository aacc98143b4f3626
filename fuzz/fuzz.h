// Shared by the libFuzzer targets in this directory (see fuzz/README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace medsearch::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace medsearch::fuzz
