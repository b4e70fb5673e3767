// What the signed-in user may do, from GET /api/v1/whoami's "permissions" (not from the role
// name: the server's table in server/roles.cpp decides, and the console follows it). The server
// checks every action again; this only decides which buttons are enabled.

// Which roles hold each permission (docs/api.md, Roles), to tell a user who lacks one who has it.
const holders = {
  'manage-users': ['admin'],
  'manage-dps': ['admin'],
  'upload-objects': ['admin', 'packager'],
  'manage-publishers': ['admin'],
  'retire-packages': ['admin', 'release-manager'],
  'collect-objects': ['admin'],
  'submit-rfc': ['admin', 'release-manager', 'packager'],
  'vote-rfc': ['cab'],
  'manage-releases': ['admin', 'release-manager'],
  'manage-clients': ['admin'],
  'manage-collections': ['admin', 'release-manager'],
  advertise: ['admin', 'release-manager'],
};

export function can(me, permission) {
  return Boolean(me && Array.isArray(me.permissions) && me.permissions.includes(permission));
}

// "needs the admin or release-manager role"
export function needs(permission) {
  const roles = holders[permission] || [];
  if (roles.length === 0) return `needs the ${permission} permission`;
  const names = roles.length === 1 ? roles[0] : `${roles.slice(0, -1).join(', ')} or ${roles[roles.length - 1]}`;
  return `needs the ${names} role`;
}
