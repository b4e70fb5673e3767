// Internal: RAII owners for libarchive handles, and a checked-call helper.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

#include "ferry/error.h"

namespace ferry {

struct ArchiveReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;
using ArchiveEntry = std::unique_ptr<archive_entry, ArchiveEntryFree>;

inline std::string archive_message(archive* a) {
    const char* text = archive_error_string(a);
    return text != nullptr ? text : "unknown libarchive error";
}

// Throws Error(code, "<what>: <libarchive's message>") unless `result` is ARCHIVE_OK.
inline void check_archive(archive* a, int result, const std::string& what,
                          ErrorCode code = ErrorCode::Internal) {
    if (result != ARCHIVE_OK) throw Error(code, what + ": " + archive_message(a));
}

}  // namespace ferry
