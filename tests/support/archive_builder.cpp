#include "archive_builder.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "ferry/hash.h"

namespace ferry::test {

ArchiveBuilder::ArchiveBuilder(const std::string& path) : a_(archive_write_new()) {
    if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK ||
        archive_write_add_filter_zstd(a_) != ARCHIVE_OK ||
        archive_write_open_filename(a_, path.c_str()) != ARCHIVE_OK) {
        throw std::runtime_error(std::string("ArchiveBuilder: ") + archive_error_string(a_));
    }
}

ArchiveBuilder::~ArchiveBuilder() {
    try {
        finish();
    } catch (...) {
    }
    archive_write_free(a_);
}

void ArchiveBuilder::finish() {
    if (finished_) return;
    finished_ = true;
    if (archive_write_close(a_) != ARCHIVE_OK) {
        throw std::runtime_error(std::string("ArchiveBuilder close: ") + archive_error_string(a_));
    }
}

void ArchiveBuilder::header(archive_entry* e) {
    archive_entry_set_uid(e, uid_);
    archive_entry_set_gid(e, gid_);
    archive_entry_set_mtime(e, 0, 0);
    const int r = archive_write_header(a_, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        throw std::runtime_error(std::string("ArchiveBuilder header: ") + archive_error_string(a_));
    }
}

ArchiveBuilder& ArchiveBuilder::owner(std::int64_t uid, std::int64_t gid) {
    uid_ = uid;
    gid_ = gid;
    return *this;
}

ArchiveBuilder& ArchiveBuilder::file(const std::string& path, const std::string& content, unsigned mode) {
    return file_with_declared_size(path, content, content.size(), mode);
}

ArchiveBuilder& ArchiveBuilder::file_with_declared_size(const std::string& path, const std::string& content,
                                                        std::uint64_t declared_size, unsigned mode) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, static_cast<la_int64_t>(declared_size));
    header(e);
    const std::size_t n = std::min<std::uint64_t>(content.size(), declared_size);
    if (n > 0 && archive_write_data(a_, content.data(), n) < 0) {
        throw std::runtime_error(std::string("ArchiveBuilder data: ") + archive_error_string(a_));
    }
    return *this;
}

ArchiveBuilder& ArchiveBuilder::zeros(const std::string& path, std::uint64_t size, unsigned mode) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    header(e);
    const std::string chunk(1 << 20, '\0');
    for (std::uint64_t left = size; left > 0;) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
        if (archive_write_data(a_, chunk.data(), n) < 0) throw std::runtime_error("ArchiveBuilder zeros");
        left -= n;
    }
    return *this;
}

ArchiveBuilder& ArchiveBuilder::dir(const std::string& path, unsigned mode) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, mode);
    header(e);
    return *this;
}

ArchiveBuilder& ArchiveBuilder::symlink(const std::string& path, const std::string& target) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_perm(e, 0777);
    archive_entry_copy_symlink(e, target.c_str());
    header(e);
    return *this;
}

ArchiveBuilder& ArchiveBuilder::hardlink(const std::string& path, const std::string& target) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_copy_hardlink(e, target.c_str());
    archive_entry_set_size(e, 0);
    header(e);
    return *this;
}

ArchiveBuilder& ArchiveBuilder::special(const std::string& path, unsigned type) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, 0644);
    if (type == AE_IFCHR || type == AE_IFBLK) archive_entry_set_rdev(e, 0x0101);
    header(e);
    return *this;
}

ArchiveBuilder& ArchiveBuilder::manifest(const Manifest& manifest) {
    return file("ferry.json", manifest.to_json());
}

Manifest package_manifest(const std::vector<TestEntry>& entries) {
    Manifest m;
    m.name = "test";
    m.version = "1.0";
    m.publisher = "Ferry Tests";
    std::set<std::string> dirs;
    auto add_parents = [&](const std::string& path) {
        for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
            dirs.insert(path.substr(0, slash));
        }
    };
    for (const auto& e : entries) {
        if (e.path.find("..") == std::string::npos && e.path.front() != '/') add_parents(e.path);
        ManifestEntry me;
        me.path = e.path;
        me.type = e.type;
        me.mode = e.type == EntryType::Symlink ? 0777 : e.mode;
        if (e.type == EntryType::File) {
            me.size = e.content.size();
            me.blake2b = hash_bytes(e.content.data(), e.content.size());
            if (e.path.rfind("scripts/", 0) == 0) m.scripts.push_back(e.path.substr(8));
        }
        if (e.type == EntryType::Directory) dirs.erase(e.path);
        me.target = e.target;
        m.files.push_back(me);
    }
    for (const auto& d : dirs) {
        const bool listed = std::any_of(entries.begin(), entries.end(), [&](const TestEntry& e) { return e.path == d; });
        if (!listed) {
            ManifestEntry me;
            me.path = d;
            me.type = EntryType::Directory;
            me.mode = 0755;
            m.files.push_back(me);
        }
    }
    std::sort(m.files.begin(), m.files.end(), [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
    std::sort(m.scripts.begin(), m.scripts.end());
    return m;
}

void write_package(const std::string& path, const std::vector<TestEntry>& entries) {
    const Manifest m = package_manifest(entries);
    ArchiveBuilder builder(path);
    builder.manifest(m);
    for (const auto& me : m.files) {
        const auto it = std::find_if(entries.begin(), entries.end(), [&](const TestEntry& e) { return e.path == me.path; });
        if (it == entries.end()) {
            builder.dir(me.path, 0755);
            continue;
        }
        switch (it->type) {
            case EntryType::File: builder.file(it->path, it->content, it->mode); break;
            case EntryType::Directory: builder.dir(it->path, it->mode); break;
            case EntryType::Symlink: builder.symlink(it->path, it->target); break;
        }
    }
    builder.finish();
}

}  // namespace ferry::test
