// The web console's static files (HTML, CSS, JavaScript), served by a site under /console/.
// They are installed with ferryd (share/ferry/console) and read from disk at each request, so an
// upgrade of the files needs no restart. Only plain names of known types under the directory are
// served: a segment is letters, digits, '_', '-' and '.', never starting with '.', so "..",
// hidden files and percent-escapes are 404 before the filesystem is asked.
#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>

namespace ferry::server {

// What every response of the site carries, whatever it serves: no script, style or framing
// from anywhere (API answers are data, never a page).
inline constexpr const char* kApiContentSecurityPolicy =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
// The console's pages: their own scripts and styles only, fetches to this origin only.
inline constexpr const char* kConsoleContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

// Sets the security headers every site response carries (the API's CSP, nosniff, no referrer).
void set_security_headers(Poco::Net::HTTPServerResponse& response);

// Where the console's files are when ferryd.ini names none: share/ferry/console next to the
// directory of the running ferryd (bin/ferryd -> share/ferry/console; in a build tree,
// server/ferryd -> share/ferry/console, where the build copies them). "" when absent.
std::string default_console_dir();

class ConsoleFiles {
  public:
    // `dir` may be "" (not installed): every request is then 404 saying so.
    explicit ConsoleFiles(std::string dir) : dir_(std::move(dir)) {}

    // Serves `relative` (the path after "/console/"; "" is index.html) for GET and HEAD:
    // ETag of the content, If-None-Match -> 304, Cache-Control: no-cache, the console's CSP.
    void serve(const std::string& relative, Poco::Net::HTTPServerRequest& request,
               Poco::Net::HTTPServerResponse& response) const;

  private:
    std::string dir_;
};

// True for a path the console serves: 1 to 4 plain segments (see above), a known extension.
bool is_console_path(const std::string& relative);

}  // namespace ferry::server
