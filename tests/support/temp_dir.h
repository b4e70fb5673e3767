// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with everything in it when the
// test ends.
#pragma once

#include <string>

namespace ferry::test {

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    // path() + "/" + relative
    std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

  private:
    std::string path_;
};

// Small file helpers for tests.
void write_file(const std::string& path, const std::string& content, unsigned mode = 0644);
std::string read_file(const std::string& path);
bool path_exists(const std::string& path);  // without following a final symlink
// Every path below `dir` (relative, sorted), for "nothing else was written" checks.
std::string list_tree(const std::string& dir);

}  // namespace ferry::test
