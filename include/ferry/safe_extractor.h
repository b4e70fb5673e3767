// Safe extraction of a package into a directory.
//
// Everything is written into a fresh staging directory next to the target, through file
// descriptors opened with O_NOFOLLOW relative to the staging root, so no entry can write
// through a symlink or outside the staging tree whatever the archive holds (PackageReader has
// already refused unsafe entries; this is the second wall). Files are created with O_EXCL and
// the manifest's mode, never the archive's owner, times, ACLs or xattrs. Only when every entry
// has been read and verified is the staging directory synced and renamed to the target, which
// must not exist. On any failure the staging directory is removed and the target never appears.
#pragma once

#include <cstdint>
#include <string>

#include "ferry/manifest.h"
#include "ferry/package_reader.h"
#include "ferry/progress.h"

namespace ferry {

struct ExtractResult {
    Manifest manifest;
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

// Extracts `package_path` into `target`. Throws as PackageReader does, Error(AlreadyExists)
// when the target exists, Error(Io) when the disk refuses a write.
//
// Give `expected_object_id` (the id whose signature was checked) whenever there is one: the
// target then appears only if the bytes extracted are exactly that object's, whatever happens
// to the file in between.
ExtractResult extract_package(const std::string& package_path, const std::string& target,
                              const ReadLimits& limits = {}, const ProgressFn& progress = nullptr,
                              const std::optional<std::string>& expected_object_id = std::nullopt);

}  // namespace ferry
