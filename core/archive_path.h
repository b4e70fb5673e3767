// Internal: splitting '/'-separated archive paths. Purely lexical; nothing touches the disk.
#pragma once

#include <string>
#include <vector>

namespace ferry {

// "a/b/c" -> {"a", "b", "c"}; empty components are kept so callers can refuse them.
std::vector<std::string> split_path(const std::string& path);

// "a/b/c" -> "a/b"; "a" -> "".
std::string parent_of(const std::string& path);

// "a/b/c" -> "c"; "a" -> "a".
std::string leaf_of(const std::string& path);

}  // namespace ferry
