// Roles and what each may do (DESIGN §6): the one table every endpoint consults.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ferry::server {

// The people's roles, plus two identities never given to a user: DistributionPoint, carried by
// a registered DP's token, and Client, carried by an enrolled (active) client's token.
enum class Role { Admin, ReleaseManager, Cab, Packager, Viewer, DistributionPoint, Client };

// "admin", "release-manager", "cab", "packager", "viewer", "dp", "client"
const char* role_name(Role role);
// A user's role by name; "dp" and "client" are not ones.
std::optional<Role> parse_role(const std::string& name);

enum class Permission {
    ManageUsers,        // create and revoke users and tokens
    ReadSite,           // read anything that is not secret (every user role)
    ReadContent,        // signed policies and the feed (every user role, and DPs)
    ReadObjects,        // package objects (every role and identity, clients included)
    ManageDps,          // register and revoke distribution points (admin)
    UploadObjects,      // add objects and register packages in the DSL (packager, admin)
    ManagePublishers,   // trust publisher keys for package names (admin)
    RetirePackages,     // retire package versions: no new advertisements (admin, release-manager)
    SubmitRfc,          // file requests for change (admin, release-manager, packager)
    VoteRfc,            // approve or reject requests for change (cab)
    ManageReleases,     // create releases, move them through their states (admin, release-manager)
    ManageClients,      // enrolment secrets, approving and revoking clients (admin)
    ManageCollections,  // create and change collections (admin, release-manager)
    Advertise,          // create, halt, resume, cancel advertisements (admin, release-manager)
    CollectObjects,     // remove objects nothing references any more (admin)
};

bool role_allows(Role role, Permission permission);

// Every permission, in declaration order, and its name in the API ("manage-users", …): what
// GET /api/v1/whoami lists, so that the console enables what the server would allow.
const std::vector<Permission>& all_permissions();
const char* permission_name(Permission permission);

}  // namespace ferry::server
