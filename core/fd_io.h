// Internal: reading and writing file descriptors with EINTR retried and every failure thrown
// as ferry::Error naming what was being read or written.
#pragma once

#include <cstddef>
#include <string>

namespace ferry {

// Writes all `size` bytes or throws Error(Io) "cannot write <what>: <reason>".
void write_all(int fd, const void* data, std::size_t size, const std::string& what);

// Reads up to `size` bytes; returns 0 at end of file. Throws Error(Io) "cannot read <what>".
std::size_t read_some(int fd, void* buffer, std::size_t size, const std::string& what);

}  // namespace ferry
