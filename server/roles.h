// Roles and what each may do (DESIGN §6): the one table every endpoint consults.
#pragma once

#include <optional>
#include <string>

namespace ferry::server {

enum class Role { Admin, ReleaseManager, Cab, Packager, Viewer };

// "admin", "release-manager", "cab", "packager", "viewer"
const char* role_name(Role role);
std::optional<Role> parse_role(const std::string& name);

enum class Permission {
    ManageUsers,        // create and revoke users and tokens
    ReadSite,           // read anything that is not secret
    UploadObjects,      // add objects and register packages in the DSL (packager, admin)
    ManagePublishers,   // trust publisher keys for package names (admin)
    RetirePackages,     // retire package versions: no new advertisements (admin, release-manager)
    SubmitRfc,          // file requests for change (admin, release-manager, packager)
    VoteRfc,            // approve or reject requests for change (cab)
    ManageReleases,     // create releases, move them through their states (admin, release-manager)
    ManageClients,      // enrolment secrets, approving and revoking clients, DP tokens (admin)
    ManageCollections,  // create and change collections (admin, release-manager)
    Advertise,          // create, halt, resume, cancel advertisements (admin, release-manager)
    CollectObjects,     // remove objects nothing references any more (admin)
};

bool role_allows(Role role, Permission permission);

}  // namespace ferry::server
