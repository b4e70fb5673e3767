#include "api_answer.h"

#include <sstream>

namespace ferry::server {

ApiAnswer json_answer(int status, const Poco::JSON::Object& body) {
    std::ostringstream out;
    body.stringify(out, 2);
    out << "\n";
    return {status, out.str()};
}

}  // namespace ferry::server
