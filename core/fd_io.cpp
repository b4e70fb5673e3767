#include "fd_io.h"

#include <unistd.h>

#include <cerrno>

#include "ferry/error.h"

namespace ferry {

void write_all(int fd, const void* data, std::size_t size, const std::string& what) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_system_error("cannot write " + what);
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

std::size_t read_some(int fd, void* buffer, std::size_t size, const std::string& what) {
    for (;;) {
        const ssize_t n = ::read(fd, buffer, size);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) throw_system_error("cannot read " + what);
    }
}

}  // namespace ferry
