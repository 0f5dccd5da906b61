// Reads and writes that finish: the loops around read(2), write(2) and pread(2) that retry after
// EINTR and continue after a short transfer, written once.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace kerchunkfs::common {

// Bytes read before the end of the file or an error (errno set, -1 returned if nothing at all
// could be read because of it).
[[nodiscard]] ssize_t pread_full(int fd, char* out, std::size_t length, std::uint64_t offset);
// True when all `length` bytes were read; false at an early end (errno 0) or an error (errno set).
[[nodiscard]] bool read_full(int fd, void* out, std::size_t length);
// True when all `length` bytes were written.
[[nodiscard]] bool write_full(int fd, const void* data, std::size_t length);

}  // namespace kerchunkfs::common
