// Building packages: a source directory in, a reproducible .ferry archive out.
//
// A source directory holds ferry.json (the source manifest), files/ (the payload) and
// optionally scripts/ (install, uninstall, check). The writer computes the file list with
// hashes, then writes a pax tar compressed with zstd whose first entry is ferry.json and whose
// other entries follow in byte order of their paths, all with mtime 0, uid/gid 0, no user or
// group names, zstd in its multi-threaded framing (one worker; any count from 1 gives the same
// bytes, 0 would not), and modes normalised (0755 when any execute bit is set, else 0644;
// directories 0755). The same tree therefore always gives the same bytes and the same object id,
// whatever the file times, owners or order on disk.
#pragma once

#include <cstdint>
#include <string>

#include "ferry/manifest.h"
#include "ferry/minisign.h"
#include "ferry/progress.h"

namespace ferry {

struct BuildOptions {
    int compression_level = 3;  // zstd level 1..19
};

struct BuildResult {
    Manifest manifest;
    std::string object_id;  // BLAKE2b-256 of the written file
    std::uint64_t size = 0;
    minisign::Prehash prehash{};  // BLAKE2b-512 of the written file, for signing without a reread
};

// Reads SRC_DIR and returns its package manifest, with every entry hashed. Refuses special
// files, absolute or escaping symlinks, names that are not UTF-8, and unknown top-level items,
// naming the path.
Manifest scan_source(const std::string& src_dir, const ProgressFn& progress = nullptr);

// Builds SRC_DIR into `out_path` atomically (temp file, fsync, rename).
BuildResult build_package(const std::string& src_dir, const std::string& out_path,
                          const BuildOptions& options = {}, const ProgressFn& progress = nullptr);

}  // namespace ferry
