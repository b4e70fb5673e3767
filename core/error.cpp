#include "ferry/error.h"

#include <cerrno>
#include <cstring>

namespace ferry {

const char* error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidInput:
            return "invalid-input";
        case ErrorCode::NotFound:
            return "not-found";
        case ErrorCode::Io:
            return "io";
        case ErrorCode::VerificationFailed:
            return "verification-failed";
        case ErrorCode::UnsafeArchive:
            return "unsafe-archive";
        case ErrorCode::LimitExceeded:
            return "limit-exceeded";
        case ErrorCode::WrongPassword:
            return "wrong-password";
        case ErrorCode::AlreadyExists:
            return "already-exists";
        case ErrorCode::Unauthenticated:
            return "unauthenticated";
        case ErrorCode::Forbidden:
            return "forbidden";
        case ErrorCode::Conflict:
            return "conflict";
        case ErrorCode::Internal:
            return "internal";
    }
    return "unknown";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

Error Error::with_context(const std::string& context) const {
    return Error(code_, context + ": " + what());
}

void throw_system_error(const std::string& what) {
    const int saved = errno;
    ErrorCode code = ErrorCode::Io;
    if (saved == ENOENT) code = ErrorCode::NotFound;
    if (saved == EEXIST) code = ErrorCode::AlreadyExists;
    throw Error(code, what + ": " + std::strerror(saved));
}

}  // namespace ferry
