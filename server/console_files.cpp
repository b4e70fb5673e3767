#include "console_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <vector>

#include "ferry/atomic_file.h"
#include "ferry/error.h"
#include "ferry/hash.h"

namespace ferry::server {
namespace {

using Poco::Net::HTTPResponse;

constexpr std::size_t kMaxConsoleFile = 4 << 20;

const char* content_type_for(const std::string& name) {
    static const std::vector<std::pair<std::string, const char*>> types = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    for (const auto& [extension, type] : types) {
        if (name.size() > extension.size() &&
            name.compare(name.size() - extension.size(), extension.size(), extension) == 0)
            return type;
    }
    return nullptr;
}

bool is_plain_segment(const std::string& segment) {
    if (segment.empty() || segment.size() > 64 || segment.front() == '.') return false;
    for (const char c : segment) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) return false;
    }
    return true;
}

bool is_regular_file(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

}  // namespace

void set_security_headers(Poco::Net::HTTPServerResponse& response) {
    response.set("Content-Security-Policy", kApiContentSecurityPolicy);
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Referrer-Policy", "no-referrer");
}

bool is_console_path(const std::string& relative) {
    if (relative.empty() || relative.size() > 256 || relative.back() == '/') return false;
    int segments = 0;
    std::size_t start = 0;
    while (true) {
        const auto slash = relative.find('/', start);
        if (!is_plain_segment(relative.substr(start, slash - start))) return false;
        if (++segments > 4) return false;
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return content_type_for(relative) != nullptr;
}

std::string default_console_dir() {
    char exe[PATH_MAX];
    const ssize_t length = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (length <= 0) return {};
    std::string bin(exe, static_cast<std::size_t>(length));
    bin = bin.substr(0, bin.rfind('/'));
    const std::string dir = bin.substr(0, bin.rfind('/')) + "/share/ferry/console";
    return is_regular_file(dir + "/index.html") ? dir : std::string();
}

void ConsoleFiles::serve(const std::string& relative, Poco::Net::HTTPServerRequest& request,
                         Poco::Net::HTTPServerResponse& response) const {
    const std::string& method = request.getMethod();
    if (method != "GET" && method != "HEAD")
        throw Error(ErrorCode::NotFound, "no such route (the console's files are read with GET)");
    const std::string name = relative.empty() ? "index.html" : relative;
    if (!is_console_path(name))
        throw Error(ErrorCode::NotFound, "no console file " + name.substr(0, 80));
    if (dir_.empty())
        throw Error(ErrorCode::NotFound,
                    "the web console is not installed (no share/ferry/console next to ferryd; "
                    "set console_dir in ferryd.ini)");
    const std::string path = dir_ + "/" + name;
    if (!is_regular_file(path)) throw Error(ErrorCode::NotFound, "no console file " + name);
    const std::string content = read_small_file(path, kMaxConsoleFile);
    const std::string etag = "\"" + hash_bytes(content.data(), content.size()).substr(0, 32) + "\"";

    response.set("Content-Security-Policy", kConsoleContentSecurityPolicy);
    response.set("X-Frame-Options", "DENY");
    response.set("ETag", etag);
    // Revalidated on each load: a new ferryd's files are seen at once, unchanged ones are 304s.
    response.set("Cache-Control", "no-cache");
    if (request.get("If-None-Match", "") == etag) {
        response.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
        response.setContentLength(0);
        response.send();
        return;
    }
    response.setStatusAndReason(HTTPResponse::HTTP_OK);
    response.setContentType(content_type_for(name));
    response.setContentLength(static_cast<std::streamsize>(content.size()));
    if (method == "HEAD")
        response.send();
    else
        response.send() << content;
}

}  // namespace ferry::server
