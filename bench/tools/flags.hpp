#pragma once
// Command-line flags of the load tools: "--name value" pairs only. A missing value or an
// unknown name ends the tool through its usage().
#include <string>

namespace bench {

using Usage = void (*)(const char* message);

// Calls set(name, value) for each pair; set returns false when it does not know the name.
template <class Set>
void parse_flags(int argc, char** argv, Usage usage, Set set) {
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + name).c_str());
    std::string value = argv[++i];
    if (!set(name, value)) usage(("unknown argument " + name).c_str());
  }
}

}  // namespace bench
