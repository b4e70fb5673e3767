// ferry::Error — the one error type of libferry.
//
// Every failure that an admin or an operator can act on is thrown as a ferry::Error carrying a
// code (what kind of failure, which decides exit codes and HTTP statuses at the edges) and a
// message that names the file, field or position concerned. Nothing below the edges catches it
// except to add context or to clean up before rethrowing.
#pragma once

#include <stdexcept>
#include <string>

namespace ferry {

enum class ErrorCode {
    InvalidInput,        // malformed input: a file, a field, an argument (exit 2, HTTP 400)
    NotFound,            // a named file, key or object does not exist (exit 2, HTTP 404)
    Io,                  // the operating system refused a read or write (exit 2, HTTP 500)
    VerificationFailed,  // a hash, size or signature does not match (exit 1, HTTP 422)
    UnsafeArchive,       // an archive entry that could escape or damage the target (exit 1)
    LimitExceeded,       // a configured limit on size, count or depth was reached (exit 1)
    WrongPassword,       // a secret key could not be decrypted with the given password (exit 2)
    AlreadyExists,       // the target of a create-only operation exists (exit 2, HTTP 409)
    Unauthenticated,     // no credentials, or credentials that match no one (exit 1, HTTP 401)
    Forbidden,           // known caller, but the role does not allow this (exit 1, HTTP 403)
    Conflict,            // the request is valid but the current state forbids it (exit 1, HTTP 409)
    Internal,            // a library call failed in a way input cannot explain (exit 2, HTTP 500)
};

// A short stable name for the code ("verification-failed"), for logs and JSON output.
const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
  public:
    Error(ErrorCode code, const std::string& message);

    ErrorCode code() const noexcept { return code_; }

    // Returns a copy whose message is "context: <this message>", same code. Used to add the
    // file name or operation as an error travels outwards.
    Error with_context(const std::string& context) const;

  private:
    ErrorCode code_;
};

// Throws Error(ErrorCode::Io, "<what>: <strerror(errno)>"), reading errno at the call.
[[noreturn]] void throw_system_error(const std::string& what);

}  // namespace ferry
