#include <Poco/JSON/Object.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "ferry/api_client.h"
#include "ferry/atomic_file.h"
#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "ferry/package_signature.h"
#include "progress_line.h"
#include "signing_keys.h"

namespace ferry::pack {

int run_push(int argc, char** argv, int first) {
    const CommandLine args(argc, argv, first,
                           {{"--server", "", true}, {"--token", "", true}, {"--sig", "-x", true}},
                           1);
    if (args.help()) return print_help("push");
    const std::string package = args.positional()[0];
    const char* env_server = std::getenv("FERRY_SERVER");
    const char* env_token = std::getenv("FERRY_TOKEN");
    const std::string server =
        args.value("--server").value_or(env_server != nullptr ? env_server : "");
    const std::string token = args.value("--token").value_or(env_token != nullptr ? env_token : "");
    if (server.empty()) throw UsageError("--server URL or FERRY_SERVER is needed");
    const std::string sig_path = args.value("--sig").value_or(signature_path_for(package));
    std::string signature;
    try {
        signature = read_small_file(sig_path, 8192);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::NotFound) throw;
        throw Error(ErrorCode::NotFound,
                    sig_path + " not found: sign the package first (ferry-pack sign)");
    }
    FileDigest digest;
    {
        ProgressLine progress("hashing " + package);
        digest = digest_file(package, progress.callback());
    }
    const ApiClient api(server, token);
    const auto stored = api.put_file("/api/v1/objects/" + digest.object_id, package);
    Poco::JSON::Object request;
    request.set("object_id", digest.object_id);
    request.set("signature", signature);
    std::ostringstream body;
    request.stringify(body);
    const auto registered = api.post("/api/v1/packages", body.str());
    std::cout << "pushed " << registered->getValue<std::string>("name") << " "
              << registered->getValue<std::string>("version") << " (object " << digest.object_id
              << (stored->getValue<bool>("created") ? "" : ", already stored") << ", signed by "
              << registered->getValue<std::string>("publisher") << ") to " << server << "\n";
    return 0;
}

}  // namespace ferry::pack
