// ApiAnswer: what a resource handler returns — a status and a JSON body — so that handlers stay
// free of Poco's response objects and the server sends every answer the same way.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>

namespace ferry::server {

struct ApiAnswer {
    int status = 200;
    std::string json;
};

// The object, indented, with a final newline.
ApiAnswer json_answer(int status, const Poco::JSON::Object& body);

}  // namespace ferry::server
