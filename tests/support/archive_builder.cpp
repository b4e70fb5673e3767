#include "archive_builder.h"

#include <algorithm>
#include <cstring>
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

ArchiveBuilder& ArchiveBuilder::file(const std::string& path, const std::string& content,
                                     unsigned mode) {
    return file_with_declared_size(path, content, content.size(), mode);
}

ArchiveBuilder& ArchiveBuilder::file_with_declared_size(const std::string& path,
                                                        const std::string& content,
                                                        std::uint64_t declared_size,
                                                        unsigned mode) {
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
        if (archive_write_data(a_, chunk.data(), n) < 0)
            throw std::runtime_error("ArchiveBuilder zeros");
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
        for (std::size_t slash = path.find('/'); slash != std::string::npos;
             slash = path.find('/', slash + 1)) {
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
        const bool listed = std::any_of(entries.begin(), entries.end(),
                                        [&](const TestEntry& e) { return e.path == d; });
        if (!listed) {
            ManifestEntry me;
            me.path = d;
            me.type = EntryType::Directory;
            me.mode = 0755;
            m.files.push_back(me);
        }
    }
    std::sort(m.files.begin(), m.files.end(),
              [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
    std::sort(m.scripts.begin(), m.scripts.end());
    return m;
}

void write_package(const std::string& path, const std::vector<TestEntry>& entries) {
    const Manifest m = package_manifest(entries);
    ArchiveBuilder builder(path);
    builder.manifest(m);
    for (const auto& me : m.files) {
        const auto it = std::find_if(entries.begin(), entries.end(),
                                     [&](const TestEntry& e) { return e.path == me.path; });
        if (it == entries.end()) {
            builder.dir(me.path, 0755);
            continue;
        }
        switch (it->type) {
            case EntryType::File:
                builder.file(it->path, it->content, it->mode);
                break;
            case EntryType::Directory:
                builder.dir(it->path, it->mode);
                break;
            case EntryType::Symlink:
                builder.symlink(it->path, it->target);
                break;
        }
    }
    builder.finish();
}

namespace {

// An octal numeric tar field of `width` bytes: width - 1 digits, then a NUL.
void put_octal(char* field, std::size_t width, std::uint64_t value) {
    for (std::size_t i = width - 1; i-- > 0; value >>= 3)
        field[i] = static_cast<char>('0' + (value & 7));
    if (value != 0) throw std::runtime_error("tar_header: a value does not fit its field");
    field[width - 1] = '\0';
}

}  // namespace

std::string tar_header(const std::string& name, char typeflag, unsigned mode, std::uint64_t size,
                       const std::string& linkname) {
    if (name.size() > 100 || linkname.size() > 100)
        throw std::runtime_error("tar_header: name longer than 100 bytes");
    char h[512] = {};
    std::memcpy(h, name.data(), name.size());
    put_octal(h + 100, 8, mode);
    put_octal(h + 108, 8, 0);  // uid
    put_octal(h + 116, 8, 0);  // gid
    put_octal(h + 124, 12, size);
    put_octal(h + 136, 12, 0);  // mtime
    h[156] = typeflag;
    std::memcpy(h + 157, linkname.data(), linkname.size());
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    // The checksum is the byte sum of the header with the checksum field read as spaces.
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    put_octal(h + 148, 7, sum);
    h[155] = ' ';
    return std::string(h, sizeof h);
}

std::string tar_padded(const std::string& content) {
    std::string out = content;
    out.resize((content.size() + 511) / 512 * 512, '\0');
    return out;
}

std::string pax_record(const std::string& key, const std::string& value) {
    // The length counts itself, so grow it until it is stable.
    const std::size_t body = 1 + key.size() + 1 + value.size() + 1;
    std::size_t length = body + 1;
    while (std::to_string(length).size() + body != length)
        length = std::to_string(length).size() + body;
    return std::to_string(length) + " " + key + "=" + value + "\n";
}

std::string tar_end() { return std::string(1024, '\0'); }

void write_zstd(const std::string& path, const std::string& bytes) {
    archive* a = archive_write_new();
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "raw");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    const bool ok = archive_write_set_format_raw(a) == ARCHIVE_OK &&
                    archive_write_add_filter_zstd(a) == ARCHIVE_OK &&
                    archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK &&
                    archive_write_header(a, e) == ARCHIVE_OK &&
                    archive_write_data(a, bytes.data(), bytes.size()) ==
                        static_cast<la_ssize_t>(bytes.size()) &&
                    archive_write_close(a) == ARCHIVE_OK;
    const std::string message = archive_error_string(a) != nullptr ? archive_error_string(a) : "";
    archive_entry_free(e);
    archive_write_free(a);
    if (!ok) throw std::runtime_error("write_zstd: " + message);
}

}  // namespace ferry::test
